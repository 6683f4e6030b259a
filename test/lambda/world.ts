/**
 * A small in-memory Secrets Manager and Redshift behind aws-sdk-client-mock, for the handler's unit tests.
 * Secrets keep versions and staging labels by the service's rules; the "database" knows users by md5 verifier,
 * logs statements in as the AWSCURRENT of the secret they are given (a wrong password fails for real), and runs
 * the password statements. Faults can be injected per statement.
 */
import { createHash } from 'crypto';
import {
  ActiveStatementsExceededException,
  BatchExecuteStatementCommand,
  CancelStatementCommand,
  DatabaseConnectionException,
  DescribeStatementCommand,
  ExecuteStatementCommand,
  ExecuteStatementException,
  GetStatementResultCommand,
  RedshiftDataClient,
} from '@aws-sdk/client-redshift-data';
import {
  CreateSecretCommand,
  DeleteSecretCommand,
  DescribeSecretCommand,
  GetRandomPasswordCommand,
  GetSecretValueCommand,
  ListSecretsCommand,
  ListSecretVersionIdsCommand,
  PutSecretValueCommand,
  ResourceExistsException,
  ResourceNotFoundException,
  SecretsManagerClient,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import { AwsStub, mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { CATALOG_SQL, CatalogQuery, catalogStatement, Row } from '../../lambda/rotation/catalog';
import { createHandler } from '../../lambda/rotation/index';

export const ARN = 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:app/redshift-AbCdEf';
export const MASTER_ARN = 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:app/master-XyZ123';
export const CURRENT_VERSION = 'v-current-0000';
export const PREVIOUS_VERSION = 'v-previous-0000';
export const TOKEN = 'token-1111-2222';
export const CURRENT_PASSWORD = 'CurrentPassw0rdAlpha';
export const PREVIOUS_PASSWORD = 'PreviousPassw0rdBeta';
export const MASTER_PASSWORD = 'MasterPassw0rdGamma';
/** what GetRandomPassword returns, in order */
export const NEW_PASSWORDS = ['NewPassw0rdDelta#1xYzAbCdEfGhIjK', 'NewPassw0rdEpsilon#2xYzAbCdEfGhI', 'NewPassw0rdZeta#3xYzAbCdEfGhIjKl'];
export const ALL_PASSWORDS = [CURRENT_PASSWORD, PREVIOUS_PASSWORD, MASTER_PASSWORD, ...NEW_PASSWORDS];

export function md5(password: string, user: string): string {
  return 'md5' + createHash('md5').update(password + user).digest('hex');
}

export function secretJson(fields: Record<string, unknown>): string {
  return JSON.stringify({ engine: 'redshift', dbname: 'dev', dbClusterIdentifier: 'my-cluster', port: 5439, ...fields });
}

interface Version { value?: string; stages: string[] }
interface StoredSecret {
  arn: string;
  name: string;
  rotationEnabled: boolean;
  tags: Array<{ Key: string; Value: string }>;
  kmsKeyId?: string;
  versions: Map<string, Version>;
  deleted?: boolean;
}

export interface Statement {
  id: string;
  secretArn: string;
  sqls: string[];
  batch: boolean;
  parameters?: Array<{ name?: string; value?: string }>;
  status: 'FINISHED' | 'FAILED' | 'ABORTED' | 'STARTED';
  error?: string;
  rows?: Row[];
  /** a batch's rows per sub-statement (undefined: no result set) */
  subRows?: Array<Row[] | undefined>;
  /** the user the statement logged in as, when it did */
  user?: string;
}

export type Fault =
  | { kind: 'FAILED'; error: string }
  | { kind: 'ABORTED' }
  | { kind: 'HANG' }
  | { kind: 'THROTTLE'; times: number };

export class World {
  public readonly sm: AwsStub<any, any, any>;
  public readonly rsd: AwsStub<any, any, any>;
  public readonly secrets = new Map<string, StoredSecret>();
  /** database users and their md5 verifiers */
  public readonly users = new Map<string, string>();
  public readonly statements: Statement[] = [];
  /** every call, in order: `sm:DescribeSecret`, `rsd:ExecuteStatement`, … */
  public readonly calls: string[] = [];
  public readonly logLines: string[] = [];
  /** catalog rows returned for each catalog read */
  public catalog: Partial<Record<CatalogQuery, Row[]>> = {};
  /** faults: the first predicate that matches a submitted statement's SQL decides its fate */
  public faults: Array<{ match: (sql: string, secretArn: string) => boolean; fault: Fault }> = [];
  /**
   * how a login failure surfaces: a FAILED statement quoting Redshift, an ExecuteStatementException quoting Redshift
   * (the two documented shapes), or a DatabaseConnectionException without Redshift's message (not a failed login)
   */
  public loginFailureAs: 'FAILED' | 'ExecuteStatementException' | 'DatabaseConnectionException' = 'FAILED';
  /** errors the next CreateSecret calls throw, in order */
  public createSecretFailures: Error[] = [];
  private passwordIndex = 0;
  private probeCounter = 0;
  public clock = 0;
  public readonly sleeps: number[] = [];

  constructor() {
    this.sm = mockClient(SecretsManagerClient);
    this.rsd = mockClient(RedshiftDataClient);
    this.sm.reset();
    this.rsd.reset();
    this.wireSecretsManager();
    this.wireDataApi();
  }

  /** A handler on this world: fake clock, no real sleeping, log lines captured. */
  public handler(env: Record<string, string | undefined> = {}) {
    return createHandler({
      env: { STATEMENT_POLL_MS: '10', AWS_LAMBDA_FUNCTION_NAME: 'redshift-rotation', ...env },
      timing: {
        sleep: async (ms) => { this.sleeps.push(ms); this.clock += ms; },
        now: () => this.clock,
        random: () => 0.5,
      },
      write: (line) => { this.logLines.push(line); },
    });
  }

  public addSecret(args: {
    arn: string;
    /** @default the ARN's resource part */
    name?: string;
    current: string;
    previous?: string;
    rotationEnabled?: boolean;
    tags?: Record<string, string>;
    kmsKeyId?: string;
  }): void {
    const versions = new Map<string, Version>();
    versions.set(CURRENT_VERSION, { value: args.current, stages: ['AWSCURRENT'] });
    if (args.previous !== undefined) versions.set(PREVIOUS_VERSION, { value: args.previous, stages: ['AWSPREVIOUS'] });
    this.secrets.set(args.arn, {
      arn: args.arn,
      name: args.name ?? args.arn.split(':secret:')[1],
      rotationEnabled: args.rotationEnabled ?? true,
      tags: Object.entries(args.tags ?? {}).map(([Key, Value]) => ({ Key, Value })),
      kmsKeyId: args.kmsKeyId,
      versions,
    });
  }

  /** What RotateSecret does before calling the function: an AWSPENDING version without a value. */
  public startRotation(arn = ARN, token = TOKEN): void {
    const existing = this.secret(arn).versions.get(token);
    if (existing) {
      if (!existing.stages.includes('AWSPENDING')) existing.stages.push('AWSPENDING');
    } else {
      this.secret(arn).versions.set(token, { stages: ['AWSPENDING'] });
    }
  }

  public secret(arn: string): StoredSecret {
    const s = this.secrets.get(arn) ?? [...this.secrets.values()].find((x) => !x.deleted && x.name === arn);
    if (!s || s.deleted) throw new ResourceNotFoundException({ message: 'Secrets Manager can\'t find the specified secret.', $metadata: {} });
    return s;
  }

  public stageValue(arn: string, stage: string): string | undefined {
    return [...this.secret(arn).versions.values()].find((v) => v.stages.includes(stage))?.value;
  }

  public versionOf(arn: string, stage: string): string | undefined {
    return [...this.secret(arn).versions.entries()].find(([, v]) => v.stages.includes(stage))?.[0];
  }

  /** Does the secret string log in to the database? */
  public logsIn(secretString: string | undefined): boolean {
    if (!secretString) return false;
    const { username, password } = JSON.parse(secretString);
    return this.users.get(username) === md5(password, username);
  }

  public liveProbes(): StoredSecret[] {
    return [...this.secrets.values()].filter((s) => !s.deleted && s.tags.some((t) => t.Key === 'RotationProbeFor'));
  }

  /** All SQL text the database received. */
  public allSql(): string[] {
    return this.statements.flatMap((s) => s.sqls);
  }

  /** Runs the four steps as the service does (stops at the first error, which is returned). */
  public async rotate(handler: (e: any) => Promise<void>, token = TOKEN): Promise<unknown> {
    this.startRotation(ARN, token);
    for (const Step of ['createSecret', 'setSecret', 'testSecret', 'finishSecret']) {
      try {
        await handler({ SecretId: ARN, ClientRequestToken: token, Step });
      } catch (err) {
        return err;
      }
    }
    // the service removes AWSPENDING after a successful rotation
    const v = this.secret(ARN).versions.get(token)!;
    v.stages = v.stages.filter((s) => s !== 'AWSPENDING');
    return undefined;
  }

  /** Catalog rows for the users named: `catalog` if set, else (for `users`) default attributes of existing users, (for `master`) a superuser. */
  private catalogRows(query: CatalogQuery, names: string[]): Row[] {
    const given = this.catalog[query];
    if (given) return given;
    // the master secret's user is a superuser unless a test says otherwise
    if (query === 'master') return [{ usename: 'admin', usesuper: true }];
    if (query !== 'users') return [];
    return [...this.users.keys()].filter((u) => names.includes(u)).map((usename, i) => ({
      usename, usesysid: 100 + i, usecreatedb: false, usesuper: false, valuntil: null, useconnlimit: 'UNLIMITED', syslogaccess: 'RESTRICTED', sessiontimeout: 0,
    }));
  }

  private wireSecretsManager(): void {
    const log = (name: string) => this.calls.push(`sm:${name}`);
    this.sm.on(DescribeSecretCommand).callsFake((input) => {
      log('DescribeSecret');
      const s = this.secret(input.SecretId);
      return {
        ARN: s.arn,
        Name: s.name,
        RotationEnabled: s.rotationEnabled,
        KmsKeyId: s.kmsKeyId,
        Tags: s.tags,
        VersionIdsToStages: Object.fromEntries([...s.versions.entries()]
          .filter(([, v]) => v.stages.length > 0).map(([id, v]) => [id, [...v.stages]])),
      };
    });
    this.sm.on(GetSecretValueCommand).callsFake((input) => {
      log('GetSecretValue');
      const s = this.secret(input.SecretId);
      let entry: [string, Version] | undefined;
      if (input.VersionId) {
        const v = s.versions.get(input.VersionId);
        if (v && (!input.VersionStage || v.stages.includes(input.VersionStage))) entry = [input.VersionId, v];
      } else {
        entry = [...s.versions.entries()].find(([, v]) => v.stages.includes(input.VersionStage ?? 'AWSCURRENT'));
      }
      if (!entry || entry[1].value === undefined) {
        throw new ResourceNotFoundException({ message: 'Secrets Manager can\'t find the specified secret value for staging label: AWSPENDING', $metadata: { httpStatusCode: 400 } });
      }
      return { ARN: s.arn, VersionId: entry[0], SecretString: entry[1].value, VersionStages: entry[1].stages };
    });
    this.sm.on(GetRandomPasswordCommand).callsFake(() => {
      log('GetRandomPassword');
      return { RandomPassword: NEW_PASSWORDS[this.passwordIndex++ % NEW_PASSWORDS.length] };
    });
    this.sm.on(PutSecretValueCommand).callsFake((input) => {
      log('PutSecretValue');
      const s = this.secret(input.SecretId);
      const existing = s.versions.get(input.ClientRequestToken);
      if (existing?.value !== undefined) {
        if (existing.value === input.SecretString) return { ARN: s.arn, VersionId: input.ClientRequestToken };
        throw new ResourceExistsException({ message: 'You can\'t modify an existing version, you can only create new versions.', $metadata: {} });
      }
      for (const v of s.versions.values()) v.stages = v.stages.filter((st) => !(input.VersionStages ?? []).includes(st));
      s.versions.set(input.ClientRequestToken, { value: input.SecretString, stages: [...(input.VersionStages ?? ['AWSCURRENT'])] });
      return { ARN: s.arn, VersionId: input.ClientRequestToken };
    });
    this.sm.on(UpdateSecretVersionStageCommand).callsFake((input) => {
      log('UpdateSecretVersionStage');
      const s = this.secret(input.SecretId);
      const holder = [...s.versions.entries()].find(([, v]) => v.stages.includes(input.VersionStage));
      if (holder && holder[0] !== input.MoveToVersionId && holder[0] !== input.RemoveFromVersionId) {
        throw Object.assign(new Error('The parameter RemoveFromVersionId does not match the version that has the label'), { name: 'InvalidParameterException' });
      }
      if (holder) holder[1].stages = holder[1].stages.filter((st) => st !== input.VersionStage);
      if (input.VersionStage === 'AWSCURRENT' && holder) {
        for (const v of s.versions.values()) v.stages = v.stages.filter((st) => st !== 'AWSPREVIOUS');
        holder[1].stages.push('AWSPREVIOUS');
      }
      s.versions.get(input.MoveToVersionId)!.stages.push(input.VersionStage);
      return { ARN: s.arn };
    });
    this.sm.on(ListSecretVersionIdsCommand).callsFake((input) => {
      log('ListSecretVersionIds');
      const s = this.secret(input.SecretId);
      return {
        ARN: s.arn,
        Versions: [...s.versions.entries()]
          .filter(([, v]) => input.IncludeDeprecated === true || v.stages.length > 0)
          .map(([id, v], i) => ({ VersionId: id, VersionStages: v.stages.length ? [...v.stages] : undefined, CreatedDate: new Date(1_000_000 + i) })),
      };
    });
    this.sm.on(ListSecretsCommand).callsFake((input) => {
      log('ListSecrets');
      const prefix = input.Filters?.find((f: any) => f.Key === 'name')?.Values?.[0] ?? '';
      return {
        SecretList: [...this.secrets.values()].filter((s) => !s.deleted && s.name.startsWith(prefix))
          .map((s) => ({ ARN: s.arn, Name: s.name, Tags: s.tags })),
      };
    });
    this.sm.on(CreateSecretCommand).callsFake((input) => {
      log('CreateSecret');
      const failure = this.createSecretFailures.shift();
      if (failure) throw failure;
      if ([...this.secrets.values()].some((x) => !x.deleted && x.name === input.Name)) {
        throw new ResourceExistsException({ message: `The operation failed because the secret ${input.Name} already exists.`, $metadata: { httpStatusCode: 400 } });
      }
      const arn = `arn:aws:secretsmanager:eu-west-1:111122223333:secret:${input.Name}-P${this.probeCounter++}`;
      this.secrets.set(arn, {
        arn,
        name: input.Name,
        rotationEnabled: false,
        tags: input.Tags ?? [],
        kmsKeyId: input.KmsKeyId,
        versions: new Map([['probe-v1', { value: input.SecretString, stages: ['AWSCURRENT'] }]]),
      });
      return { ARN: arn, Name: input.Name };
    });
    this.sm.on(DeleteSecretCommand).callsFake((input) => {
      log('DeleteSecret');
      const s = this.secret(input.SecretId);
      s.deleted = true;
      return { ARN: s.arn };
    });
  }

  private wireDataApi(): void {
    const log = (name: string) => this.calls.push(`rsd:${name}`);
    const submit = (input: any, sqls: string[], batch: boolean) => {
      const sql = sqls.join(';\n');
      // a fault matches a statement or any statement of a batch (one failing statement fails the whole batch)
      const fault = this.faults.find((f) => f.match(sql, input.SecretArn) || (batch && sqls.some((one) => f.match(one, input.SecretArn))));
      if (fault?.fault.kind === 'THROTTLE' && fault.fault.times > 0) {
        fault.fault.times--;
        throw new ActiveStatementsExceededException({ message: 'Active statements exceeded the limit', $metadata: { httpStatusCode: 400 } });
      }
      const st: Statement = { id: `stmt-${this.statements.length + 1}`, secretArn: input.SecretArn, sqls, batch, parameters: input.Parameters, status: 'FINISHED' };
      const secretString = this.stageValue(input.SecretArn, 'AWSCURRENT');
      if (!this.logsIn(secretString)) {
        if (this.loginFailureAs === 'DatabaseConnectionException') {
          throw new DatabaseConnectionException({ message: 'Database connection failed', Message: 'Database connection failed', $metadata: { httpStatusCode: 500 } });
        }
        const user = secretString ? JSON.parse(secretString).username : '?';
        if (this.loginFailureAs === 'ExecuteStatementException') {
          const message = `FATAL: password authentication failed for user "${user}"`;
          throw new ExecuteStatementException({ message, Message: message, StatementId: 'stmt-x', $metadata: { httpStatusCode: 500 } });
        }
        st.status = 'FAILED';
        st.error = `FATAL: password authentication failed for user "${user}"`;
        this.statements.push(st);
        return { Id: st.id };
      }
      st.user = JSON.parse(secretString!).username;
      this.statements.push(st);
      if (fault && fault.fault.kind !== 'THROTTLE') {
        if (fault.fault.kind === 'FAILED') { st.status = 'FAILED'; st.error = fault.fault.error; }
        if (fault.fault.kind === 'ABORTED') { st.status = 'ABORTED'; st.error = 'Query aborted by the user'; }
        if (fault.fault.kind === 'HANG') st.status = 'STARTED';
        return { Id: st.id };
      }
      // run the statements as one transaction
      const changes = new Map<string, string>();
      st.subRows = batch ? [] : undefined;
      for (const [i, text] of sqls.entries()) {
        const m = /^(ALTER|CREATE) USER "((?:[^"]|"")+)" PASSWORD '(md5[0-9a-f]{32})'$/.exec(text);
        if (m) {
          const name = m[2].replace(/""/g, '"');
          const exists = changes.has(name) || this.users.has(name);
          if (m[1] === 'CREATE' && exists) { st.status = 'FAILED'; st.error = `ERROR: user "${name}" already exists`; return { Id: st.id }; }
          if (m[1] === 'ALTER' && !exists) { st.status = 'FAILED'; st.error = `ERROR: user "${name}" does not exist`; return { Id: st.id }; }
          changes.set(name, m[3]);
        }
        const read = catalogRead(text);
        let rows: Row[] | undefined;
        if (read) rows = this.catalogRows(read.query, read.names);
        if (text === 'SELECT 1') rows = [{ '?column?': 1 }];
        if (batch) st.subRows![i] = rows; else st.rows = rows;
      }
      for (const [name, verifier] of changes) this.users.set(name, verifier);
      return { Id: st.id };
    };
    this.rsd.on(ExecuteStatementCommand).callsFake((input) => {
      log('ExecuteStatement');
      return submit(input, [input.Sql], false);
    });
    this.rsd.on(BatchExecuteStatementCommand).callsFake((input) => {
      log('BatchExecuteStatement');
      return submit(input, input.Sqls, true);
    });
    this.rsd.on(DescribeStatementCommand).callsFake((input) => {
      log('DescribeStatement');
      const st = this.statements.find((s) => s.id === input.Id)!;
      const subStatements = st.batch
        ? st.sqls.map((_, i) => ({ Id: `${st.id}:${i + 1}`, Status: st.status, HasResultSet: st.subRows?.[i] !== undefined }))
        : undefined;
      return {
        Id: st.id,
        Status: st.status,
        Error: st.error,
        HasResultSet: st.rows !== undefined || (st.subRows ?? []).some((r) => r !== undefined),
        QueryString: st.sqls.join(';'),
        SubStatements: subStatements,
      };
    });
    this.rsd.on(GetStatementResultCommand).callsFake((input) => {
      log('GetStatementResult');
      const [id, sub] = input.Id!.split(':');
      const st = this.statements.find((s) => s.id === id)!;
      if (st.batch && sub === undefined) throw new Error('GetStatementResult of a batch needs a sub-statement Id (Id:n)');
      const rows = (sub === undefined ? st.rows : st.subRows?.[Number(sub) - 1]) ?? [];
      const names = rows.length > 0 ? Object.keys(rows[0]) : [];
      return {
        ColumnMetadata: names.map((name) => ({ name })),
        Records: rows.map((r) => names.map((n) => {
          const v = r[n];
          if (v === null) return { isNull: true };
          if (typeof v === 'boolean') return { booleanValue: v };
          if (typeof v === 'number') return { longValue: v };
          return { stringValue: v };
        })),
        TotalNumRows: rows.length,
      };
    });
    this.rsd.on(CancelStatementCommand).callsFake((input) => {
      log('CancelStatement');
      const st = this.statements.find((s) => s.id === input.Id)!;
      st.status = 'ABORTED';
      return { Status: true };
    });
  }
}

/** Which catalog read `text` is, and the two names it reads (as the handler inlines them), or undefined. */
export function catalogRead(text: string): { query: CatalogQuery; names: string[] } | undefined {
  const names = /IN \('([a-z0-9_$]+)', '([a-z0-9_$]+)'\)/.exec(text)?.slice(1, 3) ?? ['x', 'x_clone'];
  const query = (Object.keys(CATALOG_SQL) as CatalogQuery[]).find((q) => catalogStatement(q, names[0], names[1]) === text);
  return query ? { query, names } : undefined;
}

/** Which of ALL_PASSWORDS (by index, never by value) appear in `text`. */
export function passwordsIn(text: string): number[] {
  return ALL_PASSWORDS.flatMap((pw, i) => (text.includes(pw) ? [i] : []));
}

/**
 * Fails the test if any password or verifier of the world appears in `text`. A failure names the passwords by their
 * index in ALL_PASSWORDS and never prints the text.
 */
export function expectNoSecrets(text: string): void {
  expect(passwordsIn(text)).toEqual([]);
  expect(/md5[0-9a-f]{32}/.test(text)).toBe(false);
}

/** Every SQL text, log line and the error: none holds a password; SQL holds verifiers only. */
export function expectNothingLeaked(world: World, error?: unknown): void {
  expect(world.allSql().flatMap((sql) => passwordsIn(sql))).toEqual([]);
  for (const line of world.logLines) expectNoSecrets(line);
  if (error !== undefined) {
    expectNoSecrets(String((error as Error).message));
    expectNoSecrets(String((error as Error).stack));
  }
}

/** The common SINGLE_USER setup: user `app` with AWSCURRENT's password live, AWSPREVIOUS one rotation older. */
export function addSingleUserApp(world: World, kmsKeyId?: string): void {
  world.addSecret({
    arn: ARN,
    current: secretJson({ username: 'app', password: CURRENT_PASSWORD }),
    previous: secretJson({ username: 'app', password: PREVIOUS_PASSWORD }),
    ...(kmsKeyId ? { kmsKeyId } : {}),
  });
  world.users.set('app', md5(CURRENT_PASSWORD, 'app'));
}
