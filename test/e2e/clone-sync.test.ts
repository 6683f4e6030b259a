/**
 * ALTERNATING_USERS clone synchronisation, end to end: after each rotation the clone is in the same groups, has
 * the same RBAC roles, the same attributes (CREATEDB, CONNECTION LIMIT, VALID UNTIL, SYSLOG ACCESS, SESSION
 * TIMEOUT) and the same direct grants (table, schema, database) as the original; what is removed from the original
 * is removed from the clone at the next rotation, and what is added later reaches it. Object names that need
 * quoting are used on purpose.
 */
import { Client } from 'pg';
import { E2e } from './helpers';
import type { UserSecret } from './helpers';

let e: E2e;
let user: UserSecret;
let clone: string;

interface UserState {
  attributes: Record<string, unknown>;
  groups: string[];
  roles: string[];
  relations: string[];
  schemas: string[];
  databases: string[];
}

/** What Redshift's catalog says about a user (through the shim's views), names sorted. */
async function state(username: string): Promise<UserState> {
  const q = <T = Record<string, unknown>>(sql: string) => e.stack.adminQuery<T>(sql, [username]);
  const attrs = await q(`SELECT u.usecreatedb, u.usesuper, u.valuntil::text AS valuntil, i.useconnlimit, i.syslogaccess, i.sessiontimeout
    FROM pg_catalog.pg_user u JOIN redshift_shim.svl_user_info i ON i.usesysid = u.usesysid WHERE u.usename = $1`);
  expect(attrs).toHaveLength(1);
  const flat = (rows: Record<string, unknown>[]) => rows.map((r) => Object.values(r).join('|')).sort();
  return {
    attributes: attrs[0],
    groups: flat(await q('SELECT g.groname FROM redshift_shim.pg_group g JOIN pg_catalog.pg_user u ON u.usesysid = ANY(g.grolist) WHERE u.usename = $1')),
    roles: flat(await q('SELECT role_name FROM redshift_shim.svv_user_grants WHERE user_name = $1')),
    relations: flat(await q(`SELECT namespace_name, relation_name, privilege_type FROM redshift_shim.svv_relation_privileges
      WHERE identity_type = 'user' AND identity_name = $1`)),
    schemas: flat(await q(`SELECT namespace_name, privilege_type FROM redshift_shim.svv_schema_privileges
      WHERE identity_type = 'user' AND identity_name = $1`)),
    databases: flat(await q(`SELECT database_name, privilege_type FROM redshift_shim.svv_database_privileges
      WHERE identity_type = 'user' AND identity_name = $1`)),
  };
}

async function expectCloneInLine(): Promise<UserState> {
  const original = await state(user.username);
  expect(await state(clone)).toEqual(original);
  return original;
}

/** Runs SQL as a user with the credentials of a secret version (the way an application would). */
async function asVersion(stage: string, sql: string): Promise<void> {
  const v = (await e.value(user.arn, stage))!;
  const { host, port, database } = e.stack.postgres;
  const c = new Client({ host, port, database, user: v.username, password: v.password });
  c.on('error', () => undefined);
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}

beforeAll(async () => {
  e = await E2e.start();
  user = await e.newUser('ALTERNATING_USERS', 'cluster', 'sync');
  clone = `${user.username}_clone`;
  const u = `"${user.username}"`;
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
  ]) await e.redshift(sql);
});

afterAll(async () => {
  await e?.stop();
});

test('the first rotation creates the clone with the original\'s groups, roles, attributes and direct grants', async () => {
  await e.rotateOk(user.arn);
  const s = await expectCloneInLine();
  // the state compared is the one set up (so the comparison is not between two empty users)
  expect(s.attributes).toEqual({
    usecreatedb: true, usesuper: false, valuntil: expect.stringMatching(/^2031-06-01/), useconnlimit: '7', syslogaccess: 'UNRESTRICTED', sessiontimeout: 900,
  });
  expect(s.groups).toEqual(['Writers Group', 'readers']);
  expect(s.roles).toEqual(['Etl "Role"', 'analyst']);
  expect(s.relations).toEqual(['Mixed Schema|odd"name; x|UPDATE', 'sales|orders|INSERT', 'sales|orders|SELECT']);
  expect(s.schemas).toEqual(['Mixed Schema|CREATE', 'Mixed Schema|USAGE', 'sales|USAGE']);
  expect(s.databases).toEqual(['dev|CREATE', 'dev|TEMP']);
  // and the clone (now AWSCURRENT) can use them
  expect((await e.value(user.arn))!.username).toBe(clone);
  await asVersion('AWSCURRENT', 'INSERT INTO "sales"."orders" SELECT id FROM "sales"."orders"');
  await expect(asVersion('AWSCURRENT', 'SELECT * FROM "sales"."later"')).rejects.toThrow(/permission denied/);
});

test('a grant, a group, a role and attributes removed from the original are removed from the clone at the next rotation', async () => {
  const u = `"${user.username}"`;
  for (const sql of [
    `REVOKE INSERT ON TABLE "sales"."orders" FROM ${u}`,
    `REVOKE CREATE ON SCHEMA "Mixed Schema" FROM ${u}`,
    `REVOKE TEMP ON DATABASE "dev" FROM ${u}`,
    `ALTER GROUP "Writers Group" DROP USER ${u}`,
    `REVOKE ROLE "Etl ""Role""" FROM ${u}`,
    `ALTER USER ${u} NOCREATEDB`,
    `ALTER USER ${u} CONNECTION LIMIT UNLIMITED`,
    `ALTER USER ${u} VALID UNTIL 'infinity'`,
    `ALTER USER ${u} SYSLOG ACCESS RESTRICTED`,
    `ALTER USER ${u} RESET SESSION TIMEOUT`,
  ]) await e.redshift(sql);
  // before the rotation the clone still has them
  expect((await state(clone)).groups).toContain('Writers Group');
  await e.rotateOk(user.arn);
  const s = await expectCloneInLine();
  expect(s.groups).toEqual(['readers']);
  expect(s.roles).toEqual(['analyst']);
  expect(s.relations).toEqual(['Mixed Schema|odd"name; x|UPDATE', 'sales|orders|SELECT']);
  expect(s.schemas).toEqual(['Mixed Schema|USAGE', 'sales|USAGE']);
  expect(s.databases).toEqual(['dev|CREATE']);
  expect(s.attributes).toMatchObject({ usecreatedb: false, useconnlimit: 'UNLIMITED', syslogaccess: 'RESTRICTED', sessiontimeout: 0 });
  // the clone (now AWSPREVIOUS, still logging in) lost the privilege for real
  expect((await e.value(user.arn, 'AWSPREVIOUS'))!.username).toBe(clone);
  await expect(asVersion('AWSPREVIOUS', 'INSERT INTO "sales"."orders" VALUES (1)')).rejects.toThrow(/permission denied/);
  await asVersion('AWSPREVIOUS', 'SELECT * FROM "sales"."orders"');
});

test('a grant, a group and a role added to the original later reach the clone', async () => {
  const u = `"${user.username}"`;
  for (const sql of [
    `GRANT SELECT ON TABLE "sales"."later" TO ${u}`,
    `GRANT DELETE ON TABLE "sales"."orders" TO ${u}`,
    `ALTER GROUP "later_group" ADD USER ${u}`,
    `GRANT ROLE "Etl ""Role""" TO ${u}`,
    `GRANT TEMP ON DATABASE "dev" TO ${u}`,
    `ALTER USER ${u} CONNECTION LIMIT 3`,
  ]) await e.redshift(sql);
  await e.rotateOk(user.arn);
  const s = await expectCloneInLine();
  expect(s.groups).toEqual(['later_group', 'readers']);
  expect(s.roles).toEqual(['Etl "Role"', 'analyst']);
  expect(s.relations).toEqual(['Mixed Schema|odd"name; x|UPDATE', 'sales|later|SELECT', 'sales|orders|DELETE', 'sales|orders|SELECT']);
  expect(s.databases).toEqual(['dev|CREATE', 'dev|TEMP']);
  expect(s.attributes).toMatchObject({ useconnlimit: '3' });
  expect((await e.value(user.arn))!.username).toBe(clone);
  await asVersion('AWSCURRENT', 'SELECT * FROM "sales"."later"');
});

test('the sync stays exact over one more rotation with no change (nothing drifts)', async () => {
  const before = await state(user.username);
  await e.rotateOk(user.arn);
  expect(await expectCloneInLine()).toEqual(before);
  expect(await e.versionLogsIn(user.arn, 'AWSCURRENT')).toBe(true);
  expect(await e.versionLogsIn(user.arn, 'AWSPREVIOUS')).toBe(true);
});

test('nothing the handler logged, and no SQL, carries a password', async () => {
  await e.expectNoPasswordLeaked();
});
