import { BatchExecuteStatementCommand, ExecuteStatementCommand } from '@aws-sdk/client-redshift-data';
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import {
  ARN, CURRENT_PASSWORD, expectNothingLeaked, MASTER_ARN, MASTER_PASSWORD, md5, NEW_PASSWORDS, secretJson, TOKEN, World,
} from './world';
import { CATALOG_SQL } from '../../lambda/rotation/catalog';
import { createUserSql, alterPasswordSql } from '../../lambda/rotation/sql';

let world: World;
const event = (Step: string, token = TOKEN) => ({ SecretId: ARN, ClientRequestToken: token, Step });
const NEW = NEW_PASSWORDS[0];
const userRow = (usename: string, over: Record<string, unknown> = {}) => ({
  usename,
  usesysid: usename.length,
  usecreatedb: false,
  usesuper: false,
  valuntil: null,
  useconnlimit: 'UNLIMITED',
  syslogaccess: 'RESTRICTED',
  sessiontimeout: 0,
  ...over,
});

interface Setup {
  username?: string;
  fields?: Record<string, unknown>;
  master?: Record<string, unknown> | string;
  tag?: boolean;
}

function alternating(options: Setup = {}): void {
  const username = options.username ?? 'app';
  world.addSecret({
    arn: ARN,
    current: secretJson({ username, password: CURRENT_PASSWORD, masterarn: MASTER_ARN, ...options.fields }),
    tags: options.tag === false ? {} : { 'redshift-rotation:strategy': 'ALTERNATING_USERS' },
  });
  const master = options.master ?? { engine: 'redshift', username: 'admin', password: MASTER_PASSWORD, dbClusterIdentifier: 'my-cluster' };
  world.addSecret({ arn: MASTER_ARN, current: typeof master === 'string' ? master : JSON.stringify(master) });
  world.users.set('app', md5(CURRENT_PASSWORD, 'app'));
  if (username === 'app_clone') world.users.set('app_clone', md5(CURRENT_PASSWORD, 'app_clone'));
  world.users.set('admin', md5(MASTER_PASSWORD, 'admin'));
}

async function createPending(): Promise<void> {
  world.startRotation();
  await world.handler()(event('createSecret'));
  world.calls.length = 0;
}

function batches(): string[][] {
  return world.rsd.commandCalls(BatchExecuteStatementCommand).map((c) => c.args[0].input.Sqls!);
}

beforeEach(() => {
  world = new World();
});

describe('ALTERNATING_USERS setSecret', () => {
  test('first rotation: prove AWSCURRENT, read the catalog as the master, CREATE USER the clone and copy everything, in one batch', async () => {
    alternating();
    world.catalog = {
      users: [userRow('app', { usecreatedb: true, useconnlimit: '10', syslogaccess: 'UNRESTRICTED', sessiontimeout: 600, valuntil: '2030-01-01 00:00:00+00' })],
      groups: [{ usename: 'app', groname: 'readers' }],
      roles: [{ user_name: 'app', role_name: 'analyst' }],
      relations: [{ identity_name: 'app', namespace_name: 'sales', relation_name: 'orders', privilege_type: 'SELECT' }],
      schemas: [{ identity_name: 'app', namespace_name: 'sales', privilege_type: 'USAGE' }],
      databases: [{ identity_name: 'app', database_name: 'dev', privilege_type: 'TEMP' }],
    };
    await createPending();
    await world.handler()(event('setSecret'));

    expect(world.calls.filter((c) => c !== 'rsd:DescribeStatement' && c !== 'rsd:GetStatementResult')).toEqual([
      'sm:DescribeSecret', 'sm:GetSecretValue', 'sm:GetSecretValue',
      'rsd:ExecuteStatement', // SELECT 1 as AWSCURRENT
      'sm:GetSecretValue', // the master secret
      ...Array(6).fill('rsd:ExecuteStatement'), // catalog reads
      'rsd:BatchExecuteStatement',
    ]);
    const executes = world.rsd.commandCalls(ExecuteStatementCommand).map((c) => c.args[0].input);
    expect(executes[0]).toMatchObject({ SecretArn: ARN, Sql: 'SELECT 1', ClusterIdentifier: 'my-cluster', Database: 'dev' });
    expect(world.sm).toHaveReceivedCommandWith(GetSecretValueCommand, { SecretId: MASTER_ARN, VersionStage: 'AWSCURRENT' });
    expect(executes.slice(1).map((e) => e.Sql)).toEqual(Object.values(CATALOG_SQL));
    for (const e of executes.slice(1)) {
      expect(e).toMatchObject({ SecretArn: MASTER_ARN, Parameters: [{ name: 'original', value: 'app' }, { name: 'clone', value: 'app_clone' }] });
    }
    expect(world.rsd).toHaveReceivedCommandWith(BatchExecuteStatementCommand, { SecretArn: MASTER_ARN, ClusterIdentifier: 'my-cluster', Database: 'dev' });
    expect(batches()).toEqual([[
      createUserSql('app_clone', NEW),
      'ALTER USER "app_clone" CREATEDB',
      'ALTER USER "app_clone" CONNECTION LIMIT 10',
      'ALTER USER "app_clone" VALID UNTIL \'2030-01-01 00:00:00+00\'',
      'ALTER USER "app_clone" SYSLOG ACCESS UNRESTRICTED',
      'ALTER USER "app_clone" SESSION TIMEOUT 600',
      'ALTER GROUP "readers" ADD USER "app_clone"',
      'GRANT ROLE "analyst" TO "app_clone"',
      'GRANT TEMP ON DATABASE "dev" TO "app_clone"',
      'GRANT SELECT ON TABLE "sales"."orders" TO "app_clone"',
      'GRANT USAGE ON SCHEMA "sales" TO "app_clone"',
    ]]);
    expect(world.users.get('app_clone')).toBe(md5(NEW, 'app_clone'));
    expect(world.users.get('app')).toBe(md5(CURRENT_PASSWORD, 'app'));
    expectNothingLeaked(world);
  });

  test('second rotation: ALTER USER the original\'s password and bring the clone in line with it (added and removed)', async () => {
    alternating({ username: 'app_clone' });
    world.catalog = {
      users: [userRow('app'), userRow('app_clone', { usecreatedb: true })],
      groups: [{ usename: 'app', groname: 'readers' }, { usename: 'app_clone', groname: 'admins' }],
      roles: [{ user_name: 'app_clone', role_name: 'dba' }],
      relations: [
        { identity_name: 'app', namespace_name: 'sales', relation_name: 'orders', privilege_type: 'SELECT' },
        { identity_name: 'app_clone', namespace_name: 'sales', relation_name: 'orders', privilege_type: 'SELECT' },
        { identity_name: 'app_clone', namespace_name: 'sales', relation_name: 'orders', privilege_type: 'DELETE' },
      ],
    };
    await createPending();
    expect(JSON.parse(world.stageValue(ARN, 'AWSPENDING')!).username).toBe('app');
    await world.handler()(event('setSecret'));
    expect(batches()).toEqual([[
      alterPasswordSql('app', NEW),
      'ALTER USER "app_clone" NOCREATEDB',
      'ALTER GROUP "admins" DROP USER "app_clone"',
      'ALTER GROUP "readers" ADD USER "app_clone"',
      'REVOKE ROLE "dba" FROM "app_clone"',
      'REVOKE DELETE ON TABLE "sales"."orders" FROM "app_clone"',
    ]]);
    expect(world.users.get('app')).toBe(md5(NEW, 'app'));
    expect(world.users.get('app_clone')).toBe(md5(CURRENT_PASSWORD, 'app_clone'));
  });

  test('run twice: the second run is the same idempotent batch (ALTER instead of CREATE)', async () => {
    alternating();
    await createPending();
    await world.handler()(event('setSecret'));
    await world.handler()(event('setSecret'));
    expect(batches()).toEqual([[createUserSql('app_clone', NEW)], [alterPasswordSql('app_clone', NEW)]]);
    expect(world.users.get('app_clone')).toBe(md5(NEW, 'app_clone'));
  });

  test('more than 40 statements go in batches of 40, in order', async () => {
    alternating();
    world.catalog = {
      users: [userRow('app')],
      relations: Array.from({ length: 50 }, (_, i) => ({ identity_name: 'app', namespace_name: 's', relation_name: `t${String(i).padStart(2, '0')}`, privilege_type: 'SELECT' })),
    };
    await createPending();
    await world.handler()(event('setSecret'));
    const sent = batches();
    expect(sent.map((b) => b.length)).toEqual([40, 11]);
    expect(sent[0][0]).toBe(createUserSql('app_clone', NEW));
    expect(sent.flat().slice(1)).toEqual(Array.from({ length: 50 }, (_, i) => `GRANT SELECT ON TABLE "s"."t${String(i).padStart(2, '0')}" TO "app_clone"`));
  });

  test('privileges off the allow-list are skipped and named in the step\'s log line', async () => {
    alternating();
    world.catalog = {
      users: [userRow('app')],
      relations: [{ identity_name: 'app', namespace_name: 's', relation_name: 't', privilege_type: 'RULE' }],
    };
    await createPending();
    await world.handler()(event('setSecret'));
    expect(batches()).toEqual([[createUserSql('app_clone', NEW)]]);
    expect(JSON.parse(world.logLines.at(-1)!)).toMatchObject({ step: 'setSecret', outcome: 'ok', skipped: ['relation privilege "RULE" of app on s.t'] });
  });

  test('without the tag, masterarn selects ALTERNATING_USERS', async () => {
    alternating({ tag: false });
    await createPending();
    await world.handler()(event('setSecret'));
    expect(world.users.get('app_clone')).toBe(md5(NEW, 'app_clone'));
    expect(JSON.parse(world.logLines.at(-1)!).strategy).toBe('ALTERNATING_USERS');
  });

  test('Redshift Serverless: every statement goes to the workgroup', async () => {
    alternating({ fields: { dbClusterIdentifier: undefined, workgroupName: 'wg1' }, master: { username: 'admin', password: MASTER_PASSWORD } });
    await createPending();
    await world.handler()(event('setSecret'));
    for (const c of [...world.rsd.commandCalls(ExecuteStatementCommand), ...world.rsd.commandCalls(BatchExecuteStatementCommand)]) {
      expect(c.args[0].input).toMatchObject({ WorkgroupName: 'wg1', Database: 'dev' });
      expect(c.args[0].input.ClusterIdentifier).toBeUndefined();
    }
  });
});

describe('ALTERNATING_USERS refusals: a clear error and nothing changed', () => {
  async function refused(expected: RegExp, setup: () => void): Promise<void> {
    setup();
    await createPending();
    const before = new Map(world.users);
    const err = await world.handler()(event('setSecret')).catch((e) => e);
    expect(err).toBeInstanceOf(Error);
    expect(err.message).toMatch(expected);
    expect(world.rsd).toHaveReceivedCommandTimes(BatchExecuteStatementCommand, 0);
    expect(world.users).toEqual(before);
    expectNothingLeaked(world, err);
  }

  test('AWSCURRENT does not log in (the confused-deputy guard): the master secret is not even read', async () => {
    await refused(/AWSCURRENT does not log in as "app"; refusing/, () => {
      alternating();
      world.users.set('app', md5('changed-elsewhere', 'app'));
    });
    expect(world.sm).not.toHaveReceivedCommandWith(GetSecretValueCommand, { SecretId: MASTER_ARN });
  });

  test('the master secret is unreadable', async () => {
    await refused(/cannot read the master secret .*ResourceNotFoundException/, () => {
      alternating();
      world.secret(MASTER_ARN).deleted = true;
    });
  });

  test('the master secret lacks credentials', async () => {
    await refused(/the master secret .*: password is missing/, () => alternating({ master: { username: 'admin' } }));
  });

  test('the master secret is not JSON', async () => {
    await refused(/the master secret .* is not valid JSON/, () => alternating({ master: `not json ${MASTER_PASSWORD}` }));
  });

  test('the master secret is the rotated user', async () => {
    await refused(/is the rotated user itself/, () => alternating({ master: { username: 'app_clone', password: MASTER_PASSWORD } }));
  });

  test('the master secret names another cluster', async () => {
    await refused(/master secret's dbClusterIdentifier is not the one of the rotated secret/, () => alternating({ master: { username: 'admin', password: MASTER_PASSWORD, dbClusterIdentifier: 'x' } }));
  });

  test('the pending username does not fit the strategy', async () => {
    alternating();
    world.startRotation();
    world.secret(ARN).versions.get(TOKEN)!.value = secretJson({ username: 'app', password: NEW, masterarn: MASTER_ARN });
    const err = await world.handler()(event('setSecret')).catch((e) => e);
    expect(err.message).toMatch(/AWSPENDING: username "app" does not fit ALTERNATING_USERS: expected "app_clone"/);
    expect(world.rsd).toHaveReceivedCommandTimes(ExecuteStatementCommand, 0);
  });

  test('the original user is missing from the database', async () => {
    await refused(/original user "app" does not exist/, () => {
      alternating({ username: 'app_clone' });
      world.users.delete('app');
    });
  });

  test('masterarn naming the rotated secret itself', async () => {
    world.addSecret({ arn: ARN, current: secretJson({ username: 'app', password: CURRENT_PASSWORD, masterarn: ARN }) });
    world.startRotation();
    await expect(world.handler()(event('createSecret'))).rejects.toThrow(/masterarn must name another secret/);
    expect(world.calls).not.toContain('sm:PutSecretValue');
  });
});

describe('ALTERNATING_USERS Data API faults', () => {
  test('a FAILED batch fails the step quoting Redshift, redacted; the transaction left nothing behind', async () => {
    alternating();
    await createPending();
    world.faults.push({ match: (sql) => sql.startsWith('CREATE USER'), fault: { kind: 'FAILED', error: `ERROR: bad password '${md5(NEW, 'app_clone')}'` } });
    const err = await world.handler()(event('setSecret')).catch((e) => e);
    expect(err.message).toMatch(/FAILED: ERROR: bad password 'md5\[REDACTED\]'/);
    expect(world.users.has('app_clone')).toBe(false);
    expectNothingLeaked(world, err);
  });

  test('an ABORTED batch fails the step', async () => {
    alternating();
    await createPending();
    world.faults.push({ match: (sql) => sql.startsWith('CREATE USER'), fault: { kind: 'ABORTED' } });
    await expect(world.handler()(event('setSecret'))).rejects.toThrow(/was ABORTED/);
  });

  test('a catalog read that never finishes is cancelled and fails the step', async () => {
    alternating();
    await createPending();
    world.faults.push({ match: (sql) => sql === CATALOG_SQL.roles, fault: { kind: 'HANG' } });
    await expect(world.handler({ STATEMENT_TIMEOUT_MS: '2000' })(event('setSecret'))).rejects.toThrow(/did not finish within 2000 ms/);
    expect(world.calls).toContain('rsd:CancelStatement');
    expect(world.rsd).toHaveReceivedCommandTimes(BatchExecuteStatementCommand, 0);
  });

  test('a throttled batch is retried', async () => {
    alternating();
    await createPending();
    world.faults.push({ match: (sql) => sql.startsWith('CREATE USER'), fault: { kind: 'THROTTLE', times: 2 } });
    await world.handler()(event('setSecret'));
    expect(world.rsd).toHaveReceivedCommandTimes(BatchExecuteStatementCommand, 3);
    expect(world.users.get('app_clone')).toBe(md5(NEW, 'app_clone'));
  });
});

describe('ALTERNATING_USERS rotations end to end', () => {
  test('three rotations: AWSCURRENT and AWSPREVIOUS log in after each, users alternate, nothing leaks', async () => {
    alternating();
    const handler = world.handler({ TEST_STATEMENTS: '["SELECT 2"]' });
    const expectedUsers = ['app_clone', 'app', 'app_clone'];
    for (let i = 0; i < 3; i++) {
      expect(await world.rotate(handler, `token-${i}`)).toBeUndefined();
      expect(world.versionOf(ARN, 'AWSCURRENT')).toBe(`token-${i}`);
      expect(JSON.parse(world.stageValue(ARN, 'AWSCURRENT')!).username).toBe(expectedUsers[i]);
      expect(world.logsIn(world.stageValue(ARN, 'AWSCURRENT'))).toBe(true);
      expect(world.logsIn(world.stageValue(ARN, 'AWSPREVIOUS'))).toBe(true);
    }
    expect(world.liveProbes()).toEqual([]);
    expectNothingLeaked(world);
  });

  test('a crash after setSecret, then the retry with the same token, completes', async () => {
    alternating();
    world.startRotation();
    await world.handler()(event('createSecret'));
    await world.handler()(event('setSecret'));
    expect(await world.rotate(world.handler())).toBeUndefined();
    expect(world.logsIn(world.stageValue(ARN, 'AWSCURRENT'))).toBe(true);
    expect(world.logsIn(world.stageValue(ARN, 'AWSPREVIOUS'))).toBe(true);
  });
});
