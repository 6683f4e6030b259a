import { BatchExecuteStatementCommand, ExecuteStatementCommand, GetStatementResultCommand } from '@aws-sdk/client-redshift-data';
import { GetSecretValueCommand, ListSecretVersionIdsCommand } from '@aws-sdk/client-secrets-manager';
import {
  ARN, CURRENT_PASSWORD, expectNothingLeaked, MASTER_ARN, MASTER_PASSWORD, md5, NEW_PASSWORDS, PREVIOUS_PASSWORD, secretJson, TOKEN, World,
} from './world';
import { checkMasterIsSuperuser } from '../../lambda/rotation/alternating-users';
import { CATALOG_SQL, CatalogQuery, Row } from '../../lambda/rotation/catalog';
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
  /** AWSPREVIOUS: the pending user with PREVIOUS_PASSWORD, which is its live password */
  previous?: boolean;
  tags?: Record<string, string>;
}

function alternating(options: Setup = {}): void {
  const username = options.username ?? 'app';
  world.addSecret({
    arn: ARN,
    current: secretJson({ username, password: CURRENT_PASSWORD, masterarn: MASTER_ARN, ...options.fields }),
    previous: options.previous
      ? secretJson({ username: username === 'app' ? 'app_clone' : 'app', password: PREVIOUS_PASSWORD, masterarn: MASTER_ARN, ...options.fields })
      : undefined,
    tags: { ...(options.tag === false ? {} : { 'redshift-rotation:strategy': 'ALTERNATING_USERS' }), ...options.tags },
  });
  const master = options.master ?? { engine: 'redshift', username: 'admin', password: MASTER_PASSWORD, dbClusterIdentifier: 'my-cluster' };
  world.addSecret({ arn: MASTER_ARN, current: typeof master === 'string' ? master : JSON.stringify(master) });
  world.users.set('app', md5(CURRENT_PASSWORD, 'app'));
  if (username === 'app_clone') world.users.set('app_clone', md5(CURRENT_PASSWORD, 'app_clone'));
  world.users.set('admin', md5(MASTER_PASSWORD, 'admin'));
  if (options.previous) {
    const other = username === 'app' ? 'app_clone' : 'app';
    world.users.set(other, md5(PREVIOUS_PASSWORD, other));
  }
}

async function createPending(): Promise<void> {
  world.startRotation();
  await world.handler()(event('createSecret'));
  world.calls.length = 0;
}

/** The catalog reads: one BatchExecuteStatement whose first read is the master's own row. */
function isCatalogBatch(sqls: readonly string[]): boolean {
  return sqls[0] === CATALOG_SQL.master;
}

/** The write batches (every BatchExecuteStatement but the catalog reads). */
function batches(): string[][] {
  return world.rsd.commandCalls(BatchExecuteStatementCommand).map((c) => c.args[0].input.Sqls!).filter((sqls) => !isCatalogBatch(sqls));
}

beforeEach(() => {
  world = new World();
});

describe('ALTERNATING_USERS setSecret', () => {
  test('first rotation: prove AWSCURRENT, read the catalog as the master, CREATE USER the clone and make it equal to AWSCURRENT, in one batch', async () => {
    alternating();
    world.catalog = {
      users: [userRow('app', {
        usecreatedb: true,
        useconnlimit: '10',
        syslogaccess: 'UNRESTRICTED',
        sessiontimeout: 600,
        valuntil: '2030-01-01 00:00:00+00',
        useconfig: '{"search_path=appdata, public",statement_timeout=1000}',
      })],
      groups: [{ usename: 'app', groname: 'readers' }],
      roles: [{ user_name: 'app', role_name: 'analyst' }],
      relations: [{ identity_name: 'app', namespace_name: 'sales', relation_name: 'orders', privilege_type: 'SELECT' }],
      schemas: [{ identity_name: 'app', namespace_name: 'sales', privilege_type: 'USAGE' }],
      databases: [{ identity_name: 'app', database_name: 'dev', privilege_type: 'TEMP' }],
      functions: [
        { identity_name: 'app', namespace_name: 'sales', function_name: 'f', argument_types: 'integer', privilege_type: 'EXECUTE' },
        { identity_name: 'app', namespace_name: 'sales', function_name: 'load', argument_types: '', privilege_type: 'EXECUTE' },
      ],
      procedures: [{ namespace_name: 'sales', procedure_name: 'load', argument_types: '' }],
      owned: [
        { owner_name: 'app', object_type: 'schema', namespace_name: 'appdata', object_name: null, argument_types: null },
        { owner_name: 'app', object_type: 'table', namespace_name: 'appdata', object_name: 'items', argument_types: null },
        { owner_name: 'app', object_type: 'table', namespace_name: 'appdata', object_name: 'carts', argument_types: null },
        { owner_name: 'app', object_type: 'view', namespace_name: 'appdata', object_name: 'v', argument_types: null },
        { owner_name: 'app', object_type: 'function', namespace_name: 'appdata', object_name: 'total', argument_types: 'integer, character varying' },
        { owner_name: 'app', object_type: 'procedure', namespace_name: 'appdata', object_name: 'nightly', argument_types: 'integer' },
      ],
    };
    await createPending();
    await world.handler()(event('setSecret'));

    expect(world.calls.filter((c) => c !== 'rsd:DescribeStatement' && c !== 'rsd:GetStatementResult')).toEqual([
      'sm:DescribeSecret', 'sm:GetSecretValue', 'sm:GetSecretValue',
      'rsd:ExecuteStatement', // SELECT 1 as AWSCURRENT
      'sm:GetSecretValue', // the master secret
      'rsd:BatchExecuteStatement', // every catalog read, one round trip
      'rsd:BatchExecuteStatement', // the writes
    ]);
    const executes = world.rsd.commandCalls(ExecuteStatementCommand).map((c) => c.args[0].input);
    expect(executes).toHaveLength(1);
    expect(executes[0]).toMatchObject({ SecretArn: ARN, Sql: 'SELECT 1', ClusterIdentifier: 'my-cluster', Database: 'dev' });
    expect(world.sm).toHaveReceivedCommandWith(GetSecretValueCommand, { SecretId: MASTER_ARN, VersionStage: 'AWSCURRENT' });
    const reads = world.rsd.commandCalls(BatchExecuteStatementCommand)[0].args[0].input;
    expect(reads).toMatchObject({ SecretArn: MASTER_ARN, ClusterIdentifier: 'my-cluster', Database: 'dev' });
    expect(reads.Parameters).toBeUndefined();
    // the reads as docs/architecture.md gives them, both users named as literals wherever a read names them
    expect(reads.Sqls).toEqual((Object.keys(CATALOG_SQL) as CatalogQuery[]).map((q) => CATALOG_SQL[q].replace(/:original\b/g, "'app'").replace(/:clone\b/g, "'app_clone'")));
    expect(reads.Sqls!.filter((sql) => sql.includes("IN ('app', 'app_clone')"))).toHaveLength(Object.keys(CATALOG_SQL).length - 2);
    // each read's rows fetched by its sub-statement Id
    const fetched = world.rsd.commandCalls(GetStatementResultCommand).map((c) => c.args[0].input.Id!).filter((id) => id.includes(':'));
    expect(new Set(fetched.map((id) => id.split(':')[1]))).toEqual(new Set(Object.keys(CATALOG_SQL).map((_, i) => String(i + 1))));
    expect(reads.Sqls!.join('\n')).not.toMatch(/svl_|stl_|stv_|svcs_/i);
    expect(world.rsd).toHaveReceivedCommandWith(BatchExecuteStatementCommand, { SecretArn: MASTER_ARN, ClusterIdentifier: 'my-cluster', Database: 'dev' });
    expect(batches()).toEqual([[
      createUserSql('app_clone', NEW),
      'ALTER USER "app_clone" CREATEDB',
      'ALTER USER "app_clone" CONNECTION LIMIT 10',
      'ALTER USER "app_clone" VALID UNTIL \'2030-01-01 00:00:00+00\'',
      'ALTER USER "app_clone" SYSLOG ACCESS UNRESTRICTED',
      'ALTER USER "app_clone" SESSION TIMEOUT 600',
      'ALTER USER "app_clone" SET search_path TO \'appdata\', \'public\'',
      'ALTER USER "app_clone" SET statement_timeout TO \'1000\'',
      'ALTER GROUP "readers" ADD USER "app_clone"',
      'GRANT ROLE "analyst" TO "app_clone"',
      'GRANT TEMP ON DATABASE "dev" TO "app_clone"',
      'GRANT USAGE ON SCHEMA "sales" TO "app_clone"',
      'GRANT USAGE, CREATE, ALTER, DROP ON SCHEMA "appdata" TO "app_clone"',
      'GRANT SELECT ON TABLE "sales"."orders" TO "app_clone"',
      'GRANT SELECT, DROP, ALTER ON TABLE "appdata"."v" TO "app_clone"',
      'GRANT SELECT, INSERT, UPDATE, DELETE, REFERENCES, TRUNCATE, DROP, ALTER ON TABLE "appdata"."carts", "appdata"."items" TO "app_clone"',
      'GRANT EXECUTE ON FUNCTION "appdata"."total"(integer, character varying), "sales"."f"(integer) TO "app_clone"',
      'GRANT EXECUTE ON PROCEDURE "appdata"."nightly"(integer), "sales"."load"() TO "app_clone"',
    ]]);
    expect(world.users.get('app_clone')).toBe(md5(NEW, 'app_clone'));
    expect(world.users.get('app')).toBe(md5(CURRENT_PASSWORD, 'app'));
    expectNothingLeaked(world);
  });

  test('second rotation: pending := current; ALTER USER the pending (original) user only, never the AWSCURRENT clone', async () => {
    alternating({ username: 'app_clone', previous: true });
    world.catalog = {
      // app_clone is AWSCURRENT: it is the source of truth, app (pending) is brought in line with it
      users: [
        userRow('app', { useconfig: '{query_group=etl,statement_timeout=500}' }),
        userRow('app_clone', { usecreatedb: true, useconfig: '{statement_timeout=1000}' }),
      ],
      groups: [{ usename: 'app', groname: 'readers' }, { usename: 'app_clone', groname: 'admins' }],
      roles: [{ user_name: 'app_clone', role_name: 'dba' }, { user_name: 'app', role_name: 'old' }],
      relations: [
        { identity_name: 'app', namespace_name: 'sales', relation_name: 'orders', privilege_type: 'SELECT' },
        { identity_name: 'app', namespace_name: 'sales', relation_name: 'orders', privilege_type: 'UPDATE' },
        { identity_name: 'app_clone', namespace_name: 'sales', relation_name: 'orders', privilege_type: 'SELECT' },
        { identity_name: 'app_clone', namespace_name: 'sales', relation_name: 'orders', privilege_type: 'DELETE' },
        // owner-equivalent grants app_clone got on app's table at the first rotation: app owns it, nothing to do
        { identity_name: 'app_clone', namespace_name: 'appdata', relation_name: 'items', privilege_type: 'SELECT' },
        // a grant app holds on a table it owns is left alone
        { identity_name: 'app', namespace_name: 'appdata', relation_name: 'items', privilege_type: 'INSERT' },
      ],
      owned: [
        { owner_name: 'app', object_type: 'table', namespace_name: 'appdata', object_name: 'items', argument_types: null },
        // created by app_clone while it was AWSCURRENT
        { owner_name: 'app_clone', object_type: 'table', namespace_name: 'appdata', object_name: 'new_one', argument_types: null },
      ],
    };
    await createPending();
    expect(JSON.parse(world.stageValue(ARN, 'AWSPENDING')!).username).toBe('app');
    await world.handler()(event('setSecret'));
    const sent = batches();
    expect(sent).toEqual([[
      alterPasswordSql('app', NEW),
      'ALTER USER "app" CREATEDB',
      'ALTER USER "app" SET statement_timeout TO \'1000\'',
      'ALTER USER "app" RESET query_group',
      'ALTER GROUP "readers" DROP USER "app"',
      'ALTER GROUP "admins" ADD USER "app"',
      'REVOKE ROLE "old" FROM "app"',
      'GRANT ROLE "dba" TO "app"',
      'REVOKE UPDATE ON TABLE "sales"."orders" FROM "app"',
      'GRANT DELETE ON TABLE "sales"."orders" TO "app"',
      'GRANT SELECT, INSERT, UPDATE, DELETE, REFERENCES, TRUNCATE, DROP, ALTER ON TABLE "appdata"."new_one" TO "app"',
    ]]);
    // never take from the live user: no statement names the AWSCURRENT user
    expect(sent.flat().filter((sql) => sql.includes('"app_clone"'))).toEqual([]);
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

  test('grants are grouped per object kind and privilege set; more than 40 statements go in batches of 40, in order', async () => {
    alternating();
    world.catalog = {
      users: [userRow('app')],
      groups: Array.from({ length: 45 }, (_, i) => ({ usename: 'app', groname: `g${String(i).padStart(2, '0')}` })),
      relations: Array.from({ length: 50 }, (_, i) => ({ identity_name: 'app', namespace_name: 's', relation_name: `t${String(i).padStart(2, '0')}`, privilege_type: 'SELECT' })),
    };
    await createPending();
    await world.handler()(event('setSecret'));
    const sent = batches();
    expect(sent.map((b) => b.length)).toEqual([40, 7]);
    expect(sent[0][0]).toBe(createUserSql('app_clone', NEW));
    expect(sent.flat().slice(1)).toEqual([
      ...Array.from({ length: 45 }, (_, i) => `ALTER GROUP "g${String(i).padStart(2, '0')}" ADD USER "app_clone"`),
      `GRANT SELECT ON TABLE ${Array.from({ length: 50 }, (_, i) => `"s"."t${String(i).padStart(2, '0')}"`).join(', ')} TO "app_clone"`,
    ]);
  });

  test('a big user: 2,000 grants over four privilege sets go in a handful of statements, one batch, each under 60,000 bytes', async () => {
    alternating();
    const name = (i: number) => `table_with_a_rather_long_name_${String(i).padStart(4, '0')}`;
    const relations = [];
    for (let i = 0; i < 1200; i++) relations.push({ identity_name: 'app', namespace_name: 'sales_schema', relation_name: name(i), privilege_type: 'SELECT' });
    for (let i = 1200; i < 1400; i++) {
      for (const privilege_type of ['SELECT', 'INSERT', 'UPDATE']) relations.push({ identity_name: 'app', namespace_name: 'sales_schema', relation_name: name(i), privilege_type });
    }
    const schemas = [];
    for (let i = 0; i < 100; i++) for (const privilege_type of ['USAGE', 'CREATE']) schemas.push({ identity_name: 'app', namespace_name: `s${i}`, privilege_type });
    expect(relations.length + schemas.length).toBe(2000);
    world.catalog = { users: [userRow('app')], relations, schemas };
    await createPending();
    await world.handler()(event('setSecret'));
    const sent = batches();
    // 1,200 refs of ~50 bytes need two statements, the other groups one each: CREATE USER + 2 + 1 + 1
    expect(sent.map((b) => b.length)).toEqual([5]);
    const statements = sent[0];
    for (const sql of statements) expect(Buffer.byteLength(sql)).toBeLessThanOrEqual(60_000);
    const refs = (sql: string) => (sql.match(/"sales_schema"\."[a-z_0-9]+"|SCHEMA .*/g) ?? []).length;
    expect(statements.filter((sql) => sql.startsWith('GRANT SELECT ON TABLE')).map(refs).reduce((a, b) => a + b, 0)).toBe(1200);
    expect(statements.filter((sql) => sql.startsWith('GRANT SELECT, INSERT, UPDATE ON TABLE')).map(refs)).toEqual([200]);
    expect(statements.filter((sql) => sql.startsWith('GRANT USAGE, CREATE ON SCHEMA'))).toHaveLength(1);
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

  test('a setting whose value could break out of SQL is not written and is named (never its value) in the step\'s log line', async () => {
    alternating();
    world.catalog = { users: [userRow('app', { useconfig: '{"search_path=x\', \'y; DROP USER z",statement_timeout=1000}' })] };
    await createPending();
    await world.handler()(event('setSecret'));
    expect(batches()).toEqual([[createUserSql('app_clone', NEW), 'ALTER USER "app_clone" SET statement_timeout TO \'1000\'']]);
    const line = JSON.parse(world.logLines.at(-1)!);
    expect(line).toMatchObject({ outcome: 'ok', skipped: ['setting "search_path" of app: the value contains a quote, a backslash or a control character'] });
    expect(world.logLines.at(-1)!.includes('DROP USER')).toBe(false);
  });

  test('without the tag, masterarn selects ALTERNATING_USERS', async () => {
    alternating({ tag: false });
    await createPending();
    await world.handler()(event('setSecret'));
    expect(world.users.get('app_clone')).toBe(md5(NEW, 'app_clone'));
    expect(JSON.parse(world.logLines.at(-1)!).strategy).toBe('ALTERNATING_USERS');
  });

  test('Redshift Serverless: every statement goes to the workgroup', async () => {
    alternating({ fields: { dbClusterIdentifier: undefined, workgroupName: 'wg1' }, master: { username: 'admin', password: MASTER_PASSWORD, workgroupName: 'wg1' } });
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
    expect(batches()).toHaveLength(0);
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

  test('the AWSCURRENT user is missing from the catalog the master reads', async () => {
    await refused(/AWSCURRENT user "app_clone" is not in pg_user \/ svv_user_info as the master user reads them; it is the source of truth for "app", so nothing was changed$/, () => {
      alternating({ username: 'app_clone' });
      world.catalog = { users: [userRow('app')] };
    });
  });

  test('a master that is not a superuser: the error says so, before any write', async () => {
    await refused(/the master user "admin" is not a superuser; ALTERNATING_USERS needs a superuser master/, () => {
      alternating();
      world.catalog = { master: [{ usename: 'admin', usesuper: false }] };
    });
  });

  test('a master that is not a superuser and whose other reads fail: still the superuser error, never "does not exist"', async () => {
    await refused(/the master user "admin" is not a superuser/, () => {
      alternating({ username: 'app_clone' });
      world.catalog = { master: [{ usename: 'admin', usesuper: false }], users: [] };
      world.faults.push({ match: (sql) => sql.includes('FROM svv_function_privileges'), fault: { kind: 'FAILED', error: 'ERROR: permission denied for relation svv_function_privileges' } });
    });
    // the batch of reads failed; the master's own row, read alone, said why
    expect(world.rsd.commandCalls(ExecuteStatementCommand).map((c) => c.args[0].input.Sql)).toContain(CATALOG_SQL.master);
  });

  test('a failed read with a superuser master: Redshift\'s error for the read, nothing written', async () => {
    await refused(/FAILED: ERROR: permission denied for relation svv_function_privileges/, () => {
      alternating();
      world.catalog = { users: [userRow('app')] };
      world.faults.push({ match: (sql) => sql.includes('FROM svv_function_privileges'), fault: { kind: 'FAILED', error: 'ERROR: permission denied for relation svv_function_privileges' } });
    });
    expect(world.rsd.commandCalls(ExecuteStatementCommand).map((c) => c.args[0].input.Sql)).toContain(CATALOG_SQL.master);
  });

  test('a failed read whose master row cannot be read alone either: Redshift\'s error for the read', async () => {
    await refused(/FAILED: ERROR: permission denied for relation svv_user_info/, () => {
      alternating();
      world.catalog = { master: [{ usename: 'admin', usesuper: false }], users: [userRow('app')] };
      world.faults.push({ match: (sql) => sql.includes('svv_user_info') || sql === CATALOG_SQL.master, fault: { kind: 'FAILED', error: 'ERROR: permission denied for relation svv_user_info' } });
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
    world.faults.push({ match: (sql) => sql.includes('FROM svv_user_grants'), fault: { kind: 'HANG' } });
    await expect(world.handler({ STATEMENT_TIMEOUT_MS: '2000' })(event('setSecret'))).rejects.toThrow(/did not finish within 2000 ms/);
    expect(world.calls).toContain('rsd:CancelStatement');
    expect(batches()).toHaveLength(0);
  });

  test('a throttled batch is retried', async () => {
    alternating();
    await createPending();
    world.faults.push({ match: (sql) => sql.startsWith('CREATE USER'), fault: { kind: 'THROTTLE', times: 2 } });
    await world.handler()(event('setSecret'));
    expect(batches()).toHaveLength(3);
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

describe('issue 8: an existing alternate user is altered only when the secret has proven it owns it', () => {
  async function refusedOwnership(setup: () => void): Promise<Error> {
    setup();
    await createPending();
    const before = new Map(world.users);
    const err = await world.handler()(event('setSecret')).catch((e) => e);
    expect(err).toBeInstanceOf(Error);
    expect(err.message).toMatch(/the alternate user "(app_clone|etl)" already exists, and this secret has not proven it owns it/);
    expect(batches()).toHaveLength(0);
    expect(world.users).toEqual(before);
    expect(world.liveProbes()).toEqual([]);
    expectNothingLeaked(world, err);
    return err;
  }

  test('an unrelated, pre-existing app_clone is not taken over by the first rotation of app', async () => {
    const err = await refusedOwnership(() => {
      alternating();
      world.users.set('app_clone', md5('someone-elses-password', 'app_clone'));
    });
    expect(err.message).toMatch(/the secret has no AWSPREVIOUS; AWSPENDING does not log in as "app_clone"/);
  });

  test('a secret for etl_clone (whose password is known) cannot reset the unrelated user etl', async () => {
    await refusedOwnership(() => {
      world.addSecret({
        arn: ARN,
        current: secretJson({ username: 'etl_clone', password: CURRENT_PASSWORD, masterarn: MASTER_ARN }),
        tags: { 'redshift-rotation:strategy': 'ALTERNATING_USERS' },
      });
      world.addSecret({ arn: MASTER_ARN, current: JSON.stringify({ username: 'admin', password: MASTER_PASSWORD, dbClusterIdentifier: 'my-cluster' }) });
      world.users.set('etl_clone', md5(CURRENT_PASSWORD, 'etl_clone'));
      world.users.set('etl', md5('etl-real-password', 'etl'));
      world.users.set('admin', md5(MASTER_PASSWORD, 'admin'));
    });
  });

  test('an AWSPREVIOUS the attacker wrote for etl without its password proves nothing', async () => {
    const err = await refusedOwnership(() => {
      world.addSecret({
        arn: ARN,
        current: secretJson({ username: 'etl_clone', password: CURRENT_PASSWORD, masterarn: MASTER_ARN }),
        previous: secretJson({ username: 'etl', password: PREVIOUS_PASSWORD, masterarn: MASTER_ARN }),
      });
      world.addSecret({ arn: MASTER_ARN, current: JSON.stringify({ username: 'admin', password: MASTER_PASSWORD, dbClusterIdentifier: 'my-cluster' }) });
      world.users.set('etl_clone', md5(CURRENT_PASSWORD, 'etl_clone'));
      world.users.set('etl', md5('etl-real-password', 'etl'));
      world.users.set('admin', md5(MASTER_PASSWORD, 'admin'));
    });
    expect(err.message).toMatch(/AWSPREVIOUS does not log in as "etl"/);
  });

  test('migration from AWS multi-user rotation: AWSPREVIOUS logs in as the existing clone, so it is brought in line', async () => {
    alternating({ previous: true });
    await createPending();
    await world.handler()(event('setSecret'));
    expect(batches()).toEqual([[alterPasswordSql('app_clone', NEW)]]);
    expect(world.users.get('app_clone')).toBe(md5(NEW, 'app_clone'));
    expect(world.liveProbes()).toEqual([]);
  });

  test('the AWSPREVIOUS proof runs beside the reads: its probe is made before the catalog reads end', async () => {
    alternating({ previous: true });
    await createPending();
    await world.handler()(event('setSecret'));
    const probeCreated = world.calls.indexOf('sm:CreateSecret');
    const masterRead = world.calls.lastIndexOf('sm:GetSecretValue');
    expect(probeCreated).toBeGreaterThan(-1);
    // the first SELECT 1 (AWSCURRENT) and the probe's preparation interleave: the probe exists before the catalog
    // batch's rows are fetched (which is after the batch ended)
    const firstRowsFetched = world.calls.indexOf('rsd:GetStatementResult');
    expect(firstRowsFetched).toBeGreaterThan(-1);
    expect(probeCreated).toBeLessThan(firstRowsFetched);
    expect(masterRead).toBeGreaterThan(-1);
  });

  test('a rotation abandoned after its setSecret created the clone (AWSPENDING removed): the next rotation finds that version and proceeds', async () => {
    alternating();
    await createPending();
    await world.handler()(event('setSecret'));
    // the operator abandons the rotation: the version keeps its value but loses its label
    world.secret(ARN).versions.get(TOKEN)!.stages = [];
    world.startRotation(ARN, 'token-2');
    await world.handler()(event('createSecret', 'token-2'));
    world.calls.length = 0;
    await world.handler()(event('setSecret', 'token-2'));
    expect(world.calls).toContain('sm:ListSecretVersionIds');
    expect(world.users.get('app_clone')).toBe(md5(NEW_PASSWORDS[1], 'app_clone'));
    expect(world.liveProbes()).toEqual([]);
    expectNothingLeaked(world);
  });

  test('an unlabelled version that does not log in as the clone proves nothing', async () => {
    const err = await refusedOwnership(() => {
      alternating();
      world.users.set('app_clone', md5('someone-elses-password', 'app_clone'));
      world.secret(ARN).versions.set('old-abandoned', { value: secretJson({ username: 'app_clone', password: PREVIOUS_PASSWORD, masterarn: MASTER_ARN }), stages: [] });
    });
    expect(err.message).toMatch(/no version without labels logs in as "app_clone"/);
  });

  test('a retry after a crash: AWSPENDING already logs in as the user this rotation created, so the retry completes', async () => {
    alternating();
    await createPending();
    await world.handler()(event('setSecret'));
    await world.handler()(event('setSecret'));
    expect(batches()).toEqual([[createUserSql('app_clone', NEW)], [alterPasswordSql('app_clone', NEW)]]);
  });
});

describe('issue 8: superuser is given to the alternate user only with the deployer\'s opt-in', () => {
  test('a superuser AWSCURRENT without ALLOW_SUPERUSER_CLONE fails before any change', async () => {
    alternating();
    world.catalog = { users: [userRow('app', { usesuper: true })] };
    await createPending();
    const before = new Map(world.users);
    const err = await world.handler()(event('setSecret')).catch((e) => e);
    expect(err.message).toMatch(/the AWSCURRENT user "app" is a superuser \(CREATEUSER\).*allowSuperuserClone.*nothing was changed/);
    expect(batches()).toHaveLength(0);
    expect(world.users).toEqual(before);
  });

  test('with ALLOW_SUPERUSER_CLONE=true the clone gets CREATEUSER', async () => {
    alternating();
    world.catalog = { users: [userRow('app', { usesuper: true })] };
    await createPending();
    await world.handler({ ALLOW_SUPERUSER_CLONE: 'true' })(event('setSecret'));
    expect(batches()).toEqual([[createUserSql('app_clone', NEW), 'ALTER USER "app_clone" CREATEUSER']]);
  });
});

describe('issue 8: a master secret is used only against its own target', () => {
  const bare = { username: 'admin', password: MASTER_PASSWORD };
  const pairing = (arn: string, ...targets: string[]) => JSON.stringify([[arn, ...targets]]);

  async function refusedMaster(env: Record<string, string>, expected: RegExp, master: Record<string, unknown> = bare): Promise<void> {
    alternating({ master });
    await createPending();
    const err = await world.handler(env)(event('setSecret')).catch((e) => e);
    expect(err).toBeInstanceOf(Error);
    expect(err.message).toMatch(expected);
    // no statement ran as the master
    const asMaster = [...world.rsd.commandCalls(ExecuteStatementCommand), ...world.rsd.commandCalls(BatchExecuteStatementCommand)]
      .filter((c) => c.args[0].input.SecretArn === MASTER_ARN);
    expect(asMaster).toHaveLength(0);
    expect(world.users.has('app_clone')).toBe(false);
    expectNothingLeaked(world, err);
  }

  test('a master without target fields, not paired: refused before any statement runs as it', async () => {
    await refusedMaster({}, /names no cluster or workgroup, and the deployer did not pair it with the cluster "my-cluster"/);
  });

  test('a master paired with other targets only: refused', async () => {
    await refusedMaster({ MASTER_TARGETS: pairing(MASTER_ARN, 'cluster:other', 'workgroup:my-cluster') }, /is paired with other targets .* not with the cluster "my-cluster"/);
  });

  test('a master whose JSON names another cluster is refused even when paired with this one', async () => {
    await refusedMaster({ MASTER_TARGETS: pairing(MASTER_ARN, 'cluster:my-cluster') }, /master secret's dbClusterIdentifier is not the one of the rotated secret/,
      { ...bare, dbClusterIdentifier: 'elsewhere' });
  });

  test('a master paired by its complete ARN (cluster ids compared in lower case) is used', async () => {
    alternating({ master: bare });
    await createPending();
    await world.handler({ MASTER_TARGETS: pairing(MASTER_ARN, 'cluster:My-Cluster') })(event('setSecret'));
    expect(world.users.get('app_clone')).toBe(md5(NEW, 'app_clone'));
  });

  test('a master paired by its partial ARN matches the complete ARN GetSecretValue returns, and no other', async () => {
    const partial = MASTER_ARN.slice(0, -7);
    alternating({ master: bare });
    await createPending();
    await world.handler({ MASTER_TARGETS: pairing(`${partial}-??????`, 'cluster:my-cluster') })(event('setSecret'));
    expect(world.users.get('app_clone')).toBe(md5(NEW, 'app_clone'));

    world = new World();
    await refusedMaster({ MASTER_TARGETS: pairing(`${partial.slice(0, -1)}-??????`, 'cluster:my-cluster') }, /did not pair it/);
  });

  test('a master whose host names the cluster is used there without pairing', async () => {
    alternating({ master: { ...bare, host: 'my-cluster.abc123xyz.eu-west-1.redshift.amazonaws.com' } });
    await createPending();
    await world.handler()(event('setSecret'));
    expect(world.users.get('app_clone')).toBe(md5(NEW, 'app_clone'));
  });
});

describe('issue 9: the create-user tag creates users that do not exist, never alters one that does', () => {
  const CREATE = { 'redshift-rotation:create-user': 'true' };

  test('first rotation of a new secret: CREATE USER the original with AWSCURRENT\'s password, then the clone, in one batch', async () => {
    alternating({ tags: CREATE });
    world.users.delete('app');
    await createPending();
    await world.handler()(event('setSecret'));
    expect(batches()).toEqual([[createUserSql('app', CURRENT_PASSWORD), createUserSql('app_clone', NEW)]]);
    expect(world.users.get('app')).toBe(md5(CURRENT_PASSWORD, 'app'));
    expect(world.users.get('app_clone')).toBe(md5(NEW, 'app_clone'));
    expectNothingLeaked(world);
  });

  test('a whole first rotation with the tag succeeds and both versions log in', async () => {
    alternating({ tags: CREATE });
    world.users.delete('app');
    expect(await world.rotate(world.handler())).toBeUndefined();
    expect(world.logsIn(world.stageValue(ARN, 'AWSCURRENT'))).toBe(true);
    expect(world.logsIn(world.stageValue(ARN, 'AWSPREVIOUS'))).toBe(true);
  });

  test('the user exists with another password: the tag does not apply, nothing is changed', async () => {
    alternating({ tags: CREATE });
    world.users.set('app', md5('changed-elsewhere', 'app'));
    await createPending();
    const before = new Map(world.users);
    const err = await world.handler()(event('setSecret')).catch((e) => e);
    expect(err.message).toMatch(/AWSCURRENT does not log in as "app"; refusing to change users for it \(the user exists, so the redshift-rotation:create-user tag does not apply\)/);
    expect(batches()).toHaveLength(0);
    expect(world.users).toEqual(before);
  });

  test('the user is missing but its clone exists (not proven): nothing is created', async () => {
    alternating({ tags: CREATE });
    world.users.delete('app');
    world.users.set('app_clone', md5('someone-elses-password', 'app_clone'));
    await createPending();
    const before = new Map(world.users);
    const err = await world.handler()(event('setSecret')).catch((e) => e);
    expect(err.message).toMatch(/the alternate user "app_clone" already exists/);
    expect(batches()).toHaveLength(0);
    expect(world.users).toEqual(before);
  });

  test('without the tag a missing user is refused as before', async () => {
    alternating();
    world.users.delete('app');
    await createPending();
    const err = await world.handler()(event('setSecret')).catch((e) => e);
    expect(err.message).toMatch(/AWSCURRENT does not log in as "app"; refusing to change users for it \(/);
    expect(batches()).toHaveLength(0);
    expect(world.users.has('app')).toBe(false);
  });

  test('a tag value other than "true" does not create', async () => {
    alternating({ tags: { 'redshift-rotation:create-user': 'yes' } });
    world.users.delete('app');
    await createPending();
    await expect(world.handler()(event('setSecret'))).rejects.toThrow(/AWSCURRENT does not log in/);
    expect(world.users.has('app')).toBe(false);
  });
});

describe('what the mutation run found unchecked', () => {
  /** The names of every probe secret made (deleted or not), without the common prefix and hash. */
  const probePurposes = () => [...world.secrets.values()].filter((s) => s.tags.some((t) => t.Key === 'RotationProbeFor'))
    .map((s) => s.name.replace(/^.*[0-9a-f]{16}/, ''));

  async function failure(): Promise<Error> {
    await createPending();
    const before = new Map(world.users);
    const err = await world.handler()(event('setSecret')).catch((e) => e);
    expect(err).toBeInstanceOf(Error);
    expect(batches()).toHaveLength(0);
    expect(world.users).toEqual(before);
    expect(world.liveProbes()).toEqual([]);
    expectNothingLeaked(world, err);
    return err;
  }

  test.each(['app', 'app_clone'])('a master secret whose user is the rotated pair (%s) is refused before it is used', async (username) => {
    alternating({ master: { username, password: MASTER_PASSWORD, dbClusterIdentifier: 'my-cluster' } });
    const err = await failure();
    expect(err.message).toBe(`setSecret failed for ${ARN}: the master secret's user "${username}" is the rotated user itself; masterarn must name an admin user`);
    expect(world.rsd.commandCalls(BatchExecuteStatementCommand)).toHaveLength(0);
  });

  test('AWSCURRENT\'s SELECT 1 failing for another reason than its login is reported as it is, with or without the create-user tag', async () => {
    for (const tags of [{}, { 'redshift-rotation:create-user': 'true' }] as Array<Record<string, string>>) {
      world = new World();
      alternating({ tags });
      world.faults.push({ match: (sql) => sql === 'SELECT 1', fault: { kind: 'ABORTED' } });
      const err = await failure();
      expect(err.message).toMatch(/Redshift statement stmt-\d+ was ABORTED: Query aborted by the user$/);
      expect(err.message).not.toMatch(/does not log in/);
    }
    world = new World();
    alternating();
    world.faults.push({ match: (sql) => sql === 'SELECT 1', fault: { kind: 'FAILED', error: 'ERROR: out of memory' } });
    expect((await failure()).message).toMatch(/FAILED: ERROR: out of memory$/);
  });

  test('an ABORTED batch of reads is reported as it is, without reading the master\'s row alone', async () => {
    alternating();
    world.catalog = { master: [{ usename: 'admin', usesuper: false }], users: [userRow('app')] };
    world.faults.push({ match: (sql) => sql.includes('FROM svv_user_grants'), fault: { kind: 'ABORTED' } });
    const err = await failure();
    expect(err.message).toMatch(/was ABORTED/);
    expect(world.rsd.commandCalls(ExecuteStatementCommand).map((c) => c.args[0].input.Sql)).not.toContain(CATALOG_SQL.master);
  });

  test('the refusal of an unproven alternate user says why each version did not prove it, in order', async () => {
    alternating();
    world.users.set('app_clone', md5('someone-elses-password', 'app_clone'));
    const err = await failure();
    expect(err.message).toBe(`setSecret failed for ${ARN}: the alternate user "app_clone" already exists, and this secret has not proven it owns it `
      + '(the secret has no AWSPREVIOUS; AWSPENDING does not log in as "app_clone"; no version without labels holds user "app_clone"); '
      + 'the rotation function alters an existing alternate user only when a version of the secret (AWSPREVIOUS, AWSPENDING after an interrupted '
      + 'attempt, or the pending version of an abandoned rotation) logs in as it. Drop or rename that user, or store its credentials as AWSPREVIOUS; '
      + 'nothing was changed');
    expect(probePurposes()).toEqual(['-pending']);
  });

  test('an AWSPREVIOUS of another user proves nothing and is not even tried through a probe', async () => {
    alternating();
    world.secret(ARN).versions.set('v-older', { value: secretJson({ username: 'app', password: PREVIOUS_PASSWORD, masterarn: MASTER_ARN }), stages: ['AWSPREVIOUS'] });
    world.users.set('app_clone', md5('someone-elses-password', 'app_clone'));
    const err = await failure();
    expect(err.message).toMatch(/\(AWSPREVIOUS holds user "app"; AWSPENDING does not log in as "app_clone"; /);
    expect(probePurposes()).toEqual(['-pending']);
  });

  test('an AWSPREVIOUS probe that cannot run says so: its error, not "does not log in"', async () => {
    // AWSPREVIOUS would log in as app_clone, but its probe's statement is aborted
    alternating({ previous: true });
    world.faults.push({ match: (sql, secretArn) => sql === 'SELECT 1' && secretArn !== ARN && secretArn !== MASTER_ARN, fault: { kind: 'ABORTED' } });
    const err = await failure();
    expect(err.message).toMatch(/\(AWSPREVIOUS could not be tried \(Redshift statement stmt-\d+ was ABORTED: Query aborted by the user\); AWSPENDING does not log in as "app_clone"; /);
  });

  test('the 3 newest unlabelled versions are looked at, each of the user through its own probe; another user\'s is skipped without one', async () => {
    alternating();
    world.users.set('app_clone', md5('someone-elses-password', 'app_clone'));
    const versions = world.secret(ARN).versions;
    for (let i = 0; i < 4; i++) {
      versions.set(`abandoned-${i}`, { value: secretJson({ username: 'app_clone', password: `Abandoned${i}Passw0rd`, masterarn: MASTER_ARN }), stages: [] });
    }
    // the newest: another user's
    versions.set('other-user', { value: secretJson({ username: 'someone', password: PREVIOUS_PASSWORD, masterarn: MASTER_ARN }), stages: [] });
    const err = await failure();
    expect(err.message).toMatch(/; no version without labels logs in as "app_clone"\)/);
    expect(probePurposes()).toEqual(['-pending', '-abandoned1', '-abandoned2']);
  });

  test('a step that fails while the AWSPREVIOUS proof still runs waits for it: its probe is gone when the step ends', async () => {
    alternating({ previous: true });
    world.catalog = { master: [{ usename: 'admin', usesuper: false }] };
    // the proof's statement never finishes: it is cancelled at the statement timeout, then its probe deleted
    world.faults.push({ match: (sql, secretArn) => sql === 'SELECT 1' && secretArn !== ARN && secretArn !== MASTER_ARN, fault: { kind: 'HANG' } });
    await createPending();
    const err = await world.handler({ STATEMENT_TIMEOUT_MS: '1500' })(event('setSecret')).catch((e) => e);
    expect(err.message).toMatch(/is not a superuser/);
    expect(world.calls).toContain('rsd:CancelStatement');
    expect(world.liveProbes()).toEqual([]);
  });

  test('the proof of AWSPREVIOUS uses a probe of its own', async () => {
    alternating({ previous: true });
    await createPending();
    await world.handler()(event('setSecret'));
    expect(probePurposes()).toEqual(['-previous']);
    expect(world.liveProbes()).toEqual([]);
  });

  test('a step that fails early still waits for the AWSPREVIOUS proof, whose probe is gone when the step ends', async () => {
    alternating({ previous: true });
    world.catalog = { master: [{ usename: 'admin', usesuper: false }] };
    const err = await failure();
    expect(err.message).toMatch(/is not a superuser/);
    expect(probePurposes()).toEqual(['-previous']);
  });

  test('setSecret without an AWSPENDING version fails saying so', async () => {
    alternating();
    world.startRotation();
    const err = await world.handler()(event('setSecret')).catch((e) => e);
    expect(err.message).toMatch(new RegExp(`^setSecret failed for ${ARN.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: cannot read AWSPENDING: Secrets Manager GetSecretValue failed: ResourceNotFoundException`));
  });

  test('testSecret makes its probe at once: only SINGLE_USER keeps one from setSecret to read first', async () => {
    alternating();
    expect(await world.rotate(world.handler())).toBeUndefined();
    const probeReads = world.sm.commandCalls(GetSecretValueCommand).filter((c) => String(c.args[0].input.SecretId).startsWith('redshift-rotation-probe/'));
    expect(probeReads).toHaveLength(0);
  });

  test('checkMasterIsSuperuser: no row at all is no superuser', () => {
    expect(() => checkMasterIsSuperuser('admin', [])).toThrow(/^the master user "admin" is not a superuser;/);
  });

  test('the versions without labels that cannot be listed are named as the reason, and nothing is changed', async () => {
    alternating();
    world.users.set('app_clone', md5('someone-elses-password', 'app_clone'));
    world.sm.on(ListSecretVersionIdsCommand).rejects(Object.assign(new Error('list denied'), { name: 'AccessDeniedException', $metadata: { httpStatusCode: 400 } }));
    const err = await failure();
    expect(err.message).toMatch(/; the versions without labels could not be listed \(Secrets Manager ListSecretVersionIds failed: AccessDeniedException \(HTTP 400\): list denied\)\); /);
  });

  test('with the create-user tag, AWSCURRENT\'s SELECT 1 FAILED (not a login failure) and no such user in the catalog: the users are created', async () => {
    // Redshift's answer for a user that does not exist is not documented: a FAILED statement counts as a failed login with the tag
    alternating({ tags: { 'redshift-rotation:create-user': 'true' } });
    world.catalog = { users: [] };
    world.faults.push({ match: (sql, secretArn) => sql === 'SELECT 1' && secretArn === ARN, fault: { kind: 'FAILED', error: 'ERROR: user "app" does not exist' } });
    await createPending();
    await world.handler()(event('setSecret')).catch(() => undefined);
    expect(batches()).toEqual([[createUserSql('app', CURRENT_PASSWORD), createUserSql('app_clone', NEW)]]);
  });

  test.each([[true, true], ['t', true], ['true', true], ['TRUE', true], ['f', false], ['yes', false], ['tr', false], ['not', false], ['xtrue', false], [1, false], [null, false]])(
    'checkMasterIsSuperuser: usesuper %p is a superuser: %p', (usesuper, expected) => {
      const check = () => checkMasterIsSuperuser('admin', [{ usename: 'admin', usesuper: usesuper as Row[string] }]);
      if (expected) expect(check).not.toThrow(); else expect(check).toThrow(/^the master user "admin" is not a superuser; ALTERNATING_USERS needs a superuser master \(it reads the other users' rows in svv_user_info and the privilege views, creates and alters users, and grants on objects it does not own\); nothing was changed$/);
    });
});
