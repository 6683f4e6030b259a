/**
 * A local Amazon Redshift Data API over AWS JSON 1.1 (`X-Amz-Target: RedshiftData.<Operation>`), backed by the
 * embedded PostgreSQL with the Redshift shim.
 *
 * ExecuteStatement / BatchExecuteStatement read the AWSCURRENT value of `SecretArn` from the local Secrets Manager
 * (the Data API takes no version), check the secret's `dbClusterIdentifier` / `workgroupName` against the request,
 * and return an Id at once; the statement then runs asynchronously on a fresh PostgreSQL connection logged in with
 * the secret's username and password (a wrong password fails for real), through the shim's statement rewriter,
 * and moves through SUBMITTED → PICKED → STARTED → FINISHED | FAILED | ABORTED. A batch runs in one transaction.
 */
import { randomUUID } from 'crypto';
import { Client } from 'pg';
import type { DatabaseError } from 'pg';
import { AwsError, startAwsJsonServer } from './aws-json';
import type { AwsJsonServer, LambdaHost } from './aws-json';
import type { FaultAction, FaultInjector } from './faults';
import { authorizeAll, dataApiRequests } from './iam';
import type { PolicyAuthorizer } from './iam';
import type { LocalSecretsManager } from './secrets-manager';
import { checkTarget, rewriteStatement, splitStatements, tokenize } from './shim';
import type { RedshiftTarget } from './shim';

/** Statement states, as the service names them. */
export type StatementStatus = 'SUBMITTED' | 'PICKED' | 'STARTED' | 'FINISHED' | 'ABORTED' | 'FAILED';

export interface RedshiftDataOptions {
  readonly faults: FaultInjector;
  readonly secrets: LocalSecretsManager;
  readonly pg: { readonly host: string; readonly port: number };
  /** The provisioned cluster this endpoint answers to. */
  readonly clusterIdentifier: string;
  /** The Serverless workgroup this endpoint answers to. */
  readonly workgroupName: string;
  /** The workgroup's id, in its ARN (`arn:aws:redshift-serverless:<region>:<account>:workgroup/<id>`). */
  readonly workgroupId?: string;
  /** For the cluster and workgroup ARNs IAM sees. @default 'us-east-1' */
  readonly region?: string;
  /** @default '123456789012' */
  readonly account?: string;
  /** Delay before each statement starts, in ms. @default 0 */
  readonly statementLatencyMs?: number;
  /**
   * How a login failure is reported, in one of the two shapes the Data API documents for a statement that cannot
   * run: a FAILED statement whose Error is Redshift's (`FATAL: password authentication failed for user "x"`), or
   * an ExecuteStatementException / BatchExecuteStatementException thrown by the call, with that message.
   * @default 'failed-statement'
   */
  readonly loginFailure?: 'failed-statement' | 'exception';
  readonly lambdaHost?: () => LambdaHost | undefined;
  /** Most statements not yet finished at once (ActiveStatementsExceededException beyond). @default 200 */
  readonly maxActiveStatements?: number;
}

interface Result {
  columns: { name: string; typeId: number }[];
  rows: (string | null)[][];
}

interface SubStatement {
  id: string;
  sql: string;
  status: StatementStatus;
  error?: string;
  createdAt: number;
  updatedAt: number;
  startedAt?: number;
  endedAt?: number;
  hasResultSet: boolean;
  resultRows: number;
  result?: Result;
  queryId: number;
}

interface Statement extends SubStatement {
  batch: boolean;
  subs: SubStatement[];
  parameters?: { name: string; value: string }[];
  secretArn: string;
  database: string;
  clusterIdentifier?: string;
  workgroupName?: string;
  statementName?: string;
  /** `aws:userid` of the submitter, when it called with IAM (`redshift-data:statement-owner-iam-userid`) */
  owner?: string;
  credentials: { username: string; password: string };
  pid?: number;
  cancelled: boolean;
  done: Promise<void>;
  fault?: FaultAction;
}

type Parameter = { name: string; value: string };
interface Credentials { username: string; password: string; arn: string }

/** The id of the local workgroup, in its ARN, unless given. */
export const LOCAL_WORKGROUP_ID = '0c0a1b2c-3d4e-5f60-7182-93a4b5c6d7e8';

const TERMINAL: StatementStatus[] = ['FINISHED', 'FAILED', 'ABORTED'];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const rawTypes = { getTypeParser: () => (v: string) => v };

/** The local Redshift Data API. */
export class LocalRedshiftData {
  /** Delay before each statement starts, in ms (changeable at any time). */
  statementLatencyMs: number;
  /** How a failed login is reported (changeable at any time); see {@link RedshiftDataOptions.loginFailure}. */
  loginFailure: 'failed-statement' | 'exception';
  private readonly statements = new Map<string, Statement>();
  private readonly clientTokens = new Map<string, { id: string; key: string }>();
  private readonly typeNames = new Map<number, string>();
  private server?: AwsJsonServer;
  private queryIds = 1000;
  private admin?: { user: string; password: string; database: string };

  constructor(private readonly options: RedshiftDataOptions) {
    this.statementLatencyMs = options.statementLatencyMs ?? 0;
    this.loginFailure = options.loginFailure ?? 'failed-statement';
  }

  get url(): string {
    if (!this.server) throw new Error('the local Redshift Data API is not started');
    return this.server.url;
  }

  /** Starts the endpoint; the admin login is used for type names and CancelStatement. */
  async start(admin: { user: string; password: string; database: string }): Promise<string> {
    this.admin = admin;
    const c = this.connect(admin.user, admin.password, admin.database);
    await c.connect();
    try {
      const types = await c.query('SELECT oid, typname FROM pg_type');
      for (const r of types.rows) this.typeNames.set(Number(r.oid), r.typname);
    } finally {
      await c.end();
    }
    this.server = await startAwsJsonServer({
      service: 'redshift-data',
      targetPrefix: 'RedshiftData',
      faults: this.options.faults,
      lambdaHost: this.options.lambdaHost,
      operations: {
        ExecuteStatement: (i, call) => this.execute(i, false, call.action, call.caller?.authorizer?.userId),
        BatchExecuteStatement: (i, call) => this.execute(i, true, call.action, call.caller?.authorizer?.userId),
        DescribeStatement: (i) => this.describeStatement(i),
        GetStatementResult: (i) => this.getStatementResult(i),
        CancelStatement: (i) => this.cancelStatement(i),
        ListStatements: (i) => this.listStatements(i),
      },
      authorize: (op, input, caller) => this.authorize(op, input, caller.authorizer),
      describe: (op, input) => {
        if (op === 'ExecuteStatement') return { secretId: input.SecretArn, sqls: typeof input.Sql === 'string' ? [input.Sql] : [] };
        if (op === 'BatchExecuteStatement') return { secretId: input.SecretArn, sqls: Array.isArray(input.Sqls) ? input.Sqls.filter((s: unknown) => typeof s === 'string') : [] };
        const st = typeof input.Id === 'string' ? this.statements.get(input.Id.split(':')[0]) : undefined;
        return { secretId: st?.secretArn };
      },
    });
    return this.server.url;
  }

  /** Cancels what still runs and stops the endpoint. */
  async stop(): Promise<void> {
    for (const st of this.statements.values()) if (!TERMINAL.includes(st.status)) st.cancelled = true;
    await this.server?.close();
    await Promise.allSettled([...this.statements.values()].map((s) => s.done));
  }

  /** Resolves when every statement submitted so far has ended. */
  async idle(): Promise<void> {
    await Promise.allSettled([...this.statements.values()].map((s) => s.done));
  }

  // -------------------------------------------------------------------------------------------------------------

  private connect(user: string, password: string, database: string): Client {
    const c = new Client({
      host: this.options.pg.host,
      port: this.options.pg.port,
      user,
      password,
      database,
      types: rawTypes as never,
      connectionTimeoutMillis: 10_000,
      application_name: 'redshift-data-local',
    });
    c.on('error', () => undefined);
    return c;
  }

  private readSecret(secretArn: unknown, request: { ClusterIdentifier?: string; WorkgroupName?: string }): Credentials {
    if (typeof secretArn !== 'string' || secretArn.length === 0) {
      throw new AwsError('ValidationException', 'The local stack supports SecretArn authentication only (DbUser and IAM are not emulated).');
    }
    let text: string | undefined;
    try {
      text = this.options.secrets.currentSecretString(secretArn);
    } catch (e) {
      throw new AwsError('ValidationException', `Failed to get the secret ${secretArn}: ${(e as Error).message}`);
    }
    let secret: any;
    try {
      secret = JSON.parse(text ?? '');
    } catch {
      secret = undefined;
    }
    if (!secret || typeof secret.username !== 'string' || !secret.username || typeof secret.password !== 'string' || !secret.password) {
      throw new AwsError('ValidationException', 'username and password in secret cannot be empty');
    }
    if (secret.dbClusterIdentifier !== undefined && secret.dbClusterIdentifier !== request.ClusterIdentifier) {
      throw new AwsError('ValidationException', 'The dbClusterIdentifier in the secret doesn\'t match the ClusterIdentifier of the request.');
    }
    if (secret.workgroupName !== undefined && secret.workgroupName !== request.WorkgroupName) {
      throw new AwsError('ValidationException', 'The workgroupName in the secret doesn\'t match the WorkgroupName of the request.');
    }
    return { username: secret.username, password: secret.password, arn: this.options.secrets.resolveArn(secretArn) ?? secretArn };
  }

  /** The cluster's ARN, as IAM names it. */
  get clusterArn(): string {
    return `arn:aws:redshift:${this.options.region ?? 'us-east-1'}:${this.options.account ?? '123456789012'}:cluster:${this.options.clusterIdentifier}`;
  }

  /** The workgroup's ARN, as IAM names it (by id, not by name). */
  get workgroupArn(): string {
    return `arn:aws:redshift-serverless:${this.options.region ?? 'us-east-1'}:${this.options.account ?? '123456789012'}:workgroup/${this.options.workgroupId ?? LOCAL_WORKGROUP_ID}`;
  }

  /**
   * IAM for a caller with a role policy: ExecuteStatement / BatchExecuteStatement on the cluster or workgroup ARN,
   * and the secret read as the caller (GetSecretValue, kms:Decrypt through Secrets Manager for a customer managed
   * key); the statement operations with `redshift-data:statement-owner-iam-userid` = the statement's submitter.
   */
  private async authorize(operation: string, input: any, authorizer: PolicyAuthorizer): Promise<void> {
    const pseudo = { partition: 'aws', region: this.options.region ?? 'us-east-1', account: this.options.account ?? '123456789012' };
    let requests;
    if (operation === 'ExecuteStatement' || operation === 'BatchExecuteStatement') {
      const target = {
        clusterArn: input.ClusterIdentifier === undefined ? undefined
          : (input.ClusterIdentifier === this.options.clusterIdentifier ? this.clusterArn : this.clusterArn.replace(/cluster:.*$/, `cluster:${input.ClusterIdentifier}`)),
        workgroupArn: input.WorkgroupName === undefined ? undefined
          : (input.WorkgroupName === this.options.workgroupName ? this.workgroupArn : this.workgroupArn.replace(/workgroup\/.*$/, `workgroup/${input.WorkgroupName}`)),
      };
      const secret = typeof input.SecretArn === 'string' ? this.options.secrets.iamFacts(input.SecretArn) : undefined;
      requests = dataApiRequests(operation, target, secret, undefined, pseudo);
    } else if (operation === 'ListStatements') {
      requests = dataApiRequests(operation, {}, undefined, authorizer.userId, pseudo);
    } else {
      const st = typeof input.Id === 'string' ? this.statements.get(input.Id.split(':')[0]) : undefined;
      requests = dataApiRequests(operation, {}, undefined, st?.owner ?? 'AROALOCALSTACKCLIENT0001:client', pseudo);
    }
    await authorizeAll(authorizer, requests, (message) => new AwsError('AccessDeniedException', message));
  }

  private async execute(input: any, batch: boolean, fault: FaultAction | undefined, owner?: string) {
    const sqls: string[] = batch ? input.Sqls : [input.Sql];
    if (batch && (!Array.isArray(sqls) || sqls.length < 1 || sqls.length > 40)) {
      throw new AwsError('ValidationException', 'Sqls must contain between 1 and 40 SQL statements.');
    }
    for (const sql of sqls) {
      if (typeof sql !== 'string' || sql.trim().length === 0) throw new AwsError('ValidationException', 'The SQL statement can\'t be empty.');
      if (Buffer.byteLength(sql) > 100_000) throw new AwsError('ValidationException', 'The SQL statement exceeds the maximum size of 100 KB.');
      if (splitStatements(sql).length > 1) {
        throw new AwsError('ValidationException', 'Each SQL string must hold a single statement; use BatchExecuteStatement for several.');
      }
    }
    const hasCluster = input.ClusterIdentifier !== undefined;
    const hasWorkgroup = input.WorkgroupName !== undefined;
    if (hasCluster === hasWorkgroup) {
      throw new AwsError('ValidationException', 'Either ClusterIdentifier or WorkgroupName must be specified, but not both.');
    }
    if (hasCluster && input.ClusterIdentifier !== this.options.clusterIdentifier) {
      throw new AwsError('ValidationException', `Cluster ${input.ClusterIdentifier} not found.`);
    }
    if (hasWorkgroup && input.WorkgroupName !== this.options.workgroupName) {
      throw new AwsError('ResourceNotFoundException', `Workgroup ${input.WorkgroupName} not found.`);
    }
    if (input.DbUser !== undefined) throw new AwsError('ValidationException', 'DbUser authentication is not emulated by the local stack; use SecretArn.');
    if (fault?.type === 'targetUnavailable') {
      const what = hasCluster ? `Cluster ${input.ClusterIdentifier}` : `Workgroup ${input.WorkgroupName}`;
      if (fault.state === 'paused') throw new AwsError('ValidationException', `${what} is not available to run statements: it is paused.`);
      throw new AwsError('DatabaseConnectionException', `Connection to the database failed: ${what} could not be reached (connection timed out).`, 500);
    }
    if (typeof input.Database !== 'string' || input.Database.length === 0) {
      throw new AwsError('ValidationException', 'Database must be specified when authenticating with Secrets Manager.');
    }
    const wait = input.WaitTimeSeconds;
    if (wait !== undefined && (!Number.isInteger(wait) || wait < 0 || wait > 30)) {
      throw new AwsError('ValidationException', 'WaitTimeSeconds must be between 0 and 30.');
    }
    let parameters: { name: string; value: string }[] | undefined;
    if (input.Parameters !== undefined) {
      if (batch) throw new AwsError('ValidationException', 'Parameters are not supported by BatchExecuteStatement.');
      parameters = validateParameters(input.Parameters, sqls[0]);
    }
    const key = JSON.stringify([sqls, input.ClusterIdentifier, input.WorkgroupName, input.Database, input.SecretArn, parameters]);
    if (typeof input.ClientToken === 'string') {
      const prior = this.clientTokens.get(input.ClientToken);
      if (prior && prior.key === key) return this.submitResponse(this.statements.get(prior.id)!, input);
      if (prior) throw new AwsError('ValidationException', 'The ClientToken was already used with a different request.');
    }
    const active = [...this.statements.values()].filter((s) => !TERMINAL.includes(s.status)).length;
    if (active >= (this.options.maxActiveStatements ?? 200)) {
      throw new AwsError('ActiveStatementsExceededException', 'The number of active statements exceeds the limit.');
    }
    const credentials = this.readSecret(input.SecretArn, input);
    if (this.loginFailure === 'exception') {
      const c = this.connect(credentials.username, credentials.password, input.Database);
      try {
        await c.connect();
      } catch (e) {
        throw new AwsError(batch ? 'BatchExecuteStatementException' : 'ExecuteStatementException', pgError(e), 500);
      } finally {
        await c.end().catch(() => undefined);
      }
    }
    const id = randomUUID();
    const now = Date.now();
    const sub = (sql: string, n: number): SubStatement => ({
      id: `${id}:${n}`, sql, status: 'SUBMITTED', createdAt: now, updatedAt: now, hasResultSet: false, resultRows: -1, queryId: 0,
    });
    const st: Statement = {
      ...sub(batch ? sqls.join('; ') : sqls[0], 0),
      id,
      batch,
      subs: batch ? sqls.map((s, i) => sub(s, i + 1)) : [],
      parameters,
      secretArn: credentials.arn,
      database: input.Database,
      clusterIdentifier: input.ClusterIdentifier,
      workgroupName: input.WorkgroupName,
      statementName: input.StatementName,
      owner,
      credentials: { username: credentials.username, password: credentials.password },
      cancelled: false,
      done: Promise.resolve(),
      fault,
    };
    this.statements.set(id, st);
    if (typeof input.ClientToken === 'string') this.clientTokens.set(input.ClientToken, { id, key });
    st.done = this.run(st).catch(() => undefined);
    if (wait) await this.waitFor(st, wait);
    return this.submitResponse(st, input);
  }

  private submitResponse(st: Statement, input: any) {
    return {
      Id: st.id,
      CreatedAt: st.createdAt / 1000,
      ClusterIdentifier: st.clusterIdentifier,
      WorkgroupName: st.workgroupName,
      Database: st.database,
      SecretArn: st.secretArn,
      DbGroups: input.DbGroups,
    };
  }

  private async waitFor(st: SubStatement & { done?: Promise<void> }, seconds: number): Promise<void> {
    const parent = this.statements.get(st.id.split(':')[0]);
    if (!parent || TERMINAL.includes(st.status)) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([parent.done, new Promise<void>((r) => { timer = setTimeout(r, seconds * 1000); })]);
    clearTimeout(timer);
  }

  private setStatus(st: SubStatement, status: StatementStatus, error?: string): void {
    st.status = status;
    st.updatedAt = Date.now();
    if (error !== undefined) st.error = error;
    if (status === 'STARTED') st.startedAt = Date.now();
    if (TERMINAL.includes(status)) st.endedAt = Date.now();
  }

  private async run(st: Statement): Promise<void> {
    await new Promise((r) => setImmediate(r));
    const latency = this.statementLatencyMs + (st.fault?.type === 'latency' ? st.fault.ms : 0);
    // a statement waiting to start ends as soon as it is cancelled (CancelStatement does not wait for the latency)
    for (const until = Date.now() + latency; !st.cancelled && Date.now() < until;) await sleep(Math.min(20, until - Date.now()));
    if (st.cancelled) return this.abort(st, 'Query cancelled on user\'s request');
    this.setStatus(st, 'PICKED');
    for (const s of st.subs) this.setStatus(s, 'PICKED');
    if (st.fault?.type === 'statementFailed') {
      const error = st.fault.error ?? 'ERROR: injected failure (local stack fault)';
      this.setStatus(st, 'STARTED');
      for (const s of st.subs) this.setStatus(s, 'ABORTED');
      if (st.subs[0]) this.setStatus(st.subs[0], 'FAILED', error);
      return this.setStatus(st, 'FAILED', error);
    }
    const client = this.connect(st.credentials.username, st.credentials.password, st.database);
    try {
      await client.connect();
    } catch (e) {
      const error = pgError(e);
      for (const s of st.subs) this.setStatus(s, 'FAILED', error);
      return this.setStatus(st, 'FAILED', error);
    }
    st.pid = (client as unknown as { processID?: number }).processID;
    try {
      if (st.cancelled) return this.abort(st, 'Query cancelled on user\'s request');
      this.setStatus(st, 'STARTED');
      if (!st.batch) {
        st.queryId = ++this.queryIds;
        await this.runOne(client, st, st.parameters, false, targetOf(st));
        return this.setStatus(st, 'FINISHED');
      }
      await client.query('BEGIN');
      for (let i = 0; i < st.subs.length; i++) {
        const s = st.subs[i];
        s.queryId = ++this.queryIds;
        this.setStatus(s, 'STARTED');
        try {
          await this.runOne(client, s, undefined, true, targetOf(st));
          this.setStatus(s, 'FINISHED');
        } catch (e) {
          const error = st.cancelled ? 'Query cancelled on user\'s request' : pgError(e);
          this.setStatus(s, st.cancelled ? 'ABORTED' : 'FAILED', error);
          for (const rest of st.subs.slice(i + 1)) this.setStatus(rest, 'ABORTED');
          await client.query('ROLLBACK').catch(() => undefined);
          return this.setStatus(st, st.cancelled ? 'ABORTED' : 'FAILED', error);
        }
      }
      await client.query('COMMIT');
      st.resultRows = st.subs.reduce((n, s) => n + Math.max(0, s.resultRows), 0);
      st.hasResultSet = st.subs.some((s) => s.hasResultSet);
      this.setStatus(st, 'FINISHED');
    } catch (e) {
      const error = st.cancelled ? 'Query cancelled on user\'s request' : pgError(e);
      this.setStatus(st, st.cancelled ? 'ABORTED' : 'FAILED', error);
    } finally {
      await client.end().catch(() => undefined);
    }
  }

  private abort(st: Statement, error: string): void {
    for (const s of st.subs) if (!TERMINAL.includes(s.status)) this.setStatus(s, 'ABORTED');
    this.setStatus(st, 'ABORTED', error);
  }

  /** Runs one Redshift statement (rewritten by the shim for its target) and stores its result on `s`. */
  private async runOne(client: Client, s: SubStatement, parameters: Parameter[] | undefined, inTransaction: boolean,
    target: RedshiftTarget): Promise<void> {
    if (parameters && parameters.length > 0) {
      checkTarget(s.sql, target);
      const bound = bindParameters(s.sql, parameters);
      const r = await client.query({ text: bound.text, values: bound.values, rowMode: 'array' });
      return this.store(s, r);
    }
    const pgStatements = rewriteStatement(s.sql, { target });
    const rewritten = pgStatements.length !== 1 || pgStatements[0] !== s.sql;
    const wrap = pgStatements.length > 1 && !inTransaction;
    if (wrap) await client.query('BEGIN');
    try {
      let first: any;
      for (const sql of pgStatements) {
        const r = await client.query({ text: sql, rowMode: 'array' });
        first ??= r;
      }
      if (wrap) await client.query('COMMIT');
      if (rewritten) {
        s.hasResultSet = false;
        s.resultRows = 0;
      } else {
        this.store(s, first);
      }
    } catch (e) {
      if (wrap) await client.query('ROLLBACK').catch(() => undefined);
      throw e;
    }
  }

  private store(s: SubStatement, r: any): void {
    const results = Array.isArray(r) ? r[r.length - 1] : r;
    const fields: { name: string; dataTypeID: number }[] = results?.fields ?? [];
    s.hasResultSet = fields.length > 0 && results.command !== 'INSERT' && results.command !== 'UPDATE' && results.command !== 'DELETE';
    s.resultRows = s.hasResultSet ? results.rows.length : (results?.rowCount ?? 0);
    if (s.hasResultSet) s.result = { columns: fields.map((f) => ({ name: f.name, typeId: f.dataTypeID })), rows: results.rows };
  }

  private find(id: unknown): { st: Statement; sub?: SubStatement } {
    if (typeof id !== 'string' || id.length === 0) throw new AwsError('ValidationException', 'Id must be specified.');
    const [base, n] = id.split(':');
    const st = this.statements.get(base);
    if (!st) throw new AwsError('ResourceNotFoundException', 'Query does not exist.');
    if (n === undefined) return { st };
    const sub = st.subs[Number(n) - 1];
    if (!sub) {
      if (!st.batch && n === '1') return { st };
      throw new AwsError('ResourceNotFoundException', 'Query does not exist.');
    }
    return { st, sub };
  }

  private async describeStatement(input: any) {
    const wait = input.WaitTimeSeconds;
    if (wait !== undefined && (!Number.isInteger(wait) || wait < 0 || wait > 30)) {
      throw new AwsError('ValidationException', 'WaitTimeSeconds must be between 0 and 30.');
    }
    const { st, sub } = this.find(input.Id);
    const target = sub ?? st;
    if (wait) await this.waitFor(target, wait);
    const one = (s: SubStatement) => ({
      Id: s.id,
      Status: s.status,
      Error: s.error,
      QueryString: s.sql,
      CreatedAt: s.createdAt / 1000,
      UpdatedAt: s.updatedAt / 1000,
      Duration: s.startedAt !== undefined && s.endedAt !== undefined ? (s.endedAt - s.startedAt) * 1_000_000 : -1,
      HasResultSet: s.hasResultSet,
      ResultRows: TERMINAL.includes(s.status) ? s.resultRows : -1,
      ResultSize: -1,
      RedshiftQueryId: s.queryId,
    });
    return {
      ...one(target),
      Id: target.id,
      SecretArn: st.secretArn,
      Database: st.database,
      ClusterIdentifier: st.clusterIdentifier,
      WorkgroupName: st.workgroupName,
      RedshiftPid: st.pid ?? 0,
      QueryParameters: sub ? undefined : st.parameters,
      IsBatchStatement: st.batch,
      SubStatements: !sub && st.batch ? st.subs.map(one) : undefined,
      ResultFormat: 'JSON',
    };
  }

  private getStatementResult(input: any) {
    const { st, sub } = this.find(input.Id);
    const s = sub ?? st;
    if (st.batch && !sub) {
      throw new AwsError('ValidationException', 'Use the Id of a sub-statement (Id:n) to get the result of a batch statement.');
    }
    if (s.status !== 'FINISHED' || !s.hasResultSet || !s.result) {
      throw new AwsError('ResourceNotFoundException', 'Query does not have result. Please check query status with DescribeStatement.');
    }
    const cols = s.result.columns;
    return {
      ColumnMetadata: cols.map((c) => {
        const typeName = this.typeNames.get(c.typeId) ?? 'unknown';
        return {
          name: c.name,
          label: c.name,
          typeName,
          nullable: 1,
          isCaseSensitive: ['text', 'varchar', 'name', 'bpchar'].includes(typeName),
          isCurrency: false,
          isSigned: ['int2', 'int4', 'int8', 'float4', 'float8', 'numeric'].includes(typeName),
          length: 0,
          precision: 0,
          scale: 0,
          schemaName: '',
          tableName: '',
        };
      }),
      Records: s.result.rows.map((row) => row.map((v, i) => field(v, this.typeNames.get(cols[i].typeId) ?? ''))),
      TotalNumRows: s.result.rows.length,
    };
  }

  private async cancelStatement(input: any) {
    const { st } = this.find(input.Id);
    if (TERMINAL.includes(st.status)) {
      throw new AwsError('ValidationException', `Could not cancel a query that is already in ${st.status} state.`);
    }
    st.cancelled = true;
    if (st.pid && this.admin) {
      const c = this.connect(this.admin.user, this.admin.password, this.admin.database);
      try {
        await c.connect();
        await c.query('SELECT pg_cancel_backend($1)', [st.pid]);
      } finally {
        await c.end().catch(() => undefined);
      }
    }
    await this.waitFor(st, 5);
    return { Status: true };
  }

  private listStatements(input: any) {
    const list = [...this.statements.values()]
      .filter((s) => input.StatementName === undefined || s.statementName === input.StatementName)
      .filter((s) => input.Status === undefined || input.Status === 'ALL' || s.status === input.Status)
      .sort((a, b) => b.createdAt - a.createdAt)
      .slice(0, input.MaxResults ?? 100);
    return {
      Statements: list.map((s) => ({
        Id: s.id,
        Status: s.status,
        StatementName: s.statementName,
        CreatedAt: s.createdAt / 1000,
        UpdatedAt: s.updatedAt / 1000,
        SecretArn: s.secretArn,
        IsBatchStatement: s.batch,
        QueryString: s.batch ? undefined : s.sql,
        QueryStrings: s.batch ? s.subs.map((x) => x.sql) : undefined,
        Database: s.database,
      })),
    };
  }
}

/** A statement sent with WorkgroupName runs on Redshift Serverless, one sent with ClusterIdentifier on a cluster. */
function targetOf(st: Statement): RedshiftTarget {
  return st.workgroupName !== undefined ? 'workgroup' : 'cluster';
}

function validateParameters(params: unknown, sql: string): { name: string; value: string }[] {
  if (!Array.isArray(params) || params.length === 0) throw new AwsError('ValidationException', 'Parameters must be a non-empty list.');
  const seen = new Set<string>();
  for (const p of params) {
    if (typeof p?.name !== 'string' || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(p.name)) throw new AwsError('ValidationException', 'Invalid parameter name.');
    if (typeof p.value !== 'string' || p.value.length === 0) throw new AwsError('ValidationException', `The value of parameter ${p.name} can't be empty.`);
    if (seen.has(p.name)) throw new AwsError('ValidationException', `Duplicate parameter ${p.name}.`);
    seen.add(p.name);
  }
  const used = new Set(tokenize(sql).filter((t) => t.kind === 'param').map((t) => t.text.slice(1)));
  for (const name of used) if (!seen.has(name)) throw new AwsError('ValidationException', `Parameter ${name} is used in the SQL but not supplied.`);
  for (const name of seen) if (!used.has(name)) throw new AwsError('ValidationException', `Parameter ${name} is supplied but not used in the SQL.`);
  return params.map((p) => ({ name: p.name, value: p.value }));
}

/** Replaces `:name` parameters (outside literals, identifiers and comments, never `::type`) with `$n`. */
export function bindParameters(sql: string, params: readonly { name: string; value: string }[]): { text: string; values: string[] } {
  const index = new Map<string, number>();
  const values: string[] = [];
  const text = tokenize(sql).map((t) => {
    if (t.kind !== 'param') return t.text;
    const name = t.text.slice(1);
    let n = index.get(name);
    if (n === undefined) {
      const p = params.find((x) => x.name === name);
      if (!p) throw new AwsError('ValidationException', `Parameter ${name} is not supplied.`);
      values.push(p.value);
      n = values.length;
      index.set(name, n);
    }
    return `$${n}`;
  }).join('');
  return { text, values };
}

function field(v: string | null, typeName: string): Record<string, unknown> {
  if (v === null) return { isNull: true };
  switch (typeName) {
    case 'bool': return { booleanValue: v === 't' || v === 'true' };
    case 'int2': case 'int4': case 'int8': case 'oid': return { longValue: Number(v) };
    case 'float4': case 'float8': return { doubleValue: Number(v) };
    default: return { stringValue: v };
  }
}

/** PostgreSQL's error as the service quotes it: `SEVERITY: message`. */
function pgError(e: unknown): string {
  const err = e as DatabaseError;
  if (err && typeof err.severity === 'string') return `${err.severity}: ${err.message}`;
  return `ERROR: ${(e as Error)?.message ?? String(e)}`;
}
