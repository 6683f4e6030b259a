import { createHash } from 'crypto';
import { CATALOG_SQL, CatalogRows, parseCatalog, Privilege, Row, UserState } from '../../lambda/rotation/catalog';
import {
  alterPasswordSql,
  alternatingWrites,
  attributeStatements,
  createUserSql,
  DEFAULT_ATTRIBUTES,
  md5Literal,
  md5Verifier,
  privilegeSql,
  quoteIdent,
  syncStatements,
} from '../../lambda/rotation/sql';

const PW = 'Passw0rd\'); DROP USER x; --';

describe('identifiers and literals', () => {
  test('quoteIdent doubles quotes and always quotes', () => {
    expect(quoteIdent('app')).toBe('"app"');
    expect(quoteIdent('a"b')).toBe('"a""b"');
    expect(quoteIdent('x; drop user y')).toBe('"x; drop user y"');
    expect(quoteIdent('Ünï "q"')).toBe('"Ünï ""q"""');
    expect(() => quoteIdent('')).toThrow(/non-empty/);
    expect(() => quoteIdent('a\0b')).toThrow(/NUL/);
  });

  test('md5 verifier is md5(password || username), as PostgreSQL computes it', () => {
    expect(md5Verifier('secret', 'alice')).toBe('md5' + createHash('md5').update('secretalice').digest('hex'));
    expect(md5Verifier('secret', 'alice')).toMatch(/^md5[0-9a-f]{32}$/);
    expect(md5Verifier('secret', 'alice')).not.toBe(md5Verifier('secret', 'alice_clone'));
    expect(md5Literal('secret', 'alice')).toBe(`'${md5Verifier('secret', 'alice')}'`);
  });

  test('password statements carry the verifier only, never the password', () => {
    const alter = alterPasswordSql('app', PW);
    expect(alter).toBe(`ALTER USER "app" PASSWORD '${md5Verifier(PW, 'app')}'`);
    expect(createUserSql('app_clone', PW)).toBe(`CREATE USER "app_clone" PASSWORD '${md5Verifier(PW, 'app_clone')}'`);
    expect(alter).not.toContain(PW);
    expect(alter).not.toContain('DROP');
  });
});

const attrs = (over: Partial<typeof DEFAULT_ATTRIBUTES> = {}) => ({ ...DEFAULT_ATTRIBUTES, ...over });

describe('attribute statements', () => {
  test('none when equal', () => {
    expect(attributeStatements('c', attrs(), attrs())).toEqual([]);
  });

  test('each attribute, both directions, in the contract syntax', () => {
    const rich = attrs({ createdb: true, superuser: true, connectionLimit: '10', validUntil: '2030-01-01 00:00:00+00', syslogAccess: 'UNRESTRICTED', sessionTimeout: 600 });
    expect(attributeStatements('c', attrs(), rich)).toEqual([
      'ALTER USER "c" CREATEDB',
      'ALTER USER "c" CREATEUSER',
      'ALTER USER "c" CONNECTION LIMIT 10',
      'ALTER USER "c" VALID UNTIL \'2030-01-01 00:00:00+00\'',
      'ALTER USER "c" SYSLOG ACCESS UNRESTRICTED',
      'ALTER USER "c" SESSION TIMEOUT 600',
    ]);
    expect(attributeStatements('c', rich, attrs())).toEqual([
      'ALTER USER "c" NOCREATEDB',
      'ALTER USER "c" NOCREATEUSER',
      'ALTER USER "c" CONNECTION LIMIT UNLIMITED',
      'ALTER USER "c" VALID UNTIL \'infinity\'',
      'ALTER USER "c" SYSLOG ACCESS RESTRICTED',
      'ALTER USER "c" RESET SESSION TIMEOUT',
    ]);
  });

  test('refuses values that could break out of SQL', () => {
    expect(() => attributeStatements('c', attrs(), attrs({ validUntil: '2030\'; DROP TABLE t; --' }))).toThrow(/VALID UNTIL/);
    expect(() => attributeStatements('c', attrs(), attrs({ connectionLimit: '1; DROP' }))).toThrow(/connection limit/);
    expect(() => attributeStatements('c', attrs(), attrs({ sessionTimeout: -1 }))).toThrow(/session timeout/);
  });
});

describe('privilege statements', () => {
  test('relations, schemas and databases with quoted identifiers', () => {
    const rel: Privilege = { kind: 'relation', object: ['s"x', 't'], privilege: 'SELECT' };
    expect(privilegeSql('GRANT', rel, 'c')).toBe('GRANT SELECT ON TABLE "s""x"."t" TO "c"');
    expect(privilegeSql('REVOKE', rel, 'c')).toBe('REVOKE SELECT ON TABLE "s""x"."t" FROM "c"');
    expect(privilegeSql('GRANT', { kind: 'schema', object: ['s'], privilege: 'USAGE' }, 'c')).toBe('GRANT USAGE ON SCHEMA "s" TO "c"');
    expect(privilegeSql('REVOKE', { kind: 'database', object: ['d'], privilege: 'CREATE' }, 'c')).toBe('REVOKE CREATE ON DATABASE "d" FROM "c"');
  });
});

function state(name: string, over: Partial<UserState> = {}): UserState {
  return { name, attributes: attrs(), groups: new Set(), roles: new Set(), privileges: [], ...over };
}

describe('clone synchronisation (diff)', () => {
  const original = state('app', {
    attributes: attrs({ createdb: true, connectionLimit: '5' }),
    groups: new Set(['readers', 'writers']),
    roles: new Set(['analyst']),
    privileges: [
      { kind: 'relation', object: ['public', 'orders'], privilege: 'SELECT' },
      { kind: 'schema', object: ['public'], privilege: 'USAGE' },
      { kind: 'database', object: ['dev'], privilege: 'TEMP' },
    ],
  });

  test('a new clone gets everything the original has', () => {
    expect(syncStatements('app_clone', original, undefined)).toEqual([
      'ALTER USER "app_clone" CREATEDB',
      'ALTER USER "app_clone" CONNECTION LIMIT 5',
      'ALTER GROUP "readers" ADD USER "app_clone"',
      'ALTER GROUP "writers" ADD USER "app_clone"',
      'GRANT ROLE "analyst" TO "app_clone"',
      'GRANT TEMP ON DATABASE "dev" TO "app_clone"',
      'GRANT SELECT ON TABLE "public"."orders" TO "app_clone"',
      'GRANT USAGE ON SCHEMA "public" TO "app_clone"',
    ]);
  });

  test('an existing clone: adds what is missing and removes what the original no longer has', () => {
    const clone = state('app_clone', {
      attributes: attrs({ createdb: true, connectionLimit: '5', syslogAccess: 'UNRESTRICTED' }),
      groups: new Set(['readers', 'admins']),
      roles: new Set(['analyst', 'dba']),
      privileges: [
        { kind: 'relation', object: ['public', 'orders'], privilege: 'SELECT' },
        { kind: 'relation', object: ['public', 'orders'], privilege: 'DELETE' },
      ],
    });
    expect(syncStatements('app_clone', original, clone)).toEqual([
      'ALTER USER "app_clone" SYSLOG ACCESS RESTRICTED',
      'ALTER GROUP "admins" DROP USER "app_clone"',
      'ALTER GROUP "writers" ADD USER "app_clone"',
      'REVOKE ROLE "dba" FROM "app_clone"',
      'REVOKE DELETE ON TABLE "public"."orders" FROM "app_clone"',
      'GRANT TEMP ON DATABASE "dev" TO "app_clone"',
      'GRANT USAGE ON SCHEMA "public" TO "app_clone"',
    ]);
  });

  test('nothing when the clone is in line', () => {
    expect(syncStatements('app_clone', original, { ...original, name: 'app_clone' })).toEqual([]);
  });

  test('setSecret writes: CREATE USER for a new clone, ALTER USER otherwise; the original is never altered but for its password', () => {
    const created = alternatingWrites({ pendingUser: 'app_clone', pendingPassword: PW, originalUser: 'app', cloneUser: 'app_clone', original, clone: undefined });
    expect(created[0]).toBe(createUserSql('app_clone', PW));
    expect(created.slice(1)).toEqual(syncStatements('app_clone', original, undefined));

    const clone = state('app_clone');
    const altered = alternatingWrites({ pendingUser: 'app_clone', pendingPassword: PW, originalUser: 'app', cloneUser: 'app_clone', original, clone });
    expect(altered[0]).toBe(alterPasswordSql('app_clone', PW));

    const back = alternatingWrites({ pendingUser: 'app', pendingPassword: PW, originalUser: 'app', cloneUser: 'app_clone', original, clone });
    expect(back[0]).toBe(alterPasswordSql('app', PW));
    expect(back.slice(1)).toEqual(syncStatements('app_clone', original, clone));
    expect(back.slice(1).every((s) => s.includes('"app_clone"'))).toBe(true);
  });

  test('a missing original is refused (it is the source of truth)', () => {
    expect(() => alternatingWrites({ pendingUser: 'app', pendingPassword: PW, originalUser: 'app', cloneUser: 'app_clone', original: undefined, clone: state('app_clone') }))
      .toThrow(/original user "app" does not exist/);
  });
});

describe('catalog reads', () => {
  test('the SQL is exactly the contract\'s', () => {
    expect(CATALOG_SQL.users).toBe('SELECT u.usename, u.usesysid, u.usecreatedb, u.usesuper, u.valuntil, i.useconnlimit, i.syslogaccess, i.sessiontimeout\n'
      + '  FROM pg_user u JOIN svl_user_info i ON i.usesysid = u.usesysid WHERE u.usename IN (:original, :clone)');
    expect(CATALOG_SQL.groups).toBe('SELECT u.usename, g.groname FROM pg_group g, pg_user u WHERE u.usename IN (:original, :clone) AND u.usesysid = ANY(g.grolist)');
    expect(CATALOG_SQL.roles).toBe('SELECT user_name, role_name FROM svv_user_grants WHERE user_name IN (:original, :clone)');
    for (const q of [CATALOG_SQL.relations, CATALOG_SQL.schemas, CATALOG_SQL.databases]) {
      expect(q).toMatch(/\n {2}WHERE identity_type = 'user' AND identity_name IN \(:original, :clone\)$/);
    }
  });

  const rows = (over: Partial<Record<keyof CatalogRows, Row[]>>): CatalogRows => ({
    users: [], groups: [], roles: [], relations: [], schemas: [], databases: [], ...over,
  });

  test('parses attributes with the contract\'s column types', () => {
    const parsed = parseCatalog('app', 'app_clone', rows({
      users: [
        { usename: 'app', usesysid: 100, usecreatedb: true, usesuper: false, valuntil: '2030-01-01 00:00:00+00', useconnlimit: '10', syslogaccess: 'UNRESTRICTED', sessiontimeout: 600 },
        { usename: 'app_clone', usesysid: 101, usecreatedb: false, usesuper: false, valuntil: null, useconnlimit: 'UNLIMITED', syslogaccess: 'RESTRICTED', sessiontimeout: 0 },
      ],
    }));
    expect(parsed.original!.attributes).toEqual({ createdb: true, superuser: false, connectionLimit: '10', validUntil: '2030-01-01 00:00:00+00', syslogAccess: 'UNRESTRICTED', sessionTimeout: 600 });
    expect(parsed.clone!.attributes).toEqual(DEFAULT_ATTRIBUTES);
  });

  test('a user without a users row does not exist', () => {
    const parsed = parseCatalog('app', 'app_clone', rows({
      users: [{ usename: 'app', usesysid: 1, usecreatedb: false, usesuper: false, valuntil: null, useconnlimit: 'UNLIMITED', syslogaccess: 'RESTRICTED', sessiontimeout: 0 }],
      groups: [{ usename: 'app', groname: 'g' }],
    }));
    expect(parsed.clone).toBeUndefined();
    expect([...parsed.original!.groups]).toEqual(['g']);
  });

  test('groups, roles and grants by user; TEMPORARY is TEMP; privileges off the allow-list are skipped by name', () => {
    const user = { usesysid: 1, usecreatedb: false, usesuper: false, valuntil: null, useconnlimit: 'UNLIMITED', syslogaccess: 'RESTRICTED', sessiontimeout: 0 };
    const parsed = parseCatalog('app', 'app_clone', rows({
      users: [{ usename: 'app', ...user }, { usename: 'app_clone', ...user }],
      groups: [{ usename: 'app', groname: 'g1' }, { usename: 'app_clone', groname: 'g2' }],
      roles: [{ user_name: 'app', role_name: 'r1' }],
      relations: [
        { identity_name: 'app', namespace_name: 's', relation_name: 't', privilege_type: 'SELECT' },
        { identity_name: 'app', namespace_name: 's', relation_name: 't', privilege_type: 'RULE' },
        { identity_name: 'app', namespace_name: 's', relation_name: 't', privilege_type: 'SELECT; DROP TABLE x' },
      ],
      schemas: [{ identity_name: 'app_clone', namespace_name: 's', privilege_type: 'usage' }],
      databases: [{ identity_name: 'app', database_name: 'dev', privilege_type: 'TEMPORARY' }],
    }));
    expect([...parsed.original!.groups]).toEqual(['g1']);
    expect([...parsed.clone!.groups]).toEqual(['g2']);
    expect([...parsed.original!.roles]).toEqual(['r1']);
    expect(parsed.original!.privileges).toEqual([
      { kind: 'relation', object: ['s', 't'], privilege: 'SELECT' },
      { kind: 'database', object: ['dev'], privilege: 'TEMP' },
    ]);
    expect(parsed.clone!.privileges).toEqual([{ kind: 'schema', object: ['s'], privilege: 'USAGE' }]);
    expect(parsed.skipped).toEqual([
      'relation privilege "RULE" of app on s.t',
      'relation privilege "SELECT; DROP TABLE x" of app on s.t',
    ]);
  });

  test('refuses unexpected attribute values', () => {
    expect(() => parseCatalog('app', 'app_clone', rows({
      users: [{ usename: 'app', usesysid: 1, usecreatedb: false, usesuper: false, valuntil: null, useconnlimit: 'UNLIMITED', syslogaccess: 'MAYBE', sessiontimeout: 0 }],
    }))).toThrow(/syslogaccess/);
  });
});
