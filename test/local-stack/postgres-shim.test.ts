import * as fs from 'fs';
import * as os from 'os';
import { BatchExecuteStatementCommand, DescribeStatementCommand, ExecuteStatementCommand } from '@aws-sdk/client-redshift-data';
import { Client } from 'pg';
import { startLocalStack } from '../../local-stack/local-stack';
import { md5Verifier, startPostgres } from '../../local-stack/postgres';
import type { PostgresServer } from '../../local-stack/postgres';
import { RedshiftError, checkTarget, installShim, rewriteStatement, splitStatements, tokenize } from '../../local-stack/shim';

let pg: PostgresServer;
let admin: Client;

/** Runs a Redshift statement the way the local Data API does: through the shim's rewriter. */
async function redshift(sql: string, as: Client = admin): Promise<void> {
  for (const s of rewriteStatement(sql)) await as.query(s);
}

function login(user: string, password: string): Client {
  const c = new Client({ host: pg.host, port: pg.port, user, password, database: pg.database });
  c.on('error', () => undefined);
  return c;
}

beforeAll(async () => {
  pg = await startPostgres();
  admin = login(pg.adminUser, pg.adminPassword);
  await admin.connect();
  await installShim(admin);
  await admin.end();
  // a new session picks up the database's search_path
  admin = login(pg.adminUser, pg.adminPassword);
  await admin.connect();
});

afterAll(async () => {
  await admin?.end();
  await pg?.stop();
});

describe('embedded PostgreSQL', () => {
  test('listens on loopback, database dev, data dir under tmpdir', async () => {
    expect(pg.host).toBe('127.0.0.1');
    expect(pg.database).toBe('dev');
    expect(pg.dataDir.startsWith(os.tmpdir())).toBe(true);
    expect(fs.existsSync(pg.dataDir)).toBe(true);
    const r = await admin.query('SELECT current_database() AS db, rolsuper FROM pg_roles WHERE rolname = current_user');
    expect(r.rows[0]).toEqual({ db: 'dev', rolsuper: true });
  });

  test('an md5 verifier set with ALTER USER logs in with the password; a wrong password is refused', async () => {
    await admin.query('CREATE USER md5user');
    await admin.query(`ALTER USER md5user PASSWORD '${md5Verifier('md5user', 'Secret123abc')}'`);
    const stored = await admin.query('SELECT rolpassword FROM pg_authid WHERE rolname = \'md5user\'');
    expect(stored.rows[0].rolpassword).toBe(md5Verifier('md5user', 'Secret123abc'));
    const ok = login('md5user', 'Secret123abc');
    await ok.connect();
    expect((await ok.query('SELECT current_user AS u')).rows[0].u).toBe('md5user');
    await ok.end();
    const bad = login('md5user', 'Secret123abd');
    await expect(bad.connect()).rejects.toMatchObject({ code: '28P01', message: 'password authentication failed for user "md5user"' });
  });

  test('a plain-text password (stored as SCRAM) also logs in under md5 pg_hba', async () => {
    await admin.query('CREATE USER scramuser PASSWORD \'Plain123pass\'');
    const c = login('scramuser', 'Plain123pass');
    await c.connect();
    await c.end();
  });

  test('stop() removes the data directory and a second server can start alongside', async () => {
    const other = await startPostgres({ database: 'other' });
    expect(other.port).not.toBe(pg.port);
    await other.stop();
    expect(fs.existsSync(other.dataDir)).toBe(false);
    await other.stop(); // idempotent
  });
});

describe('shim: lexer and rewriter', () => {
  test('tokenize keeps literals, quoted identifiers, comments and casts intact', () => {
    const sql = 'SELECT \':x\', ":y", x::text, :p -- :q\n/* :r */ FROM t';
    expect(tokenize(sql).map((t) => t.text).join('')).toBe(sql);
    expect(tokenize(sql).filter((t) => t.kind === 'param').map((t) => t.text)).toEqual([':p']);
  });

  test('splitStatements ignores semicolons in literals and identifiers', () => {
    expect(splitStatements('SELECT \'a;b\'; SELECT ";"; ;')).toEqual(['SELECT \'a;b\'', 'SELECT ";"']);
  });

  const check = (name: string, kind: string) => `SELECT redshift_shim.check_identity('${name}', '${kind}')`;
  test.each([
    ['GRANT ROLE "r" TO "c"', [check('r', 'role'), check('c', 'user'), 'GRANT "r" TO "c"']],
    ['GRANT ROLE r1, r2 TO ROLE r3', [check('r1', 'role'), check('r2', 'role'), check('r3', 'role'), 'GRANT "r1", "r2" TO "r3"']],
    ['REVOKE ROLE "r" FROM "c"', [check('r', 'role'), check('c', 'user'), 'REVOKE "r" FROM "c"']],
    ['CREATE ROLE Analyst', ['CREATE ROLE "analyst" NOLOGIN', 'SELECT redshift_shim.register_role(\'analyst\')']],
    ['DROP ROLE "Mixed" FORCE', ['SELECT redshift_shim.check_droppable(\'Mixed\', \'role\', false)', 'DROP ROLE "Mixed"', 'SELECT redshift_shim.unregister_role(\'Mixed\')']],
    ['ALTER USER "c" CONNECTION LIMIT UNLIMITED', ['ALTER USER "c" CONNECTION LIMIT -1']],
    ['ALTER USER "c" CONNECTION LIMIT 10', ['ALTER USER "c" CONNECTION LIMIT 10']],
    ['ALTER USER "c" CREATEUSER', ['ALTER USER "c" SUPERUSER']],
    ['ALTER USER "c" NOCREATEUSER', ['ALTER USER "c" NOSUPERUSER']],
    ['ALTER USER "c" SYSLOG ACCESS UNRESTRICTED', ['SELECT redshift_shim.set_syslog_access(\'c\', \'UNRESTRICTED\')']],
    ['ALTER USER "c" SESSION TIMEOUT 600', ['SELECT redshift_shim.set_session_timeout(\'c\', 600)']],
    ['ALTER USER "c" RESET SESSION TIMEOUT', ['SELECT redshift_shim.set_session_timeout(\'c\', 0)']],
    ['ALTER USER "c" PASSWORD DISABLE', ['ALTER USER "c" PASSWORD NULL']],
    [`ALTER USER "c" PASSWORD '${md5Verifier('c', 'x')}'`, [`ALTER USER "c" PASSWORD '${md5Verifier('c', 'x')}'`]],
    // a clear-text password is stored as Redshift stores it: md5(password || username)
    ['ALTER USER "c" PASSWORD \'Plain123pw\'', [`ALTER USER "c" PASSWORD '${md5Verifier('c', 'Plain123pw')}'`]],
    ['ALTER GROUP "g" ADD USER "c"', [check('g', 'group'), check('c', 'user'), 'ALTER GROUP "g" ADD USER "c"']],
    ['GRANT SELECT ON TABLE "s"."t" TO GROUP "g"', [check('g', 'group'), 'GRANT SELECT ON TABLE "s"."t" TO "g"']],
    ['GRANT SELECT ON "s"."t" TO PUBLIC', ['GRANT SELECT ON TABLE "s"."t" TO PUBLIC']],
    ['GRANT SELECT, ALTER ON TABLE "s"."a", "s"."b" TO "u"', [check('u', 'user'), 'GRANT SELECT ON TABLE "s"."a", "s"."b" TO "u"',
      'SELECT redshift_shim.set_extra_privileges(\'GRANT\', \'relation\', ARRAY[\'"s"."a"\', \'"s"."b"\']::text[], \'u\', \'user\', '
      + 'ARRAY[\'ALTER\']::text[], false)']],
    ['ALTER USER "c" SET query_group TO \'etl\'', ['SELECT redshift_shim.check_user(\'c\')', 'ALTER USER "c" SET redshift.query_group TO \'etl\'']],
    ['ALTER USER "c" SET search_path = a, public', ['SELECT redshift_shim.check_user(\'c\')', 'ALTER USER "c" SET search_path TO a, public, redshift_shim, pg_catalog']],
    ['ALTER USER "c" RESET statement_timeout', ['SELECT redshift_shim.check_user(\'c\')', 'ALTER USER "c" RESET statement_timeout']],
  ])('%s', (input, expected) => {
    expect(rewriteStatement(input)).toEqual(expected);
  });

  test('a password-rule error never contains the password', () => {
    for (const pw of ['short1A', 'nouppercase123', 'NOLOWER123', 'NoDigitsHere', 'Has space1A', 'Has@sign1A', 'Has/slash1A']) {
      let message = '';
      try {
        rewriteStatement(`ALTER USER "c" PASSWORD '${pw}'`);
      } catch (e) {
        message = (e as Error).message;
      }
      expect(message.length > 0).toBe(true);
      expect(message.includes(pw)).toBe(false);
    }
  });
});

describe('shim: catalog views and statements on real PostgreSQL', () => {
  const u = 'orig';
  beforeAll(async () => {
    await redshift(`CREATE USER "${u}" PASSWORD '${md5Verifier(u, 'Abcdef123')}' CONNECTION LIMIT UNLIMITED SYSLOG ACCESS UNRESTRICTED`);
    await redshift('CREATE GROUP "readers"');
    await redshift('CREATE ROLE "analyst"');
    await redshift(`ALTER GROUP "readers" ADD USER "${u}"`);
    await redshift(`GRANT ROLE "analyst" TO "${u}"`);
    await redshift('CREATE SCHEMA "sales"');
    await redshift('CREATE TABLE "sales"."orders" (id int)');
    await redshift(`GRANT SELECT ON TABLE "sales"."orders" TO "${u}"`);
    await redshift(`GRANT INSERT ON TABLE "sales"."orders" TO "${u}"`);
    await redshift(`GRANT USAGE ON SCHEMA "sales" TO "${u}"`);
    await redshift(`GRANT CREATE ON DATABASE "dev" TO "${u}"`);
    await redshift(`GRANT TEMP ON DATABASE "dev" TO "${u}"`);
    await redshift(`ALTER USER "${u}" SESSION TIMEOUT 600`);
    await redshift(`ALTER USER "${u}" CREATEDB`);
    await redshift(`ALTER USER "${u}" VALID UNTIL '2030-01-01 00:00:00+00'`);
  });

  test('search_path puts the shim ahead of pg_catalog, new objects still go to public', async () => {
    const r = await admin.query('SELECT current_schema() AS s, current_setting(\'search_path\') AS p');
    expect(r.rows[0]).toEqual({ s: 'public', p: '"$user", public, redshift_shim, pg_catalog' });
  });

  test('pg_user + svl_user_info (the handler\'s attribute read)', async () => {
    const r = await admin.query(`SELECT u.usename, u.usesysid, u.usecreatedb, u.usesuper, u.valuntil, i.useconnlimit, i.syslogaccess, i.sessiontimeout
      FROM pg_user u JOIN svl_user_info i ON i.usesysid = u.usesysid WHERE u.usename IN ($1, $2)`, [u, `${u}_clone`]);
    expect(r.rows).toHaveLength(1);
    expect(r.rows[0]).toMatchObject({ usename: u, usecreatedb: true, usesuper: false, useconnlimit: 'UNLIMITED', syslogaccess: 'UNRESTRICTED', sessiontimeout: 600 });
    expect(r.rows[0].valuntil).toBeInstanceOf(Date);
  });

  test('pg_group lists groups only, not RBAC roles or pg_* roles', async () => {
    const all = (await admin.query('SELECT groname FROM pg_group')).rows.map((x) => x.groname);
    expect(all).toEqual(['readers']);
    const r = await admin.query('SELECT u.usename, g.groname FROM pg_group g, pg_user u WHERE u.usename IN ($1) AND u.usesysid = ANY(g.grolist)', [u]);
    expect(r.rows).toEqual([{ usename: u, groname: 'readers' }]);
  });

  test('svv_user_grants lists RBAC roles only', async () => {
    const r = await admin.query('SELECT user_name, role_name FROM svv_user_grants WHERE user_name IN ($1)', [u]);
    expect(r.rows).toEqual([{ user_name: u, role_name: 'analyst' }]);
  });

  test('svv_relation/schema/database_privileges with Redshift names and identity types', async () => {
    const rel = await admin.query(`SELECT identity_name, namespace_name, relation_name, privilege_type FROM svv_relation_privileges
      WHERE identity_type = 'user' AND identity_name IN ($1) ORDER BY privilege_type`, [u]);
    expect(rel.rows).toEqual([
      { identity_name: u, namespace_name: 'sales', relation_name: 'orders', privilege_type: 'INSERT' },
      { identity_name: u, namespace_name: 'sales', relation_name: 'orders', privilege_type: 'SELECT' },
    ]);
    const sch = await admin.query('SELECT identity_name, namespace_name, privilege_type FROM svv_schema_privileges WHERE identity_type = \'user\' AND identity_name IN ($1)', [u]);
    expect(sch.rows).toEqual([{ identity_name: u, namespace_name: 'sales', privilege_type: 'USAGE' }]);
    const db = await admin.query('SELECT identity_name, database_name, privilege_type FROM svv_database_privileges WHERE identity_type = \'user\' AND identity_name IN ($1) ORDER BY 3', [u]);
    expect(db.rows).toEqual([
      { identity_name: u, database_name: 'dev', privilege_type: 'CREATE' },
      { identity_name: u, database_name: 'dev', privilege_type: 'TEMP' },
    ]);
    await redshift('GRANT SELECT ON TABLE "sales"."orders" TO GROUP "readers"');
    await redshift('GRANT SELECT ON TABLE "sales"."orders" TO ROLE "analyst"');
    const types = await admin.query('SELECT identity_name, identity_type FROM svv_relation_privileges WHERE relation_name = \'orders\' AND identity_name IN (\'readers\', \'analyst\') ORDER BY 1');
    expect(types.rows).toEqual([{ identity_name: 'analyst', identity_type: 'role' }, { identity_name: 'readers', identity_type: 'group' }]);
  });

  test('REVOKE ROLE, RESET SESSION TIMEOUT, CONNECTION LIMIT n, CREATEUSER take effect', async () => {
    await redshift(`REVOKE ROLE "analyst" FROM "${u}"`);
    await redshift(`ALTER USER "${u}" RESET SESSION TIMEOUT`);
    await redshift(`ALTER USER "${u}" CONNECTION LIMIT 10`);
    await redshift(`ALTER USER "${u}" SYSLOG ACCESS RESTRICTED`);
    await redshift(`ALTER USER "${u}" CREATEUSER`);
    const r = await admin.query('SELECT useconnlimit, syslogaccess, sessiontimeout, usesuper FROM svl_user_info WHERE usename = $1', [u]);
    expect(r.rows[0]).toEqual({ useconnlimit: '10', syslogaccess: 'RESTRICTED', sessiontimeout: 0, usesuper: true });
    expect((await admin.query('SELECT * FROM svv_user_grants WHERE user_name = $1', [u])).rows).toEqual([]);
    await redshift(`ALTER USER "${u}" NOCREATEUSER`);
  });

  test('Redshift-only attributes need a superuser and an existing user, as on Redshift', async () => {
    await expect(redshift('ALTER USER "nobody" SYSLOG ACCESS UNRESTRICTED')).rejects.toThrow('user "nobody" does not exist');
    const plain = login(u, 'Abcdef123');
    await plain.connect();
    try {
      await expect(redshift(`ALTER USER "${u}" SESSION TIMEOUT 900`, plain)).rejects.toThrow(/permission denied/);
      await expect(plain.query('INSERT INTO redshift_shim.user_attributes (usesysid) VALUES (1)')).rejects.toThrow(/permission denied/);
    } finally {
      await plain.end();
    }
  });

  test('DROP ROLE removes the role from the registry', async () => {
    await redshift('CREATE ROLE "temp_role"');
    expect((await admin.query('SELECT role_name FROM svv_roles WHERE role_name = \'temp_role\'')).rows).toHaveLength(1);
    await redshift('DROP ROLE "temp_role"');
    expect((await admin.query('SELECT * FROM redshift_shim.rbac_roles WHERE role_name = \'temp_role\'')).rows).toHaveLength(0);
  });
});

describe('shim: svv_user_info, pg_user.useconfig, svl_user_info', () => {
  beforeAll(async () => {
    await redshift(`CREATE USER "info_a" PASSWORD '${md5Verifier('info_a', 'Infopass1')}' CREATEDB CONNECTION LIMIT 4 SESSION TIMEOUT 120`);
    await redshift(`CREATE USER "info_b" PASSWORD '${md5Verifier('info_b', 'Infopass2')}'`);
  });

  test('svv_user_info has Redshift\'s columns and values', async () => {
    const r = await admin.query('SELECT * FROM svv_user_info WHERE user_name = $1', ['info_a']);
    expect(r.fields.map((f) => f.name)).toEqual(['user_name', 'user_id', 'createdb', 'superuser', 'catalog_update', 'connection_limit',
      'syslog_access', 'last_ddl_timestamp', 'session_timeout', 'external_user_id']);
    const oid = (await admin.query('SELECT oid::int AS oid FROM pg_roles WHERE rolname = $1', ['info_a'])).rows[0].oid;
    expect(r.rows).toEqual([{
      user_name: 'info_a',
      user_id: oid,
      createdb: true,
      superuser: false,
      catalog_update: false,
      connection_limit: '4',
      syslog_access: 'RESTRICTED',
      last_ddl_timestamp: null,
      session_timeout: 120,
      external_user_id: null,
    }]);
  });

  test('superusers see every user in svv_user_info, a regular user only itself; svl_user_info is superuser-only', async () => {
    const all = (await admin.query('SELECT user_name FROM svv_user_info ORDER BY 1')).rows.map((x) => x.user_name);
    expect(all).toEqual(expect.arrayContaining([pg.adminUser, 'info_a', 'info_b']));
    const plain = login('info_b', 'Infopass2');
    await plain.connect();
    try {
      expect((await plain.query('SELECT user_name FROM svv_user_info')).rows).toEqual([{ user_name: 'info_b' }]);
      await expect(plain.query('SELECT * FROM svl_user_info')).rejects.toThrow(/permission denied/);
    } finally {
      await plain.end();
    }
  });

  test('ALTER USER SET/RESET land in pg_user.useconfig with Redshift\'s parameter names', async () => {
    await redshift('ALTER USER "info_a" SET search_path TO appdata, public');
    await redshift('ALTER USER "info_a" SET query_group TO \'etl\'');
    await redshift('ALTER USER "info_a" SET statement_timeout = 1000');
    await redshift('ALTER USER "info_a" SET timezone TO \'UTC\'');
    const config = async () => (await admin.query('SELECT useconfig FROM pg_user WHERE usename = $1', ['info_a'])).rows[0].useconfig;
    expect(await config()).toEqual(['search_path=appdata, public', 'query_group=etl', 'statement_timeout=1000', 'timezone=UTC']);
    await redshift('ALTER USER "info_a" RESET query_group');
    await redshift('ALTER USER "info_a" SET timezone TO DEFAULT');
    expect(await config()).toEqual(['search_path=appdata, public', 'statement_timeout=1000']);
    // PostgreSQL's own record agrees (the shim's pg_user only renames)
    const raw = (await admin.query('SELECT useconfig FROM pg_catalog.pg_user WHERE usename = $1', ['info_a'])).rows[0].useconfig;
    expect(raw).toEqual(['search_path=appdata, public, redshift_shim, pg_catalog', 'statement_timeout=1000']);
  });

  test('a user with its own search_path gets it at login and still sees the catalog views', async () => {
    await redshift('ALTER USER "info_b" SET search_path TO info_schema, public');
    await redshift('ALTER USER "info_b" SET statement_timeout TO 2500');
    const c = login('info_b', 'Infopass2');
    await c.connect();
    try {
      expect((await c.query('SELECT current_setting(\'search_path\') AS p, current_setting(\'statement_timeout\') AS t')).rows[0])
        .toEqual({ p: 'info_schema, public, redshift_shim, pg_catalog', t: '2500ms' });
      expect((await c.query('SELECT user_name FROM svv_user_info')).rows).toEqual([{ user_name: 'info_b' }]);
    } finally {
      await c.end();
    }
  });

  test('parameters Redshift does not have are refused', () => {
    expect(() => rewriteStatement('ALTER USER "info_a" SET work_mem TO \'4MB\'')).toThrow('unrecognized configuration parameter "work_mem"');
    expect(() => rewriteStatement('ALTER USER "info_a" RESET ALL')).toThrow(/syntax error/);
    expect(() => rewriteStatement('ALTER USER "info_a" IN DATABASE dev SET search_path TO x')).toThrow(/syntax error/);
  });
});

describe('shim: explicit grants only, ALTER and DROP privileges, svv_function_privileges', () => {
  const pw = 'Ownerpass1';
  let owner: Client;
  beforeAll(async () => {
    await redshift(`CREATE USER "own" PASSWORD '${md5Verifier('own', pw)}'`);
    await redshift(`CREATE USER "grantee" PASSWORD '${md5Verifier('grantee', 'Granteepw1')}'`);
    await redshift('CREATE GROUP "own_readers"');
    await redshift('GRANT CREATE ON DATABASE "dev" TO "own"');
    owner = login('own', pw);
    await owner.connect();
    // the owner builds its own schema, tables and function: no GRANT to itself anywhere
    for (const sql of [
      'CREATE SCHEMA "app"',
      'CREATE TABLE "app"."a" (id int)',
      'CREATE TABLE "app"."b" (id int)',
      'CREATE VIEW "app"."v" AS SELECT id FROM "app"."a"',
      'CREATE FUNCTION "app"."f"(x int, y text) RETURNS int LANGUAGE sql AS \'SELECT 1\'',
    ]) await owner.query(sql);
  });
  afterAll(async () => { await owner?.end(); });

  const rel = async (who: string) => (await admin.query(`SELECT namespace_name || '.' || relation_name || ':' || privilege_type AS p
    FROM svv_relation_privileges WHERE identity_name = $1 ORDER BY 1`, [who])).rows.map((x) => x.p);

  test('the owner\'s own ACL entries are in PostgreSQL\'s ACL but not in the svv_*_privileges views', async () => {
    await owner.query('GRANT SELECT ON TABLE "app"."a" TO "grantee"');
    await owner.query('GRANT USAGE ON SCHEMA "app" TO "grantee"');
    await owner.query('GRANT EXECUTE ON FUNCTION "app"."f"(int, text) TO "grantee"');
    // PostgreSQL lists the owner once an ACL exists
    const acl = await admin.query(`SELECT count(*)::int AS n FROM pg_class c, aclexplode(c.relacl) a
      WHERE c.oid = '"app"."a"'::regclass AND a.grantee = c.relowner`);
    expect(acl.rows[0].n).toBeGreaterThan(0);
    expect(await rel('own')).toEqual([]);
    expect(await rel('grantee')).toEqual(['app.a:SELECT']);
    expect((await admin.query('SELECT * FROM svv_schema_privileges WHERE identity_name = \'own\'')).rows).toEqual([]);
    expect((await admin.query('SELECT namespace_name, privilege_type FROM svv_schema_privileges WHERE identity_name = \'grantee\'')).rows)
      .toEqual([{ namespace_name: 'app', privilege_type: 'USAGE' }]);
    // the database's owner (admin) is not listed either; the explicit grant to "own" is
    const db = await admin.query('SELECT identity_name, privilege_type FROM svv_database_privileges WHERE database_name = \'dev\' AND identity_type = \'user\'');
    expect(db.rows.map((x) => x.identity_name)).not.toContain(pg.adminUser);
    expect(db.rows).toContainEqual({ identity_name: 'own', privilege_type: 'CREATE' });
  });

  test('svv_function_privileges lists explicit EXECUTE grants with argument types, owner excluded', async () => {
    const r = await admin.query('SELECT * FROM svv_function_privileges WHERE namespace_name = \'app\' AND identity_type = \'user\'');
    expect(r.fields.map((f) => f.name)).toEqual(['namespace_name', 'function_name', 'argument_types', 'privilege_type', 'identity_id',
      'identity_name', 'identity_type', 'admin_option']);
    expect(r.rows.map(({ function_name, argument_types, privilege_type, identity_name, admin_option }) =>
      ({ function_name, argument_types, privilege_type, identity_name, admin_option })))
      .toEqual([{ function_name: 'f', argument_types: 'integer, text', privilege_type: 'EXECUTE', identity_name: 'grantee', admin_option: false }]);
  });

  test('GRANT SELECT, ALTER, DROP on several tables in one statement: native part in PostgreSQL, ALTER/DROP in the shim', async () => {
    await redshift('GRANT SELECT, ALTER, DROP ON TABLE "app"."a", "app"."b" TO "grantee"', owner);
    expect(await rel('grantee')).toEqual(['app.a:ALTER', 'app.a:DROP', 'app.a:SELECT', 'app.b:ALTER', 'app.b:DROP', 'app.b:SELECT']);
    expect((await admin.query('SELECT has_table_privilege(\'grantee\', \'"app"."b"\', \'SELECT\') AS ok')).rows[0].ok).toBe(true);
    await redshift('REVOKE DROP, SELECT ON "app"."b" FROM "grantee"', owner);
    expect(await rel('grantee')).toEqual(['app.a:ALTER', 'app.a:DROP', 'app.a:SELECT', 'app.b:ALTER']);
    expect((await admin.query('SELECT has_table_privilege(\'grantee\', \'"app"."b"\', \'SELECT\') AS ok')).rows[0].ok).toBe(false);
  });

  test('schema ALTER/DROP, GRANT ALL (no TRIGGER or MAINTAIN), groups as grantees, REVOKE ALL', async () => {
    await redshift('GRANT ALTER, DROP, CREATE ON SCHEMA "app" TO "grantee"', owner);
    expect((await admin.query('SELECT privilege_type FROM svv_schema_privileges WHERE identity_name = \'grantee\' ORDER BY 1')).rows
      .map((x) => x.privilege_type)).toEqual(['ALTER', 'CREATE', 'DROP', 'USAGE']);
    await redshift('GRANT ALL ON TABLE "app"."v" TO GROUP "own_readers"', owner);
    expect(await rel('own_readers')).toEqual(['app.v:ALTER', 'app.v:DELETE', 'app.v:DROP', 'app.v:INSERT', 'app.v:REFERENCES', 'app.v:SELECT',
      'app.v:TRUNCATE', 'app.v:UPDATE']);
    await redshift('REVOKE ALL ON TABLE "app"."v" FROM GROUP "own_readers"', owner);
    expect(await rel('own_readers')).toEqual([]);
  });

  test('only the owner (or a superuser) can grant ALTER/DROP', async () => {
    const other = login('grantee', 'Granteepw1');
    await other.connect();
    try {
      await expect(redshift('GRANT DROP ON TABLE "app"."a" TO "info_b"', other)).rejects.toThrow('permission denied for relation "app"."a"');
    } finally {
      await other.end();
    }
  });

  test('dropping a table forgets its ALTER/DROP grants; a user holding one cannot be dropped', async () => {
    await owner.query('CREATE TABLE "app"."tmp" (id int)');
    const oid = (await admin.query('SELECT \'"app"."tmp"\'::regclass::oid::int AS oid')).rows[0].oid;
    const rows = async () => (await admin.query('SELECT count(*)::int AS n FROM redshift_shim.extra_privileges WHERE objoid = $1', [oid])).rows[0].n;
    await redshift('GRANT ALTER ON "app"."tmp" TO "grantee"', owner);
    expect(await rel('grantee')).toContain('app.tmp:ALTER');
    expect(await rows()).toBe(1);
    await owner.query('DROP TABLE "app"."tmp"');
    expect(await rows()).toBe(0);
    await expect(redshift('DROP USER "grantee"')).rejects.toThrow('user "grantee" cannot be dropped because the user has a privilege on some object');
  });

  test('privileges Redshift does not have, or on the wrong object kind, are refused', () => {
    for (const sql of [
      'GRANT TRIGGER ON TABLE "app"."a" TO "grantee"',
      'GRANT MAINTAIN ON TABLE "app"."a" TO "grantee"',
      'GRANT RULE ON TABLE "app"."a" TO "grantee"',
      'GRANT USAGE ON TABLE "app"."a" TO "grantee"',
      'GRANT SELECT ON SCHEMA "app" TO "grantee"',
      'GRANT CONNECT ON DATABASE "dev" TO "grantee"',
      'GRANT DROP ON FUNCTION "app"."f"(int, text) TO "grantee"',
      'GRANT SELECT ON SEQUENCE "app"."s" TO "grantee"',
      'GRANT SELECT ON TABLE "app"."a" TO "grantee" GRANTED BY "own"',
    ]) expect(() => rewriteStatement(sql)).toThrow(/syntax error at or near/);
    expect(() => rewriteStatement('GRANT SELECT ON TABLE "app"."a" TO GROUP "own_readers" WITH GRANT OPTION')).toThrow(/WITH GRANT OPTION/);
  });
});

describe('shim: strictness (what Redshift refuses)', () => {
  beforeAll(async () => {
    await redshift(`CREATE USER "strict_u" PASSWORD '${md5Verifier('strict_u', 'Strictpw1')}'`);
    await redshift('CREATE GROUP "strict_g"');
    await redshift('CREATE ROLE "strict_r"');
  });

  test.each([
    ['CREATE USER "x" SUPERUSER PASSWORD \'Abcdefg1\'', 'SUPERUSER'],
    ['ALTER USER "strict_u" SUPERUSER', 'SUPERUSER'],
    ['ALTER USER "strict_u" NOSUPERUSER', 'NOSUPERUSER'],
    ['ALTER USER "strict_u" CREATEROLE', 'CREATEROLE'],
    ['ALTER USER "strict_u" NOCREATEROLE', 'NOCREATEROLE'],
    ['ALTER USER "strict_u" INHERIT', 'INHERIT'],
    ['ALTER USER "strict_u" LOGIN', 'LOGIN'],
    ['ALTER USER "strict_u" NOLOGIN', 'NOLOGIN'],
    ['ALTER USER "strict_u" REPLICATION', 'REPLICATION'],
    ['ALTER USER "strict_u" BYPASSRLS', 'BYPASSRLS'],
    ['ALTER USER "strict_u" PASSWORD NULL', 'NULL'],
    ['ALTER USER "strict_u" ENCRYPTED PASSWORD \'md5aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\'', 'ENCRYPTED'],
    ['CREATE USER "x" PASSWORD \'Abcdefg1\' IN ROLE "strict_r"', 'IN'],
    ['GRANT "strict_r" TO "strict_u"', '"strict_r"'],
    ['GRANT strict_r TO strict_u', 'strict_r'],
    ['GRANT ROLE "strict_r" TO GROUP "strict_g"', 'GROUP'],
    ['GRANT ROLE "strict_r" TO PUBLIC', 'PUBLIC'],
    ['SET ROLE "strict_r"', 'ROLE'],
    ['RESET ROLE', 'ROLE'],
    ['SET SESSION ROLE "strict_r"', 'ROLE'],
    ['ALTER ROLE "strict_r" SUPERUSER', 'SUPERUSER'],
    ['ALTER ROLE "strict_u" WITH LOGIN', 'LOGIN'],
    ['CREATE ROLE "x" LOGIN', 'LOGIN'],
    ['ALTER GROUP "strict_g" ADD ROLE "strict_u"', 'ADD'],
  ])('%s is refused (syntax error at or near %s)', (sql, near) => {
    expect(() => rewriteStatement(sql)).toThrow(`syntax error at or near "${near}"`);
  });

  test.each([
    ['Short1a', 'password must be 8 to 64 characters long'],
    ['A'.repeat(40) + 'a'.repeat(20) + '12345', 'password must be 8 to 64 characters long'],
    ['alllower123', 'password must contain an upper-case letter'],
    ['ALLUPPER123', 'password must contain a lower-case letter'],
    ['NoDigitsHere', 'password must contain a number'],
    ['With space1A', 'except'],
    ['With@sign1A', 'except'],
    ['With/slash1A', 'except'],
    ['With\\\\back1A', 'except'],
    ['With"quote1A', 'except'],
    ['With\'\'quote1A', 'except'],
    ['md5notreallyhex1A', null],
  ])('clear-text password rule: %#', (pw, error) => {
    const sql = `ALTER USER "strict_u" PASSWORD '${pw}'`;
    if (error === null) expect(() => rewriteStatement(sql)).not.toThrow();
    else expect(() => rewriteStatement(sql)).toThrow(error);
  });

  test('CREATE USER needs a password; PUBLIC is not a user name', () => {
    expect(() => rewriteStatement('CREATE USER "nopw"')).toThrow(/needs a PASSWORD/);
    expect(() => rewriteStatement('CREATE USER public PASSWORD \'Abcdefg1\'')).toThrow(/reserved/);
  });

  test('a group where a role is expected, a role where a group is expected, a role or group as a plain user grantee: refused by name', async () => {
    await expect(redshift('GRANT ROLE "strict_g" TO "strict_u"')).rejects.toThrow('role "strict_g" does not exist');
    await expect(redshift('GRANT ROLE "strict_r" TO ROLE "strict_g"')).rejects.toThrow('role "strict_g" does not exist');
    await expect(redshift('ALTER GROUP "strict_r" ADD USER "strict_u"')).rejects.toThrow('group "strict_r" does not exist');
    await expect(redshift('ALTER GROUP "strict_g" ADD USER "strict_r"')).rejects.toThrow('user "strict_r" does not exist');
    await expect(redshift('GRANT SELECT ON TABLE "sales"."orders" TO "strict_g"')).rejects.toThrow('user "strict_g" does not exist');
    await expect(redshift('GRANT SELECT ON TABLE "sales"."orders" TO GROUP "strict_r"')).rejects.toThrow('group "strict_r" does not exist');
    await expect(redshift('GRANT SELECT ON TABLE "sales"."orders" TO ROLE "strict_g"')).rejects.toThrow('role "strict_g" does not exist');
    await expect(redshift('DROP GROUP "strict_r"')).rejects.toThrow('group "strict_r" does not exist');
    await expect(redshift('DROP ROLE "strict_g"')).rejects.toThrow('role "strict_g" does not exist');
    // nothing changed in PostgreSQL's own catalog
    const m = await admin.query(`SELECT count(*)::int AS n FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.roleid
      WHERE r.rolname IN ('strict_g', 'strict_r')`);
    expect(m.rows[0].n).toBe(0);
  });

  test('the Redshift forms are accepted and take effect (checked in pg_auth_members and has_table_privilege)', async () => {
    await redshift('GRANT ROLE "strict_r" TO "strict_u" WITH ADMIN OPTION');
    await redshift('ALTER GROUP "strict_g" ADD USER "strict_u"');
    await redshift('GRANT SELECT ON TABLE "sales"."orders" TO GROUP "strict_g"');
    await redshift('GRANT INSERT ON TABLE "sales"."orders" TO ROLE "strict_r"');
    const m = await admin.query(`SELECT r.rolname, m.admin_option FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.roleid
      JOIN pg_roles u ON u.oid = m.member WHERE u.rolname = 'strict_u' ORDER BY 1`);
    expect(m.rows).toEqual([{ rolname: 'strict_g', admin_option: false }, { rolname: 'strict_r', admin_option: true }]);
    const p = await admin.query(`SELECT has_table_privilege('strict_g', '"sales"."orders"', 'SELECT') AS g,
      has_table_privilege('strict_r', '"sales"."orders"', 'INSERT') AS r`);
    expect(p.rows[0]).toEqual({ g: true, r: true });
    await redshift('REVOKE ROLE "strict_r" FROM "strict_u"');
    await redshift('ALTER GROUP "strict_g" DROP USER "strict_u"');
    expect((await admin.query('SELECT count(*)::int AS n FROM pg_auth_members m JOIN pg_roles u ON u.oid = m.member WHERE u.rolname = \'strict_u\'')).rows[0].n).toBe(0);
  });
});

describe('shim: other documented forms take effect', () => {
  test('CREATE USER with IN GROUP, SYSLOG ACCESS, SESSION TIMEOUT, VALID UNTIL, CONNECTION LIMIT and a clear-text password', async () => {
    await redshift('CREATE GROUP "cu_g1"');
    await redshift('CREATE GROUP "cu_g2"');
    await redshift('CREATE USER "cu" WITH PASSWORD \'Clear1Text\' CREATEDB IN GROUP "cu_g1", "cu_g2" SYSLOG ACCESS UNRESTRICTED '
      + 'SESSION TIMEOUT 300 VALID UNTIL \'2031-01-01 00:00:00+00\' CONNECTION LIMIT 3');
    const groups = await admin.query(`SELECT g.groname FROM pg_group g JOIN pg_catalog.pg_user u ON u.usesysid = ANY(g.grolist)
      WHERE u.usename = 'cu' ORDER BY 1`);
    expect(groups.rows.map((x) => x.groname)).toEqual(['cu_g1', 'cu_g2']);
    const info = await admin.query('SELECT createdb, connection_limit, syslog_access, session_timeout FROM svv_user_info WHERE user_name = \'cu\'');
    expect(info.rows).toEqual([{ createdb: true, connection_limit: '3', syslog_access: 'UNRESTRICTED', session_timeout: 300 }]);
    // stored as Redshift stores a clear-text password: md5(password || user name); and it logs in
    const stored = await admin.query('SELECT rolpassword FROM pg_authid WHERE rolname = \'cu\'');
    expect(stored.rows[0].rolpassword === md5Verifier('cu', 'Clear1Text')).toBe(true);
    const c = login('cu', 'Clear1Text');
    await c.connect();
    await c.end();
    await expect(redshift('CREATE USER "cu2" PASSWORD \'Clear1Text\' IN GROUP "no_such_group"')).rejects.toThrow('group "no_such_group" does not exist');
    expect((await admin.query('SELECT 1 FROM pg_roles WHERE rolname = \'cu2\'')).rows).toHaveLength(0);
  });

  test('ALTER ROLE RENAME TO keeps the role an RBAC role', async () => {
    await redshift('CREATE ROLE "ren_a"');
    await redshift('ALTER ROLE "ren_a" WITH RENAME TO "ren_b"');
    expect((await admin.query('SELECT role_name FROM svv_roles WHERE role_name IN (\'ren_a\', \'ren_b\')')).rows).toEqual([{ role_name: 'ren_b' }]);
    expect((await admin.query('SELECT groname FROM pg_group WHERE groname = \'ren_b\'')).rows).toHaveLength(0);
  });

  test('GRANT ALTER, DROP ON ALL TABLES IN SCHEMA reaches every table and view of the schema', async () => {
    await redshift(`CREATE USER "allt" PASSWORD '${md5Verifier('allt', 'Alltpass1')}'`);
    await admin.query('CREATE SCHEMA "allt_s"; CREATE TABLE "allt_s"."x" (id int); CREATE VIEW "allt_s"."y" AS SELECT 1 AS one');
    await redshift('GRANT SELECT, ALTER, DROP ON ALL TABLES IN SCHEMA "allt_s" TO "allt"');
    const r = await admin.query(`SELECT relation_name || ':' || privilege_type AS p FROM svv_relation_privileges
      WHERE identity_name = 'allt' ORDER BY 1`);
    expect(r.rows.map((x) => x.p)).toEqual(['x:ALTER', 'x:DROP', 'x:SELECT', 'y:ALTER', 'y:DROP', 'y:SELECT']);
  });
});

describe('shim: provisioned-only system views on Serverless', () => {
  test.each([
    ['SELECT * FROM svl_user_info', 'svl_user_info'],
    ['SELECT usename FROM pg_catalog.SVL_USER_INFO', 'svl_user_info'],
    ['select * from stl_query', 'stl_query'],
    ['SELECT * FROM stv_recents', 'stv_recents'],
    ['SELECT 1 FROM pg_user u JOIN "svcs_query_summary" s ON true', 'svcs_query_summary'],
  ])('%s is refused on a workgroup, allowed on a cluster', (sql, name) => {
    expect(() => checkTarget(sql, 'workgroup')).toThrow(`permission denied for relation ${name}`);
    expect(() => checkTarget(sql, 'cluster')).not.toThrow();
    expect(() => rewriteStatement(sql, { target: 'workgroup' })).toThrow(RedshiftError);
  });

  test('names in literals, other schemas and SYS/SVV views are not refused', () => {
    for (const sql of ['SELECT \'svl_user_info\'', 'SELECT * FROM myschema.stl_copy', 'SELECT * FROM svv_user_info', 'SELECT * FROM sys_query_history']) {
      expect(() => checkTarget(sql, 'workgroup')).not.toThrow();
    }
  });
});

describe('local Data API: the target of each statement decides what the shim allows', () => {
  test('STL/STV/SVL/SVCS views fail on a workgroup with Redshift\'s error and run on a cluster; svv_user_info runs on both', async () => {
    const stack = await startLocalStack();
    const data = stack.redshiftDataClient();
    try {
      const { adminUser, adminPassword } = stack.postgres;
      const cluster = (await stack.createSecret({ name: 'm-c', username: adminUser, password: adminPassword, target: 'cluster' })).arn;
      const workgroup = (await stack.createSecret({ name: 'm-w', username: adminUser, password: adminPassword, target: 'workgroup' })).arn;
      const on = (wg: boolean) => (wg
        ? { WorkgroupName: stack.workgroupName, SecretArn: workgroup }
        : { ClusterIdentifier: stack.clusterIdentifier, SecretArn: cluster });
      const run = async (sql: string, wg: boolean, params?: Record<string, string>) => {
        const { Id } = await data.send(new ExecuteStatementCommand({
          ...on(wg), Database: 'dev', Sql: sql, Parameters: params && Object.entries(params).map(([name, value]) => ({ name, value })),
        }));
        return data.send(new DescribeStatementCommand({ Id, WaitTimeSeconds: 20 }));
      };
      const handlerRead = 'SELECT u.usename, i.useconnlimit FROM pg_user u JOIN svl_user_info i ON i.usesysid = u.usesysid WHERE u.usename IN (:a)';
      const wg = await run(handlerRead, true, { a: adminUser });
      expect(wg).toMatchObject({ Status: 'FAILED', Error: 'ERROR: permission denied for relation svl_user_info' });
      expect((await run('SELECT count(*) FROM stl_query', true)).Error).toBe('ERROR: permission denied for relation stl_query');
      expect((await run(handlerRead, false, { a: adminUser })).Status).toBe('FINISHED');
      expect((await run('SELECT user_name, superuser FROM svv_user_info WHERE user_name = current_user', true)).Status).toBe('FINISHED');
      // in a batch on a workgroup: the whole batch fails and rolls back
      const { Id } = await data.send(new BatchExecuteStatementCommand({
        ...on(true), Database: 'dev', Sqls: ['CREATE TABLE wg_batch (x int)', 'SELECT * FROM svl_user_info'],
      }));
      const batch = await data.send(new DescribeStatementCommand({ Id, WaitTimeSeconds: 20 }));
      expect(batch).toMatchObject({ Status: 'FAILED', Error: 'ERROR: permission denied for relation svl_user_info' });
      expect(await stack.adminQuery('SELECT 1 FROM pg_class WHERE relname = \'wg_batch\'')).toHaveLength(0);
    } finally {
      data.destroy();
      await stack.stop();
    }
  }, 60_000);
});
