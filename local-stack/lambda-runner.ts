/**
 * Runs rotation Lambdas locally: "any RotationLambdaARN in the stack's account runs the bundled handler".
 *
 * Each function (ARN without qualifier) gets its own pool of warm Node.js worker processes (lambda-worker.js),
 * reused across invocations, one invocation at a time per worker, more workers for concurrent invocations (up to a
 * limit, then queued), like Lambda execution environments. A worker's environment is the Lambda runtime's
 * (AWS_REGION, fake credentials, AWS_LAMBDA_FUNCTION_NAME, …), the SDK endpoint overrides
 * AWS_ENDPOINT_URL_SECRETS_MANAGER / AWS_ENDPOINT_URL_REDSHIFT_DATA pointing at the local endpoints (with a
 * `/fn/<workerId>/` path so the endpoints know which invocation calls them), and the function's own variables.
 * Everything the handler writes to stdout/stderr is captured in {@link LambdaRunner.logs}. A worker that dies
 * (crash fault, process.exit, timeout) fails its invocation as `Runtime.ExitError` and is replaced on demand.
 */
import { ChildProcess, fork } from 'child_process';
import { randomUUID } from 'crypto';
import * as path from 'path';
import type { CallerContext, LambdaHost } from './aws-json';
import { functionAuthorizer } from './iam';
import type { FunctionIam, PolicyAuthorizer } from './iam';
import type { RotationEvent } from './secrets-manager';

/** The handler bundle the construct ships: `assets/lambda/rotation/index/index.js`. */
export const DEFAULT_HANDLER_FILE = path.resolve(__dirname, '..', 'assets', 'lambda', 'rotation', 'index', 'index.js');
const WORKER_FILE = path.join(__dirname, 'lambda-worker.js');

/** Configuration of one function. */
export interface FunctionConfig {
  /** Environment variables of the function (PASSWORD_LENGTH, TEST_STATEMENTS, …). */
  readonly env?: Record<string, string>;
  /** The module to load. @default the bundled rotation handler */
  readonly handlerFile?: string;
  /** The exported function. @default 'handler' */
  readonly handlerExport?: string;
  /** Invocation timeout in ms. @default the runner's (60000) */
  readonly timeoutMs?: number;
  /** Most concurrent executions (workers) of this function; more invocations wait. @default the runner's (10) */
  readonly maxConcurrency?: number;
  /**
   * The function's role policies: every call it makes to the local Secrets Manager and Data API is authorized
   * against them (AccessDeniedException otherwise). @default no IAM checks
   */
  readonly iam?: FunctionIam;
}

export interface LambdaRunnerOptions {
  readonly region: string;
  readonly account: string;
  readonly secretsManagerUrl: string;
  readonly redshiftDataUrl: string;
  /** Configuration of every function not registered. */
  readonly defaultFunction?: FunctionConfig;
  readonly timeoutMs?: number;
  readonly maxConcurrency?: number;
}

/** A line the handler wrote (or a START/END/REPORT line of the runtime). */
export interface LambdaLogEntry {
  readonly time: number;
  readonly functionArn: string;
  /** Undefined for lines written between invocations (e.g. at module load). */
  readonly invocationId?: string;
  readonly stream: 'stdout' | 'stderr' | 'runtime';
  readonly message: string;
}

/** The outcome of one invocation. */
export interface InvocationRecord {
  readonly invocationId: string;
  readonly functionArn: string;
  readonly step?: string;
  readonly secretId?: string;
  readonly start: number;
  end?: number;
  ok?: boolean;
  errorType?: string;
  errorMessage?: string;
}

/** Thrown by {@link LambdaRunner.invokeOrThrow} when an invocation fails. */
export class LambdaInvocationError extends Error {
  constructor(readonly errorType: string, message: string) {
    super(message);
    this.name = errorType;
  }
}

interface Worker {
  readonly id: string;
  readonly functionArn: string;
  readonly child: ChildProcess;
  ready: Promise<void>;
  current?: {
    record: InvocationRecord;
    event: RotationEvent;
    resolve: (r: InvocationRecord) => void;
    timer?: NodeJS.Timeout;
    /** End-of-invocation sentinel lines seen on stdout and stderr. */
    sentinels: number;
    /** The result message, kept until both sentinels arrived. */
    result?: { ok: boolean; errorType?: string; errorMessage?: string };
  };
  dead: boolean;
  busy: boolean;
  /** Configured before the last registerFunction: retired when its invocation ends. */
  stale?: boolean;
  crashReason?: string;
}

interface Pool {
  readonly workers: Worker[];
  readonly queue: (() => void)[];
}

const unqualified = (arn: string) => arn.split(':').slice(0, 7).join(':');

/** Local Lambda runtime for rotation functions. */
export class LambdaRunner implements LambdaHost {
  /** Every line written by every function, oldest first. */
  readonly logs: LambdaLogEntry[] = [];
  /** Every invocation, oldest first. */
  readonly invocations: InvocationRecord[] = [];
  private readonly functions = new Map<string, FunctionConfig>();
  private readonly authorizers = new WeakMap<FunctionIam, PolicyAuthorizer>();
  private readonly pools = new Map<string, Pool>();
  private readonly workers = new Map<string, Worker>();
  private nextWorker = 1;
  private stopped = false;

  constructor(private readonly options: LambdaRunnerOptions) {}

  /** Configures a function (by ARN; a qualifier is ignored). Takes effect for workers started afterwards: the
   * function's warm workers are retired. */
  registerFunction(functionArn: string, config: FunctionConfig): void {
    const arn = unqualified(functionArn);
    this.functions.set(arn, config);
    const pool = this.pools.get(arn);
    for (const w of pool?.workers ?? []) {
      if (w.busy || w.current) w.stale = true; else this.retire(w);
    }
  }

  /** The configuration a function runs with. */
  configFor(functionArn: string): FunctionConfig {
    return this.functions.get(unqualified(functionArn)) ?? this.options.defaultFunction ?? {};
  }

  /** Invokes a function and resolves with the outcome (never rejects for handler errors). */
  async invoke(functionArn: string, event: RotationEvent): Promise<InvocationRecord> {
    if (this.stopped) throw new Error('the Lambda runner is stopped');
    const arn = unqualified(functionArn);
    const worker = await this.acquire(arn);
    const config = this.configFor(arn);
    const record: InvocationRecord = {
      invocationId: randomUUID(), functionArn: arn, step: event?.Step, secretId: event?.SecretId, start: Date.now(),
    };
    this.invocations.push(record);
    const timeoutMs = config.timeoutMs ?? this.options.timeoutMs ?? 60_000;
    const result = await new Promise<InvocationRecord>((resolve) => {
      worker.current = { record, event, resolve, sentinels: 0 };
      this.log(worker, 'runtime', `START RequestId: ${record.invocationId} Version: $LATEST`);
      worker.current.timer = setTimeout(() => {
        void this.crashWorker(worker.id, `Task timed out after ${(timeoutMs / 1000).toFixed(2)} seconds`);
      }, timeoutMs);
      worker.child.send({ type: 'invoke', id: record.invocationId, functionArn: arn, event, deadline: Date.now() + timeoutMs });
    });
    this.release(worker);
    return result;
  }

  /** Invokes a function and rejects with a {@link LambdaInvocationError} when the invocation fails. */
  async invokeOrThrow(functionArn: string, event: RotationEvent): Promise<void> {
    const r = await this.invoke(functionArn, event);
    if (!r.ok) throw new LambdaInvocationError(r.errorType ?? 'Error', r.errorMessage ?? 'invocation failed');
  }

  /** @internal */
  callerFor(workerId: string): CallerContext | undefined {
    const w = this.workers.get(workerId);
    if (!w?.current) return undefined;
    const iam = this.configFor(w.functionArn).iam;
    let authorizer = iam ? this.authorizers.get(iam) : undefined;
    if (iam && !authorizer) {
      authorizer = functionAuthorizer(w.functionArn, iam);
      this.authorizers.set(iam, authorizer);
    }
    return {
      authorizer,
      functionArn: w.functionArn,
      invocationId: w.current.record.invocationId,
      workerId,
      step: w.current.event?.Step,
      rotatedSecretArn: w.current.event?.SecretId,
    };
  }

  /** Kills a worker (SIGKILL); its invocation fails like a crashed Lambda. @internal */
  async crashWorker(workerId: string, reason: string): Promise<void> {
    const w = this.workers.get(workerId);
    if (!w || w.dead) return;
    w.crashReason = reason;
    await new Promise<void>((resolve) => {
      if (w.child.exitCode !== null || w.child.signalCode !== null) return resolve();
      w.child.once('exit', () => resolve());
      w.child.kill('SIGKILL');
    });
  }

  /** Number of live worker processes. */
  get workerCount(): number {
    return [...this.workers.values()].filter((w) => !w.dead).length;
  }

  /** Kills every worker. */
  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all([...this.workers.values()].map((w) => new Promise<void>((resolve) => {
      if (w.dead || w.child.exitCode !== null || w.child.signalCode !== null) return resolve();
      w.child.once('exit', () => resolve());
      w.child.kill('SIGKILL');
    })));
    for (const pool of this.pools.values()) pool.queue.splice(0).forEach((wake) => wake());
  }

  // -------------------------------------------------------------------------------------------------------------

  private pool(arn: string): Pool {
    let p = this.pools.get(arn);
    if (!p) { p = { workers: [], queue: [] }; this.pools.set(arn, p); }
    return p;
  }

  private async acquire(arn: string): Promise<Worker> {
    const pool = this.pool(arn);
    const config = this.configFor(arn);
    const max = config.maxConcurrency ?? this.options.maxConcurrency ?? 10;
    for (;;) {
      if (this.stopped) throw new Error('the Lambda runner is stopped');
      const idle = pool.workers.find((w) => !w.current && !w.dead && !w.busy);
      if (idle) {
        idle.busy = true;
        await idle.ready;
        return idle;
      }
      if (pool.workers.filter((w) => !w.dead).length < max) {
        const w = this.spawn(arn, config);
        w.busy = true;
        await w.ready;
        return w;
      }
      await new Promise<void>((resolve) => pool.queue.push(resolve));
    }
  }

  private release(worker: Worker): void {
    worker.busy = false;
    if (worker.stale && !worker.dead) this.retire(worker);
    const pool = this.pool(worker.functionArn);
    pool.queue.shift()?.();
  }

  private retire(worker: Worker): void {
    worker.dead = true;
    worker.child.kill('SIGKILL');
  }

  private spawn(arn: string, config: FunctionConfig): Worker {
    const id = `w${this.nextWorker++}`;
    const name = arn.split(':')[6] ?? 'function';
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      LANG: 'en_US.UTF-8',
      TZ: ':UTC',
      NODE_PATH: '',
      AWS_REGION: this.options.region,
      AWS_DEFAULT_REGION: this.options.region,
      AWS_ACCESS_KEY_ID: 'ASIALOCALSTACKFAKEKEY',
      AWS_SECRET_ACCESS_KEY: 'local-stack-fake-secret-access-key',
      AWS_SESSION_TOKEN: 'local-stack-fake-session-token',
      AWS_LAMBDA_FUNCTION_NAME: name,
      AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '256',
      AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${name}`,
      AWS_LAMBDA_LOG_STREAM_NAME: `local/${id}`,
      AWS_EXECUTION_ENV: `AWS_Lambda_nodejs${process.versions.node.split('.')[0]}.x`,
      AWS_EC2_METADATA_DISABLED: 'true',
      AWS_CONFIG_FILE: '/dev/null',
      AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
      ...config.env,
      AWS_ENDPOINT_URL_SECRETS_MANAGER: `${this.options.secretsManagerUrl}/fn/${id}/`,
      AWS_ENDPOINT_URL_REDSHIFT_DATA: `${this.options.redshiftDataUrl}/fn/${id}/`,
      LOCAL_LAMBDA_HANDLER_FILE: config.handlerFile ?? DEFAULT_HANDLER_FILE,
      LOCAL_LAMBDA_HANDLER_EXPORT: config.handlerExport ?? 'handler',
    };
    const child = fork(WORKER_FILE, [], { env, execArgv: ['--disable-warning=NodeVersionSupportWarning'], stdio: ['ignore', 'pipe', 'pipe', 'ipc'], serialization: 'json' });
    let readyResolve!: () => void;
    let readyReject!: (e: Error) => void;
    const worker: Worker = {
      id,
      functionArn: arn,
      child,
      dead: false,
      busy: false,
      ready: new Promise<void>((resolve, reject) => { readyResolve = resolve; readyReject = reject; }),
    };
    worker.ready.catch(() => undefined);
    this.workers.set(id, worker);
    this.pool(arn).workers.push(worker);
    const lineReader = (stream: 'stdout' | 'stderr') => {
      let buf = '';
      return (chunk: Buffer) => {
        buf += chunk.toString('utf-8');
        let nl: number;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, nl);
          buf = buf.slice(nl + 1);
          const cur = worker.current;
          if (line.startsWith('\u0000LOCAL_LAMBDA_END ')) {
            if (cur && line.slice(18) === cur.record.invocationId) {
              cur.sentinels++;
              this.maybeFinish(worker);
            }
            continue;
          }
          this.log(worker, stream, line);
        }
      };
    };
    child.stdout!.on('data', lineReader('stdout'));
    child.stderr!.on('data', lineReader('stderr'));
    child.on('message', (msg: any) => {
      if (msg?.type === 'ready') return readyResolve();
      const cur = worker.current;
      if (msg?.type === 'result' && cur && cur.record.invocationId === msg.id) {
        cur.result = { ok: msg.ok, errorType: msg.errorType, errorMessage: msg.errorMessage };
        this.maybeFinish(worker);
      }
    });
    child.on('exit', () => { worker.dead = true; });
    // 'close' (not 'exit'): stdout and stderr are drained by then, so the last lines are attributed to the invocation.
    child.on('close', (code, signal) => {
      worker.dead = true;
      this.workers.delete(id);
      const pool = this.pool(arn);
      const i = pool.workers.indexOf(worker);
      if (i >= 0) pool.workers.splice(i, 1);
      readyReject(new Error(`worker exited before it was ready (${code ?? signal})`));
      if (worker.current) {
        const reason = worker.crashReason ?? `Runtime exited with ${signal ? `signal: ${signal}` : `error: exit status ${code}`}`;
        this.finish(worker, false, worker.crashReason?.startsWith('Task timed out') ? 'Sandbox.Timedout' : 'Runtime.ExitError',
          `RequestId: ${worker.current.record.invocationId} Error: ${reason}`);
        // The service retries a failed rotation at once: start the replacement environment now, so that a crash
        // costs one cold start, not a cold start on the retry's critical path as well.
        if (!this.stopped && !pool.workers.some((w) => !w.dead && !w.busy && !w.current)) {
          this.spawn(arn, this.configFor(arn));
        }
      }
      pool.queue.shift()?.();
    });
    return worker;
  }

  private maybeFinish(worker: Worker): void {
    const cur = worker.current;
    if (cur?.result && cur.sentinels >= 2) this.finish(worker, cur.result.ok, cur.result.errorType, cur.result.errorMessage);
  }

  private finish(worker: Worker, ok: boolean, errorType?: string, errorMessage?: string): void {
    const cur = worker.current;
    if (!cur) return;
    worker.current = undefined;
    if (cur.timer) clearTimeout(cur.timer);
    const r = cur.record;
    r.end = Date.now();
    r.ok = ok;
    if (!ok) { r.errorType = errorType; r.errorMessage = errorMessage; }
    this.log(worker, 'runtime', `END RequestId: ${r.invocationId}`, r.invocationId);
    this.log(worker, 'runtime', `REPORT RequestId: ${r.invocationId}\tDuration: ${r.end - r.start} ms${ok ? '' : `\tStatus: error\tErrorType: ${errorType}`}`, r.invocationId);
    cur.resolve(r);
  }

  private log(worker: Worker, stream: LambdaLogEntry['stream'], message: string, invocationId?: string): void {
    const id = invocationId ?? worker.current?.record.invocationId;
    this.logs.push({ time: Date.now(), functionArn: worker.functionArn, invocationId: id, stream, message });
  }
}
