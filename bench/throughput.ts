/**
 * Throughput benchmark: secrets rotated per minute by one rotation function on the local stack, with 100 ms Data
 * API statement latency and 20 ms per Secrets Manager call, at function concurrency 1, 10 and 50 (quick: 1 and 5).
 *
 *   npm run bench -- throughput [--quick]
 *
 * For each concurrency C it registers a function limited to C concurrent executions (more invocations wait, as
 * with reserved concurrency), creates max(10, 2C) secrets (half SINGLE_USER, half ALTERNATING_USERS), rotates C
 * of them once to start the execution environments (not counted), then starts a rotation of every secret at once
 * and measures until the last one succeeded. Reports rotations per minute, the median and p95 rotation time, and
 * the speedup over concurrency 1 as a `ratio` (with the efficiency: speedup / C).
 *
 * The local stack runs every execution environment, PostgreSQL and both endpoints on this machine: when the CPUs
 * are saturated the figure is the machine's, not Lambda's (the table prints the load average for that reason).
 */
import * as os from 'os';
import { median, percentile, printJson, printTable, QUICK, ratio, ratioCell, rotate, round, say, startBenchStack } from './support';
import type { BenchStack, Strategy } from './support';

const CONCURRENCY = QUICK ? [1, 5] : [1, 10, 50];
const STATEMENT_LATENCY_MS = 100;
const SM_LATENCY_MS = 20;

interface Result {
  readonly concurrency: number;
  readonly rotations: number;
  readonly elapsedMs: number;
  readonly perMinute: number;
  readonly medianMs: number;
  readonly p95Ms: number;
  readonly speedup: number;
  readonly efficiency: number;
  readonly loadAverage: number;
}

async function measure(b: BenchStack, c: number): Promise<Omit<Result, 'speedup' | 'efficiency'>> {
  const functionArn = b.stack.functionArn(`throughput-${c}`);
  b.stack.registerFunction(functionArn, { maxConcurrency: c });
  const count = Math.max(10, 2 * c);
  const secrets: string[] = [];
  for (let i = 0; i < count; i++) {
    const strategy: Strategy = i % 2 === 0 ? 'SINGLE_USER' : 'ALTERNATING_USERS';
    secrets.push((await b.newSecret(strategy, `t${c}_${strategy === 'SINGLE_USER' ? 'su' : 'au'}`)).arn);
  }
  await Promise.all(secrets.slice(0, c).map((arn) => rotate(b, arn, functionArn))); // start the execution environments
  const t0 = Date.now();
  const runs = await Promise.all(secrets.map((arn) => rotate(b, arn, functionArn)));
  const elapsedMs = Math.max(...runs.map((r) => r.ended)) - t0;
  return {
    concurrency: c,
    rotations: count,
    elapsedMs,
    perMinute: round((count / elapsedMs) * 60_000, 1),
    medianMs: round(median(runs.map((r) => r.ms))),
    p95Ms: round(percentile(runs.map((r) => r.ms), 95)),
    loadAverage: round(os.loadavg()[0], 1),
  };
}

async function main(): Promise<void> {
  const b = await startBenchStack({ statementLatencyMs: STATEMENT_LATENCY_MS, lambdaConcurrency: Math.max(...CONCURRENCY) });
  const raw: Array<Omit<Result, 'speedup' | 'efficiency'>> = [];
  try {
    b.setSecretsManagerLatency(SM_LATENCY_MS);
    for (const c of CONCURRENCY) {
      raw.push(await measure(b, c));
      process.stderr.write(`  concurrency ${c}: ${raw[raw.length - 1].perMinute} per minute\n`);
    }
  } finally {
    await b.stop();
  }
  const base = raw[0].perMinute;
  const results: Result[] = raw.map((r) => ({ ...r, speedup: ratio(r.perMinute, base), efficiency: ratio(r.perMinute / base, r.concurrency) }));
  say(`throughput of one function, ${STATEMENT_LATENCY_MS} ms statement latency, ${SM_LATENCY_MS} ms per Secrets Manager call, half SINGLE_USER half ALTERNATING_USERS, ${os.cpus().length} CPUs`);
  printTable(
    ['concurrency', 'rotations', 'elapsed ms', 'rotations per minute', 'ratio vs concurrency 1', 'efficiency', 'median ms', 'p95 ms', 'load average'],
    results.map((r) => [
      r.concurrency, r.rotations, r.elapsedMs, r.perMinute, ratioCell(r.speedup), ratioCell(r.efficiency), r.medianMs, r.p95Ms, r.loadAverage,
    ]),
  );
  printJson('throughput', { statementLatencyMs: STATEMENT_LATENCY_MS, secretsManagerLatencyMs: SM_LATENCY_MS, cpus: os.cpus().length, results });
}

main().catch((e) => {
  process.stderr.write(`${(e as Error).stack ?? e}\n`);
  process.exit(1);
});
