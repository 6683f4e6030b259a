import {
  ActiveStatementsExceededException, BatchExecuteStatementCommand, BatchExecuteStatementException, CancelStatementCommand,
  DatabaseConnectionException, DescribeStatementCommand, ExecuteStatementCommand, ExecuteStatementException, GetStatementResultCommand,
  RedshiftDataClient, ResourceNotFoundException, ValidationException,
} from '@aws-sdk/client-redshift-data';
import type { DescribeStatementCommandOutput } from '@aws-sdk/client-redshift-data';
import { PutSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { startLocalStack } from '../../local-stack/local-stack';
import type { LocalStack } from '../../local-stack/local-stack';
import { LocalRedshiftData } from '../../local-stack/redshift-data';

let stack: LocalStack;
let data: RedshiftDataClient;
let sm: SecretsManagerClient;
let master: string;
let workgroupSecret: string;

beforeAll(async () => {
  stack = await startLocalStack();
  data = stack.redshiftDataClient();
  sm = stack.secretsManagerClient();
  master = (await stack.createSecret({ name: 'master', username: stack.postgres.adminUser, password: stack.postgres.adminPassword })).arn;
  workgroupSecret = (await stack.createSecret({ name: 'master-wg', username: stack.postgres.adminUser, password: stack.postgres.adminPassword, target: 'workgroup' })).arn;
});
afterAll(async () => {
  data?.destroy();
  sm?.destroy();
  await stack?.stop();
});

interface RunOptions { secret?: string; params?: Record<string, string>; workgroup?: boolean }

async function run(sql: string, opts: RunOptions = {}): Promise<DescribeStatementCommandOutput> {
  const { Id } = await data.send(new ExecuteStatementCommand({
    ...(opts.workgroup ? { WorkgroupName: stack.workgroupName } : { ClusterIdentifier: stack.clusterIdentifier }),
    SecretArn: opts.secret ?? (opts.workgroup ? workgroupSecret : master),
    Database: 'dev',
    Sql: sql,
    Parameters: opts.params ? Object.entries(opts.params).map(([name, value]) => ({ name, value })) : undefined,
  }));
  return data.send(new DescribeStatementCommand({ Id, WaitTimeSeconds: 20 }));
}

describe('ExecuteStatement / DescribeStatement / GetStatementResult', () => {
  test('returns SUBMITTED at once and FINISHED later, with Duration and ResultRows', async () => {
    stack.redshiftData.statementLatencyMs = 1000;
    try {
      const { Id } = await data.send(new ExecuteStatementCommand({ ClusterIdentifier: stack.clusterIdentifier, SecretArn: master, Database: 'dev', Sql: 'SELECT 1 AS one' }));
      const early = await data.send(new DescribeStatementCommand({ Id }));
      expect(early.Status).toBe('SUBMITTED');
      expect(early.ResultRows).toBe(-1);
      const done = await data.send(new DescribeStatementCommand({ Id, WaitTimeSeconds: 10 }));
      expect(done).toMatchObject({ Status: 'FINISHED', HasResultSet: true, ResultRows: 1, QueryString: 'SELECT 1 AS one', SecretArn: master, Database: 'dev' });
      expect(done.Duration).toBeGreaterThanOrEqual(0);
    } finally {
      stack.redshiftData.statementLatencyMs = 0;
    }
  });

  test('typed records and column metadata', async () => {
    const d = await run('SELECT 42::int8 AS n, true AS b, 1.5::float8 AS f, \'x\'::text AS s, NULL::text AS z, 10.25::numeric AS d');
    const r = await data.send(new GetStatementResultCommand({ Id: d.Id }));
    expect(r.TotalNumRows).toBe(1);
    expect(r.ColumnMetadata!.map((c) => [c.name, c.typeName])).toEqual([['n', 'int8'], ['b', 'bool'], ['f', 'float8'], ['s', 'text'], ['z', 'text'], ['d', 'numeric']]);
    expect(r.Records![0]).toEqual([{ longValue: 42 }, { booleanValue: true }, { doubleValue: 1.5 }, { stringValue: 'x' }, { isNull: true }, { stringValue: '10.25' }]);
  });

  test(':name parameters are bound as values, never spliced', async () => {
    const d = await run('SELECT :a AS a, :b || \':not_a_param\' AS b, 1::int AS c', { params: { a: 'x\'; DROP TABLE t; --', b: 'y' } });
    expect(d.Status).toBe('FINISHED');
    const r = await data.send(new GetStatementResultCommand({ Id: d.Id }));
    expect(r.Records![0]).toEqual([{ stringValue: 'x\'; DROP TABLE t; --' }, { stringValue: 'y:not_a_param' }, { longValue: 1 }]);
    await expect(run('SELECT :a', { params: { b: 'x' } })).rejects.toBeInstanceOf(ValidationException);
  });

  test('an SQL error is FAILED with PostgreSQL\'s message, and GetStatementResult has nothing', async () => {
    const d = await run('SELECT * FROM no_such_table');
    expect(d.Status).toBe('FAILED');
    expect(d.Error).toBe('ERROR: relation "no_such_table" does not exist');
    await expect(data.send(new GetStatementResultCommand({ Id: d.Id }))).rejects.toBeInstanceOf(ResourceNotFoundException);
  });

  test('a DDL statement finishes without a result set', async () => {
    const d = await run('CREATE TABLE ddl_t (x int)');
    expect(d).toMatchObject({ Status: 'FINISHED', HasResultSet: false, ResultRows: 0 });
  });

  test('the catalog reads of docs/architecture.md work with parameters, through the shim', async () => {
    await stack.createUser('cat_user', 'Catpass123');
    expect((await run('ALTER USER "cat_user" CONNECTION LIMIT UNLIMITED')).Status).toBe('FINISHED');
    expect((await run('ALTER USER "cat_user" SESSION TIMEOUT 900')).Status).toBe('FINISHED');
    const d = await run(`SELECT u.usename, u.usesysid, u.usecreatedb, u.usesuper, u.valuntil, i.useconnlimit, i.syslogaccess, i.sessiontimeout
  FROM pg_user u JOIN svl_user_info i ON i.usesysid = u.usesysid WHERE u.usename IN (:original, :clone)`, { params: { original: 'cat_user', clone: 'cat_user_clone' } });
    expect(d.Status).toBe('FINISHED');
    const r = await data.send(new GetStatementResultCommand({ Id: d.Id }));
    expect(r.Records).toHaveLength(1);
    const [name, sysid, createdb, superuser, valuntil, connlimit, syslog, timeout] = r.Records![0];
    expect(name).toEqual({ stringValue: 'cat_user' });
    expect(typeof sysid.longValue).toBe('number');
    expect([createdb, superuser, valuntil, connlimit, syslog, timeout]).toEqual([
      { booleanValue: false }, { booleanValue: false }, { isNull: true }, { stringValue: 'UNLIMITED' }, { stringValue: 'RESTRICTED' }, { longValue: 900 },
    ]);
  });

  test('unknown ids, a wrong cluster or workgroup, both or neither, a missing database are refused', async () => {
    await expect(data.send(new DescribeStatementCommand({ Id: '00000000-0000-0000-0000-000000000000' }))).rejects.toBeInstanceOf(ResourceNotFoundException);
    const base = { SecretArn: master, Database: 'dev', Sql: 'SELECT 1' };
    await expect(data.send(new ExecuteStatementCommand({ ...base, ClusterIdentifier: 'other' }))).rejects.toBeInstanceOf(ValidationException);
    await expect(data.send(new ExecuteStatementCommand({ ...base, WorkgroupName: 'other' }))).rejects.toBeInstanceOf(ResourceNotFoundException);
    await expect(data.send(new ExecuteStatementCommand({ ...base, ClusterIdentifier: stack.clusterIdentifier, WorkgroupName: stack.workgroupName })))
      .rejects.toBeInstanceOf(ValidationException);
    await expect(data.send(new ExecuteStatementCommand(base as never))).rejects.toBeInstanceOf(ValidationException);
    await expect(data.send(new ExecuteStatementCommand({ ...base, Database: undefined, ClusterIdentifier: stack.clusterIdentifier })))
      .rejects.toBeInstanceOf(ValidationException);
    await expect(data.send(new ExecuteStatementCommand({ ...base, Sql: 'SELECT 1; SELECT 2', ClusterIdentifier: stack.clusterIdentifier })))
      .rejects.toBeInstanceOf(ValidationException);
  });

  test('the secret\'s dbClusterIdentifier / workgroupName must match the request', async () => {
    expect((await run('SELECT 1', { workgroup: true })).Status).toBe('FINISHED');
    await expect(run('SELECT 1', { secret: workgroupSecret })).rejects.toThrow(/workgroupName in the secret/);
    await expect(run('SELECT 1', { secret: master, workgroup: true })).rejects.toThrow(/dbClusterIdentifier in the secret/);
    const empty = await stack.createSecret({ name: 'no-password', username: 'x', password: 'y', extra: { password: '' } });
    await expect(run('SELECT 1', { secret: empty.arn })).rejects.toThrow('username and password in secret cannot be empty');
  });
});

describe('login with the secret\'s AWSCURRENT', () => {
  test('a wrong password fails for real: FAILED with PostgreSQL\'s FATAL message', async () => {
    await stack.createUser('dapi_user', 'Rightpass1');
    const s = await stack.createSecret({ name: 'dapi-user', username: 'dapi_user', password: 'Rightpass1' });
    expect((await run('SELECT current_user', { secret: s.arn })).Status).toBe('FINISHED');
    await sm.send(new PutSecretValueCommand({ SecretId: s.arn, SecretString: JSON.stringify({ username: 'dapi_user', password: 'Wrongpass1', dbClusterIdentifier: stack.clusterIdentifier }) }));
    const d = await run('SELECT 1', { secret: s.arn });
    expect(d.Status).toBe('FAILED');
    expect(d.Error).toBe('FATAL: password authentication failed for user "dapi_user"');
  });

  test('loginFailure "exception" reports ExecuteStatementException / BatchExecuteStatementException with Redshift\'s message instead', async () => {
    const other = new LocalRedshiftData({
      faults: stack.faults,
      secrets: stack.secretsManager,
      pg: stack.postgres,
      clusterIdentifier: stack.clusterIdentifier,
      workgroupName: stack.workgroupName,
      loginFailure: 'exception',
    });
    await other.start({ user: stack.postgres.adminUser, password: stack.postgres.adminPassword, database: 'dev' });
    const client = new RedshiftDataClient({ region: stack.region, endpoint: other.url, credentials: { accessKeyId: 'a', secretAccessKey: 'b' }, maxAttempts: 1 });
    try {
      const s = await stack.createSecret({ name: 'bad-login', username: 'dapi_user', password: 'Nopenope1' });
      const err = await client.send(new ExecuteStatementCommand({ ClusterIdentifier: stack.clusterIdentifier, SecretArn: s.arn, Database: 'dev', Sql: 'SELECT 1' })).catch((e) => e);
      expect(err).toBeInstanceOf(ExecuteStatementException);
      expect(err.message).toBe('FATAL: password authentication failed for user "dapi_user"');
      const batchErr = await client.send(new BatchExecuteStatementCommand({ ClusterIdentifier: stack.clusterIdentifier, SecretArn: s.arn, Database: 'dev', Sqls: ['SELECT 1'] })).catch((e) => e);
      expect(batchErr).toBeInstanceOf(BatchExecuteStatementException);
      expect(batchErr.message).toBe('FATAL: password authentication failed for user "dapi_user"');
    } finally {
      client.destroy();
      await other.stop();
    }
  });
});

describe('BatchExecuteStatement', () => {
  test('runs in one transaction with sub-statement ids and results', async () => {
    const { Id } = await data.send(new BatchExecuteStatementCommand({
      ClusterIdentifier: stack.clusterIdentifier,
      SecretArn: master,
      Database: 'dev',
      Sqls: ['CREATE TABLE batch_ok (x int)', 'INSERT INTO batch_ok VALUES (1), (2)', 'SELECT x FROM batch_ok ORDER BY x'],
    }));
    const d = await data.send(new DescribeStatementCommand({ Id, WaitTimeSeconds: 20 }));
    expect(d.Status).toBe('FINISHED');
    expect(d.SubStatements!.map((s) => [s.Id, s.Status, s.HasResultSet, s.ResultRows])).toEqual([
      [`${Id}:1`, 'FINISHED', false, 0], [`${Id}:2`, 'FINISHED', false, 2], [`${Id}:3`, 'FINISHED', true, 2],
    ]);
    const r = await data.send(new GetStatementResultCommand({ Id: `${Id}:3` }));
    expect(r.Records).toEqual([[{ longValue: 1 }], [{ longValue: 2 }]]);
    await expect(data.send(new GetStatementResultCommand({ Id }))).rejects.toBeInstanceOf(ValidationException);
  });

  test('a failing statement rolls back the whole batch; later ones are ABORTED', async () => {
    const { Id } = await data.send(new BatchExecuteStatementCommand({
      ClusterIdentifier: stack.clusterIdentifier,
      SecretArn: master,
      Database: 'dev',
      Sqls: ['CREATE TABLE batch_rb (x int)', 'CREATE USER "rb_user" PASSWORD \'md5aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\'', 'SELECT * FROM missing_tbl', 'SELECT 1'],
    }));
    const d = await data.send(new DescribeStatementCommand({ Id, WaitTimeSeconds: 20 }));
    expect(d.Status).toBe('FAILED');
    expect(d.Error).toBe('ERROR: relation "missing_tbl" does not exist');
    expect(d.SubStatements!.map((s) => s.Status)).toEqual(['FINISHED', 'FINISHED', 'FAILED', 'ABORTED']);
    expect(await stack.adminQuery('SELECT 1 FROM pg_class WHERE relname = \'batch_rb\'')).toHaveLength(0);
    expect(await stack.adminQuery('SELECT 1 FROM pg_roles WHERE rolname = \'rb_user\'')).toHaveLength(0);
  });

  test('Redshift statements rewritten by the shim run inside the batch transaction', async () => {
    await stack.createUser('batch_user', 'Batchpass1');
    const { Id } = await data.send(new BatchExecuteStatementCommand({
      ClusterIdentifier: stack.clusterIdentifier,
      SecretArn: master,
      Database: 'dev',
      Sqls: ['CREATE ROLE "batch_role"', 'GRANT ROLE "batch_role" TO "batch_user"', 'ALTER USER "batch_user" SYSLOG ACCESS UNRESTRICTED'],
    }));
    expect((await data.send(new DescribeStatementCommand({ Id, WaitTimeSeconds: 20 }))).Status).toBe('FINISHED');
    expect(await stack.adminQuery('SELECT user_name, role_name FROM svv_user_grants WHERE user_name = \'batch_user\'')).toEqual([{ user_name: 'batch_user', role_name: 'batch_role' }]);
  });

  test('stack.adminRedshift runs Redshift statements through the shim as the admin', async () => {
    await stack.createUser('admin_rs_user', 'Adminrs123');
    await stack.adminRedshift('ALTER USER "admin_rs_user" SYSLOG ACCESS UNRESTRICTED SESSION TIMEOUT 120');
    expect(await stack.adminQuery('SELECT syslogaccess, sessiontimeout FROM svl_user_info WHERE usename = $1', ['admin_rs_user']))
      .toEqual([{ syslogaccess: 'UNRESTRICTED', sessiontimeout: 120 }]);
    await expect(stack.adminRedshift('ALTER USER "missing_user" SYSLOG ACCESS RESTRICTED')).rejects.toThrow('user "missing_user" does not exist');
  });

  test('1 to 40 statements', async () => {
    const base = { ClusterIdentifier: stack.clusterIdentifier, SecretArn: master, Database: 'dev' };
    await expect(data.send(new BatchExecuteStatementCommand({ ...base, Sqls: [] }))).rejects.toBeInstanceOf(ValidationException);
    await expect(data.send(new BatchExecuteStatementCommand({ ...base, Sqls: Array(41).fill('SELECT 1') }))).rejects.toBeInstanceOf(ValidationException);
    const { Id } = await data.send(new BatchExecuteStatementCommand({ ...base, Sqls: Array(40).fill('SELECT 1') }));
    expect((await data.send(new DescribeStatementCommand({ Id, WaitTimeSeconds: 20 }))).Status).toBe('FINISHED');
  });
});

describe('CancelStatement, WaitTimeSeconds, limits', () => {
  test('a running statement is cancelled: ABORTED', async () => {
    const { Id } = await data.send(new ExecuteStatementCommand({ ClusterIdentifier: stack.clusterIdentifier, SecretArn: master, Database: 'dev', Sql: 'SELECT pg_sleep(30)' }));
    for (let i = 0; i < 50 && (await data.send(new DescribeStatementCommand({ Id }))).Status !== 'STARTED'; i++) await new Promise((r) => setTimeout(r, 20));
    expect((await data.send(new CancelStatementCommand({ Id }))).Status).toBe(true);
    const d = await data.send(new DescribeStatementCommand({ Id, WaitTimeSeconds: 5 }));
    expect(d.Status).toBe('ABORTED');
    await expect(data.send(new CancelStatementCommand({ Id }))).rejects.toBeInstanceOf(ValidationException);
  });

  test('a statement still waiting to start (statement latency) is cancelled at once: ABORTED, never run', async () => {
    stack.redshiftData.statementLatencyMs = 10_000;
    try {
      const { Id } = await data.send(new ExecuteStatementCommand({ ClusterIdentifier: stack.clusterIdentifier, SecretArn: master, Database: 'dev', Sql: 'SELECT 1' }));
      const t = Date.now();
      expect((await data.send(new CancelStatementCommand({ Id }))).Status).toBe(true);
      expect(Date.now() - t).toBeLessThan(2000);
      const d = await data.send(new DescribeStatementCommand({ Id }));
      expect(d.Status).toBe('ABORTED');
      expect(d.RedshiftQueryId).toBe(0);
    } finally {
      stack.redshiftData.statementLatencyMs = 0;
    }
  });

  test('WaitTimeSeconds returns the current status when the statement is slower; 0-30 only', async () => {
    const { Id } = await data.send(new ExecuteStatementCommand({ ClusterIdentifier: stack.clusterIdentifier, SecretArn: master, Database: 'dev', Sql: 'SELECT pg_sleep(1.5)' }));
    const t = Date.now();
    const d = await data.send(new DescribeStatementCommand({ Id, WaitTimeSeconds: 1 }));
    expect(Date.now() - t).toBeGreaterThanOrEqual(900);
    expect(['PICKED', 'STARTED']).toContain(d.Status);
    expect((await data.send(new DescribeStatementCommand({ Id, WaitTimeSeconds: 5 }))).Status).toBe('FINISHED');
    await expect(data.send(new DescribeStatementCommand({ Id, WaitTimeSeconds: 31 }))).rejects.toBeInstanceOf(ValidationException);
  });

  test('ExecuteStatement with WaitTimeSeconds returns after the statement ends', async () => {
    const { Id } = await data.send(new ExecuteStatementCommand({ ClusterIdentifier: stack.clusterIdentifier, SecretArn: master, Database: 'dev', Sql: 'SELECT 1', WaitTimeSeconds: 5 }));
    const d = await data.send(new DescribeStatementCommand({ Id }));
    expect(d.Status).toBe('FINISHED');
  });

  test('ClientToken makes ExecuteStatement idempotent', async () => {
    const input = { ClusterIdentifier: stack.clusterIdentifier, SecretArn: master, Database: 'dev', Sql: 'SELECT 2', ClientToken: 'token-1234567890' };
    const a = await data.send(new ExecuteStatementCommand(input));
    const b = await data.send(new ExecuteStatementCommand(input));
    expect(b.Id).toBe(a.Id);
  });

  test('too many active statements: ActiveStatementsExceededException', async () => {
    const limited = new LocalRedshiftData({
      faults: stack.faults,
      secrets: stack.secretsManager,
      pg: stack.postgres,
      clusterIdentifier: stack.clusterIdentifier,
      workgroupName: stack.workgroupName,
      maxActiveStatements: 1,
      statementLatencyMs: 500,
    });
    await limited.start({ user: stack.postgres.adminUser, password: stack.postgres.adminPassword, database: 'dev' });
    const client = new RedshiftDataClient({ region: stack.region, endpoint: limited.url, credentials: { accessKeyId: 'a', secretAccessKey: 'b' }, maxAttempts: 1 });
    try {
      const input = { ClusterIdentifier: stack.clusterIdentifier, SecretArn: master, Database: 'dev', Sql: 'SELECT 1' };
      await client.send(new ExecuteStatementCommand(input));
      await expect(client.send(new ExecuteStatementCommand(input))).rejects.toBeInstanceOf(ActiveStatementsExceededException);
    } finally {
      client.destroy();
      await limited.stop();
    }
  });
});

describe('targets that cannot run statements, and network errors (fault options)', () => {
  afterEach(() => stack.faults.clear());

  test('a paused cluster: ValidationException that says so, no statement made', async () => {
    stack.faults.inject({ service: 'redshift-data', operation: 'ExecuteStatement', action: { type: 'targetUnavailable', state: 'paused' } });
    const err = await data.send(new ExecuteStatementCommand({ ClusterIdentifier: stack.clusterIdentifier, SecretArn: master, Database: 'dev', Sql: 'SELECT 1' })).catch((e) => e);
    expect(err).toBeInstanceOf(ValidationException);
    expect(err.message).toBe(`Cluster ${stack.clusterIdentifier} is not available to run statements: it is paused.`);
  });

  test('an unreachable workgroup: DatabaseConnectionException without a login message', async () => {
    stack.faults.inject({ service: 'redshift-data', operation: 'BatchExecuteStatement', action: { type: 'targetUnavailable', state: 'unreachable' } });
    const err = await data.send(new BatchExecuteStatementCommand({ WorkgroupName: stack.workgroupName, SecretArn: workgroupSecret, Database: 'dev', Sqls: ['SELECT 1'] })).catch((e) => e);
    expect(err).toBeInstanceOf(DatabaseConnectionException);
    expect(err.message).toMatch(/^Connection to the database failed: Workgroup local-workgroup could not be reached/);
    expect(/password authentication failed/.test(err.message)).toBe(false);
  });

  test('targetUnavailable applies to statement calls only', () => {
    expect(() => stack.faults.inject({ service: 'secretsmanager', action: { type: 'targetUnavailable', state: 'paused' } })).toThrow(/redshift-data service only/);
  });

  test('a network error: the connection closes without an answer', async () => {
    const client = new RedshiftDataClient({ region: stack.region, endpoint: stack.endpoints.redshiftData, credentials: { accessKeyId: 'a', secretAccessKey: 'b' }, maxAttempts: 1 });
    try {
      const f = stack.faults.inject({ service: 'redshift-data', operation: 'ExecuteStatement', action: { type: 'networkError' } });
      const err = await client.send(new ExecuteStatementCommand({ ClusterIdentifier: stack.clusterIdentifier, SecretArn: master, Database: 'dev', Sql: 'SELECT 1' })).catch((e) => e);
      expect(err.$metadata?.httpStatusCode).toBeUndefined();
      expect(`${err.code ?? ''} ${err.message}`).toMatch(/socket hang up|ECONNRESET|EPIPE/);
      expect(f.fired).toBe(1);
    } finally {
      client.destroy();
    }
  });
});
