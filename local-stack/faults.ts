/**
 * Call log and fault injection shared by the local Secrets Manager and Redshift Data API endpoints.
 *
 * Every request an endpoint receives is recorded as a {@link CallRecord} (operation, the secret it concerns, the
 * rotation step being run when the caller is the rotation Lambda; never a secret value or SQL text). A
 * {@link FaultSpec} matches calls and, at its Nth matching call, makes the endpoint answer with an error, fail a
 * Data API statement, add latency, or kill the Lambda worker that made the call, before or after the call is
 * applied.
 */

/** The two local endpoints. */
export type ServiceName = 'secretsmanager' | 'redshift-data';

/** One request received by a local endpoint. */
export interface CallRecord {
  /** 1-based sequence number over both endpoints. */
  readonly seq: number;
  /** Epoch milliseconds when the request arrived. */
  readonly time: number;
  readonly service: ServiceName;
  /** e.g. `PutSecretValue`, `ExecuteStatement`. */
  readonly operation: string;
  /** The secret the call names (SecretId, or SecretArn for the Data API; for DescribeStatement etc. the
   * statement's SecretArn), as an ARN when the secret exists. */
  readonly secretId?: string;
  /** Present when the caller is a rotation Lambda invocation run by the local stack. */
  readonly lambda?: {
    readonly functionArn: string;
    readonly invocationId: string;
    /** `Step` of the invocation's event. */
    readonly step?: string;
    /** `SecretId` of the invocation's event: the secret being rotated. */
    readonly rotatedSecretArn?: string;
  };
  /** Data API: the first keywords of the SQL (e.g. `ALTER USER`, `SELECT`), never the rest of the text. */
  readonly statementKinds?: readonly string[];
  /** The fault applied to this call, if any (its id and action type). */
  readonly fault?: string;
}

/** Selects calls. Every given field must match. */
export interface CallMatcher {
  readonly service?: ServiceName;
  /** One operation or any of several. */
  readonly operation?: string | readonly string[];
  /** The rotation step of the calling Lambda invocation (implies a call from the Lambda). */
  readonly step?: string;
  /** Name or ARN: matches the call's secret or the secret being rotated by the calling invocation. */
  readonly secretId?: string;
  /** true: only calls made by a rotation Lambda invocation; false: only calls made by anyone else. */
  readonly fromLambda?: boolean;
  /** Data API: matched against the statement's SQL (each statement of a batch). Never recorded. */
  readonly sql?: RegExp;
}

/** What happens at a matching call. */
export type FaultAction =
  /** Answer with an AWS error (`{"__type": code}`), before the call is applied (default) or after it. */
  | { readonly type: 'error'; readonly code: string; readonly message?: string; readonly httpStatus?: number; readonly when?: 'before' | 'after' }
  /** Data API ExecuteStatement/BatchExecuteStatement: the statement is accepted, not run, and ends FAILED. */
  | { readonly type: 'statementFailed'; readonly error?: string }
  /** Kill the Lambda worker process that made the call (a Lambda crash), before or after the call is applied.
   * Only calls made by a Lambda invocation match a crash fault. */
  | { readonly type: 'crash'; readonly when: 'before' | 'after' }
  /** Delay the call (Data API statements: delay the statement's execution). */
  | { readonly type: 'latency'; readonly ms: number }
  /** Close the connection without an answer, before the call is applied (the SDK sees a network error). */
  | { readonly type: 'networkError' }
  /**
   * Data API ExecuteStatement/BatchExecuteStatement: the cluster or workgroup cannot run statements. `paused`: a
   * paused cluster (ValidationException); `unreachable`: the Data API cannot connect to the database
   * (DatabaseConnectionException). Neither message says `password authentication failed`.
   */
  | { readonly type: 'targetUnavailable'; readonly state: 'paused' | 'unreachable' };

/** A fault to inject. */
export interface FaultSpec extends CallMatcher {
  /** Fire at the Nth matching call counted from injection (1-based). @default 1 */
  readonly nth?: number;
  /** Fire at this many consecutive matching calls starting at the Nth. @default 1 */
  readonly times?: number;
  readonly action: FaultAction;
}

/** An injected fault. */
export interface Fault {
  readonly id: string;
  readonly spec: FaultSpec;
  /** Matching calls seen since injection. */
  readonly seen: number;
  /** Times the fault was applied. */
  readonly fired: number;
  /** Removes the fault. */
  remove(): void;
}

/** Resolves a secret name, ARN or partial ARN to the full ARN of an existing secret. */
export type SecretResolver = (id: string) => string | undefined;

interface FaultState { id: string; spec: FaultSpec; seen: number; fired: number; removed: boolean }

/** Call log and fault registry. One per local stack, shared by both endpoints. */
export class FaultInjector {
  private readonly log: CallRecord[] = [];
  private readonly active: FaultState[] = [];
  private seq = 0;
  private nextId = 1;

  constructor(private readonly resolve: SecretResolver = (id) => id) {}

  /** Injects a fault; returns a handle that reports how often it matched and fired. */
  inject(spec: FaultSpec): Fault {
    if ((spec.action.type === 'statementFailed' || spec.action.type === 'targetUnavailable') && spec.service === 'secretsmanager') {
      throw new Error(`${spec.action.type} faults apply to the redshift-data service only`);
    }
    if ((spec.nth ?? 1) < 1 || (spec.times ?? 1) < 1) throw new Error('nth and times must be at least 1');
    const state: FaultState = { id: `fault-${this.nextId++}`, spec, seen: 0, fired: 0, removed: false };
    this.active.push(state);
    return {
      id: state.id,
      spec,
      get seen() { return state.seen; },
      get fired() { return state.fired; },
      remove: () => { state.removed = true; this.prune(); },
    };
  }

  /** Removes every fault. */
  clear(): void {
    for (const f of this.active) f.removed = true;
    this.active.length = 0;
  }

  /** The calls recorded so far (oldest first), optionally filtered. */
  calls(matcher: CallMatcher = {}): CallRecord[] {
    return this.log.filter((c) => this.matches(matcher, c, undefined));
  }

  /** How many recorded calls match. */
  count(matcher: CallMatcher = {}): number {
    return this.calls(matcher).length;
  }

  /** Forgets the recorded calls (faults stay). */
  resetCalls(): void {
    this.log.length = 0;
  }

  /**
   * Records a call and returns the fault action to apply, if any (used by the endpoints).
   * @internal
   */
  onCall(call: Omit<CallRecord, 'seq' | 'time' | 'fault'>, sqls?: readonly string[]): { action?: FaultAction; record: CallRecord } {
    const secretId = call.secretId !== undefined ? (this.resolve(call.secretId) ?? call.secretId) : undefined;
    let record: CallRecord = { ...call, secretId, seq: ++this.seq, time: Date.now() };
    let action: FaultAction | undefined;
    for (const f of this.active) {
      if (f.removed || !this.matches(f.spec, record, sqls)) continue;
      if (f.spec.action.type === 'crash' && !record.lambda) continue;
      if ((f.spec.action.type === 'statementFailed' || f.spec.action.type === 'targetUnavailable')
        && !['ExecuteStatement', 'BatchExecuteStatement'].includes(record.operation)) continue;
      f.seen++;
      const nth = f.spec.nth ?? 1;
      if (action === undefined && f.seen >= nth && f.seen < nth + (f.spec.times ?? 1)) {
        f.fired++;
        action = f.spec.action;
        record = { ...record, fault: `${f.id}:${action.type}` };
      }
    }
    this.log.push(record);
    this.prune();
    return { action, record };
  }

  private prune(): void {
    for (let i = this.active.length - 1; i >= 0; i--) {
      const f = this.active[i];
      if (f.removed || f.seen >= (f.spec.nth ?? 1) + (f.spec.times ?? 1) - 1 && f.fired >= (f.spec.times ?? 1)) {
        this.active.splice(i, 1);
      }
    }
  }

  private matches(m: CallMatcher, c: CallRecord, sqls: readonly string[] | undefined): boolean {
    if (m.service !== undefined && m.service !== c.service) return false;
    if (m.operation !== undefined) {
      const ops = typeof m.operation === 'string' ? [m.operation] : m.operation;
      if (!ops.includes(c.operation)) return false;
    }
    if (m.fromLambda !== undefined && m.fromLambda !== (c.lambda !== undefined)) return false;
    if (m.step !== undefined && c.lambda?.step !== m.step) return false;
    if (m.secretId !== undefined) {
      const want = this.resolve(m.secretId) ?? m.secretId;
      if (c.secretId !== want && c.lambda?.rotatedSecretArn !== want) return false;
    }
    if (m.sql !== undefined) {
      if (!sqls || !sqls.some((s) => { m.sql!.lastIndex = 0; return m.sql!.test(s); })) return false;
    }
    return true;
  }
}

/** The first keywords of a statement, for the call log (never literals or names). */
export function statementKind(sql: string): string {
  const words = sql.replace(/--[^\n]*|\/\*[\s\S]*?\*\//g, ' ').trim().split(/\s+/).slice(0, 2).map((w) => w.toUpperCase());
  const kw = words.filter((w) => /^[A-Z]+$/.test(w));
  if (kw.length === 2 && ['ALTER', 'CREATE', 'DROP', 'GRANT', 'REVOKE'].includes(kw[0])) return kw.join(' ');
  return kw[0] ?? '';
}
