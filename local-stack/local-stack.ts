/**
 * The local stack: embedded PostgreSQL with the Redshift shim, a local Secrets Manager, a local Redshift Data API
 * and a local Lambda runtime that runs the bundled rotation handler, wired together on 127.0.0.1.
 *
 * ```ts
 * const stack = await startLocalStack();
 * await stack.adminQuery('CREATE USER app PASSWORD \'md5…\'');          // or stack.createUser('app', password)
 * const secret = await stack.createSecret({ name: 'app', username: 'app', password, target: 'cluster' });
 * const sm = stack.secretsManagerClient();
 * await sm.send(new RotateSecretCommand({ SecretId: secret.arn, RotationLambdaARN: stack.functionArn() }));
 * const outcome = await stack.waitForRotation(secret.arn);             // RotationSucceeded | RotationFailed
 * await stack.stop();
 * ```
 * See docs/local-stack.md.
 */
import { RedshiftDataClient } from '@aws-sdk/client-redshift-data';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { Client, Pool } from 'pg';
import { FaultInjector } from './faults';
import { LambdaRunner } from './lambda-runner';
import type { FunctionConfig, InvocationRecord, LambdaLogEntry } from './lambda-runner';
import { md5Verifier, startPostgres } from './postgres';
import type { PostgresServer } from './postgres';
import { LocalRedshiftData } from './redshift-data';
import { LocalSecretsManager } from './secrets-manager';
import type { RotationLifecycleEvent } from './secrets-manager';
import { installShim, quoteIdent, rewriteStatement } from './shim';

export type { CallMatcher, CallRecord, Fault, FaultAction, FaultSpec } from './faults';
export type { FunctionConfig, InvocationRecord, LambdaLogEntry } from './lambda-runner';
export type { RotationLifecycleEvent, RotationEvent } from './secrets-manager';
export { md5Verifier } from './postgres';
export { LOCAL_WORKGROUP_ID } from './redshift-data';
export type { FunctionIam } from './iam';

/** Options of {@link startLocalStack}; all optional. */
export interface LocalStackOptions {
  /** @default 'us-east-1' */
  readonly region?: string;
  /** @default '123456789012' */
  readonly account?: string;
  /** The provisioned cluster the Data API answers to. @default 'local-cluster' */
  readonly clusterIdentifier?: string;
  /** The Serverless workgroup the Data API answers to. @default 'local-workgroup' */
  readonly workgroupName?: string;
  /** The workgroup's id, in its ARN (IAM knows workgroups by id). @default LOCAL_WORKGROUP_ID */
  readonly workgroupId?: string;
  /** @default 'dev' */
  readonly database?: string;
  /** The database superuser (the cluster's admin). @default 'admin' */
  readonly adminUser?: string;
  /** @default random */
  readonly adminPassword?: string;
  /** Retries of a failed rotation by the local Secrets Manager. @default 2 */
  readonly rotationRetries?: number;
  /** Delay before each rotation retry, ms. @default 200 */
  readonly rotationRetryDelayMs?: number;
  /**
   * How long a force-deleted secret's name stays taken ("scheduled for deletion"), ms: the service deletes in the
   * background. @default 0 (at once); changeable later: `stack.secretsManager.forceDeletePurgeMs`
   */
  readonly forceDeletePurgeMs?: number;
  /** Delay before each Data API statement starts, ms (changeable later: `stack.redshiftData.statementLatencyMs`). @default 0 */
  readonly statementLatencyMs?: number;
  /** How the Data API reports a failed login. @default 'failed-statement' */
  readonly loginFailure?: 'failed-statement' | 'exception';
  /** Configuration of every Lambda ARN not registered with registerFunction (env, handlerFile, timeoutMs…). */
  readonly defaultFunction?: FunctionConfig;
  /** Lambda invocation timeout, ms. @default 60000 */
  readonly lambdaTimeoutMs?: number;
  /** Concurrent executions per function. @default 10 */
  readonly lambdaConcurrency?: number;
  /** Receives PostgreSQL's server log lines. */
  readonly onPostgresLog?: (line: string) => void;
}

/** Options of {@link LocalStack.createSecret}. */
export interface CreateSecretOptions {
  readonly name: string;
  readonly username: string;
  readonly password: string;
  /** Which identifier the secret carries: `dbClusterIdentifier` or `workgroupName`. @default 'cluster' */
  readonly target?: 'cluster' | 'workgroup';
  /** `masterarn` (ALTERNATING_USERS). */
  readonly masterArn?: string;
  /** Sets the `redshift-rotation:strategy` tag. */
  readonly strategy?: 'SINGLE_USER' | 'ALTERNATING_USERS';
  readonly dbname?: string;
  readonly kmsKeyId?: string;
  readonly tags?: Record<string, string>;
  /** Extra or overriding JSON fields of the secret. */
  readonly extra?: Record<string, unknown>;
}

/** A running local stack. */
export interface LocalStack {
  readonly region: string;
  readonly account: string;
  readonly clusterIdentifier: string;
  readonly workgroupName: string;
  /** `arn:aws:redshift:<region>:<account>:cluster:<clusterIdentifier>`, the resource of ExecuteStatement. */
  readonly clusterArn: string;
  /** `arn:aws:redshift-serverless:<region>:<account>:workgroup/<workgroupId>`, the resource of ExecuteStatement. */
  readonly workgroupArn: string;
  /** Endpoint URLs, for `endpoint` in SDK clients or AWS_ENDPOINT_URL_SECRETS_MANAGER / _REDSHIFT_DATA. */
  readonly endpoints: { readonly secretsManager: string; readonly redshiftData: string };
  /** Connection info of the PostgreSQL server (the "cluster"). */
  readonly postgres: {
    readonly host: string; readonly port: number; readonly database: string; readonly adminUser: string; readonly adminPassword: string;
  };
  /** Milliseconds spent starting: total, initdb, PostgreSQL start, shim install, endpoints. */
  readonly startupMs: {
    readonly total: number; readonly initdb: number; readonly postgres: number; readonly shim: number; readonly endpoints: number;
  };
  readonly secretsManager: LocalSecretsManager;
  readonly redshiftData: LocalRedshiftData;
  readonly lambda: LambdaRunner;
  /** Call log and fault injection of both endpoints. */
  readonly faults: FaultInjector;
  /** Rotation lifecycle events (RotationStarted, RotationAttemptFailed, RotationSucceeded, RotationFailed, …). */
  readonly events: readonly RotationLifecycleEvent[];
  /** Every line the Lambda functions wrote, plus the runtime's START/END/REPORT lines. */
  readonly lambdaLogs: readonly LambdaLogEntry[];
  /** Every Lambda invocation and its outcome. */
  readonly invocations: readonly InvocationRecord[];

  /** A Lambda ARN in the stack's account (any such ARN runs the bundled handler). @default name 'redshift-rotation' */
  functionArn(name?: string): string;
  /**
   * Configures the function behind an ARN (env such as PASSWORD_LENGTH or TEST_STATEMENTS, handlerFile, …, and
   * `iam`: the role policies its calls are authorized against; without it, no IAM checks).
   */
  registerFunction(functionArn: string, config: FunctionConfig): void;
  /**
   * An SDK v3 Secrets Manager client for the local endpoint (fake credentials). One attempt per call unless
   * `maxAttempts` says otherwise (a caller that waits long between calls may meet a keep-alive socket the endpoint
   * just closed: retrying makes that a non-event).
   */
  secretsManagerClient(options?: { maxAttempts?: number }): SecretsManagerClient;
  /** An SDK v3 Redshift Data client for the local endpoint (fake credentials); `maxAttempts` as for Secrets Manager. */
  redshiftDataClient(options?: { maxAttempts?: number }): RedshiftDataClient;
  /** Runs SQL as the admin superuser, directly on PostgreSQL (no shim rewriting); returns the rows. */
  adminQuery<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
  /** Runs one Redshift statement as the admin through the shim's rewriter (CREATE ROLE, GRANT ROLE, SYSLOG ACCESS, …),
   * in one transaction when the rewrite yields several PostgreSQL statements. */
  adminRedshift(sql: string): Promise<void>;
  /** CREATE USER with an md5 verifier of the password (never the password in SQL). */
  createUser(username: string, password: string): Promise<void>;
  /** Creates a Redshift secret (`engine`, `username`, `password`, `dbname`, cluster or workgroup identifier…). */
  createSecret(options: CreateSecretOptions): Promise<{ arn: string; name: string; versionId: string }>;
  /** Whether `user` can log in to the database with `password` (false for an authentication failure). */
  canLogin(user: string, password: string): Promise<boolean>;
  /** Waits for the rotation of a secret (optionally the one with a token) to end; resolves with
   * RotationSucceeded or RotationFailed (also TestRotation* for RotateImmediately=false). */
  waitForRotation(secretId: string, options?: { token?: string; timeoutMs?: number; after?: number }): Promise<RotationLifecycleEvent>;
  /** Stops everything: endpoints, Lambda workers, PostgreSQL; deletes the data directory. Idempotent. */
  stop(): Promise<void>;
}

/** Starts a local stack. Takes about 2 s (initdb ≈ 1.2 s). */
export async function startLocalStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  const t0 = Date.now();
  const region = options.region ?? 'us-east-1';
  const account = options.account ?? '123456789012';
  const clusterIdentifier = options.clusterIdentifier ?? 'local-cluster';
  const workgroupName = options.workgroupName ?? 'local-workgroup';

  let pg: PostgresServer | undefined;
  let runner: LambdaRunner | undefined;
  let sm: LocalSecretsManager | undefined;
  let data: LocalRedshiftData | undefined;
  let pool: Pool | undefined;
  const teardown = async () => {
    await runner?.stop().catch(() => undefined);
    await sm?.stop().catch(() => undefined);
    await data?.stop().catch(() => undefined);
    await pool?.end().catch(() => undefined);
    await pg?.stop();
  };

  try {
    pg = await startPostgres({
      database: options.database, adminUser: options.adminUser, adminPassword: options.adminPassword, onLog: options.onPostgresLog,
    });
    const pgInfo = { host: pg.host, port: pg.port, database: pg.database, adminUser: pg.adminUser, adminPassword: pg.adminPassword };
    const tShim = Date.now();
    const c = new Client({ host: pg.host, port: pg.port, user: pg.adminUser, password: pg.adminPassword, database: pg.database });
    await c.connect();
    try {
      await installShim(c);
    } finally {
      await c.end();
    }
    const shimMs = Date.now() - tShim;
    pool = new Pool({ host: pg.host, port: pg.port, user: pg.adminUser, password: pg.adminPassword, database: pg.database, max: 4 });
    pool.on('error', () => undefined);

    const tEndpoints = Date.now();
    const smRef: { current?: LocalSecretsManager } = {};
    const faults = new FaultInjector((id) => smRef.current?.resolveArn(id));
    sm = new LocalSecretsManager({
      region,
      account,
      faults,
      rotationRetries: options.rotationRetries,
      rotationRetryDelayMs: options.rotationRetryDelayMs,
      forceDeletePurgeMs: options.forceDeletePurgeMs,
      lambdaHost: () => runner,
    });
    smRef.current = sm;
    data = new LocalRedshiftData({
      faults,
      secrets: sm,
      pg: { host: pg.host, port: pg.port },
      clusterIdentifier,
      workgroupName,
      workgroupId: options.workgroupId,
      region,
      account,
      statementLatencyMs: options.statementLatencyMs,
      loginFailure: options.loginFailure,
      lambdaHost: () => runner,
    });
    const [smUrl, dataUrl] = await Promise.all([
      sm.start(), data.start({ user: pg.adminUser, password: pg.adminPassword, database: pg.database }),
    ]);
    runner = new LambdaRunner({
      region,
      account,
      secretsManagerUrl: smUrl,
      redshiftDataUrl: dataUrl,
      defaultFunction: options.defaultFunction,
      timeoutMs: options.lambdaTimeoutMs,
      maxConcurrency: options.lambdaConcurrency,
    });
    const lambda = runner;
    sm.setInvoker((arn, event) => lambda.invokeOrThrow(arn, event));
    const endpointsMs = Date.now() - tEndpoints;

    const server = pg;
    const secrets = sm;
    const redshiftData = data;
    const adminPool = pool;
    const clientConfig = () => ({
      region,
      credentials: { accessKeyId: 'AKIALOCALSTACK', secretAccessKey: 'local-stack-fake-secret' },
      maxAttempts: 1,
    });
    let stopped: Promise<void> | undefined;
    const stack: LocalStack = {
      region,
      account,
      clusterIdentifier,
      workgroupName,
      clusterArn: redshiftData.clusterArn,
      workgroupArn: redshiftData.workgroupArn,
      endpoints: { secretsManager: smUrl, redshiftData: dataUrl },
      postgres: pgInfo,
      startupMs: { total: Date.now() - t0, initdb: pg.timings.initdbMs, postgres: pg.timings.startMs, shim: shimMs, endpoints: endpointsMs },
      secretsManager: secrets,
      redshiftData,
      lambda,
      faults,
      get events() { return secrets.events; },
      get lambdaLogs() { return lambda.logs; },
      get invocations() { return lambda.invocations; },
      functionArn: (name = 'redshift-rotation') => `arn:aws:lambda:${region}:${account}:function:${name}`,
      registerFunction: (arn, config) => lambda.registerFunction(arn, config),
      secretsManagerClient: (o) => new SecretsManagerClient({ ...clientConfig(), ...o, endpoint: smUrl }),
      redshiftDataClient: (o) => new RedshiftDataClient({ ...clientConfig(), ...o, endpoint: dataUrl }),
      adminQuery: async <T>(sql: string, params?: unknown[]) => (await adminPool.query(sql, params)).rows as T[],
      adminRedshift: async (sql) => {
        const statements = rewriteStatement(sql);
        const client = await adminPool.connect();
        try {
          if (statements.length > 1) await client.query('BEGIN');
          for (const st of statements) await client.query(st);
          if (statements.length > 1) await client.query('COMMIT');
        } catch (e) {
          if (statements.length > 1) await client.query('ROLLBACK').catch(() => undefined);
          throw e;
        } finally {
          client.release();
        }
      },
      createUser: async (username, password) => {
        await adminPool.query(`CREATE USER ${quoteIdent(username)} PASSWORD '${md5Verifier(username, password)}'`);
      },
      createSecret: async (o) => {
        const value: Record<string, unknown> = {
          engine: 'redshift',
          username: o.username,
          password: o.password,
          dbname: o.dbname ?? server.database,
          ...(o.target === 'workgroup' ? { workgroupName } : { dbClusterIdentifier: clusterIdentifier }),
          ...(o.masterArn ? { masterarn: o.masterArn } : {}),
          ...o.extra,
        };
        const tags = Object.entries({ ...(o.strategy ? { 'redshift-rotation:strategy': o.strategy } : {}), ...o.tags })
          .map(([Key, Value]) => ({ Key, Value }));
        const sdk = new SecretsManagerClient({ ...clientConfig(), endpoint: smUrl });
        try {
          const out = await sdk.send(new CreateSecretCommand({
            Name: o.name, SecretString: JSON.stringify(value), KmsKeyId: o.kmsKeyId, Tags: tags.length ? tags : undefined,
          }));
          return { arn: out.ARN!, name: out.Name!, versionId: out.VersionId! };
        } finally {
          sdk.destroy();
        }
      },
      canLogin: async (user, password) => {
        const client = new Client({
          host: server.host, port: server.port, user, password, database: server.database, connectionTimeoutMillis: 10_000,
        });
        client.on('error', () => undefined);
        try {
          await client.connect();
          await client.query('SELECT 1');
          return true;
        } catch (e) {
          const code = (e as { code?: string }).code;
          if (code === '28P01' || code === '28000') return false;
          throw e;
        } finally {
          await client.end().catch(() => undefined);
        }
      },
      waitForRotation: (secretId, o = {}) => {
        const arn = secrets.resolveArn(secretId) ?? secretId;
        const after = o.after ?? 0;
        return secrets.waitForEvent((e) => e.secretArn === arn && e.time >= after && (o.token === undefined || e.token === o.token)
          && ['RotationSucceeded', 'RotationFailed', 'TestRotationSucceeded', 'TestRotationFailed'].includes(e.type), o.timeoutMs ?? 120_000);
      },
      stop: () => {
        stopped ??= teardown();
        return stopped;
      },
    };
    return stack;
  } catch (e) {
    await teardown().catch(() => undefined);
    throw e;
  }
}
