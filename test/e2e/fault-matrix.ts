/**
 * The fault matrix (invariant 4): discover the calls a clean rotation makes (from the endpoints' call log), then
 * for each step and each call of that step inject a fault at exactly that call (an error, a Lambda crash before the
 * call is applied, a crash after it is applied; for writes also an error after the call is applied, and for Data
 * API statements a FAILED statement), let the local Secrets Manager retry the rotation as the service does, and
 * check that it completes and that AWSCURRENT never stopped working outside the single-user window.
 *
 * Cases run on a few secrets at once (faults are scoped to the secret they are injected for), each secret watched
 * by its own client that keeps logging in with AWSCURRENT (every 150 ms: a login costs a PostgreSQL backend, about
 * 30 ms of CPU, and at 20 ms the client took a third of the matrix's CPU), and checked at each failed attempt and
 * after each case. The continuous, every-few-ms client is availability.test.ts.
 */
import { createHash } from 'crypto';
import { E2e, failuresOutside, LoginClient, median, report } from './helpers';
import type { Strategy, UserSecret } from './helpers';
import type { CallRecord, FaultAction } from '../../local-stack/local-stack';

/** One call of a clean rotation: the Nth call of `operation` in `step`. */
export interface CallPoint {
  readonly step: string;
  readonly operation: string;
  readonly service: 'secretsmanager' | 'redshift-data';
  readonly nth: number;
  /** Statement kinds of the call (Data API submits), for the report. */
  readonly kinds: string;
}

export interface FaultCase {
  readonly point: CallPoint;
  readonly label: string;
  readonly action: FaultAction;
}

export interface CaseResult {
  readonly name: string;
  readonly ms: number;
  readonly failedAttempts: number;
  readonly problems: string[];
}

const WRITES = ['PutSecretValue', 'UpdateSecretVersionStage', 'CreateSecret', 'DeleteSecret', 'ExecuteStatement', 'BatchExecuteStatement'];

/** The call points of one clean rotation, numbered per (step, operation). */
export function callPoints(calls: readonly CallRecord[]): CallPoint[] {
  const seen = new Map<string, number>();
  return calls.map((c) => {
    const key = `${c.lambda?.step}/${c.operation}`;
    const nth = (seen.get(key) ?? 0) + 1;
    seen.set(key, nth);
    return { step: c.lambda!.step!, operation: c.operation, service: c.service, nth, kinds: (c.statementKinds ?? []).join(',') };
  });
}

/**
 * The points every clean rotation made. DescribeStatement polls are interchangeable and their number varies with
 * timing: a poll ordinal is kept only when every clean rotation reached it, and at most as many polls per step as
 * the step submitted statements (so each statement's wait is hit about once), at most 3: the parallel catalog
 * reads of ALTERNATING_USERS are polled, and their results fetched, by the same code; the first polls and the first
 * two GetStatementResult calls stand for them.
 */
export function commonPoints(runs: readonly CallPoint[][]): CallPoint[] {
  const key = (p: CallPoint) => `${p.step}/${p.operation}/${p.nth}`;
  const inAll = (p: CallPoint) => runs.every((r) => r.some((q) => key(q) === key(p)));
  const submits = (step: string) => runs[0].filter((p) => p.step === step && (p.operation === 'ExecuteStatement' || p.operation === 'BatchExecuteStatement')).length;
  return runs[0].filter(inAll)
    .filter((p) => p.operation !== 'DescribeStatement' || p.nth <= Math.min(3, submits(p.step)))
    .filter((p) => p.operation !== 'GetStatementResult' || p.nth <= 2);
}

/**
 * The cases for the points: an error, a crash before and a crash after at every call; an error after the call is
 * applied at writes (not at SELECTs), and a FAILED statement at statement submits (both for the first two calls of a
 * kind in a step).
 */
export function faultCases(points: readonly CallPoint[]): FaultCase[] {
  const out: FaultCase[] = [];
  // the extra actions only for the first two calls of a kind in a step (the catalog reads are six calls of one kind)
  const kindSeen = new Map<string, number>();
  for (const p of points) {
    const kindKey = `${p.step}/${p.operation}/${p.kinds}`;
    const kindNth = (kindSeen.get(kindKey) ?? 0) + 1;
    kindSeen.set(kindKey, kindNth);
    const extras = kindNth <= 2;
    const code = p.service === 'secretsmanager' ? 'InvalidRequestException' : 'ValidationException';
    const name = `${p.step} ${p.operation}#${p.nth}${p.kinds ? ` (${p.kinds})` : ''}`;
    out.push({ point: p, label: `${name}: error`, action: { type: 'error', code, message: 'injected by the e2e fault matrix' } });
    out.push({ point: p, label: `${name}: crash before`, action: { type: 'crash', when: 'before' } });
    out.push({ point: p, label: `${name}: crash after`, action: { type: 'crash', when: 'after' } });
    const write = WRITES.includes(p.operation) && !(p.kinds !== '' && p.kinds.split(',').every((k) => k === 'SELECT'));
    if (extras && write) {
      out.push({ point: p, label: `${name}: error after the call is applied`, action: { type: 'error', code, message: 'injected after', when: 'after' } });
    }
    if (extras && (p.operation === 'ExecuteStatement' || p.operation === 'BatchExecuteStatement')) {
      out.push({ point: p, label: `${name}: statement FAILED`, action: { type: 'statementFailed', error: 'ERROR: injected by the e2e fault matrix' } });
    }
  }
  return out;
}

const probeHash = (arn: string) => createHash('sha256').update(arn, 'utf8').digest('hex').slice(0, 16);

/** One secret that runs cases one after another, watched by a login client. */
class Lane {
  readonly windows: Array<{ start: number; end: number }> = [];
  /** At each failed attempt: did AWSCURRENT and AWSPENDING log in, and when. */
  readonly attemptChecks: Array<{ time: number; current: boolean; pending: boolean; label: string }> = [];
  client?: LoginClient;

  constructor(private readonly e: E2e, readonly user: UserSecret) {}

  startClient(intervalMs: number): void {
    this.client = new LoginClient(this.e, this.user.arn, intervalMs);
  }

  /** A clean rotation; returns its call points. */
  async clean(): Promise<CallPoint[]> {
    const seq = this.e.lastSeq();
    await this.e.rotateOk(this.user.arn);
    if (this.user.strategy === 'SINGLE_USER') this.windows.push(this.e.singleUserWindow(this.user.arn, seq));
    return callPoints(this.e.lambdaCalls(this.user.arn, seq));
  }

  async run(c: FaultCase): Promise<CaseResult> {
    const { e, user } = this;
    const problems: string[] = [];
    const before = (await e.value(user.arn))!;
    const seq = e.lastSeq();
    const t0 = Date.now();
    const fault = e.stack.faults.inject({ secretId: user.arn, step: c.point.step, operation: c.point.operation, nth: c.point.nth, action: c.action });
    let failedAttempts = 0;
    try {
      const r = await e.rotate(user.arn, { timeoutMs: 60_000 });
      const attempts = e.eventsOf(r.token).filter((ev) => ev.type === 'RotationAttemptFailed');
      failedAttempts = attempts.length;
      if (r.event.type !== 'RotationSucceeded') problems.push(`rotation ended ${r.event.type} at ${r.event.step}: ${e.redact(r.event.error)}`);
      if (fault.fired !== 1) problems.push(`the fault fired ${fault.fired} times (seen ${fault.seen} matching calls)`);
      if (attempts.length > 1) problems.push(`${attempts.length} attempts failed for one fault: ${attempts.map((a) => `${a.step}: ${e.redact(a.error)}`).join(' | ')}`);

      if (user.strategy === 'SINGLE_USER') {
        try {
          this.windows.push(e.singleUserWindow(user.arn, seq));
        } catch (err) {
          problems.push((err as Error).message);
        }
      }
      const current = (await e.value(user.arn))!;
      const previous = await e.value(user.arn, 'AWSPREVIOUS');
      const stages = await e.stages(user.arn);
      if (current.versionId !== r.token) problems.push('AWSCURRENT is not the rotation\'s token');
      if (previous?.versionId !== before.versionId) problems.push('AWSPREVIOUS is not the version that was AWSCURRENT');
      if (JSON.stringify(stages) !== JSON.stringify({ [r.token]: ['AWSCURRENT'], [before.versionId]: ['AWSPREVIOUS'] })
        && JSON.stringify(stages) !== JSON.stringify({ [before.versionId]: ['AWSPREVIOUS'], [r.token]: ['AWSCURRENT'] })) {
        problems.push(`unexpected staging labels: ${JSON.stringify(Object.values(stages))}`);
      }
      if (!await e.stack.canLogin(current.username, current.password)) problems.push('AWSCURRENT does not log in');
      if (previous) {
        const prevOk = await e.stack.canLogin(previous.username, previous.password);
        if (user.strategy === 'ALTERNATING_USERS' && !prevOk) problems.push('AWSPREVIOUS does not log in (alternating users)');
        if (user.strategy === 'SINGLE_USER' && prevOk) problems.push('the old password still logs in (single user)');
      }
      const probes = (await e.probeSecrets()).filter((n) => n.includes(probeHash(user.arn)));
      if (probes.length > 0) problems.push(`${probes.length} probe secret(s) left`);
    } catch (err) {
      problems.push(`${(err as Error).name}: ${e.redact((err as Error).message)}`);
    } finally {
      fault.remove();
    }
    if (problems.length > 0) await this.recover();
    return { name: c.label, ms: Date.now() - t0, failedAttempts, problems };
  }

  /** After a failed case: finish the rotation left pending (without faults) so that the next case can start. */
  private async recover(): Promise<void> {
    const { e, user } = this;
    try {
      const stages = await e.stages(user.arn);
      const pending = Object.entries(stages).find(([, labels]) => labels.includes('AWSPENDING') && !labels.includes('AWSCURRENT'))?.[0];
      if (pending) await e.rotate(user.arn, { token: pending });
    } catch {
      // the case is reported as failed already
    }
  }

  /** Watches the rotation events of this secret: at each failed attempt, checks AWSCURRENT and AWSPENDING logins. */
  watchAttempts(stopAt: () => boolean): Promise<void> {
    const { e, user } = this;
    return (async () => {
      let seen = e.stack.events.length;
      // one last pass after the stop: every failed attempt of the matrix gets its check
      for (let last = false; !last;) {
        last = stopAt();
        const evs = e.stack.events.slice(seen);
        seen += evs.length;
        for (const ev of evs) {
          if (ev.secretArn !== user.arn || ev.type !== 'RotationAttemptFailed') continue;
          const time = Date.now();
          const cur = await e.value(user.arn);
          const pend = await e.value(user.arn, 'AWSPENDING');
          const current = cur ? await e.stack.canLogin(cur.username, cur.password) : false;
          const pending = pend ? await e.stack.canLogin(pend.username, pend.password) : false;
          this.attemptChecks.push({ time, current, pending, label: `${ev.step}` });
        }
        await new Promise((r) => setTimeout(r, 5));
      }
    })();
  }
}

export interface MatrixOutcome {
  readonly points: number;
  readonly cases: number;
  readonly results: CaseResult[];
  readonly retried: number;
  readonly loginAttempts: number;
  readonly loginFailures: number;
  readonly outsideWindow: number;
  /** The failed logins outside any window: reason, and distance to the nearest window (ms). */
  readonly outsideDetails: string[];
  readonly lostCredentials: number;
  /** How many failed attempts were checked (lostCredentials and currentFailedOutsideWindow count among them). */
  readonly attemptsChecked: number;
  readonly currentFailedOutsideWindow: number;
  readonly medianCaseMs: number;
}

/**
 * Runs the whole matrix for a strategy on `lanes` secrets at once. `select` picks a share of the cases (to split
 * the matrix over several test files).
 */
export async function runMatrix(e: E2e, strategy: Strategy, options: {
  readonly lanes: number;
  /** Only the points of these steps. @default all four */
  readonly steps?: readonly string[];
  readonly loginIntervalMs?: number;
  /** Cases not started by then are reported as not run (so that a slow machine fails clearly, not by timeout). */
  readonly deadlineMs: number;
}): Promise<MatrixOutcome> {
  const deadline = Date.now() + options.deadlineMs;
  const lanes: Lane[] = [];
  for (let i = 0; i < options.lanes; i++) lanes.push(new Lane(e, await e.newUser(strategy, i % 2 === 0 ? 'cluster' : 'workgroup', strategy === 'SINGLE_USER' ? 'fsu' : 'fau')));
  // a clean rotation per lane (for alternating users the first one creates the clone); points common to all runs
  const runs = await Promise.all(lanes.map((l) => l.clean()));
  const points = commonPoints(runs).filter((p) => !options.steps || options.steps.includes(p.step));
  const cases = faultCases(points);

  let done = false;
  for (const l of lanes) l.startClient(options.loginIntervalMs ?? 150);
  const watchers = lanes.map((l) => l.watchAttempts(() => done));
  const results: CaseResult[] = [];
  let next = 0;
  try {
    await Promise.all(lanes.map(async (lane) => {
      while (next < cases.length) {
        const c = cases[next++];
        if (Date.now() > deadline) {
          results.push({ name: c.label, ms: 0, failedAttempts: 0, problems: ['not run: the matrix ran out of time'] });
          continue;
        }
        results.push(await lane.run(c));
      }
    }));
  } finally {
    done = true;
    await Promise.all(watchers);
    for (const l of lanes) await l.client?.stop();
  }

  let loginAttempts = 0;
  let loginFailures = 0;
  let outsideWindow = 0;
  let lostCredentials = 0;
  let attemptsChecked = 0;
  let currentFailedOutsideWindow = 0;
  const outsideDetails: string[] = [];
  for (const l of lanes) {
    const attempts = l.client!.attempts;
    loginAttempts += attempts.length;
    loginFailures += attempts.filter((a) => !a.ok).length;
    const outside = strategy === 'SINGLE_USER' ? failuresOutside(attempts, l.windows) : attempts.filter((a) => !a.ok);
    outsideWindow += outside.length;
    for (const a of outside) {
      const dist = Math.min(...l.windows.map((w) => Math.min(Math.abs(a.readAt - w.end), Math.abs(a.endAt - w.start))));
      outsideDetails.push(`${a.reason} (attempt ${a.endAt - a.readAt} ms, ${dist} ms from the nearest window)`);
    }
    attemptsChecked += l.attemptChecks.length;
    for (const chk of l.attemptChecks) {
      if (!chk.current && !chk.pending) lostCredentials++;
      const inWindow = l.windows.some((w) => chk.time >= w.start && chk.time <= w.end);
      if (!chk.current && (strategy === 'ALTERNATING_USERS' || !inWindow)) currentFailedOutsideWindow++;
    }
  }
  return {
    points: points.length,
    cases: cases.length,
    results,
    retried: results.filter((r) => r.failedAttempts > 0).length,
    loginAttempts,
    loginFailures,
    outsideWindow,
    outsideDetails,
    lostCredentials,
    attemptsChecked,
    currentFailedOutsideWindow,
    medianCaseMs: median(results.map((r) => r.ms)),
  };
}

/**
 * The ALTERNATING_USERS matrix for some steps, as a whole test file (the matrix is split over two files so that
 * jest runs the halves in parallel): a client logging in with AWSCURRENT throughout never fails, and after each
 * failed attempt AWSCURRENT still logs in.
 */
export function alternatingMatrixSuite(steps: readonly string[]): void {
  let e: E2e;

  beforeAll(async () => {
    e = await E2e.start();
  });

  afterAll(async () => {
    await e?.stop();
  });

  test(`a fault at every call of ${steps.join(', ')}, then the retry: the rotation completes and AWSCURRENT always logs in`, async () => {
    const m = await runMatrix(e, 'ALTERNATING_USERS', { lanes: 4, steps, deadlineMs: 420_000 });
    const problems = m.results.filter((r) => r.problems.length > 0).map((r) => `${r.name}: ${r.problems.join('; ')}`);
    report(`ALTERNATING_USERS fault matrix (${steps.join(', ')}): ${m.points} call points, ${m.cases} cases, ${m.retried} retried by the service, `
      + `median case ${m.medianCaseMs} ms, ${m.loginAttempts} client logins, ${m.loginFailures} failed`);
    if (process.env.E2E_VERBOSE) for (const r of [...m.results].sort((a, b) => b.ms - a.ms)) report(`  ${r.ms} ms ${r.failedAttempts} ${r.name}`);
    expect(problems).toEqual([]);
    expect(new Set(m.results.map((r) => r.name.split(' ')[0]))).toEqual(new Set(steps));
    expect(m.retried).toBeGreaterThan(m.cases / 2);
    expect(m.loginAttempts).toBeGreaterThan(m.cases);
    expect(m.outsideDetails).toEqual([]);
    expect(m.loginFailures).toBe(0);
    // the checks below ran: one per failed attempt, and every retried case had one
    expect(m.attemptsChecked).toBeGreaterThanOrEqual(m.retried);
    expect(m.lostCredentials).toBe(0);
    expect(m.currentFailedOutsideWindow).toBe(0);
  }, 480_000);

  test('nothing the handler logged, and no SQL, carries a password', async () => {
    await e.expectNoPasswordLeaked();
  });
}
