/**
 * The catalog reads turned into user attributes: every way the columns come back from the Data API.
 */
import { CatalogRows, parseCatalog, parseTextArray, parseUseconfig, Row } from '../../lambda/rotation/catalog';

const rows = (over: Partial<Record<keyof CatalogRows, Row[]>>): CatalogRows => ({
  master: [], users: [], groups: [], roles: [], relations: [], schemas: [], databases: [], functions: [], procedures: [], owned: [], ...over,
});
const user = (over: Row): Row => ({
  usename: 'app', usesysid: 100, usecreatedb: false, usesuper: false, valuntil: null, useconnlimit: 'UNLIMITED', syslogaccess: 'RESTRICTED', sessiontimeout: 0, ...over,
});
const attributesOf = (over: Row) => parseCatalog('app', 'app_clone', rows({ users: [user(over)] })).original!.attributes;

describe('connection limit', () => {
  test.each([
    ['-1 as text (PostgreSQL\'s no limit) is read as UNLIMITED', '-1', 'UNLIMITED'],
    ['-1 as a number is read as UNLIMITED', -1, 'UNLIMITED'],
    ['-1 padded is read as UNLIMITED', ' -1 ', 'UNLIMITED'],
    ['null is read as UNLIMITED', null, 'UNLIMITED'],
    ['missing is read as UNLIMITED', undefined, 'UNLIMITED'],
    ['empty is read as UNLIMITED', '', 'UNLIMITED'],
    ['unlimited in lower case is read as UNLIMITED', 'unlimited', 'UNLIMITED'],
    ['a number is read as 10', 10, '10'],
    ['digits padded is read as 25', ' 25 ', '25'],
  ])('%s', (_what, raw, expected) => {
    expect(attributesOf({ useconnlimit: raw as Row[string] }).connectionLimit).toBe(expected);
  });
});

describe('the other attributes, in every form the Data API returns them', () => {
  test.each([
    [true, true], [false, false], ['t', true], ['true', true], [' TRUE ', true], ['1', true], ['y', true], ['Yes', true],
    ['f', false], ['false', false], ['0', false], ['no', false], ['', false], ['truex', false], ['xt', false],
    [1, true], [0, false], [null, false], [undefined, false],
  ])('usecreatedb %p is %p', (raw, expected) => {
    expect(attributesOf({ usecreatedb: raw as Row[string] }).createdb).toBe(expected);
    expect(attributesOf({ usesuper: raw as Row[string] }).superuser).toBe(expected);
  });

  test.each([
    [null, 'infinity'], [undefined, 'infinity'], ['', 'infinity'], ['   ', 'infinity'],
    [' 2030-01-01 00:00:00+00 ', '2030-01-01 00:00:00+00'], ['infinity', 'infinity'],
  ])('valuntil %p is %p', (raw, expected) => {
    expect(attributesOf({ valuntil: raw as Row[string] }).validUntil).toBe(expected);
  });

  test.each([
    [null, 'RESTRICTED'], [undefined, 'RESTRICTED'], ['restricted', 'RESTRICTED'], [' unrestricted ', 'UNRESTRICTED'], ['UNRESTRICTED', 'UNRESTRICTED'],
  ])('syslogaccess %p is %p', (raw, expected) => {
    expect(attributesOf({ syslogaccess: raw as Row[string] }).syslogAccess).toBe(expected);
  });

  test('a syslogaccess that is neither is refused, naming it', () => {
    expect(() => attributesOf({ syslogaccess: 'sometimes' })).toThrow(/^catalog read users: syslogaccess "SOMETIMES" is not RESTRICTED or UNRESTRICTED$/);
    expect(() => attributesOf({ syslogaccess: '' })).toThrow(/^catalog read users: syslogaccess "" is not RESTRICTED or UNRESTRICTED$/);
  });

  test.each([[null, 0], [undefined, 0], ['', 0], ['600', 600], [600, 600], [0, 0]])('sessiontimeout %p is %p', (raw, expected) => {
    expect(attributesOf({ sessiontimeout: raw as Row[string] }).sessionTimeout).toBe(expected);
  });

  test.each([[-1], ['-5'], [1.5], ['abc'], ['1e400']])('sessiontimeout %p is refused', (raw) => {
    expect(() => attributesOf({ sessiontimeout: raw as Row[string] })).toThrow(/^catalog read users: sessiontimeout is not a non-negative integer$/);
  });
});

describe('a column missing from a read is an error naming the read and the column', () => {
  const full = (): Record<keyof CatalogRows, Record<string, Row[string]>[]> => ({
    master: [{ usename: 'admin', usesuper: true }],
    users: [{ ...user({}) }],
    groups: [{ usename: 'app', groname: 'g' }],
    roles: [{ user_name: 'app', role_name: 'r' }],
    relations: [{ identity_name: 'app', namespace_name: 's', relation_name: 't', privilege_type: 'SELECT' }],
    schemas: [{ identity_name: 'app', namespace_name: 's', privilege_type: 'USAGE' }],
    databases: [{ identity_name: 'app', database_name: 'dev', privilege_type: 'TEMP' }],
    procedures: [{ namespace_name: 's', procedure_name: 'p', argument_types: 'integer' }],
    functions: [{ identity_name: 'app', namespace_name: 's', function_name: 'f', argument_types: 'integer', privilege_type: 'EXECUTE' }],
    owned: [{ owner_name: 'app', object_type: 'table', namespace_name: 's', object_name: 'o', argument_types: null }],
  });
  const cases: Array<[keyof CatalogRows, string]> = [
    ['master', 'usename'], ['users', 'usename'], ['groups', 'usename'], ['groups', 'groname'], ['roles', 'user_name'], ['roles', 'role_name'],
    ['relations', 'identity_name'], ['relations', 'namespace_name'], ['relations', 'relation_name'], ['relations', 'privilege_type'],
    ['schemas', 'identity_name'], ['schemas', 'namespace_name'], ['schemas', 'privilege_type'],
    ['databases', 'identity_name'], ['databases', 'database_name'], ['databases', 'privilege_type'],
    ['procedures', 'namespace_name'], ['procedures', 'procedure_name'],
    ['functions', 'identity_name'], ['functions', 'namespace_name'], ['functions', 'function_name'], ['functions', 'privilege_type'],
    ['owned', 'owner_name'], ['owned', 'object_type'], ['owned', 'namespace_name'], ['owned', 'object_name'],
  ];

  test('the full rows parse', () => {
    const catalog = parseCatalog('app', 'app_clone', full() as unknown as CatalogRows);
    expect(catalog.original!.privileges.map((p) => `${p.kind}:${p.privilege}`).sort())
      .toEqual(['database:TEMP', 'function:EXECUTE', 'relation:SELECT', 'schema:USAGE']);
    expect([...catalog.original!.groups, ...catalog.original!.roles]).toEqual(['g', 'r']);
    expect(catalog.original!.owned).toEqual([{ kind: 'table', object: ['s', 'o'] }]);
  });

  test.each(cases)('%s without %s', (query, column) => {
    for (const value of [undefined, null]) {
      const r = full();
      r[query][0] = { ...r[query][0], [column]: value as Row[string] };
      expect(() => parseCatalog('app', 'app_clone', r as unknown as CatalogRows)).toThrow(`catalog read ${query}: column ${column} is missing or null`);
    }
  });

  test.each(['function', 'procedure'])('an owned %s without object_name', (type) => {
    const r = full();
    r.owned = [{ owner_name: 'app', object_type: type, namespace_name: 's', object_name: null, argument_types: '' }];
    expect(() => parseCatalog('app', 'app_clone', r as unknown as CatalogRows)).toThrow('catalog read owned: column object_name is missing or null');
  });

  test('numbers and booleans in text columns are read as their text', () => {
    const r = full();
    r.relations = [{ identity_name: 'app', namespace_name: 2024, relation_name: true, privilege_type: 'SELECT' }];
    expect(parseCatalog('app', 'app_clone', r as unknown as CatalogRows).original!.privileges
      .filter((p) => p.kind === 'relation').map((p) => p.object)).toEqual([['2024', 'true']]);
  });
});

describe('privileges as the views list them', () => {
  const withPrivileges = (over: Partial<Record<keyof CatalogRows, Row[]>>) => parseCatalog('app', 'app_clone', rows({ users: [user({})], ...over }));

  test('each allow-listed keyword is copied, padded or in lower case; TEMPORARY is TEMP', () => {
    const catalog = withPrivileges({
      relations: ['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'REFERENCES', 'TRUNCATE', 'DROP', 'ALTER', ' trigger ']
        .map((privilege_type) => ({ identity_name: 'app', namespace_name: 's', relation_name: 't', privilege_type })),
      databases: ['CREATE', 'TEMPORARY', 'usage'].map((privilege_type) => ({ identity_name: 'app', database_name: 'dev', privilege_type })),
    });
    expect(catalog.original!.privileges.map((p) => p.privilege))
      .toEqual(['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'REFERENCES', 'TRUNCATE', 'DROP', 'ALTER', 'TRIGGER', 'CREATE', 'TEMP', 'USAGE']);
    expect(catalog.skipped).toEqual([]);
  });

  test('a function or a procedure whose argument types are not plain type names is skipped and named', () => {
    const bad = 'integer); DROP TABLE x; --';
    const catalog = withPrivileges({
      procedures: [{ namespace_name: 's', procedure_name: 'p', argument_types: bad }],
      functions: [
        { identity_name: 'app', namespace_name: 's', function_name: 'f', argument_types: bad, privilege_type: 'EXECUTE' },
        { identity_name: 'app', namespace_name: 's', function_name: 'p', argument_types: bad, privilege_type: 'EXECUTE' },
        { identity_name: 'app', namespace_name: 's', function_name: 'ok', argument_types: 'integer', privilege_type: 'EXECUTE' },
      ],
    });
    expect(catalog.original!.privileges).toEqual([{ kind: 'function', object: ['s', 'ok', 'integer'], privilege: 'EXECUTE' }]);
    expect(catalog.skipped).toEqual([
      `function privilege EXECUTE of app on s.f: argument types ${JSON.stringify(bad)} are not plain type names`,
      `procedure privilege EXECUTE of app on s.p: argument types ${JSON.stringify(bad)} are not plain type names`,
    ]);
  });

  test('argument types that are null or missing are no arguments, for procedures, functions and owned routines alike', () => {
    for (const none of [null, undefined]) {
      const catalog = withPrivileges({
        procedures: [{ namespace_name: 's', procedure_name: 'p', argument_types: none as Row[string] }],
        functions: [{ identity_name: 'app', namespace_name: 's', function_name: 'p', argument_types: none as Row[string], privilege_type: 'EXECUTE' }],
        owned: [{ owner_name: 'app', object_type: 'function', namespace_name: 's', object_name: 'g', argument_types: none as Row[string] }],
      });
      expect(catalog.original!.privileges).toEqual([{ kind: 'procedure', object: ['s', 'p', ''], privilege: 'EXECUTE' }]);
      expect(catalog.original!.owned).toEqual([{ kind: 'function', object: ['s', 'g', ''] }]);
    }
  });
});

describe('text arrays (useconfig) as the Data API returns them', () => {
  test.each([
    ['[0:1]={a=1,b=2}', ['a=1', 'b=2']],
    ['[10:11]={a=1,b=2}', ['a=1', 'b=2']],
    ['{[0:1]=a}', ['[0:1]=a']],
    ['{  }', []],
    ['{ "x" , y }', ['x', 'y']],
    ['{NULL,null,nullx,xnull,"NULL"}', [null, null, 'nullx', 'xnull', 'NULL']],
    ['{"a\\\\"}', ['a\\']],
  ])('%s', (text, expected) => {
    expect(parseTextArray(text)).toEqual(expected);
  });

  test.each([
    ['x[0:1]={a}', 'not an array literal'],
    ['{a=1', 'not an array literal'],
    ['a=1}', 'not an array literal'],
    ['{"a=1}', 'unterminated quoted element'],
    ['{"a\\}', 'dangling backslash'],
    ['{a"b}', 'unexpected character in an unquoted element'],
    ['{a{b}', 'unexpected character in an unquoted element'],
    ['{a}b}', 'unexpected character in an unquoted element'],
    ['{a\\b}', 'unexpected character in an unquoted element'],
    ['{a,,b}', 'empty unquoted element'],
    ['{"a" "b"}', 'expected a comma between elements'],
  ])('%s is refused: %s', (text, message) => {
    expect(() => parseTextArray(text)).toThrow(new RegExp(`^${message}$`));
  });

  test('an empty useconfig is no settings; one that is not an array literal is reported with the reason', () => {
    expect(parseUseconfig('app', '')).toEqual({ settings: new Map(), skipped: [] });
    expect(parseUseconfig('app', '{"a=1}')).toEqual({ skipped: ['settings of app: useconfig is not an array literal (unterminated quoted element); settings left as they are'] });
  });
});
