/**
 * What the benchmarks share: command-line options, statistics, tables with a `ratio` column, the JSON line, and the
 * local stack set up the way the benchmarks measure it (the handler's own defaults, Secrets Manager latency through
 * a `latency` fault on every call the rotation function makes), plus the call-log analysis (calls by operation,
 * statements on the critical path, the floor of a rotation, the single-user window).
 *
 * Not a benchmark itself: bench/run.ts skips it.
 */
import { randomBytes } from 'crypto';
// the SDK clients are devDependencies: the benchmarks run from a development checkout only
/* eslint-disable import/no-extraneous-dependencies */
import { ListStatementsCommand } from '@aws-sdk/client-redshift-data';
import type { RedshiftDataClient } from '@aws-sdk/client-redshift-data';
import { RotateSecretCommand } from '@aws-sdk/client-secrets-manager';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
/* eslint-enable import/no-extraneous-dependencies */
import { startLocalStack } from '../local-stack/local-stack';
import type { CallRecord, LocalStack, LocalStackOptions, RotationLifecycleEvent } from '../local-stack/local-stack';

export type Strategy = 'SINGLE_USER' | 'ALTERNATING_USERS';
export const STRATEGIES: readonly Strategy[] = ['SINGLE_USER', 'ALTERNATING_USERS'];

/**
 * The statements a rotation cannot do without, in sequence (issue 10): SINGLE_USER the change and the test;
 * ALTERNATING_USERS prove AWSCURRENT, read the catalog once, write in one batch, test.
 */
export const MIN_CRITICAL_STATEMENTS: Record<Strategy, number> = { SINGLE_USER: 2, ALTERNATING_USERS: 4 };

/** `--quick` (or BENCH_QUICK=1): fewer sizes, runs and rotations. */
export const QUICK = process.argv.includes('--quick') || process.env.BENCH_QUICK === '1';

/** A positive integer from the environment, or the fallback. */
export function envInt(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a positive integer, got ${JSON.stringify(raw)}`);
  return n;
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Nearest-rank percentile (p in 0..100). */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
}

export const round = (n: number, digits = 0) => (Number.isFinite(n) ? Math.round(n * 10 ** digits) / 10 ** digits : n);

/** `a / b` rounded, or NaN when b is 0. */
export const ratio = (a: number, b: number, digits = 2) => (b === 0 ? NaN : round(a / b, digits));

/** A ratio as a table cell: `x1.23`, or `-`. */
export const ratioCell = (r: number) => (Number.isFinite(r) ? `x${r.toFixed(2)}` : '-');

/** Prints a Markdown table (so it can be pasted into BENCHMARKS.md as it is). */
export function printTable(header: readonly string[], rows: ReadonlyArray<readonly (string | number)[]>): void {
  const cells = rows.map((r) => r.map((c) => (typeof c === 'number' ? (Number.isFinite(c) ? String(c) : '-') : c)));
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((r) => (r[i] ?? '').length)));
  const line = (r: readonly string[]) => `| ${r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' | ')} |`;
  process.stdout.write(`${line(header)}\n|${widths.map((w, i) => (i === 0 ? `${'-'.repeat(w + 1)}-` : `${'-'.repeat(w + 1)}:`)).join('|')}|\n`);
  for (const r of cells) process.stdout.write(`${line(r)}\n`);
}

/** The one JSON line a benchmark ends with. */
export function printJson(bench: string, body: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify({ bench, quick: QUICK, node: process.version, ...body })}\n`);
}

export const say = (line: string) => process.stdout.write(`${line}\n`);

// ---------------------------------------------------------------------------------------------------------------
// The local stack

/** A password Redshift accepts (upper, lower, digit, punctuation). Never printed. */
export function newPassword(): string {
  const alphabet = 'ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz23456789!#%+-=';
  let out = 'Aa1!';
  for (const b of randomBytes(20)) out += alphabet[b % alphabet.length];
  return out;
}

/** A local stack as the benchmarks use it, with its SDK clients. */
export interface BenchStack {
  readonly stack: LocalStack;
  readonly sm: SecretsManagerClient;
  readonly data: RedshiftDataClient;
  /** Sets the Data API statement latency, ms. */
  setStatementLatency(ms: number): void;
  /** Sets the latency of every Secrets Manager call the rotation function makes, ms (a `latency` fault). */
  setSecretsManagerLatency(ms: number): void;
  /** Creates a user and its secret (ALTERNATING_USERS: with the admin's master secret). */
  newSecret(strategy: Strategy, prefix?: string): Promise<{ arn: string; username: string }>;
  stop(): Promise<void>;
}

/**
 * Starts a local stack for measuring: the rotation function runs with the handler's defaults (no environment
 * override: it polls the Data API as it would in AWS), no rotation retries delay worth mentioning.
 */
export async function startBenchStack(options: LocalStackOptions = {}): Promise<BenchStack> {
  const stack = await startLocalStack({ rotationRetryDelayMs: 50, defaultFunction: {}, ...options });
  // the benchmark's own clients retry: a keep-alive socket the endpoint closes just as a request reuses it (its
  // keepAliveTimeout passing during a long wait for rotations) is a reset connection, not a finding
  const sm = stack.secretsManagerClient({ maxAttempts: 4 });
  const data = stack.redshiftDataClient({ maxAttempts: 4 });
  let smFault: { remove(): void } | undefined;
  let master: string | undefined;
  let names = 0;
  return {
    stack,
    sm,
    data,
    setStatementLatency: (ms) => { stack.redshiftData.statementLatencyMs = ms; },
    setSecretsManagerLatency: (ms) => {
      smFault?.remove();
      smFault = ms > 0
        ? stack.faults.inject({ service: 'secretsmanager', fromLambda: true, times: Number.MAX_SAFE_INTEGER, action: { type: 'latency', ms } })
        : undefined;
    },
    newSecret: async (strategy, prefix = strategy === 'SINGLE_USER' ? 'su' : 'au') => {
      if (strategy === 'ALTERNATING_USERS' && master === undefined) {
        const { adminUser, adminPassword } = stack.postgres;
        master = (await stack.createSecret({ name: 'master', username: adminUser, password: adminPassword })).arn;
      }
      const username = `${prefix}_${++names}_${randomBytes(3).toString('hex')}`;
      const password = newPassword();
      await stack.createUser(username, password);
      const s = await stack.createSecret({
        name: `app/${username}`, username, password, strategy, masterArn: strategy === 'ALTERNATING_USERS' ? master : undefined,
      });
      return { arn: s.arn, username };
    },
    stop: async () => {
      sm.destroy();
      data.destroy();
      await stack.stop();
    },
  };
}

/** One rotation as the service ran it. */
export interface RotationRun {
  readonly arn: string;
  readonly token: string;
  /** RotationStarted → RotationSucceeded, as the local Secrets Manager recorded them, ms. */
  readonly ms: number;
  readonly started: number;
  readonly ended: number;
  /** The call-log sequence number before RotateSecret. */
  readonly sinceSeq: number;
}

/** RotateSecret, wait for the outcome; throws (step and error, which carry no password) unless it succeeded. */
export async function rotate(b: BenchStack, arn: string, functionArn = b.stack.functionArn()): Promise<RotationRun> {
  const all = b.stack.faults.calls();
  const sinceSeq = all.length ? all[all.length - 1].seq : 0;
  const t0 = Date.now();
  const out = await b.sm.send(new RotateSecretCommand({ SecretId: arn, RotationLambdaARN: functionArn }));
  const token = out.VersionId!;
  const outcome = await b.stack.waitForRotation(arn, { token, after: t0, timeoutMs: 300_000 });
  if (outcome.type !== 'RotationSucceeded') {
    throw new Error(`rotation of ${arn} ended ${outcome.type} at ${outcome.step}: ${outcome.error}`);
  }
  const started = b.stack.events.find((e: RotationLifecycleEvent) => e.token === token && e.type === 'RotationStarted')!;
  return { arn, token, ms: outcome.time - started.time, started: started.time, ended: outcome.time, sinceSeq };
}

// ---------------------------------------------------------------------------------------------------------------
// Call-log analysis

/** The calls the rotation function made while rotating `arn` after `sinceSeq`. */
export function lambdaCalls(stack: LocalStack, arn: string, sinceSeq: number): CallRecord[] {
  return stack.faults.calls({ fromLambda: true }).filter((c) => c.lambda?.rotatedSecretArn === arn && c.seq > sinceSeq);
}

/** Calls by `service:Operation`. */
export function callsByOperation(calls: readonly CallRecord[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const c of calls) {
    const key = `${c.service === 'secretsmanager' ? 'sm' : 'data'}:${c.operation}`;
    out[key] = (out[key] ?? 0) + 1;
  }
  return out;
}

export const isSubmit = (c: CallRecord) => c.service === 'redshift-data' && (c.operation === 'ExecuteStatement' || c.operation === 'BatchExecuteStatement');

/** A statement (or batch) as the Data API ran it: from its submission to its end. */
export interface StatementSpan { readonly start: number; readonly end: number }

/** The statements submitted between two instants (ListStatements: CreatedAt, UpdatedAt of ended statements). */
export async function statementSpans(data: RedshiftDataClient, from: number, to: number): Promise<StatementSpan[]> {
  const out = await data.send(new ListStatementsCommand({ MaxResults: 1_000_000, Status: 'ALL', RoleLevel: false }));
  return (out.Statements ?? [])
    .map((s) => ({ start: s.CreatedAt!.getTime(), end: s.UpdatedAt!.getTime(), status: s.Status }))
    .filter((s) => s.start >= from && s.start <= to && ['FINISHED', 'FAILED', 'ABORTED'].includes(s.status ?? ''))
    .map(({ start, end }) => ({ start, end }));
}

interface Weighted { readonly start: number; readonly end: number; readonly weight: number }

/** The heaviest chain of intervals that do not overlap (each starts at or after the previous one ended). */
export function heaviestChain(items: readonly Weighted[]): { weight: number; count: number } {
  const s = [...items].sort((a, b) => a.end - b.end || a.start - b.start);
  const best: Array<{ weight: number; count: number }> = [];
  for (let i = 0; i < s.length; i++) {
    let j = i - 1;
    while (j >= 0 && s[j].end > s[i].start) j--;
    const take = { weight: s[i].weight + (j >= 0 ? best[j].weight : 0), count: 1 + (j >= 0 ? best[j].count : 0) };
    const skip = i > 0 ? best[i - 1] : { weight: 0, count: 0 };
    best.push(take.weight > skip.weight || (take.weight === skip.weight && take.count > skip.count) ? take : skip);
  }
  return best.length ? best[best.length - 1] : { weight: 0, count: 0 };
}

/** Statements on the critical path: the longest chain of statements that ran one after the other. */
export function criticalStatements(spans: readonly StatementSpan[]): number {
  return heaviestChain(spans.map((s) => ({ ...s, weight: 1 }))).count;
}

/**
 * The floor of a rotation: the heaviest chain of the work that ran in sequence, each statement weighing the
 * statement latency and each Secrets Manager call of the function the Secrets Manager latency (a call spans
 * [arrival, arrival + latency]). Work that ran in parallel counts once.
 */
export function floorMs(spans: readonly StatementSpan[], calls: readonly CallRecord[], statementMs: number, smMs: number): number {
  const items: Weighted[] = [
    ...spans.map((s) => ({ start: s.start, end: Math.max(s.end, s.start + statementMs), weight: statementMs })),
    ...calls.filter((c) => c.service === 'secretsmanager').map((c) => ({ start: c.time, end: c.time + smMs, weight: smMs })),
  ];
  return heaviestChain(items).weight;
}

/**
 * The single-user window from the call log: the submission of the ALTER USER statement in setSecret to the
 * UpdateSecretVersionStage of finishSecret (the same definition as test/e2e/helpers.ts), and the Secrets Manager
 * calls of testSecret and finishSecret (the work that must happen inside it besides the test statement).
 */
export function singleUserWindow(calls: readonly CallRecord[]): { alterAt: number; moveAt: number; ms: number; smCallsInside: number } | undefined {
  const alter = calls.find((c) => c.lambda?.step === 'setSecret' && isSubmit(c) && (c.statementKinds ?? []).includes('ALTER USER'));
  const finish = calls.filter((c) => c.lambda?.step === 'finishSecret' && c.operation === 'UpdateSecretVersionStage').pop();
  if (!alter || !finish) return undefined;
  const smCallsInside = calls.filter((c) => c.service === 'secretsmanager' && c.time >= alter.time && c.time <= finish.time
    && (c.lambda?.step === 'testSecret' || c.lambda?.step === 'finishSecret')).length;
  return { alterAt: alter.time, moveAt: finish.time, ms: finish.time - alter.time, smCallsInside };
}

/** The statement submitted at `at` (the first one created at or after it), or undefined. */
export function statementAt(spans: readonly StatementSpan[], at: number): StatementSpan | undefined {
  return [...spans].filter((s) => s.start >= at).sort((a, b) => a.start - b.start)[0];
}
