import { createHash } from 'crypto';
import {
  CATALOG_SQL, CatalogQuery, catalogStatement, CatalogRows, OWNER_EQUIVALENT, parseCatalog, PRIVILEGE_ALLOW_LIST,
  parseTextArray, parseUseconfig, Privilege, Row, UserState,
} from '../../lambda/rotation/catalog';
import {
  alterPasswordSql,
  alternatingWrites,
  attributeStatements,
  createUserSql,
  DEFAULT_ATTRIBUTES,
  groupedPrivilegeStatements,
  MAX_STATEMENT_BYTES,
  md5Literal,
  md5Verifier,
  privilegeSql,
  quoteIdent,
  settingStatements,
  settingValueSql,
  splitSettingList,
  syncStatements,
  targetPrivileges,
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
    expect(alter.includes(PW)).toBe(false);
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
  return { name, attributes: attrs(), settings: new Map(), groups: new Set(), roles: new Set(), privileges: [], owned: [], ...over };
}

describe('pending := current (diff)', () => {
  const current = state('app', {
    attributes: attrs({ createdb: true, connectionLimit: '5' }),
    settings: new Map([['search_path', 'appdata, public'], ['statement_timeout', '1000']]),
    groups: new Set(['readers', 'writers']),
    roles: new Set(['analyst']),
    privileges: [
      { kind: 'relation', object: ['public', 'orders'], privilege: 'SELECT' },
      { kind: 'schema', object: ['public'], privilege: 'USAGE' },
      { kind: 'database', object: ['dev'], privilege: 'TEMP' },
    ],
  });

  test('a new pending user gets everything the current one has', () => {
    expect(syncStatements('app_clone', current, undefined)).toEqual({
      statements: [
        'ALTER USER "app_clone" CREATEDB',
        'ALTER USER "app_clone" CONNECTION LIMIT 5',
        'ALTER USER "app_clone" SET search_path TO \'appdata\', \'public\'',
        'ALTER USER "app_clone" SET statement_timeout TO \'1000\'',
        'ALTER GROUP "readers" ADD USER "app_clone"',
        'ALTER GROUP "writers" ADD USER "app_clone"',
        'GRANT ROLE "analyst" TO "app_clone"',
        'GRANT TEMP ON DATABASE "dev" TO "app_clone"',
        'GRANT USAGE ON SCHEMA "public" TO "app_clone"',
        'GRANT SELECT ON TABLE "public"."orders" TO "app_clone"',
      ],
      skipped: [],
    });
  });

  test('an existing pending user: adds what is missing and removes what the current user does not have; only the pending user is named', () => {
    const pending = state('app_clone', {
      attributes: attrs({ createdb: true, connectionLimit: '5', syslogAccess: 'UNRESTRICTED' }),
      settings: new Map([['search_path', 'public'], ['query_group', 'etl'], ['statement_timeout', '1000']]),
      groups: new Set(['readers', 'admins']),
      roles: new Set(['analyst', 'dba']),
      privileges: [
        { kind: 'relation', object: ['public', 'orders'], privilege: 'SELECT' },
        { kind: 'relation', object: ['public', 'orders'], privilege: 'DELETE' },
        { kind: 'function', object: ['public', 'f', ''], privilege: 'EXECUTE' },
      ],
    });
    const { statements } = syncStatements('app_clone', current, pending);
    expect(statements).toEqual([
      'ALTER USER "app_clone" SYSLOG ACCESS RESTRICTED',
      'ALTER USER "app_clone" SET search_path TO \'appdata\', \'public\'',
      'ALTER USER "app_clone" RESET query_group',
      'ALTER GROUP "admins" DROP USER "app_clone"',
      'ALTER GROUP "writers" ADD USER "app_clone"',
      'REVOKE ROLE "dba" FROM "app_clone"',
      'REVOKE DELETE ON TABLE "public"."orders" FROM "app_clone"',
      'REVOKE EXECUTE ON FUNCTION "public"."f"() FROM "app_clone"',
      'GRANT TEMP ON DATABASE "dev" TO "app_clone"',
      'GRANT USAGE ON SCHEMA "public" TO "app_clone"',
    ]);
    expect(statements.every((sql) => sql.includes('"app_clone"') && !sql.includes('"app"'))).toBe(true);
  });

  test('nothing when the pending user is in line', () => {
    expect(syncStatements('app_clone', current, { ...current, name: 'app_clone' }).statements).toEqual([]);
  });

  test('setSecret writes: CREATE USER for a new pending user, ALTER USER otherwise; the current user is never named', () => {
    const created = alternatingWrites({ pendingUser: 'app_clone', pendingPassword: PW, currentUser: 'app', current, pending: undefined });
    expect(created.statements[0]).toBe(createUserSql('app_clone', PW));
    expect(created.statements.slice(1)).toEqual(syncStatements('app_clone', current, undefined).statements);

    const back = alternatingWrites({ pendingUser: 'app', pendingPassword: PW, currentUser: 'app_clone', current: { ...current, name: 'app_clone' }, pending: state('app') });
    expect(back.statements[0]).toBe(alterPasswordSql('app', PW));
    expect(back.statements.length).toBeGreaterThan(5);
    expect(back.statements.every((sql) => sql.includes('"app"') && !sql.includes('"app_clone"'))).toBe(true);
  });

  test('a current user missing from the catalog is refused (it is the source of truth)', () => {
    expect(() => alternatingWrites({ pendingUser: 'app', pendingPassword: PW, currentUser: 'app_clone', current: undefined, pending: state('app') }))
      .toThrow(/AWSCURRENT user "app_clone" is not in pg_user \/ svv_user_info .* nothing was changed/);
  });
});

describe('owned objects: owner-equivalent grants', () => {
  test('every owner-equivalent privilege can be read back and copied (it is on the allow-list of its kind)', () => {
    // the pending user's owner-equivalent grants are explicit grants: the next rotation reads them from the privilege
    // views and copies them; one off the allow-list would be skipped then, and the next user would lose it
    for (const [owned, { kind, privileges }] of Object.entries(OWNER_EQUIVALENT)) {
      expect(privileges.length).toBeGreaterThan(0);
      for (const privilege of privileges) expect([owned, PRIVILEGE_ALLOW_LIST[kind].includes(privilege)]).toEqual([owned, true]);
    }
    // what is granted on a view is granted on a table too (both are relations), and a table gets more
    expect(OWNER_EQUIVALENT.view.privileges.every((p) => OWNER_EQUIVALENT.table.privileges.includes(p))).toBe(true);
    expect(OWNER_EQUIVALENT.table.privileges.length).toBeGreaterThan(OWNER_EQUIVALENT.view.privileges.length);
  });

  test('the pending user gets owner-equivalent grants on what the current user owns, except on what it owns itself', () => {
    const current = state('app_clone', {
      privileges: [
        { kind: 'relation', object: ['s', 'shared'], privilege: 'SELECT' },
        // on a table the pending user owns: not a target
        { kind: 'relation', object: ['s', 'mine'], privilege: 'SELECT' },
      ],
      owned: [
        { kind: 'schema', object: ['s2'] },
        { kind: 'view', object: ['s', 'v'] },
        { kind: 'function', object: ['s', 'f', 'integer'] },
        { kind: 'database', object: ['other'] },
      ],
    });
    const pending = state('app', { owned: [{ kind: 'table', object: ['s', 'mine'] }, { kind: 'schema', object: ['s'] }] });
    const keys = targetPrivileges(current, pending).map((p) => `${p.kind} ${p.object.join('.')} ${p.privilege}`).sort();
    expect(keys).toEqual([
      'database other CREATE', 'database other TEMP',
      'function s.f.integer EXECUTE',
      'relation s.shared SELECT',
      'relation s.v ALTER', 'relation s.v DROP', 'relation s.v SELECT',
      'schema s2 ALTER', 'schema s2 CREATE', 'schema s2 DROP', 'schema s2 USAGE',
    ]);
  });

  test('grants the pending user holds on objects it owns are never revoked; grants on objects neither owns are kept in line', () => {
    const current = state('app_clone', { owned: [{ kind: 'table', object: ['s', 'new_one'] }] });
    const pending = state('app', {
      owned: [{ kind: 'table', object: ['s', 'items'] }],
      privileges: [
        { kind: 'relation', object: ['s', 'items'], privilege: 'SELECT' },
        { kind: 'relation', object: ['s', 'other'], privilege: 'SELECT' },
      ],
    });
    expect(syncStatements('app', current, pending).statements).toEqual([
      'REVOKE SELECT ON TABLE "s"."other" FROM "app"',
      'GRANT SELECT, INSERT, UPDATE, DELETE, REFERENCES, TRUNCATE, DROP, ALTER ON TABLE "s"."new_one" TO "app"',
    ]);
  });
});

describe('grouped GRANT / REVOKE', () => {
  const rel = (t: string, privilege: string, schema = 's'): Privilege => ({ kind: 'relation', object: [schema, t], privilege });

  test('one statement per kind and privilege set, objects sorted, kinds in order', () => {
    expect(groupedPrivilegeStatements('GRANT', [
      rel('b', 'SELECT'), rel('a', 'SELECT'), rel('c', 'INSERT'), rel('c', 'SELECT'),
      { kind: 'schema', object: ['s'], privilege: 'USAGE' },
      { kind: 'database', object: ['dev'], privilege: 'CREATE' },
      { kind: 'function', object: ['s', 'f', 'integer, character varying'], privilege: 'EXECUTE' },
      { kind: 'procedure', object: ['s', 'p', ''], privilege: 'EXECUTE' },
    ], 'u')).toEqual([
      'GRANT CREATE ON DATABASE "dev" TO "u"',
      'GRANT USAGE ON SCHEMA "s" TO "u"',
      'GRANT SELECT ON TABLE "s"."a", "s"."b" TO "u"',
      'GRANT SELECT, INSERT ON TABLE "s"."c" TO "u"',
      'GRANT EXECUTE ON FUNCTION "s"."f"(integer, character varying) TO "u"',
      'GRANT EXECUTE ON PROCEDURE "s"."p"() TO "u"',
    ]);
    expect(groupedPrivilegeStatements('REVOKE', [rel('a', 'DELETE')], 'u')).toEqual(['REVOKE DELETE ON TABLE "s"."a" FROM "u"']);
    expect(groupedPrivilegeStatements('GRANT', [], 'u')).toEqual([]);
  });

  test('the statements do not depend on the order the catalog listed the privileges in', () => {
    const privileges = [rel('a', 'SELECT'), rel('b', 'INSERT'), rel('c', 'SELECT'), rel('c', 'INSERT'), rel('d', 'DELETE'), rel('e', 'UPDATE')];
    // one kind: the privilege sets in the order of their text
    const expected = [
      'GRANT DELETE ON TABLE "s"."d" TO "u"',
      'GRANT INSERT ON TABLE "s"."b" TO "u"',
      'GRANT SELECT ON TABLE "s"."a" TO "u"',
      'GRANT SELECT, INSERT ON TABLE "s"."c" TO "u"',
      'GRANT UPDATE ON TABLE "s"."e" TO "u"',
    ];
    expect(groupedPrivilegeStatements('GRANT', privileges, 'u')).toEqual(expected);
    expect(groupedPrivilegeStatements('GRANT', [...privileges].reverse(), 'u')).toEqual(expected);
  });

  test('a group too long for one statement is split: every statement under the limit, every object exactly once', () => {
    const long = 'x'.repeat(100);
    const privileges = Array.from({ length: 2000 }, (_, i) => rel(`${long}${String(i).padStart(4, '0')}`, 'SELECT', 'sch"ema'));
    const out = groupedPrivilegeStatements('GRANT', privileges, 'u');
    // 2,000 refs of ~118 bytes (236,000 bytes) need at least 4 statements of at most 60,000 bytes
    expect(out.length).toBeGreaterThanOrEqual(4);
    expect(out.length).toBeLessThanOrEqual(5);
    for (const sql of out) {
      expect(Buffer.byteLength(sql)).toBeLessThanOrEqual(MAX_STATEMENT_BYTES);
      expect(sql).toMatch(/^GRANT SELECT ON TABLE "sch""ema"\."x+\d{4}"(, "sch""ema"\."x+\d{4}")* TO "u"$/);
    }
    const names = out.flatMap((sql) => sql.match(/x+\d{4}/g) ?? []);
    expect(names).toHaveLength(2000);
    expect(new Set(names).size).toBe(2000);
  });
});

describe('user settings', () => {
  test('useconfig text[] as the Data API returns it', () => {
    expect(parseTextArray('{"search_path=appdata, public",statement_timeout=1000}')).toEqual(['search_path=appdata, public', 'statement_timeout=1000']);
    expect(parseTextArray('{"search_path=\\"$user\\", public"}')).toEqual(['search_path="$user", public']);
    expect(parseTextArray('{}')).toEqual([]);
    expect(parseTextArray(' { a=1 , NULL,"b=x\\\\y" } ')).toEqual(['a=1', null, 'b=x\\y']);
    expect(parseTextArray('[1:1]={x=1}')).toEqual(['x=1']);
    for (const bad of ['search_path=a', '{"a=1}', '{a=1,}', '{a"b}', '{"a"x}']) expect(() => parseTextArray(bad)).toThrow();
  });

  test('parseUseconfig: names lower-cased, values kept as stored; null is no settings; garbage is reported, not guessed', () => {
    expect(parseUseconfig('app', '{DateStyle=ISO\\, MDY,"search_path=\\"$user\\", public"}')).toEqual({ settings: undefined, skipped: [expect.stringMatching(/^settings of app: useconfig is not an array literal/)] });
    expect(parseUseconfig('app', '{"DateStyle=ISO, MDY","search_path=\\"$user\\", public"}')).toEqual({
      settings: new Map([['datestyle', 'ISO, MDY'], ['search_path', '"$user", public']]), skipped: [],
    });
    expect(parseUseconfig('app', null)).toEqual({ settings: new Map(), skipped: [] });
    expect(parseUseconfig('app', '{novalue,=x}').skipped).toEqual(['setting "novalue" of app: not name=value', 'setting "=x" of app: not name=value']);
  });

  test('list-valued parameters are re-applied as lists, "$user" included', () => {
    expect(splitSettingList('"$user", public')).toEqual(['$user', 'public']);
    expect(splitSettingList('appdata, "Odd ""Name"""')).toEqual(['appdata', 'Odd "Name"']);
    expect(splitSettingList('"unterminated')).toBeUndefined();
    expect(settingValueSql('search_path', '"$user", public')).toBe('\'$user\', \'public\'');
    expect(settingValueSql('datestyle', 'ISO, MDY')).toBe('\'ISO\', \'MDY\'');
    expect(settingValueSql('statement_timeout', '1000')).toBe('\'1000\'');
    expect(settingValueSql('query_group', 'etl, nightly')).toBe('\'etl, nightly\'');
  });

  test('a value with a quote, a backslash or a control character, or a name that is not plain, is skipped and reported, never spliced', () => {
    const to = new Map([
      ['search_path', 'a\'; DROP USER x; --'],
      ['query_group', 'etl\\'],
      ['bad name', 'x'],
      ['Upper', 'x'],
      ['statement_timeout', '1000'],
      ['wlm_query_slot_count', 'a\nb'],
    ]);
    const out = settingStatements('p', 'app', new Map([['weird-name', '1'], ['datestyle', 'ISO, MDY']]), to);
    expect(out.statements).toEqual(['ALTER USER "p" SET statement_timeout TO \'1000\'', 'ALTER USER "p" RESET datestyle']);
    expect(out.skipped).toEqual([
      'setting "Upper" of app: the parameter name is not a plain identifier',
      'setting "bad name" of app: the parameter name is not a plain identifier',
      'setting "query_group" of app: the value contains a quote, a backslash or a control character',
      'setting "search_path" of app: the value contains a quote, a backslash or a control character',
      'setting "wlm_query_slot_count" of app: the value contains a quote, a backslash or a control character',
      'setting "weird-name" of p: the parameter name is not a plain identifier, so it was not reset',
    ]);
    expect(out.skipped.join(' ')).not.toContain('DROP');
  });

  test('set, changed, reset; an unparseable source changes nothing', () => {
    const from = new Map([['statement_timeout', '500'], ['query_group', 'etl'], ['search_path', 'appdata, public']]);
    const to = new Map([['statement_timeout', '1000'], ['search_path', 'appdata, public'], ['datestyle', 'ISO, DMY']]);
    expect(settingStatements('p', 'c', from, to).statements).toEqual([
      'ALTER USER "p" SET datestyle TO \'ISO\', \'DMY\'',
      'ALTER USER "p" SET statement_timeout TO \'1000\'',
      'ALTER USER "p" RESET query_group',
    ]);
    expect(settingStatements('p', 'c', from, undefined)).toEqual({ statements: [], skipped: [] });
  });
});

describe('catalog reads', () => {
  test('the SQL reads only views that exist on clusters and workgroups', () => {
    expect(CATALOG_SQL.master).toBe('SELECT usename, usesuper FROM pg_user WHERE usename = current_user');
    expect(CATALOG_SQL.users).toBe('SELECT u.usename, u.usesysid, i.createdb AS usecreatedb, i.superuser AS usesuper, u.valuntil, u.useconfig,\n'
      + '       i.connection_limit AS useconnlimit, i.syslog_access AS syslogaccess, i.session_timeout AS sessiontimeout\n'
      + '  FROM pg_user u JOIN svv_user_info i ON i.user_id = u.usesysid WHERE u.usename IN (:original, :clone)');
    expect(CATALOG_SQL.groups).toBe('SELECT u.usename, g.groname FROM pg_group g, pg_user u WHERE u.usename IN (:original, :clone) AND u.usesysid = ANY(g.grolist)');
    expect(CATALOG_SQL.roles).toBe('SELECT user_name, role_name FROM svv_user_grants WHERE user_name IN (:original, :clone)');
    for (const q of [CATALOG_SQL.relations, CATALOG_SQL.schemas, CATALOG_SQL.databases, CATALOG_SQL.functions]) {
      expect(q).toMatch(/\n {2}WHERE identity_type = 'user' AND identity_name IN \(:original, :clone\)$/);
    }
    expect(CATALOG_SQL.owned).toMatch(/pg_class c .* c\.relowner/s);
    expect(CATALOG_SQL.owned).toMatch(/pg_namespace n JOIN pg_user u ON u\.usesysid = n\.nspowner/);
    expect(CATALOG_SQL.owned).toMatch(/pg_proc p .* p\.proowner/s);
    expect(CATALOG_SQL.owned).toMatch(/pg_database d JOIN pg_user u ON u\.usesysid = d\.datdba/);
    expect(Object.values(CATALOG_SQL).join('\n')).not.toMatch(/\b(stl|stv|svl|svcs)_/i);
    expect(CATALOG_SQL.procedures).toMatch(/JOIN pg_language l ON l\.oid = p\.prolang\n {2}WHERE l\.lanname = 'plpgsql'/);
    expect(CATALOG_SQL.owned).toMatch(/CASE WHEN l\.lanname = 'plpgsql' THEN 'procedure' ELSE 'function' END/);
  });

  test('the names are put into the reads as literals, every placeholder replaced, only names that need no quoting', () => {
    expect(catalogStatement('roles', 'a$1', 'a$1_clone')).toBe("SELECT user_name, role_name FROM svv_user_grants WHERE user_name IN ('a$1', 'a$1_clone')");
    // `$$` is a replacement pattern of String.replace (it gives `$`): a name holding it is still put in as written
    expect(catalogStatement('groups', 'u$$', 'u$$_clone')).toContain("IN ('u$$', 'u$$_clone')");
    expect(catalogStatement('master', 'a', 'a_clone')).toBe(CATALOG_SQL.master);
    const owned = catalogStatement('owned', 'a', 'a_clone');
    expect(owned.split("IN ('a', 'a_clone')").length - 1).toBe(4);
    for (const q of Object.keys(CATALOG_SQL) as CatalogQuery[]) expect(catalogStatement(q, 'a', 'a_clone')).not.toMatch(/:original|:clone/);
    for (const bad of ["a'b", 'A', 'a b', 'a\\', '', '1a', 'a"b']) {
      expect(() => catalogStatement('users', bad, 'ok')).toThrow(`user name ${JSON.stringify(bad)} cannot be put into a catalog read`);
      expect(() => catalogStatement('users', 'ok', bad)).toThrow(`user name ${JSON.stringify(bad)} cannot be put into a catalog read`);
    }
  });

  const rows = (over: Partial<Record<keyof CatalogRows, Row[]>>): CatalogRows => ({
    master: [], users: [], groups: [], roles: [], relations: [], schemas: [], databases: [], functions: [], procedures: [], owned: [], ...over,
  });

  test('parses attributes and settings with the contract\'s column types', () => {
    const parsed = parseCatalog('app', 'app_clone', rows({
      master: [{ usename: 'admin', usesuper: true }],
      users: [
        { usename: 'app', usesysid: 100, usecreatedb: true, usesuper: false, valuntil: '2030-01-01 00:00:00+00', useconnlimit: '10', syslogaccess: 'UNRESTRICTED', sessiontimeout: 600, useconfig: '{"search_path=appdata, public"}' },
        { usename: 'app_clone', usesysid: 101, usecreatedb: false, usesuper: false, valuntil: null, useconnlimit: 'UNLIMITED', syslogaccess: 'RESTRICTED', sessiontimeout: 0, useconfig: null },
      ],
    }));
    expect(parsed.master).toEqual({ name: 'admin', superuser: true });
    expect(parsed.original!.attributes).toEqual({ createdb: true, superuser: false, connectionLimit: '10', validUntil: '2030-01-01 00:00:00+00', syslogAccess: 'UNRESTRICTED', sessionTimeout: 600 });
    expect(parsed.original!.settings).toEqual(new Map([['search_path', 'appdata, public']]));
    expect(parsed.clone!.attributes).toEqual(DEFAULT_ATTRIBUTES);
    expect(parsed.clone!.settings).toEqual(new Map());
  });

  test('a user without a users row does not exist; no master row is no master', () => {
    const parsed = parseCatalog('app', 'app_clone', rows({
      users: [{ usename: 'app', usesysid: 1, usecreatedb: false, usesuper: false, valuntil: null, useconnlimit: 'UNLIMITED', syslogaccess: 'RESTRICTED', sessiontimeout: 0 }],
      groups: [{ usename: 'app', groname: 'g' }],
    }));
    expect(parsed.clone).toBeUndefined();
    expect(parsed.master).toBeUndefined();
    expect([...parsed.original!.groups]).toEqual(['g']);
  });

  test('groups, roles, grants and owned objects by user; TEMPORARY is TEMP; privileges off the allow-list and odd argument types are skipped by name', () => {
    const user = { usesysid: 1, usecreatedb: false, usesuper: false, valuntil: null, useconnlimit: 'UNLIMITED', syslogaccess: 'RESTRICTED', sessiontimeout: 0 };
    const parsed = parseCatalog('app', 'app_clone', rows({
      users: [{ usename: 'app', ...user }, { usename: 'app_clone', ...user }],
      groups: [{ usename: 'app', groname: 'g1' }, { usename: 'app_clone', groname: 'g2' }],
      roles: [{ user_name: 'app', role_name: 'r1' }],
      relations: [
        { identity_name: 'app', namespace_name: 's', relation_name: 't', privilege_type: 'SELECT' },
        { identity_name: 'app', namespace_name: 's', relation_name: 't', privilege_type: 'SELECT' },
        { identity_name: 'app', namespace_name: 's', relation_name: 't', privilege_type: 'RULE' },
        { identity_name: 'app', namespace_name: 's', relation_name: 't', privilege_type: 'SELECT; DROP TABLE x' },
        { identity_name: 'someone', namespace_name: 's', relation_name: 't', privilege_type: 'SELECT' },
      ],
      schemas: [{ identity_name: 'app_clone', namespace_name: 's', privilege_type: 'usage' }],
      databases: [{ identity_name: 'app', database_name: 'dev', privilege_type: 'TEMPORARY' }],
      functions: [
        { identity_name: 'app', namespace_name: 's', function_name: 'f', argument_types: 'integer, character varying', privilege_type: 'EXECUTE' },
        { identity_name: 'app', namespace_name: 's', function_name: 'g', argument_types: null, privilege_type: 'EXECUTE' },
        { identity_name: 'app', namespace_name: 's', function_name: 'h', argument_types: 'integer); DROP TABLE x; --', privilege_type: 'EXECUTE' },
        { identity_name: 'app_clone', namespace_name: 's', function_name: 'p', argument_types: 'integer', privilege_type: 'EXECUTE' },
        // same name, other arguments: a function
        { identity_name: 'app_clone', namespace_name: 's', function_name: 'p', argument_types: '', privilege_type: 'EXECUTE' },
      ],
      procedures: [{ namespace_name: 's', procedure_name: 'p', argument_types: 'integer' }],
      owned: [
        { owner_name: 'app', object_type: 'table', namespace_name: 'appdata', object_name: 'items', argument_types: null },
        { owner_name: 'app', object_type: 'view', namespace_name: 'appdata', object_name: 'v', argument_types: null },
        { owner_name: 'app', object_type: 'schema', namespace_name: 'appdata', object_name: null, argument_types: null },
        { owner_name: 'app_clone', object_type: 'function', namespace_name: 'appdata', object_name: 'f', argument_types: '' },
        { owner_name: 'app_clone', object_type: 'function', namespace_name: 'appdata', object_name: 'q', argument_types: '"MyType"' },
        { owner_name: 'app_clone', object_type: 'database', namespace_name: 'other', object_name: null, argument_types: null },
        { owner_name: 'app_clone', object_type: 'procedure', namespace_name: 'appdata', object_name: 'pr', argument_types: 'integer, integer' },
        { owner_name: 'admin', object_type: 'table', namespace_name: 'x', object_name: 'y', argument_types: null },
      ],
    }));
    expect([...parsed.original!.groups]).toEqual(['g1']);
    expect([...parsed.clone!.groups]).toEqual(['g2']);
    expect([...parsed.original!.roles]).toEqual(['r1']);
    expect(parsed.original!.privileges).toEqual([
      { kind: 'relation', object: ['s', 't'], privilege: 'SELECT' },
      { kind: 'database', object: ['dev'], privilege: 'TEMP' },
      { kind: 'function', object: ['s', 'f', 'integer, character varying'], privilege: 'EXECUTE' },
      { kind: 'function', object: ['s', 'g', ''], privilege: 'EXECUTE' },
    ]);
    expect(parsed.clone!.privileges).toEqual([
      { kind: 'schema', object: ['s'], privilege: 'USAGE' },
      { kind: 'procedure', object: ['s', 'p', 'integer'], privilege: 'EXECUTE' },
      { kind: 'function', object: ['s', 'p', ''], privilege: 'EXECUTE' },
    ]);
    expect(parsed.original!.owned).toEqual([
      { kind: 'table', object: ['appdata', 'items'] },
      { kind: 'view', object: ['appdata', 'v'] },
      { kind: 'schema', object: ['appdata'] },
    ]);
    expect(parsed.clone!.owned).toEqual([
      { kind: 'function', object: ['appdata', 'f', ''] },
      { kind: 'database', object: ['other'] },
      { kind: 'procedure', object: ['appdata', 'pr', 'integer, integer'] },
    ]);
    expect(parsed.skipped).toEqual([
      'relation privilege "RULE" of app on s.t',
      'relation privilege "SELECT; DROP TABLE x" of app on s.t',
      'function privilege EXECUTE of app on s.h: argument types "integer); DROP TABLE x; --" are not plain type names',
      'function appdata.q owned by app_clone: argument types "\\"MyType\\"" are not plain type names',
    ]);
  });

  test('refuses unexpected attribute values and object types', () => {
    expect(() => parseCatalog('app', 'app_clone', rows({
      users: [{ usename: 'app', usesysid: 1, usecreatedb: false, usesuper: false, valuntil: null, useconnlimit: 'UNLIMITED', syslogaccess: 'MAYBE', sessiontimeout: 0 }],
    }))).toThrow(/syslogaccess/);
    expect(() => parseCatalog('app', 'app_clone', rows({
      users: [{ usename: 'app', usesysid: 1, usecreatedb: false, usesuper: false, valuntil: null, useconnlimit: 'UNLIMITED', syslogaccess: 'RESTRICTED', sessiontimeout: 0 }],
      owned: [{ owner_name: 'app', object_type: 'sequence', namespace_name: 's', object_name: 'q', argument_types: null }],
    }))).toThrow(/object_type "sequence"/);
  });
});

describe('alternatingWrites with the create-user tag (issue 9.1)', () => {
  test('a missing AWSCURRENT user is created first, with its password, then the pending user, from a new user\'s state', () => {
    const out = alternatingWrites({ pendingUser: 'app_clone', pendingPassword: 'NewPassw0rd', currentUser: 'app', current: undefined, pending: undefined, currentPassword: 'CurPassw0rd' });
    expect(out.statements).toEqual([createUserSql('app', 'CurPassw0rd'), createUserSql('app_clone', 'NewPassw0rd')]);
    expect(out.statements.some((s) => s.includes('Passw0rd'))).toBe(false);
  });

  test('without currentPassword a missing AWSCURRENT user is refused', () => {
    expect(() => alternatingWrites({ pendingUser: 'app_clone', pendingPassword: 'NewPassw0rd', currentUser: 'app', current: undefined, pending: undefined }))
      .toThrow(/the AWSCURRENT user "app" is not in pg_user/);
  });
});

describe('what the mutation run found unchecked', () => {
  test('quoteIdent refuses what is not a non-empty string', () => {
    expect(() => quoteIdent(5 as unknown as string)).toThrow(/^an SQL identifier must be a non-empty string$/);
    expect(() => quoteIdent('')).toThrow(/^an SQL identifier must be a non-empty string$/);
  });

  test.each(['x infinity', 'infinity; x', "2030-01-01'; DROP USER x; --", 'infinityx', "' || infinity"])(
    'a VALID UNTIL %p that is not a timestamp or infinity is never written', (validUntil) => {
      expect(() => attributeStatements('u', DEFAULT_ATTRIBUTES, { ...DEFAULT_ATTRIBUTES, validUntil }))
        .toThrow(`VALID UNTIL ${JSON.stringify(validUntil)} is not a timestamp or infinity`);
    });

  test.each(['x10', '10 x', 'UNLIMITED; x', 'XUNLIMITED', '-5'])('a connection limit %p is never written', (connectionLimit) => {
    expect(() => attributeStatements('u', DEFAULT_ATTRIBUTES, { ...DEFAULT_ATTRIBUTES, connectionLimit }))
      .toThrow(`connection limit ${JSON.stringify(connectionLimit)} is not UNLIMITED or an integer`);
  });

  test('grouped statements hold as many objects as fit in MAX_STATEMENT_BYTES, and not one byte more', () => {
    const head = 'GRANT SELECT ON TABLE ';
    const tail = ' TO "u"';
    const refOf = (i: number, pad: number) => `"s"."t${String(i).padStart(3, '0')}${'x'.repeat(pad)}"`;
    // 100 objects whose statement is exactly MAX_STATEMENT_BYTES long
    const refs = Array.from({ length: 100 }, (_, i) => refOf(i, 580));
    const used = Buffer.byteLength(head + tail) + refs.reduce((n, r) => n + Buffer.byteLength(r), 0) + 2 * (refs.length - 1);
    refs[99] = refOf(99, 580 + (MAX_STATEMENT_BYTES - used));
    const privileges = (rs: string[]) => rs.map((r) => ({ kind: 'relation' as const, object: ['s', r.slice(5, -1)], privilege: 'SELECT' }));
    const exact = groupedPrivilegeStatements('GRANT', privileges(refs), 'u');
    expect(exact.map((s) => Buffer.byteLength(s))).toEqual([MAX_STATEMENT_BYTES]);
    // one byte more and the last object goes into a second statement
    const over = [...refs.slice(0, 99), refOf(99, 580 + (MAX_STATEMENT_BYTES - used) + 1)];
    const split = groupedPrivilegeStatements('GRANT', privileges(over), 'u');
    expect(split.length).toBe(2);
    expect(split[1]).toBe(`${head}${over[99]}${tail}`);
    expect(Buffer.byteLength(split[0])).toBeLessThanOrEqual(MAX_STATEMENT_BYTES);
  });

  test('grouped statements of one kind come in the order of their privilege lists', () => {
    const out = groupedPrivilegeStatements('GRANT', [
      { kind: 'relation', object: ['s', 'b'], privilege: 'UPDATE' },
      { kind: 'relation', object: ['s', 'a'], privilege: 'SELECT' },
      { kind: 'relation', object: ['s', 'c'], privilege: 'INSERT' },
      { kind: 'relation', object: ['s', 'd'], privilege: 'SELECT' },
    ], 'u');
    expect(out).toEqual([
      'GRANT INSERT ON TABLE "s"."c" TO "u"',
      'GRANT SELECT ON TABLE "s"."a", "s"."d" TO "u"',
      'GRANT UPDATE ON TABLE "s"."b" TO "u"',
    ]);
  });

  test.each([
    ['"$user", public', ['$user', 'public']],
    ['  a ,  b  ', ['a', 'b']],
    ['"a""b"', ['a"b']],
    ['"a"  ,"b"', ['a', 'b']],
    ['"a', undefined],
    ['"a" b', undefined],
    ['a"b', undefined],
  ])('splitSettingList(%p)', (value, expected) => {
    expect(splitSettingList(value)).toEqual(expected);
  });

  test('a skipped setting is named by at most 64 characters of its name', () => {
    const long = 'X'.repeat(70);
    const exact = 'Y'.repeat(64);
    const out = settingStatements('p', 'c', undefined, new Map([[long, '1'], [exact, '1']]));
    expect(out.skipped).toEqual([
      `setting "${'X'.repeat(64)}…" of c: the parameter name is not a plain identifier`,
      `setting "${exact}" of c: the parameter name is not a plain identifier`,
    ]);
  });

  test('settings are reset in name order, whatever order they were read in', () => {
    const from = new Map([['statement_timeout', '1'], ['datestyle', 'ISO'], ['query_group', 'x']]);
    expect(settingStatements('p', 'c', from, new Map()).statements)
      .toEqual(['ALTER USER "p" RESET datestyle', 'ALTER USER "p" RESET query_group', 'ALTER USER "p" RESET statement_timeout']);
  });

  test('groups and roles are added and removed in name order', () => {
    const current = state('c', { groups: new Set(['zeta', 'alpha']), roles: new Set(['r2', 'r1']) });
    const pending = state('p', { groups: new Set(['omega', 'beta']), roles: new Set(['r4', 'r3']) });
    const out = syncStatements('p', current, pending).statements.filter((s) => /GROUP|ROLE/.test(s));
    // taken away first, then given (per kind), each in name order
    expect(out).toEqual([
      'ALTER GROUP "beta" DROP USER "p"', 'ALTER GROUP "omega" DROP USER "p"',
      'ALTER GROUP "alpha" ADD USER "p"', 'ALTER GROUP "zeta" ADD USER "p"',
      'REVOKE ROLE "r3" FROM "p"', 'REVOKE ROLE "r4" FROM "p"',
      'GRANT ROLE "r1" TO "p"', 'GRANT ROLE "r2" TO "p"',
    ]);
  });
});
