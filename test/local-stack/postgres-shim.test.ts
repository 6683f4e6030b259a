import * as fs from 'fs';
import * as os from 'os';
import { Client } from 'pg';
import { md5Verifier, startPostgres } from '../support/postgres';
import type { PostgresServer } from '../support/postgres';
import { installShim, rewriteStatement, splitStatements, tokenize } from '../support/shim';

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

  test.each([
    ['GRANT ROLE "r" TO "c"', ['GRANT "r" TO "c"']],
    ['GRANT ROLE r1, r2 TO ROLE r3', ['GRANT r1, r2 TO r3']],
    ['REVOKE ROLE "r" FROM "c"', ['REVOKE "r" FROM "c"']],
    ['CREATE ROLE Analyst', ['CREATE ROLE "analyst" NOLOGIN', 'SELECT redshift_shim.register_role(\'analyst\')']],
    ['DROP ROLE "Mixed" FORCE', ['DROP ROLE "Mixed"', 'SELECT redshift_shim.unregister_role(\'Mixed\')']],
    ['ALTER USER "c" CONNECTION LIMIT UNLIMITED', ['ALTER USER "c" CONNECTION LIMIT -1']],
    ['ALTER USER "c" CONNECTION LIMIT 10', ['ALTER USER "c" CONNECTION LIMIT 10']],
    ['ALTER USER "c" CREATEUSER', ['ALTER USER "c" SUPERUSER']],
    ['ALTER USER "c" NOCREATEUSER', ['ALTER USER "c" NOSUPERUSER']],
    ['ALTER USER "c" SYSLOG ACCESS UNRESTRICTED', ['SELECT redshift_shim.set_syslog_access(\'c\', \'UNRESTRICTED\')']],
    ['ALTER USER "c" SESSION TIMEOUT 600', ['SELECT redshift_shim.set_session_timeout(\'c\', 600)']],
    ['ALTER USER "c" RESET SESSION TIMEOUT', ['SELECT redshift_shim.set_session_timeout(\'c\', 0)']],
    ['ALTER USER "c" PASSWORD DISABLE', ['ALTER USER "c" PASSWORD NULL']],
    ['ALTER USER "c" PASSWORD \'md5abc\'', ['ALTER USER "c" PASSWORD \'md5abc\'']],
    ['ALTER GROUP "g" ADD USER "c"', ['ALTER GROUP "g" ADD USER "c"']],
  ])('%s', (input, expected) => {
    expect(rewriteStatement(input)).toEqual(expected);
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
