/**
 * Rotation benchmark on the local stack (local-stack/local-stack.ts) with the bundled handler
 * (assets/lambda/rotation/index/index.js, `npx projen bundle`), whatever it currently does.
 *
 *   npm run bench -- rotation [--quick]        (BENCH_ROTATIONS=n overrides the rotations per case)
 *
 * For Data API statement latency 0, 100 and 300 ms (the time from a statement's submission to its start), with
 * 20 ms on every Secrets Manager call of the rotation function, it rotates a SINGLE_USER and an ALTERNATING_USERS
 * secret ROTATIONS times each (one rotation at a time, after one warm-up rotation per strategy that is not
 * counted) and reports per strategy:
 * - rotation time, median and p95: RotationStarted → RotationSucceeded as the local Secrets Manager records them
 *   (the four Lambda invocations and everything between them);
 * - calls per rotation by operation (the endpoints' call log: calls made by the rotation function);
 * - statements submitted, and statements on the critical path (the longest chain of statements that ran one after
 *   the other, from ListStatements: CreatedAt → UpdatedAt);
 * - the floor: the heaviest chain of work that ran in sequence, statements weighing the statement latency and the
 *   function's Secrets Manager calls the Secrets Manager latency; overhead ratio = rotation time / floor;
 * - the ideal floor: the statements a rotation cannot do without (SINGLE_USER 2, ALTERNATING_USERS 4) plus the
 *   same Secrets Manager calls; ratio = rotation time / ideal floor;
 * - SINGLE_USER: the window from the call log (ALTER USER submitted → finishSecret's UpdateSecretVersionStage, as
 *   the e2e suites measure it) and the effective window (the ALTER USER statement ended, so the password changed →
 *   AWSCURRENT moved: the UpdateSecretVersionStage plus its latency), against its bound: one statement round trip
 *   (the test) plus the Secrets Manager calls of testSecret and finishSecret, each at its latency.
 * Prints a table, the ratios, and one JSON line.
 */
import {
  callsByOperation, criticalStatements, floorMs, isSubmit, lambdaCalls, median, MIN_CRITICAL_STATEMENTS, percentile, printJson,
  printTable, QUICK, envInt, ratio, ratioCell, rotate, round, say, singleUserWindow, startBenchStack, statementAt, statementSpans, STRATEGIES,
} from './support';
import type { BenchStack, Strategy } from './support';

const LATENCIES = [0, 100, 300];
const SM_LATENCY_MS = 20;
const ROTATIONS = envInt('BENCH_ROTATIONS', QUICK ? 5 : 20);

interface Sample {
  readonly ms: number;
  readonly floorMs: number;
  readonly idealFloorMs: number;
  readonly submitted: number;
  readonly sqlStatements: number;
  readonly critical: number;
  readonly smCalls: number;
  readonly calls: Record<string, number>;
  readonly windowMs?: number;
  readonly effectiveWindowMs?: number;
  readonly windowBoundMs?: number;
}

interface CaseResult {
  readonly strategy: Strategy;
  readonly statementLatencyMs: number;
  readonly secretsManagerLatencyMs: number;
  readonly rotations: number;
  readonly medianMs: number;
  readonly p95Ms: number;
  readonly floorMs: number;
  readonly overheadRatio: number;
  readonly idealFloorMs: number;
  readonly idealRatio: number;
  readonly statementsSubmitted: number;
  readonly sqlStatements: number;
  readonly criticalStatements: number;
  readonly criticalStatementsGoal: number;
  readonly secretsManagerCalls: number;
  readonly callsPerRotation: Record<string, number>;
  readonly windowMedianMs?: number;
  readonly effectiveWindowMedianMs?: number;
  readonly effectiveWindowP95Ms?: number;
  readonly windowBoundMs?: number;
  readonly windowRatio?: number;
}

async function measureOne(b: BenchStack, strategy: Strategy, arn: string, latency: number): Promise<Sample> {
  const r = await rotate(b, arn);
  await b.stack.redshiftData.idle();
  const calls = lambdaCalls(b.stack, arn, r.sinceSeq);
  const spans = await statementSpans(b.data, r.started, r.ended);
  const smCalls = calls.filter((c) => c.service === 'secretsmanager').length;
  const window = strategy === 'SINGLE_USER' ? singleUserWindow(calls) : undefined;
  if (strategy === 'SINGLE_USER' && !window) throw new Error('no single-user window in the call log (no ALTER USER in setSecret, or no finishSecret UpdateSecretVersionStage)');
  const smFloor = floorMs([], calls, latency, SM_LATENCY_MS);
  const alterStatement = window ? statementAt(spans, window.alterAt) : undefined;
  if (window && !alterStatement) throw new Error('the ALTER USER statement is not in ListStatements');
  return {
    ms: r.ms,
    floorMs: floorMs(spans, calls, latency, SM_LATENCY_MS),
    idealFloorMs: MIN_CRITICAL_STATEMENTS[strategy] * latency + smFloor,
    submitted: calls.filter(isSubmit).length,
    sqlStatements: calls.filter(isSubmit).reduce((n, c) => n + (c.statementKinds?.length ?? 1), 0),
    critical: criticalStatements(spans),
    smCalls,
    calls: callsByOperation(calls),
    windowMs: window?.ms,
    effectiveWindowMs: window ? window.moveAt + SM_LATENCY_MS - alterStatement!.end : undefined,
    windowBoundMs: window ? latency + window.smCallsInside * SM_LATENCY_MS : undefined,
  };
}

function summarize(strategy: Strategy, latency: number, samples: readonly Sample[]): CaseResult {
  const med = (f: (s: Sample) => number) => median(samples.map(f));
  const ops = [...new Set(samples.flatMap((s) => Object.keys(s.calls)))].sort();
  const callsPerRotation = Object.fromEntries(ops.map((op) => [op, round(med((s) => s.calls[op] ?? 0), 1)]));
  const medianMs = round(med((s) => s.ms));
  const floor = round(med((s) => s.floorMs));
  const idealFloor = round(med((s) => s.idealFloorMs));
  const windows = samples.filter((s) => s.windowMs !== undefined);
  const windowMedian = windows.length ? round(median(windows.map((s) => s.windowMs!))) : undefined;
  const effectiveMedian = windows.length ? round(median(windows.map((s) => s.effectiveWindowMs!))) : undefined;
  const windowBound = windows.length ? round(median(windows.map((s) => s.windowBoundMs!))) : undefined;
  return {
    strategy,
    statementLatencyMs: latency,
    secretsManagerLatencyMs: SM_LATENCY_MS,
    rotations: samples.length,
    medianMs,
    p95Ms: round(percentile(samples.map((s) => s.ms), 95)),
    floorMs: floor,
    overheadRatio: ratio(medianMs, floor),
    idealFloorMs: idealFloor,
    idealRatio: ratio(medianMs, idealFloor),
    statementsSubmitted: med((s) => s.submitted),
    sqlStatements: med((s) => s.sqlStatements),
    criticalStatements: med((s) => s.critical),
    criticalStatementsGoal: MIN_CRITICAL_STATEMENTS[strategy],
    secretsManagerCalls: med((s) => s.smCalls),
    callsPerRotation,
    windowMedianMs: windowMedian,
    effectiveWindowMedianMs: effectiveMedian,
    effectiveWindowP95Ms: windows.length ? round(percentile(windows.map((s) => s.effectiveWindowMs!), 95)) : undefined,
    windowBoundMs: windowBound,
    windowRatio: effectiveMedian !== undefined && windowBound !== undefined ? ratio(effectiveMedian, windowBound) : undefined,
  };
}

async function main(): Promise<void> {
  const b = await startBenchStack();
  const results: CaseResult[] = [];
  try {
    b.setSecretsManagerLatency(SM_LATENCY_MS);
    const secrets = new Map<Strategy, string>();
    for (const strategy of STRATEGIES) {
      const s = await b.newSecret(strategy);
      secrets.set(strategy, s.arn);
      await rotate(b, s.arn); // warm-up: the function's first (cold) invocations are not counted
    }
    for (const latency of LATENCIES) {
      b.setStatementLatency(latency);
      for (const strategy of STRATEGIES) {
        const samples: Sample[] = [];
        for (let i = 0; i < ROTATIONS; i++) samples.push(await measureOne(b, strategy, secrets.get(strategy)!, latency));
        const r = summarize(strategy, latency, samples);
        results.push(r);
        process.stderr.write(`  ${strategy} at ${latency} ms: median ${r.medianMs} ms\n`);
      }
    }
  } finally {
    await b.stop();
  }

  say(`rotation on the local stack, ${ROTATIONS} rotations per case (after one warm-up), Secrets Manager latency ${SM_LATENCY_MS} ms per call`);
  printTable(
    ['strategy', 'statement ms', 'median ms', 'p95 ms', 'floor ms', 'overhead ratio', 'ideal floor ms', 'ratio vs ideal', 'submitted',
      'critical path', 'goal', 'SM calls', 'window ms (call log)', 'effective window ms', 'window bound ms', 'window ratio'],
    results.map((r) => [
      r.strategy, r.statementLatencyMs, r.medianMs, r.p95Ms, r.floorMs, ratioCell(r.overheadRatio), r.idealFloorMs, ratioCell(r.idealRatio),
      r.statementsSubmitted, r.criticalStatements, r.criticalStatementsGoal, r.secretsManagerCalls,
      r.windowMedianMs ?? '-', r.effectiveWindowMedianMs ?? '-', r.windowBoundMs ?? '-', r.windowRatio !== undefined ? ratioCell(r.windowRatio) : '-',
    ]),
  );
  say('');
  say('calls per rotation by operation (median), at 100 ms statement latency');
  const at100 = results.filter((r) => r.statementLatencyMs === 100);
  const ops = [...new Set(at100.flatMap((r) => Object.keys(r.callsPerRotation)))].sort();
  printTable(['operation', ...at100.map((r) => r.strategy)], ops.map((op) => [op, ...at100.map((r) => r.callsPerRotation[op] ?? 0)]));
  say('');
  for (const latency of LATENCIES) {
    const su = results.find((r) => r.strategy === 'SINGLE_USER' && r.statementLatencyMs === latency)!;
    const au = results.find((r) => r.strategy === 'ALTERNATING_USERS' && r.statementLatencyMs === latency)!;
    say(`${latency} ms: ALTERNATING_USERS / SINGLE_USER rotation time ratio ${ratioCell(ratio(au.medianMs, su.medianMs))}; `
      + `overhead ratio SINGLE_USER ${ratioCell(su.overheadRatio)}, ALTERNATING_USERS ${ratioCell(au.overheadRatio)}; `
      + `critical path ratio vs goal SINGLE_USER ${ratioCell(ratio(su.criticalStatements, su.criticalStatementsGoal))}, `
      + `ALTERNATING_USERS ${ratioCell(ratio(au.criticalStatements, au.criticalStatementsGoal))}; `
      + `single-user effective window ratio vs bound ${su.windowRatio !== undefined ? ratioCell(su.windowRatio) : '-'}`);
  }
  printJson('rotation', { rotations: ROTATIONS, secretsManagerLatencyMs: SM_LATENCY_MS, results });
}

main().catch((e) => {
  process.stderr.write(`${(e as Error).stack ?? e}\n`);
  process.exit(1);
});
