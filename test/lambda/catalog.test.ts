/**
 * The catalog reads turned into user attributes: every way the columns come back from the Data API.
 */
import { CatalogRows, parseCatalog, Row } from '../../lambda/rotation/catalog';

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
