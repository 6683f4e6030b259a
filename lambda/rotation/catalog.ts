/**
 * Catalog reads for ALTERNATING_USERS (docs/architecture.md, "Catalog reads"): the exact SQL, its parameters and the
 * parsing of the rows into the state of the original and the clone user.
 */

export type PrivilegeKind = 'relation' | 'schema' | 'database';

export interface UserAttributes {
  readonly createdb: boolean;
  readonly superuser: boolean;
  /** `UNLIMITED` or digits */
  readonly connectionLimit: string;
  /** `infinity` or a timestamp */
  readonly validUntil: string;
  readonly syslogAccess: 'RESTRICTED' | 'UNRESTRICTED';
  /** seconds; 0 = none */
  readonly sessionTimeout: number;
}

export interface Privilege {
  readonly kind: PrivilegeKind;
  /** [schema, relation] | [schema] | [database] */
  readonly object: readonly string[];
  /** an allow-listed keyword, upper case (TEMPORARY is read as TEMP) */
  readonly privilege: string;
}

export interface UserState {
  readonly name: string;
  readonly attributes: UserAttributes;
  readonly groups: ReadonlySet<string>;
  readonly roles: ReadonlySet<string>;
  readonly privileges: readonly Privilege[];
}

export type Row = Readonly<Record<string, string | number | boolean | null>>;

/** The six catalog reads, exactly as docs/architecture.md gives them; `:original` and `:clone` are parameters. */
export const CATALOG_SQL = {
  users: 'SELECT u.usename, u.usesysid, u.usecreatedb, u.usesuper, u.valuntil, i.useconnlimit, i.syslogaccess, i.sessiontimeout\n'
    + '  FROM pg_user u JOIN svl_user_info i ON i.usesysid = u.usesysid WHERE u.usename IN (:original, :clone)',
  groups: 'SELECT u.usename, g.groname FROM pg_group g, pg_user u WHERE u.usename IN (:original, :clone) AND u.usesysid = ANY(g.grolist)',
  roles: 'SELECT user_name, role_name FROM svv_user_grants WHERE user_name IN (:original, :clone)',
  relations: 'SELECT identity_name, namespace_name, relation_name, privilege_type FROM svv_relation_privileges\n'
    + "  WHERE identity_type = 'user' AND identity_name IN (:original, :clone)",
  schemas: 'SELECT identity_name, namespace_name, privilege_type FROM svv_schema_privileges\n'
    + "  WHERE identity_type = 'user' AND identity_name IN (:original, :clone)",
  databases: 'SELECT identity_name, database_name, privilege_type FROM svv_database_privileges\n'
    + "  WHERE identity_type = 'user' AND identity_name IN (:original, :clone)",
} as const;

export type CatalogQuery = keyof typeof CATALOG_SQL;
export type CatalogRows = Readonly<Record<CatalogQuery, readonly Row[]>>;

export function catalogParameters(original: string, clone: string): Array<{ name: string; value: string }> {
  return [{ name: 'original', value: original }, { name: 'clone', value: clone }];
}

/** Privilege keywords copied per object kind; anything else is skipped (and logged by name). */
export const PRIVILEGE_ALLOW_LIST: Readonly<Record<PrivilegeKind, readonly string[]>> = {
  relation: ['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'REFERENCES', 'TRUNCATE', 'DROP', 'ALTER', 'TRIGGER'],
  schema: ['USAGE', 'CREATE', 'ALTER', 'DROP'],
  database: ['CREATE', 'TEMP', 'TEMPORARY', 'USAGE'],
};

/** A key that identifies a privilege on an object (used to diff the original and the clone). */
export function privilegeKey(p: Privilege): string {
  return JSON.stringify([p.kind, ...p.object, p.privilege]);
}

function str(row: Row, column: string, query: string): string {
  const value = row[column];
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  throw new Error(`catalog read ${query}: column ${column} is missing or null`);
}

function bool(row: Row, column: string): boolean {
  const value = row[column];
  if (typeof value === 'boolean') return value;
  if (typeof value === 'string') return /^(t|true|1|y|yes)$/i.test(value.trim());
  return typeof value === 'number' ? value !== 0 : false;
}

function attributes(row: Row): UserAttributes {
  const validRaw = row.valuntil;
  const validUntil = validRaw === null || validRaw === undefined || String(validRaw).trim() === '' ? 'infinity' : String(validRaw).trim();
  const connRaw = row.useconnlimit;
  let connectionLimit = connRaw === null || connRaw === undefined ? 'UNLIMITED' : String(connRaw).trim().toUpperCase();
  // PostgreSQL-style -1 means no limit
  if (connectionLimit === '-1' || connectionLimit === '') connectionLimit = 'UNLIMITED';
  const syslog = row.syslogaccess === null || row.syslogaccess === undefined ? 'RESTRICTED' : String(row.syslogaccess).trim().toUpperCase();
  if (syslog !== 'RESTRICTED' && syslog !== 'UNRESTRICTED') throw new Error(`catalog read users: syslogaccess ${JSON.stringify(syslog)} is not RESTRICTED or UNRESTRICTED`);
  const timeoutRaw = row.sessiontimeout;
  const sessionTimeout = timeoutRaw === null || timeoutRaw === undefined || timeoutRaw === '' ? 0 : Number(timeoutRaw);
  if (!Number.isSafeInteger(sessionTimeout) || sessionTimeout < 0) throw new Error('catalog read users: sessiontimeout is not a non-negative integer');
  return {
    createdb: bool(row, 'usecreatedb'),
    superuser: bool(row, 'usesuper'),
    connectionLimit,
    validUntil,
    syslogAccess: syslog,
    sessionTimeout,
  };
}

interface MutableState {
  attributes?: UserAttributes;
  groups: Set<string>;
  roles: Set<string>;
  privileges: Privilege[];
}

/**
 * The state of the original and the clone user from the six catalog reads (undefined for a user that does not
 * exist), and the privileges skipped because their keyword is not on the allow-list.
 */
export function parseCatalog(original: string, clone: string, rows: CatalogRows): {
  original?: UserState;
  clone?: UserState;
  skipped: string[];
} {
  const states = new Map<string, MutableState>([
    [original, { groups: new Set(), roles: new Set(), privileges: [] }],
    [clone, { groups: new Set(), roles: new Set(), privileges: [] }],
  ]);
  const skipped: string[] = [];
  const of = (name: string) => states.get(name);

  for (const row of rows.users) {
    const state = of(str(row, 'usename', 'users'));
    if (state) state.attributes = attributes(row);
  }
  for (const row of rows.groups) of(str(row, 'usename', 'groups'))?.groups.add(str(row, 'groname', 'groups'));
  for (const row of rows.roles) of(str(row, 'user_name', 'roles'))?.roles.add(str(row, 'role_name', 'roles'));

  const addPrivilege = (kind: PrivilegeKind, user: string, object: string[], rawPrivilege: string) => {
    const state = of(user);
    if (!state) return;
    let privilege = rawPrivilege.trim().toUpperCase();
    if (!PRIVILEGE_ALLOW_LIST[kind].includes(privilege)) {
      skipped.push(`${kind} privilege ${JSON.stringify(rawPrivilege)} of ${user} on ${object.join('.')}`);
      return;
    }
    if (privilege === 'TEMPORARY') privilege = 'TEMP';
    const p: Privilege = { kind, object, privilege };
    if (!state.privileges.some((q) => privilegeKey(q) === privilegeKey(p))) state.privileges.push(p);
  };
  for (const row of rows.relations) {
    addPrivilege('relation', str(row, 'identity_name', 'relations'),
      [str(row, 'namespace_name', 'relations'), str(row, 'relation_name', 'relations')], str(row, 'privilege_type', 'relations'));
  }
  for (const row of rows.schemas) {
    addPrivilege('schema', str(row, 'identity_name', 'schemas'), [str(row, 'namespace_name', 'schemas')], str(row, 'privilege_type', 'schemas'));
  }
  for (const row of rows.databases) {
    addPrivilege('database', str(row, 'identity_name', 'databases'), [str(row, 'database_name', 'databases')], str(row, 'privilege_type', 'databases'));
  }

  const finish = (name: string): UserState | undefined => {
    const state = states.get(name)!;
    if (!state.attributes) return undefined;
    return { name, attributes: state.attributes, groups: state.groups, roles: state.roles, privileges: state.privileges };
  };
  return { original: finish(original), clone: finish(clone), skipped };
}
