/**
 * The single-user window is bounded by the work that must happen inside it.
 *
 * The window runs from the submission of setSecret's ALTER USER to finishSecret's UpdateSecretVersionStage (the
 * call log, as in helpers.ts): while it is open, AWSCURRENT no longer logs in. What must happen inside it: the
 * ALTER USER itself (until the statement ended and the handler saw it end), the calls of testSecret (first to
 * last, the last one's latency included) and those of finishSecret up to the move of AWSCURRENT. Two bounds, each
 * with the same small allowance, for every window:
 * - the window minus that work (the rest of setSecret after the ALTER USER, starting and ending invocations, the
 *   service between the steps, testSecret or finishSecret idling before their first call or after their last);
 * - the longest stretch of the window in which the function waited for no statement (from its submission to the
 *   poll that saw it end) and no Secrets Manager call was in flight: a wait between two calls of testSecret or
 *   finishSecret, which the first bound counts as their work.
 * So a wait added anywhere inside the window fails this suite: a 3-second sleep after the ALTER USER, a 1-second
 * sleep at the start of finishSecret or after testSecret's SELECT 1 all did (excess or idle stretch above 1 s in
 * every rotation).
 *
 * Statement latency 100 ms and 20 ms on every Secrets Manager call of the function make the work realistic in
 * shape; the allowance is per window, absolute, and independent of those latencies.
 */
import { ListStatementsCommand } from '@aws-sdk/client-redshift-data';
import { E2e, median, report } from './helpers';
import type { CallRecord } from '../../local-stack/local-stack';

const ROTATIONS = 5;
const STATEMENT_LATENCY_MS = 100;
const SM_LATENCY_MS = 20;
/**
 * What the window may hold beyond its work: two invocation boundaries (setSecret → testSecret → finishSecret) on a
 * local Lambda runtime, on a busy 2-core machine. Measured there: excess 5 to 50 ms (100 ms at a load average of 30).
 */
const ALLOWANCE_MS = 300;

let e: E2e;

beforeAll(async () => {
  e = await E2e.start({ statementLatencyMs: STATEMENT_LATENCY_MS });
  e.stack.faults.inject({ service: 'secretsmanager', fromLambda: true, times: Number.MAX_SAFE_INTEGER, action: { type: 'latency', ms: SM_LATENCY_MS } });
});

afterAll(async () => {
  await e?.stop();
});

interface Window {
  readonly ms: number;
  /** ALTER USER submitted → the statement ended and the handler saw it (its last setSecret call). */
  readonly alterMs: number;
  /** testSecret's first call → its last call (with the last call's latency). */
  readonly testMs: number;
  /** finishSecret's first call → its UpdateSecretVersionStage. */
  readonly finishMs: number;
  readonly testCalls: number;
  readonly finishCalls: number;
  /** The window minus the work: what the allowance must cover. */
  readonly excessMs: number;
  /** The longest stretch of the window with no statement waited for and no Secrets Manager call in flight. */
  readonly longestIdleMs: number;
}

const latencyOf = (c: CallRecord) => (c.service === 'secretsmanager' ? SM_LATENCY_MS : 0);

interface Span { readonly start: number; readonly end: number }

/** Every statement the local Data API ran: submitted (CreatedAt) → ended (UpdatedAt). */
async function statementSpans(): Promise<Array<Span & { status?: string }>> {
  const out = await e.data.send(new ListStatementsCommand({ MaxResults: 1_000_000, Status: 'ALL', RoleLevel: false }));
  return (out.Statements ?? []).map((s) => ({ start: s.CreatedAt!.getTime(), end: s.UpdatedAt!.getTime(), status: s.Status }));
}

/** The longest stretch of [from, to] that no span covers. */
function longestGap(spans: readonly Span[], from: number, to: number): number {
  let at = from;
  let longest = 0;
  for (const s of [...spans].filter((x) => x.end > from && x.start < to).sort((a, b) => a.start - b.start)) {
    if (s.start > at) longest = Math.max(longest, s.start - at);
    at = Math.max(at, s.end);
  }
  return Math.max(longest, to - at);
}

async function measure(arn: string, sinceSeq: number): Promise<Window> {
  const calls = e.lambdaCalls(arn, sinceSeq);
  const step = (name: string) => calls.filter((c) => c.lambda?.step === name);
  const alter = step('setSecret').find((c) => ['ExecuteStatement', 'BatchExecuteStatement'].includes(c.operation)
    && (c.statementKinds ?? []).includes('ALTER USER'));
  const set = step('setSecret');
  const test = step('testSecret');
  const finishAll = step('finishSecret');
  const move = finishAll.filter((c) => c.operation === 'UpdateSecretVersionStage').pop();
  // the pieces exist: a window with no work in it would make the bound meaningless
  expect({ alter: alter !== undefined, move: move !== undefined, testCalls: test.length > 0 }).toEqual({ alter: true, move: true, testCalls: true });
  const finish = finishAll.filter((c) => c.seq <= move!.seq);
  const w = e.singleUserWindow(arn, sinceSeq);
  const statements = await statementSpans();
  // the ALTER USER statement: the first one created when (or just after) it was submitted
  const alterStatement = statements.filter((s) => s.start >= alter!.time && s.start <= alter!.time + 1000).sort((a, b) => a.start - b.start)[0];
  expect({ found: alterStatement !== undefined, status: alterStatement?.status }).toEqual({ found: true, status: 'FINISHED' });
  const alterDone = Math.max(set[set.length - 1].time + latencyOf(set[set.length - 1]), alterStatement.end);
  const lastTest = test[test.length - 1];
  const alterMs = alterDone - alter!.time;
  const testMs = lastTest.time + latencyOf(lastTest) - test[0].time;
  const finishMs = move!.time - finish[0].time;
  // what keeps the function busy: a statement from its submission until the function's next Data API call after it
  // ended (the poll that saw it end), a Secrets Manager call for its latency
  const dataCalls = calls.filter((c) => c.service === 'redshift-data').map((c) => c.time);
  const busy: Span[] = [
    ...statements.filter((s) => s.start >= calls[0].time).map((s) => ({ start: s.start, end: dataCalls.find((t) => t >= s.end) ?? s.end })),
    ...calls.filter((c) => c.service === 'secretsmanager').map((c) => ({ start: c.time, end: c.time + SM_LATENCY_MS })),
  ];
  return {
    ms: w.ms,
    alterMs,
    testMs,
    finishMs,
    testCalls: test.length,
    finishCalls: finish.length,
    excessMs: w.ms - alterMs - testMs - finishMs,
    longestIdleMs: longestGap(busy, w.start, w.end),
  };
}

test(`SINGLE_USER: over ${ROTATIONS} rotations the window holds only the ALTER USER, testSecret's and finishSecret's calls, and at most ${ALLOWANCE_MS} ms more`, async () => {
  const user = await e.newUser('SINGLE_USER', 'cluster');
  await e.rotateOk(user.arn); // the function's first (cold) invocations are not what this bounds
  const windows: Window[] = [];
  for (let i = 0; i < ROTATIONS; i++) {
    const seq = e.lastSeq();
    await e.rotateOk(user.arn);
    await e.stack.redshiftData.idle();
    windows.push(await measure(user.arn, seq));
  }
  const figures = windows.map((w) => ({
    window: w.ms, alter: w.alterMs, test: w.testMs, finish: w.finishMs, excess: w.excessMs, longestIdle: w.longestIdleMs,
  }));
  // the work really is inside the window, and it takes time (the latencies make sure of it)
  for (const w of windows) {
    expect(w.alterMs).toBeGreaterThanOrEqual(STATEMENT_LATENCY_MS);
    expect(w.testMs).toBeGreaterThanOrEqual(STATEMENT_LATENCY_MS);
    expect(w.finishMs).toBeGreaterThanOrEqual(0);
    expect(w.ms).toBeGreaterThanOrEqual(w.alterMs + w.testMs);
  }
  // the bound: every window, so one wait in one rotation fails too; and no wait inside testSecret or finishSecret
  // (between their calls) either: no stretch of the window without a statement waited for or a call in flight
  expect(figures.filter((f) => f.excess > ALLOWANCE_MS || f.longestIdle > ALLOWANCE_MS)).toEqual([]);
  report(`SINGLE_USER window over ${ROTATIONS} rotations at ${STATEMENT_LATENCY_MS} ms statement latency: median ${median(windows.map((w) => w.ms))} ms `
    + `(ALTER USER ${median(windows.map((w) => w.alterMs))}, testSecret ${median(windows.map((w) => w.testMs))} in ${median(windows.map((w) => w.testCalls))} calls, `
    + `finishSecret ${median(windows.map((w) => w.finishMs))} in ${median(windows.map((w) => w.finishCalls))} calls), `
    + `excess median ${median(windows.map((w) => w.excessMs))} ms, max ${Math.max(...windows.map((w) => w.excessMs))} ms, `
    + `longest idle stretch max ${Math.max(...windows.map((w) => w.longestIdleMs))} ms (allowance ${ALLOWANCE_MS} ms)`);
});

test('nothing the handler logged, and no SQL, carries a password', async () => {
  await e.expectNoPasswordLeaked();
});
