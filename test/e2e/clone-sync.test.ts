/**
 * ALTERNATING_USERS synchronisation, end to end, by the rule "pending := current": at every rotation the user about
 * to become AWSCURRENT gets the groups, RBAC roles, attributes (CREATEDB, CONNECTION LIMIT, VALID UNTIL, SYSLOG
 * ACCESS, SESSION TIMEOUT), settings (ALTER USER … SET) and direct grants (table, schema, database) of the user that
 * is AWSCURRENT while the rotation runs, added and removed; the AWSCURRENT user itself is never altered (issue 7,
 * points 2 and 3). The state is read from PostgreSQL's own catalog (pg_roles, pg_auth_members, pg_user.useconfig,
 * the ACLs through aclexplode), never through the shim views the handler reads; SYSLOG ACCESS and SESSION TIMEOUT,
 * which PostgreSQL does not have, come from the shim's attribute table. Object names that need quoting are used on
 * purpose.
 */
import { Client } from 'pg';
import { E2e } from './helpers';
import type { UserSecret } from './helpers';

/** What the local stack appends to every search_path set with ALTER USER (its views stay visible). */
const SHIM = 'redshift_shim, pg_catalog';

let e: E2e;
let user: UserSecret;
let app: string;
let clone: string;

interface UserState {
  attributes: Record<string, unknown>;
  settings: string[];
  groups: string[];
  roles: string[];
  relations: string[];
  schemas: string[];
  databases: string[];
}

/** What PostgreSQL's catalog says about a user, names sorted. */
async function state(username: string): Promise<UserState> {
  const q = <T = Record<string, unknown>>(sql: string) => e.stack.adminQuery<T>(sql, [username]);
  const attrs = await q(`SELECT r.rolcreatedb, r.rolsuper, r.rolvaliduntil::text AS valuntil, r.rolconnlimit,
      COALESCE(a.syslog_access, 'RESTRICTED') AS syslog_access, COALESCE(a.session_timeout, 0) AS session_timeout
    FROM pg_catalog.pg_roles r LEFT JOIN redshift_shim.user_attributes a ON a.usesysid = r.oid WHERE r.rolname = $1 AND r.rolcanlogin`);
  expect(attrs).toHaveLength(1);
  const flat = (rows: Record<string, unknown>[]) => rows.map((r) => Object.values(r).join('|')).sort();
  const memberOf = (rbac: boolean) => q(`SELECT g.rolname FROM pg_catalog.pg_auth_members m
    JOIN pg_catalog.pg_roles g ON g.oid = m.roleid JOIN pg_catalog.pg_roles u ON u.oid = m.member
    WHERE u.rolname = $1 AND ${rbac ? '' : 'NOT '}EXISTS (SELECT 1 FROM redshift_shim.rbac_roles x WHERE x.role_name = g.rolname)`);
  const config = await q<{ useconfig: string[] | null }>('SELECT useconfig FROM pg_catalog.pg_user WHERE usename = $1');
  return {
    attributes: attrs[0],
    settings: [...(config[0].useconfig ?? [])].sort(),
    groups: flat(await memberOf(false)),
    roles: flat(await memberOf(true)),
    relations: flat(await q(`SELECT n.nspname, c.relname, a.privilege_type FROM pg_catalog.pg_class c
      JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace CROSS JOIN LATERAL aclexplode(c.relacl) a
      WHERE a.grantee = (SELECT oid FROM pg_catalog.pg_roles WHERE rolname = $1) AND a.grantee <> c.relowner`)),
    schemas: flat(await q(`SELECT n.nspname, a.privilege_type FROM pg_catalog.pg_namespace n CROSS JOIN LATERAL aclexplode(n.nspacl) a
      WHERE a.grantee = (SELECT oid FROM pg_catalog.pg_roles WHERE rolname = $1) AND a.grantee <> n.nspowner`)),
    databases: flat(await q(`SELECT d.datname, a.privilege_type FROM pg_catalog.pg_database d CROSS JOIN LATERAL aclexplode(d.datacl) a
      WHERE a.grantee = (SELECT oid FROM pg_catalog.pg_roles WHERE rolname = $1)`)),
  };
}

/** The pending user (now AWSCURRENT) is equal to the user that was AWSCURRENT during the rotation. */
async function expectEqual(a: string, b: string): Promise<UserState> {
  const s = await state(a);
  expect(await state(b)).toEqual(s);
  return s;
}

/** Runs SQL as a user with the credentials of a secret version (the way an application would); the rows. */
async function asVersion(stage: string, sql: string): Promise<Array<Record<string, unknown>>> {
  const v = (await e.value(user.arn, stage))!;
  const { host, port, database } = e.stack.postgres;
  const c = new Client({ host, port, database, user: v.username, password: v.password });
  c.on('error', () => undefined);
  await c.connect();
  try {
    return (await c.query(sql)).rows;
  } finally {
    await c.end();
  }
}

beforeAll(async () => {
  e = await E2e.start();
  user = await e.newUser('ALTERNATING_USERS', 'cluster', 'sync');
  app = user.username;
  clone = `${app}_clone`;
  const u = `"${app}"`;
  for (const sql of [
    'CREATE GROUP "readers"',
    'CREATE GROUP "Writers Group"',
    'CREATE GROUP "later_group"',
    'CREATE ROLE "analyst"',
    'CREATE ROLE "Etl ""Role"""',
    'CREATE SCHEMA "sales"',
    'CREATE SCHEMA "Mixed Schema"',
    'CREATE TABLE "sales"."orders" (id int)',
    'CREATE TABLE "sales"."later" (id int)',
    'CREATE TABLE "Mixed Schema"."odd""name; x" (id int)',
    `ALTER GROUP "readers" ADD USER ${u}`,
    `ALTER GROUP "Writers Group" ADD USER ${u}`,
    `GRANT ROLE "analyst" TO ${u}`,
    `GRANT ROLE "Etl ""Role""" TO ${u}`,
    `GRANT SELECT ON TABLE "sales"."orders" TO ${u}`,
    `GRANT INSERT ON TABLE "sales"."orders" TO ${u}`,
    `GRANT UPDATE ON TABLE "Mixed Schema"."odd""name; x" TO ${u}`,
    `GRANT USAGE ON SCHEMA "sales" TO ${u}`,
    `GRANT CREATE ON SCHEMA "Mixed Schema" TO ${u}`,
    `GRANT USAGE ON SCHEMA "Mixed Schema" TO ${u}`,
    `GRANT CREATE ON DATABASE "dev" TO ${u}`,
    `GRANT TEMP ON DATABASE "dev" TO ${u}`,
    `ALTER USER ${u} CREATEDB`,
    `ALTER USER ${u} CONNECTION LIMIT 7`,
    `ALTER USER ${u} VALID UNTIL '2031-06-01 00:00:00+00'`,
    `ALTER USER ${u} SYSLOG ACCESS UNRESTRICTED`,
    `ALTER USER ${u} SESSION TIMEOUT 900`,
    `ALTER USER ${u} SET search_path TO "$user", sales, public`,
    `ALTER USER ${u} SET statement_timeout TO 60000`,
    `ALTER USER ${u} SET datestyle TO ISO, DMY`,
  ]) await e.redshift(sql);
});

afterAll(async () => {
  await e?.stop();
});

test('first rotation: the clone is created with the original\'s groups, roles, attributes, settings and direct grants', async () => {
  await e.rotateOk(user.arn);
  expect((await e.value(user.arn))!.username).toBe(clone);
  const s = await expectEqual(app, clone);
  // the state compared is the one set up (so the comparison is not between two empty users)
  expect(s.attributes).toEqual({
    rolcreatedb: true, rolsuper: false, valuntil: expect.stringMatching(/^2031-06-01/), rolconnlimit: 7, syslog_access: 'UNRESTRICTED', session_timeout: 900,
  });
  // as PostgreSQL stores them (the local stack keeps its own schema at the end of a user's search_path)
  expect(s.settings).toEqual(['DateStyle=iso, dmy', `search_path="$user", sales, public, ${SHIM}`, 'statement_timeout=60000']);
  expect(s.groups).toEqual(['Writers Group', 'readers']);
  expect(s.roles).toEqual(['Etl "Role"', 'analyst']);
  expect(s.relations).toEqual(['Mixed Schema|odd"name; x|UPDATE', 'sales|orders|INSERT', 'sales|orders|SELECT']);
  expect(s.schemas).toEqual(['Mixed Schema|CREATE', 'Mixed Schema|USAGE', 'sales|USAGE']);
  expect(s.databases).toEqual(['dev|CREATE', 'dev|TEMPORARY']);
  // and the clone (now AWSCURRENT) uses them, resolving names through the same search_path
  await asVersion('AWSCURRENT', 'INSERT INTO orders SELECT id FROM "sales"."orders"');
  const path = await asVersion('AWSCURRENT', 'SHOW search_path');
  expect(path[0].search_path).toMatch(/^"\$user", sales, public\b/);
  expect(await asVersion('AWSPREVIOUS', 'SHOW search_path')).toEqual(path);
  expect(await asVersion('AWSCURRENT', 'SHOW statement_timeout')).toEqual([{ statement_timeout: '1min' }]);
  await expect(asVersion('AWSCURRENT', 'SELECT * FROM "sales"."later"')).rejects.toThrow(/permission denied/);
});

test('never take from the live user: what the AWSCURRENT clone has and the original lacks reaches the original; what only the original has is taken from it; the clone is not altered', async () => {
  const c = `"${clone}"`;
  const u = `"${app}"`;
  // the AWSCURRENT user (the clone) gains and loses things while it is current ...
  for (const sql of [
    `GRANT DELETE ON TABLE "sales"."orders" TO ${c}`,
    `REVOKE INSERT ON TABLE "sales"."orders" FROM ${c}`,
    `REVOKE CREATE ON SCHEMA "Mixed Schema" FROM ${c}`,
    `REVOKE TEMP ON DATABASE "dev" FROM ${c}`,
    `ALTER GROUP "later_group" ADD USER ${c}`,
    `ALTER GROUP "Writers Group" DROP USER ${c}`,
    `REVOKE ROLE "Etl ""Role""" FROM ${c}`,
    `ALTER USER ${c} NOCREATEDB`,
    `ALTER USER ${c} CONNECTION LIMIT UNLIMITED`,
    `ALTER USER ${c} VALID UNTIL 'infinity'`,
    `ALTER USER ${c} SYSLOG ACCESS RESTRICTED`,
    `ALTER USER ${c} RESET SESSION TIMEOUT`,
    `ALTER USER ${c} SET statement_timeout TO 30000`,
    `ALTER USER ${c} RESET datestyle`,
    // ... and the original (about to become AWSCURRENT again) has something the clone lacks
    `GRANT SELECT ON TABLE "sales"."later" TO ${u}`,
    `ALTER USER ${u} SET query_group TO 'etl'`,
  ]) await e.redshift(sql);
  const live = await state(clone);
  expect(live.groups).toEqual(['later_group', 'readers']);
  expect(live.settings).toEqual([`search_path="$user", sales, public, ${SHIM}`, 'statement_timeout=30000']);

  await e.rotateOk(user.arn);
  expect((await e.value(user.arn))!.username).toBe(app);
  // the clone, AWSCURRENT while the rotation ran, is exactly as it was
  expect(await state(clone)).toEqual(live);
  // the original is now equal to it
  const s = await expectEqual(clone, app);
  expect(s.groups).toEqual(['later_group', 'readers']);
  expect(s.roles).toEqual(['analyst']);
  expect(s.relations).toEqual(['Mixed Schema|odd"name; x|UPDATE', 'sales|orders|DELETE', 'sales|orders|SELECT']);
  expect(s.schemas).toEqual(['Mixed Schema|USAGE', 'sales|USAGE']);
  expect(s.databases).toEqual(['dev|CREATE']);
  expect(s.attributes).toMatchObject({ rolcreatedb: false, rolconnlimit: -1, syslog_access: 'RESTRICTED', session_timeout: 0 });
  // the original (AWSCURRENT) uses what it gained and lost what only it had
  await asVersion('AWSCURRENT', 'DELETE FROM "sales"."orders" WHERE id < 0');
  await expect(asVersion('AWSCURRENT', 'SELECT * FROM "sales"."later"')).rejects.toThrow(/permission denied/);
  expect(await asVersion('AWSCURRENT', 'SHOW statement_timeout')).toEqual([{ statement_timeout: '30s' }]);
  expect((await state(app)).settings.some((setting) => setting.includes('query_group'))).toBe(false);
  // the clone (AWSPREVIOUS, still logging in) kept everything it had
  await asVersion('AWSPREVIOUS', 'DELETE FROM "sales"."orders" WHERE id < 0');
});

test('what is added to the AWSCURRENT original later reaches the clone at the next rotation; the original is not altered', async () => {
  const u = `"${app}"`;
  for (const sql of [
    `GRANT SELECT ON TABLE "sales"."later" TO ${u}`,
    `GRANT TEMP ON DATABASE "dev" TO ${u}`,
    `GRANT ROLE "Etl ""Role""" TO ${u}`,
    `ALTER GROUP "Writers Group" ADD USER ${u}`,
    `ALTER USER ${u} CONNECTION LIMIT 3`,
    `ALTER USER ${u} SET datestyle TO SQL, MDY`,
  ]) await e.redshift(sql);
  const live = await state(app);
  await e.rotateOk(user.arn);
  expect((await e.value(user.arn))!.username).toBe(clone);
  expect(await state(app)).toEqual(live);
  const s = await expectEqual(app, clone);
  expect(s.groups).toEqual(['Writers Group', 'later_group', 'readers']);
  expect(s.roles).toEqual(['Etl "Role"', 'analyst']);
  expect(s.relations).toEqual(['Mixed Schema|odd"name; x|UPDATE', 'sales|later|SELECT', 'sales|orders|DELETE', 'sales|orders|SELECT']);
  expect(s.databases).toEqual(['dev|CREATE', 'dev|TEMPORARY']);
  expect(s.settings).toEqual(['DateStyle=sql, mdy', `search_path="$user", sales, public, ${SHIM}`, 'statement_timeout=30000']);
  expect(s.attributes).toMatchObject({ rolconnlimit: 3 });
  await asVersion('AWSCURRENT', 'SELECT * FROM "sales"."later"');
});

test('the sync stays exact over one more rotation with no change (nothing drifts)', async () => {
  const before = await state(clone);
  await e.rotateOk(user.arn);
  expect(await expectEqual(clone, app)).toEqual(before);
  expect(await e.versionLogsIn(user.arn, 'AWSCURRENT')).toBe(true);
  expect(await e.versionLogsIn(user.arn, 'AWSPREVIOUS')).toBe(true);
});

test('nothing the handler logged, and no SQL, carries a password', async () => {
  await e.expectNoPasswordLeaked();
});
