/**
 * Catalog reads for ALTERNATING_USERS (docs/architecture.md, "Catalog reads"): the exact SQL, its parameters and the
 * parsing of the rows into the state of the two users (attributes, settings, groups, roles, explicit grants and the
 * objects each one owns) and of the master user.
 */

import { USERNAME } from './secret';

export type PrivilegeKind = 'relation' | 'schema' | 'database' | 'function' | 'procedure';

/**
 * Kinds of objects a user can own (tables and views are both relations for GRANT). A routine in PL/pgSQL is a stored
 * procedure: Redshift writes procedures in PL/pgSQL only and scalar functions in SQL or Python only
 * (https://docs.aws.amazon.com/redshift/latest/dg/r_CREATE_PROCEDURE.html, …/r_CREATE_FUNCTION.html).
 */
export type OwnedKind = 'table' | 'view' | 'schema' | 'database' | 'function' | 'procedure';

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
  /** [schema, relation] | [schema] | [database] | [schema, function or procedure, argument types] */
  readonly object: readonly string[];
  /** an allow-listed keyword, upper case (TEMPORARY is read as TEMP) */
  readonly privilege: string;
}

/** An object a user owns; `object` is keyed like {@link Privilege.object} of the matching privilege kind. */
export interface OwnedObject {
  readonly kind: OwnedKind;
  readonly object: readonly string[];
}

export interface UserState {
  readonly name: string;
  readonly attributes: UserAttributes;
  /**
   * `ALTER USER … SET` parameters (lower-case name → value as stored in useconfig); undefined when useconfig could
   * not be parsed (then settings are left alone and the reason is in `skipped`).
   */
  readonly settings?: ReadonlyMap<string, string>;
  readonly groups: ReadonlySet<string>;
  readonly roles: ReadonlySet<string>;
  readonly privileges: readonly Privilege[];
  readonly owned: readonly OwnedObject[];
}

export type Row = Readonly<Record<string, string | number | boolean | null>>;

const OWNED_FILTER = "substring(n.nspname, 1, 3) <> 'pg_' AND n.nspname <> 'information_schema'";

/**
 * The catalog reads, exactly as docs/architecture.md gives them; `:original` and `:clone` are Data API parameters.
 * Only views that exist on provisioned clusters and on Serverless workgroups are read (no STL/STV/SVL/SVCS view).
 */
export const CATALOG_SQL = {
  master: 'SELECT usename, usesuper FROM pg_user WHERE usename = current_user',
  users: 'SELECT u.usename, u.usesysid, i.createdb AS usecreatedb, i.superuser AS usesuper, u.valuntil, u.useconfig,\n'
    + '       i.connection_limit AS useconnlimit, i.syslog_access AS syslogaccess, i.session_timeout AS sessiontimeout\n'
    + '  FROM pg_user u JOIN svv_user_info i ON i.user_id = u.usesysid WHERE u.usename IN (:original, :clone)',
  groups: 'SELECT u.usename, g.groname FROM pg_group g, pg_user u WHERE u.usename IN (:original, :clone) AND u.usesysid = ANY(g.grolist)',
  roles: 'SELECT user_name, role_name FROM svv_user_grants WHERE user_name IN (:original, :clone)',
  relations: 'SELECT identity_name, namespace_name, relation_name, privilege_type FROM svv_relation_privileges\n'
    + "  WHERE identity_type = 'user' AND identity_name IN (:original, :clone)",
  schemas: 'SELECT identity_name, namespace_name, privilege_type FROM svv_schema_privileges\n'
    + "  WHERE identity_type = 'user' AND identity_name IN (:original, :clone)",
  databases: 'SELECT identity_name, database_name, privilege_type FROM svv_database_privileges\n'
    + "  WHERE identity_type = 'user' AND identity_name IN (:original, :clone)",
  functions: 'SELECT identity_name, namespace_name, function_name, argument_types, privilege_type FROM svv_function_privileges\n'
    + "  WHERE identity_type = 'user' AND identity_name IN (:original, :clone)",
  procedures: 'SELECT n.nspname AS namespace_name, p.proname AS procedure_name, oidvectortypes(p.proargtypes) AS argument_types\n'
    + '  FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace JOIN pg_language l ON l.oid = p.prolang\n'
    + `  WHERE l.lanname = 'plpgsql' AND ${OWNED_FILTER}`,
  owned: "SELECT u.usename AS owner_name, CASE WHEN c.relkind = 'v' THEN 'view' ELSE 'table' END AS object_type,\n"
    + '       n.nspname AS namespace_name, c.relname AS object_name, NULL AS argument_types\n'
    + '  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_user u ON u.usesysid = c.relowner\n'
    + `  WHERE u.usename IN (:original, :clone) AND c.relkind IN ('r', 'v') AND ${OWNED_FILTER}\n`
    + "UNION ALL SELECT u.usename, 'schema', n.nspname, NULL, NULL\n"
    + '  FROM pg_namespace n JOIN pg_user u ON u.usesysid = n.nspowner\n'
    + `  WHERE u.usename IN (:original, :clone) AND ${OWNED_FILTER}\n`
    + "UNION ALL SELECT u.usename, CASE WHEN l.lanname = 'plpgsql' THEN 'procedure' ELSE 'function' END, n.nspname, p.proname,\n"
    + '       oidvectortypes(p.proargtypes)\n'
    + '  FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace JOIN pg_language l ON l.oid = p.prolang\n'
    + '  JOIN pg_user u ON u.usesysid = p.proowner\n'
    + `  WHERE u.usename IN (:original, :clone) AND ${OWNED_FILTER}\n`
    + "UNION ALL SELECT u.usename, 'database', d.datname, NULL, NULL\n"
    + '  FROM pg_database d JOIN pg_user u ON u.usesysid = d.datdba WHERE u.usename IN (:original, :clone)',
} as const;

export type CatalogQuery = keyof typeof CATALOG_SQL;
export type CatalogRows = Readonly<Record<CatalogQuery, readonly Row[]>>;

/** A user name as an SQL string literal; only names that need no quoting (checked again here) are ever inlined. */
export function userLiteral(name: string): string {
  if (!USERNAME.test(name)) throw new Error(`user name ${JSON.stringify(name)} cannot be put into a catalog read`);
  return `'${name}'`;
}

/**
 * The catalog read `query` for the pair (`original`, `clone`): `:original` and `:clone` replaced by the names as
 * string literals. The reads run as one BatchExecuteStatement, which takes no Data API parameters; the names are
 * validated user names (lower-case letters, digits, `_`, `$`), which no literal can be broken out of.
 */
export function catalogStatement(query: CatalogQuery, original: string, clone: string): string {
  // a function, not a string, as the replacement: `$` in a name must not be read as a replacement pattern
  const originalLiteral = userLiteral(original);
  const cloneLiteral = userLiteral(clone);
  return CATALOG_SQL[query].replace(/:original\b/g, () => originalLiteral).replace(/:clone\b/g, () => cloneLiteral);
}

/** Privilege keywords copied per object kind; anything else is skipped (and logged by name). */
export const PRIVILEGE_ALLOW_LIST: Readonly<Record<PrivilegeKind, readonly string[]>> = {
  relation: ['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'REFERENCES', 'TRUNCATE', 'DROP', 'ALTER', 'TRIGGER'],
  schema: ['USAGE', 'CREATE', 'ALTER', 'DROP'],
  database: ['CREATE', 'TEMP', 'TEMPORARY', 'USAGE'],
  function: ['EXECUTE'],
  procedure: ['EXECUTE'],
};

/**
 * The grants that stand in for ownership (docs/architecture.md, "Owned objects"): what the other user of the pair
 * is given on every object the AWSCURRENT user owns. Privileges as Redshift's GRANT documents them per object kind
 * (https://docs.aws.amazon.com/redshift/latest/dg/r_GRANT.html): tables SELECT INSERT UPDATE DELETE DROP REFERENCES
 * ALTER TRUNCATE; views (ON [TABLE] also names views) what applies to a view; schemas CREATE USAGE ALTER DROP.
 */
export const OWNER_EQUIVALENT: Readonly<Record<OwnedKind, { readonly kind: PrivilegeKind; readonly privileges: readonly string[] }>> = {
  table: { kind: 'relation', privileges: ['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'REFERENCES', 'TRUNCATE', 'ALTER', 'DROP'] },
  view: { kind: 'relation', privileges: ['SELECT', 'ALTER', 'DROP'] },
  schema: { kind: 'schema', privileges: ['USAGE', 'CREATE', 'ALTER', 'DROP'] },
  database: { kind: 'database', privileges: ['CREATE', 'TEMP'] },
  function: { kind: 'function', privileges: ['EXECUTE'] },
  procedure: { kind: 'procedure', privileges: ['EXECUTE'] },
};

/**
 * Function argument type lists the handler puts into `ON FUNCTION s.f(…)`: type names as Redshift prints them
 * (`integer, character varying`, `timestamp without time zone`, `integer[]`). Anything else is skipped.
 */
export const ARGUMENT_TYPES = /^[a-z0-9_ ,.[\]()]*$/;

/** A key that identifies an object of a privilege kind (used to match grants with ownership). */
export function objectKey(kind: PrivilegeKind, object: readonly string[]): string {
  return JSON.stringify([kind, ...object]);
}

/** A key that identifies a privilege on an object (used to diff the two users). */
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

/**
 * The elements of a one-dimensional PostgreSQL/Redshift array in its text form, as the Data API returns a `text[]`
 * column: `{"search_path=appdata, public",statement_timeout=1000}`. Quoted elements may contain `,`, `{`, `}`,
 * spaces and `\`-escaped `"` and `\`; an unquoted NULL is null. Throws on anything else.
 */
export function parseTextArray(text: string): Array<string | null> {
  let s = text.trim();
  // an explicit lower bound (`[0:1]={…}`) may precede the braces
  s = s.replace(/^\[\d+:\d+\]=/, '');
  if (!s.startsWith('{') || !s.endsWith('}')) throw new Error('not an array literal');
  const out: Array<string | null> = [];
  let i = 1;
  const end = s.length - 1;
  const skipSpace = () => { while (i < end && /\s/.test(s[i])) i++; };
  skipSpace();
  if (i === end) return out;
  for (;;) {
    skipSpace();
    if (s[i] === '"') {
      let value = '';
      i++;
      for (;;) {
        if (i >= end) throw new Error('unterminated quoted element');
        const c = s[i];
        if (c === '\\') {
          if (i + 1 >= end) throw new Error('dangling backslash');
          value += s[i + 1];
          i += 2;
        } else if (c === '"') {
          i++;
          break;
        } else {
          value += c;
          i++;
        }
      }
      out.push(value);
      skipSpace();
    } else {
      let j = i;
      while (j < end && s[j] !== ',') {
        if (s[j] === '"' || s[j] === '{' || s[j] === '}' || s[j] === '\\') throw new Error('unexpected character in an unquoted element');
        j++;
      }
      const raw = s.slice(i, j).trim();
      if (raw.length === 0) throw new Error('empty unquoted element');
      out.push(/^null$/i.test(raw) ? null : raw);
      i = j;
    }
    if (i === end) return out;
    if (s[i] !== ',') throw new Error('expected a comma between elements');
    i++;
  }
}

/**
 * A user's useconfig (`text[]` as text, or null) as lower-case parameter name → stored value. Entries that are not
 * `name=value` are reported in `skipped`; a useconfig that is not an array literal gives `settings: undefined`.
 */
export function parseUseconfig(user: string, raw: Row[string] | undefined): { settings?: Map<string, string>; skipped: string[] } {
  const settings = new Map<string, string>();
  if (raw === null || raw === undefined || raw === '') return { settings, skipped: [] };
  let elements: Array<string | null>;
  try {
    elements = parseTextArray(String(raw));
  } catch (err) {
    return { skipped: [`settings of ${user}: useconfig is not an array literal (${(err as Error).message}); settings left as they are`] };
  }
  const skipped: string[] = [];
  for (const element of elements) {
    const eq = element === null ? -1 : element.indexOf('=');
    if (element === null || eq <= 0) {
      skipped.push(`setting ${JSON.stringify(element)} of ${user}: not name=value`);
      continue;
    }
    settings.set(element.slice(0, eq).toLowerCase(), element.slice(eq + 1));
  }
  return { settings, skipped };
}

interface MutableState {
  attributes?: UserAttributes;
  settings?: Map<string, string>;
  groups: Set<string>;
  roles: Set<string>;
  privileges: Privilege[];
  /** privilegeKey of each entry of `privileges` (duplicates are dropped in constant time) */
  keys: Set<string>;
  owned: OwnedObject[];
}

export interface Catalog {
  /** the master user as it sees itself (undefined when pg_user has no row for current_user) */
  readonly master?: { readonly name: string; readonly superuser: boolean };
  readonly original?: UserState;
  readonly clone?: UserState;
  /** privileges, functions and settings not copied, by name, with the reason */
  readonly skipped: string[];
}

/**
 * The state of the original and the clone user from the catalog reads (undefined for a user that does not exist),
 * the master user, and what is skipped because it could not be expressed safely (a privilege keyword off the
 * allow-list, a function argument list that does not look like type names, an unparseable useconfig).
 */
export function parseCatalog(original: string, clone: string, rows: CatalogRows): Catalog {
  const states = new Map<string, MutableState>([
    [original, { groups: new Set(), roles: new Set(), privileges: [], keys: new Set(), owned: [] }],
    [clone, { groups: new Set(), roles: new Set(), privileges: [], keys: new Set(), owned: [] }],
  ]);
  const skipped: string[] = [];
  const of = (name: string) => states.get(name);

  const masterRow = rows.master[0];
  const master = masterRow ? { name: str(masterRow, 'usename', 'master'), superuser: bool(masterRow, 'usesuper') } : undefined;

  for (const row of rows.users) {
    const name = str(row, 'usename', 'users');
    const state = of(name);
    if (!state) continue;
    state.attributes = attributes(row);
    const parsed = parseUseconfig(name, row.useconfig);
    state.settings = parsed.settings;
    skipped.push(...parsed.skipped);
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
    if ((kind === 'function' || kind === 'procedure') && !ARGUMENT_TYPES.test(object[2])) {
      skipped.push(`${kind} privilege ${privilege} of ${user} on ${object[0]}.${object[1]}: argument types ${JSON.stringify(object[2])} are not plain type names`);
      return;
    }
    if (privilege === 'TEMPORARY') privilege = 'TEMP';
    const p: Privilege = { kind, object, privilege };
    const key = privilegeKey(p);
    if (!state.keys.has(key)) {
      state.keys.add(key);
      state.privileges.push(p);
    }
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
  // SVV_FUNCTION_PRIVILEGES lists functions and stored procedures alike; a procedure is granted ON PROCEDURE
  const procedures = new Set(rows.procedures.map((row) => objectKey('procedure', [str(row, 'namespace_name', 'procedures'),
    str(row, 'procedure_name', 'procedures'), row.argument_types === null || row.argument_types === undefined ? '' : str(row, 'argument_types', 'procedures')])));
  for (const row of rows.functions) {
    const args = row.argument_types === null || row.argument_types === undefined ? '' : str(row, 'argument_types', 'functions');
    const object = [str(row, 'namespace_name', 'functions'), str(row, 'function_name', 'functions'), args];
    addPrivilege(procedures.has(objectKey('procedure', object)) ? 'procedure' : 'function', str(row, 'identity_name', 'functions'),
      object, str(row, 'privilege_type', 'functions'));
  }
  for (const row of rows.owned) {
    const owner = str(row, 'owner_name', 'owned');
    const state = of(owner);
    if (!state) continue;
    const type = str(row, 'object_type', 'owned');
    const namespace = str(row, 'namespace_name', 'owned');
    let owned: OwnedObject;
    switch (type) {
      case 'table':
      case 'view':
        owned = { kind: type, object: [namespace, str(row, 'object_name', 'owned')] };
        break;
      case 'schema':
      case 'database':
        owned = { kind: type, object: [namespace] };
        break;
      case 'function':
      case 'procedure': {
        const name = str(row, 'object_name', 'owned');
        const args = row.argument_types === null || row.argument_types === undefined ? '' : str(row, 'argument_types', 'owned');
        if (!ARGUMENT_TYPES.test(args)) {
          skipped.push(`${type} ${namespace}.${name} owned by ${owner}: argument types ${JSON.stringify(args)} are not plain type names`);
          continue;
        }
        owned = { kind: type, object: [namespace, name, args] };
        break;
      }
      default:
        throw new Error(`catalog read owned: object_type ${JSON.stringify(type)} is not table, view, schema, database, function or procedure`);
    }
    state.owned.push(owned);
  }

  const finish = (name: string): UserState | undefined => {
    const state = states.get(name)!;
    if (!state.attributes) return undefined;
    return {
      name,
      attributes: state.attributes,
      settings: state.settings,
      groups: state.groups,
      roles: state.roles,
      privileges: state.privileges,
      owned: state.owned,
    };
  };
  return { master, original: finish(original), clone: finish(clone), skipped };
}
