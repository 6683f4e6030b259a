/**
 * The Redshift dialect shim: makes a PostgreSQL database answer the catalog reads and accept the statements that
 * the rotation handler sends to Redshift (docs/architecture.md, "The SQL the handler sends").
 *
 * - `installShim(client)` creates the schema `redshift_shim` with the Redshift system views PostgreSQL lacks
 *   (`svl_user_info`, `svv_user_grants`, `svv_role_grants`, `svv_roles`, `svv_relation_privileges`,
 *   `svv_schema_privileges`, `svv_database_privileges`) and a `pg_group` that lists groups only (not RBAC roles,
 *   not PostgreSQL's predefined `pg_*` roles), and puts the schema in the database's search_path ahead of
 *   pg_catalog so that unqualified names resolve to it.
 * - RBAC roles and groups are both NOLOGIN roles in PostgreSQL; the table `redshift_shim.rbac_roles`, filled by the
 *   rewritten `CREATE ROLE`, tells them apart. `redshift_shim.user_attributes` keeps SYSLOG ACCESS and
 *   SESSION TIMEOUT.
 * - `rewriteStatement(sql)` turns one Redshift statement into the PostgreSQL statements that implement it.
 */
import type { ClientBase } from 'pg';

export const SHIM_SCHEMA = 'redshift_shim';

// ---------------------------------------------------------------------------------------------------------------
// Lexer
// ---------------------------------------------------------------------------------------------------------------

/** A token of SQL text; `text` is the exact source text, so joining all tokens gives the input back. */
export interface SqlToken {
  readonly kind: 'ws' | 'comment' | 'word' | 'qident' | 'string' | 'number' | 'param' | 'punct';
  readonly text: string;
}

/**
 * Splits SQL into tokens: whitespace, comments (`--`, nested `/* *\/`), words, quoted identifiers, string literals
 * (`'…'`, `E'…'`, dollar-quoted), numbers, Data API parameters (`:name`, but not `::type`) and punctuation.
 */
export function tokenize(sql: string): SqlToken[] {
  const out: SqlToken[] = [];
  let i = 0;
  const n = sql.length;
  const push = (kind: SqlToken['kind'], end: number) => { out.push({ kind, text: sql.slice(i, end) }); i = end; };
  while (i < n) {
    const c = sql[i];
    const next = sql[i + 1];
    if (/\s/.test(c)) {
      let j = i + 1;
      while (j < n && /\s/.test(sql[j])) j++;
      push('ws', j);
    } else if (c === '-' && next === '-') {
      let j = sql.indexOf('\n', i);
      if (j < 0) j = n;
      push('comment', j);
    } else if (c === '/' && next === '*') {
      let depth = 1;
      let j = i + 2;
      while (j < n && depth > 0) {
        if (sql[j] === '/' && sql[j + 1] === '*') { depth++; j += 2; } else if (sql[j] === '*' && sql[j + 1] === '/') { depth--; j += 2; } else {j++;}
      }
      push('comment', j);
    } else if (c === '"') {
      let j = i + 1;
      while (j < n) {
        if (sql[j] === '"') { if (sql[j + 1] === '"') {j += 2;} else { j++; break; } } else {j++;}
      }
      push('qident', j);
    } else if (c === '\'' || ((c === 'E' || c === 'e') && next === '\'')) {
      const escapes = c !== '\'';
      let j = escapes ? i + 2 : i + 1;
      while (j < n) {
        if (escapes && sql[j] === '\\') {j += 2;} else if (sql[j] === '\'') { if (sql[j + 1] === '\'') {j += 2;} else { j++; break; } } else {j++;}
      }
      push('string', j);
    } else if (c === '$' && /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.test(sql.slice(i, i + 65))) {
      const tag = /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.exec(sql.slice(i, i + 65))![0];
      const end = sql.indexOf(tag, i + tag.length);
      push('string', end < 0 ? n : end + tag.length);
    } else if (c === ':' && next === ':') {
      push('punct', i + 2);
    } else if (c === ':' && next !== undefined && /[A-Za-z_]/.test(next)) {
      let j = i + 1;
      while (j < n && /[A-Za-z0-9_]/.test(sql[j])) j++;
      push('param', j);
    } else if (/[A-Za-z_\u0080-\uffff]/.test(c)) {
      let j = i + 1;
      while (j < n && /[A-Za-z0-9_$\u0080-\uffff]/.test(sql[j])) j++;
      push('word', j);
    } else if (/[0-9]/.test(c) || (c === '.' && next !== undefined && /[0-9]/.test(next))) {
      let j = i + 1;
      while (j < n && /[0-9.eE]/.test(sql[j])) j++;
      push('number', j);
    } else {
      push('punct', i + 1);
    }
  }
  return out;
}

/** Splits SQL at top-level semicolons into statements (comments-only or empty pieces are dropped). */
export function splitStatements(sql: string): string[] {
  const result: string[] = [];
  let current: SqlToken[] = [];
  const flush = () => {
    if (current.some((t) => t.kind !== 'ws' && t.kind !== 'comment')) result.push(current.map((t) => t.text).join('').trim());
    current = [];
  };
  for (const t of tokenize(sql)) {
    if (t.kind === 'punct' && t.text === ';') flush(); else current.push(t);
  }
  flush();
  return result;
}

/** Double-quotes an identifier (`"` doubled). */
export function quoteIdent(name: string): string {
  return '"' + name.replace(/"/g, '""') + '"';
}

/** A standard SQL string literal (`'` doubled; standard_conforming_strings is on). */
export function quoteLiteral(value: string): string {
  return '\'' + value.replace(/'/g, '\'\'') + '\'';
}

/** The name an identifier token denotes: unquoted names fold to lower case, quoted ones are taken as written. */
export function identName(token: SqlToken): string {
  if (token.kind === 'qident') return token.text.slice(1, -1).replace(/""/g, '"');
  return token.text.toLowerCase();
}

// ---------------------------------------------------------------------------------------------------------------
// Statement rewriter
// ---------------------------------------------------------------------------------------------------------------

function significant(sql: string): SqlToken[] {
  return tokenize(sql).filter((t) => t.kind !== 'ws' && t.kind !== 'comment');
}

const isWord = (t: SqlToken | undefined, w: string) => t !== undefined && t.kind === 'word' && t.text.toUpperCase() === w;
const isName = (t: SqlToken | undefined) => t !== undefined && (t.kind === 'word' || t.kind === 'qident');

/** Thrown for Redshift statements the shim recognises but cannot express in PostgreSQL. */
export class UnsupportedStatementError extends Error {}

/**
 * Rewrites one Redshift statement into the PostgreSQL statements that implement it (most statements pass
 * unchanged). Handled forms:
 * - `GRANT ROLE r[, …] TO [ROLE] x[, …]`, `REVOKE [ADMIN OPTION FOR] ROLE r FROM [ROLE] x` → role membership;
 * - `CREATE ROLE r` → a NOLOGIN role registered as an RBAC role; `DROP ROLE r [FORCE|RESTRICT]`;
 * - `CREATE USER` / `ALTER USER` options `CREATEUSER`/`NOCREATEUSER` (→ SUPERUSER/NOSUPERUSER),
 *   `CONNECTION LIMIT UNLIMITED` (→ -1), `SYSLOG ACCESS RESTRICTED|UNRESTRICTED`, `SESSION TIMEOUT n`,
 *   `RESET SESSION TIMEOUT`, `PASSWORD DISABLE` (→ PASSWORD NULL).
 * `CREATE GROUP`, `ALTER GROUP … ADD|DROP USER`, object GRANT/REVOKE, `CREATEDB`, `VALID UNTIL` and md5 verifiers
 * are PostgreSQL syntax already.
 */
export function rewriteStatement(sql: string): string[] {
  const toks = significant(sql);
  const text = (ts: SqlToken[]) => ts.map((t) => t.text).join(' ');
  if (toks.length === 0) return [];
  const last = toks[toks.length - 1];
  if (last.kind === 'punct' && last.text === ';') toks.pop();

  // GRANT ROLE r TO …, REVOKE [ADMIN OPTION FOR] ROLE r FROM …, and `TO ROLE r` / `FROM ROLE r` grantees of
  // object privileges: PostgreSQL spells role membership and role grantees without the ROLE keyword.
  if (isWord(toks[0], 'GRANT') || isWord(toks[0], 'REVOKE')) {
    let k = 1;
    if (isWord(toks[0], 'REVOKE') && isWord(toks[1], 'ADMIN') && isWord(toks[2], 'OPTION') && isWord(toks[3], 'FOR')) k = 4;
    const drop = (t: SqlToken, i: number) => isWord(t, 'ROLE') && (i === k || isWord(toks[i - 1], 'TO') || isWord(toks[i - 1], 'FROM')
      || (toks[i - 1]?.text === ',' && isName(toks[i + 1])));
    if (toks.some(drop)) return [text(toks.filter((t, i) => !drop(t, i))).replace(/ ,/g, ',')];
    return [sql];
  }
  // CREATE ROLE r [EXTERNALID …]
  if (isWord(toks[0], 'CREATE') && isWord(toks[1], 'ROLE') && isName(toks[2])) {
    const name = identName(toks[2]);
    return [`CREATE ROLE ${quoteIdent(name)} NOLOGIN`, `SELECT ${SHIM_SCHEMA}.register_role(${quoteLiteral(name)})`];
  }
  // DROP ROLE r [FORCE | RESTRICT]
  if (isWord(toks[0], 'DROP') && isWord(toks[1], 'ROLE') && isName(toks[2])) {
    const name = identName(toks[2]);
    return [`DROP ROLE ${quoteIdent(name)}`, `SELECT ${SHIM_SCHEMA}.unregister_role(${quoteLiteral(name)})`];
  }
  // CREATE USER / ALTER USER with Redshift-only options
  if ((isWord(toks[0], 'CREATE') || isWord(toks[0], 'ALTER')) && isWord(toks[1], 'USER') && isName(toks[2])) {
    return rewriteUser(sql, toks, isWord(toks[0], 'CREATE'));
  }
  return [sql];
}

function rewriteUser(sql: string, toks: SqlToken[], create: boolean): string[] {
  const name = identName(toks[2]);
  const head = `${create ? 'CREATE' : 'ALTER'} USER ${quoteIdent(name)}`;
  let i = 3;
  if (isWord(toks[i], 'WITH')) i++;
  const kept: string[] = [];
  const after: string[] = [];
  let redshiftOnly = false;
  // ALTER USER x RENAME TO y / SET … / RESET param: PostgreSQL syntax, passed through.
  if (!create && (isWord(toks[i], 'RENAME') || isWord(toks[i], 'SET') || (isWord(toks[i], 'RESET') && !isWord(toks[i + 1], 'SESSION')))) {
    return [sql];
  }
  while (i < toks.length) {
    const t = toks[i];
    if (isWord(t, 'CREATEUSER')) { kept.push('SUPERUSER'); i++; redshiftOnly = true; } else if (isWord(t, 'NOCREATEUSER')) { kept.push('NOSUPERUSER'); i++; redshiftOnly = true; } else if (isWord(t, 'CONNECTION') && isWord(toks[i + 1], 'LIMIT')) {
      const v = toks[i + 2];
      if (isWord(v, 'UNLIMITED')) { kept.push('CONNECTION LIMIT -1'); redshiftOnly = true; } else {kept.push(`CONNECTION LIMIT ${v?.text ?? ''}`);}
      i += 3;
    } else if (isWord(t, 'SYSLOG') && isWord(toks[i + 1], 'ACCESS')) {
      const v = toks[i + 2]?.text.toUpperCase() ?? '';
      after.push(`SELECT ${SHIM_SCHEMA}.set_syslog_access(${quoteLiteral(name)}, ${quoteLiteral(v)})`);
      i += 3;
      redshiftOnly = true;
    } else if (isWord(t, 'SESSION') && isWord(toks[i + 1], 'TIMEOUT')) {
      const v = toks[i + 2];
      if (!v || v.kind !== 'number') throw new UnsupportedStatementError('syntax error at or near "TIMEOUT"');
      after.push(`SELECT ${SHIM_SCHEMA}.set_session_timeout(${quoteLiteral(name)}, ${Number(v.text)})`);
      i += 3;
      redshiftOnly = true;
    } else if (isWord(t, 'RESET') && isWord(toks[i + 1], 'SESSION') && isWord(toks[i + 2], 'TIMEOUT')) {
      after.push(`SELECT ${SHIM_SCHEMA}.set_session_timeout(${quoteLiteral(name)}, 0)`);
      i += 3;
      redshiftOnly = true;
    } else if (isWord(t, 'PASSWORD') && isWord(toks[i + 1], 'DISABLE')) {
      kept.push('PASSWORD NULL');
      i += 2;
      redshiftOnly = true;
    } else if (isWord(t, 'PASSWORD') && toks[i + 1]?.kind === 'string' && toks[i + 1].text.startsWith('\'sha256|')) {
      throw new UnsupportedStatementError('sha256 password hashes are not supported by the local stack');
    } else {
      kept.push(t.text);
      i++;
    }
  }
  if (!redshiftOnly) return [sql];
  const statements: string[] = [];
  // An ALTER USER with only shim-kept attributes becomes the shim calls alone (they check user and privilege).
  if (create || kept.length > 0) statements.push(`${head}${kept.length ? ' ' + kept.join(' ') : ''}`);
  return statements.concat(after);
}

// ---------------------------------------------------------------------------------------------------------------
// Catalog objects
// ---------------------------------------------------------------------------------------------------------------

const S = SHIM_SCHEMA;
const SYSTEM_SCHEMAS = `n.nspname NOT IN ('information_schema', '${S}') AND n.nspname !~ '^pg_'`;

/** The SQL that creates the shim (idempotent: drops and recreates the schema). */
export const SHIM_SQL = `
DROP SCHEMA IF EXISTS ${S} CASCADE;
CREATE SCHEMA ${S};
GRANT USAGE ON SCHEMA ${S} TO PUBLIC;

CREATE TABLE ${S}.rbac_roles (role_name name PRIMARY KEY);
CREATE TABLE ${S}.user_attributes (
  usesysid oid PRIMARY KEY,
  syslog_access text NOT NULL DEFAULT 'RESTRICTED' CHECK (syslog_access IN ('RESTRICTED', 'UNRESTRICTED')),
  session_timeout integer NOT NULL DEFAULT 0
);
GRANT SELECT ON ${S}.rbac_roles, ${S}.user_attributes TO PUBLIC;

-- Raises Redshift's error for a missing user; requires a superuser caller (as Redshift does for these options).
CREATE FUNCTION ${S}.check_user(u name) RETURNS oid LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
DECLARE id oid;
BEGIN
  IF NOT (SELECT rolsuper FROM pg_roles WHERE rolname = session_user) THEN
    RAISE EXCEPTION 'permission denied: only a superuser can alter user attributes' USING ERRCODE = '42501';
  END IF;
  SELECT oid INTO id FROM pg_roles WHERE rolname = u AND rolcanlogin;
  IF id IS NULL THEN RAISE EXCEPTION 'user "%" does not exist', u USING ERRCODE = '42704'; END IF;
  RETURN id;
END $$;

CREATE FUNCTION ${S}.set_syslog_access(u name, access text) RETURNS void LANGUAGE plpgsql SECURITY DEFINER
  SET search_path = pg_catalog AS $$
DECLARE id oid := ${S}.check_user(u);
BEGIN
  IF access NOT IN ('RESTRICTED', 'UNRESTRICTED') THEN
    RAISE EXCEPTION 'syntax error at or near "%"', access USING ERRCODE = '42601';
  END IF;
  INSERT INTO ${S}.user_attributes (usesysid, syslog_access) VALUES (id, access)
    ON CONFLICT (usesysid) DO UPDATE SET syslog_access = EXCLUDED.syslog_access;
END $$;

CREATE FUNCTION ${S}.set_session_timeout(u name, seconds integer) RETURNS void LANGUAGE plpgsql SECURITY DEFINER
  SET search_path = pg_catalog AS $$
DECLARE id oid := ${S}.check_user(u);
BEGIN
  IF seconds <> 0 AND (seconds < 60 OR seconds > 1728000) THEN
    RAISE EXCEPTION 'session timeout must be between 60 and 1728000 seconds' USING ERRCODE = '22023';
  END IF;
  INSERT INTO ${S}.user_attributes (usesysid, session_timeout) VALUES (id, seconds)
    ON CONFLICT (usesysid) DO UPDATE SET session_timeout = EXCLUDED.session_timeout;
END $$;

CREATE FUNCTION ${S}.register_role(r name) RETURNS void LANGUAGE plpgsql SECURITY DEFINER
  SET search_path = pg_catalog AS $$
BEGIN
  IF NOT (SELECT rolsuper OR rolcreaterole FROM pg_roles WHERE rolname = session_user) THEN
    RAISE EXCEPTION 'permission denied to create role' USING ERRCODE = '42501';
  END IF;
  INSERT INTO ${S}.rbac_roles VALUES (r) ON CONFLICT DO NOTHING;
END $$;

CREATE FUNCTION ${S}.unregister_role(r name) RETURNS void LANGUAGE sql SECURITY DEFINER
  SET search_path = pg_catalog AS $$ DELETE FROM ${S}.rbac_roles WHERE role_name = r $$;

REVOKE ALL ON FUNCTION ${S}.check_user(name), ${S}.set_syslog_access(name, text), ${S}.set_session_timeout(name, integer),
  ${S}.register_role(name), ${S}.unregister_role(name) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ${S}.check_user(name), ${S}.set_syslog_access(name, text), ${S}.set_session_timeout(name, integer),
  ${S}.register_role(name), ${S}.unregister_role(name) TO PUBLIC;

-- Every grantee as Redshift names it: user (can log in), role (registered RBAC role), group (other NOLOGIN
-- roles), public. PostgreSQL's predefined pg_* roles are left out.
CREATE VIEW ${S}.identities AS
  SELECT r.oid, r.rolname::text AS name,
         CASE WHEN r.rolcanlogin THEN 'user'
              WHEN EXISTS (SELECT 1 FROM ${S}.rbac_roles x WHERE x.role_name = r.rolname) THEN 'role'
              ELSE 'group' END AS kind
    FROM pg_catalog.pg_roles r WHERE r.rolname !~ '^pg_'
  UNION ALL SELECT 0::oid, 'public', 'public';

CREATE VIEW ${S}.pg_group AS
  SELECT g.groname, g.grosysid, g.grolist FROM pg_catalog.pg_group g
   WHERE g.groname !~ '^pg_' AND NOT EXISTS (SELECT 1 FROM ${S}.rbac_roles x WHERE x.role_name = g.groname);

CREATE VIEW ${S}.svl_user_info AS
  SELECT r.rolname AS usename, r.oid AS usesysid, r.rolcreatedb AS usecreatedb, r.rolsuper AS usesuper,
         false AS usecatupd,
         CASE WHEN r.rolconnlimit < 0 THEN 'UNLIMITED' ELSE r.rolconnlimit::text END AS useconnlimit,
         COALESCE(a.syslog_access, 'RESTRICTED') AS syslogaccess,
         NULL::timestamp AS last_ddl_ts,
         COALESCE(a.session_timeout, 0) AS sessiontimeout
    FROM pg_catalog.pg_roles r LEFT JOIN ${S}.user_attributes a ON a.usesysid = r.oid
   WHERE r.rolcanlogin;

CREATE VIEW ${S}.svv_roles AS
  SELECT r.oid::integer AS role_id, r.rolname::text AS role_name, NULL::text AS role_owner, NULL::text AS external_id
    FROM pg_catalog.pg_roles r JOIN ${S}.rbac_roles x ON x.role_name = r.rolname;

CREATE VIEW ${S}.svv_user_grants AS
  SELECT u.oid::integer AS user_id, u.rolname::text AS user_name, r.oid::integer AS role_id,
         r.rolname::text AS role_name, m.admin_option
    FROM pg_catalog.pg_auth_members m
    JOIN pg_catalog.pg_roles u ON u.oid = m.member AND u.rolcanlogin
    JOIN pg_catalog.pg_roles r ON r.oid = m.roleid
    JOIN ${S}.rbac_roles x ON x.role_name = r.rolname;

CREATE VIEW ${S}.svv_role_grants AS
  SELECT r.oid::integer AS role_id, r.rolname::text AS role_name, g.oid::integer AS granted_role_id,
         g.rolname::text AS granted_role_name
    FROM pg_catalog.pg_auth_members m
    JOIN pg_catalog.pg_roles r ON r.oid = m.member JOIN ${S}.rbac_roles xr ON xr.role_name = r.rolname
    JOIN pg_catalog.pg_roles g ON g.oid = m.roleid JOIN ${S}.rbac_roles xg ON xg.role_name = g.rolname;

CREATE VIEW ${S}.svv_relation_privileges AS
  SELECT n.nspname::text AS namespace_name, c.relname::text AS relation_name, a.privilege_type::text AS privilege_type,
         i.oid::integer AS identity_id, i.name AS identity_name, i.kind AS identity_type, a.is_grantable AS admin_option
    FROM pg_catalog.pg_class c
    JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
    CROSS JOIN LATERAL aclexplode(c.relacl) a
    JOIN ${S}.identities i ON i.oid = a.grantee
   WHERE c.relkind IN ('r', 'v', 'm', 'p', 'f') AND ${SYSTEM_SCHEMAS} AND a.privilege_type <> 'MAINTAIN';

CREATE VIEW ${S}.svv_schema_privileges AS
  SELECT n.nspname::text AS namespace_name, a.privilege_type::text AS privilege_type,
         i.oid::integer AS identity_id, i.name AS identity_name, i.kind AS identity_type, a.is_grantable AS admin_option
    FROM pg_catalog.pg_namespace n
    CROSS JOIN LATERAL aclexplode(n.nspacl) a
    JOIN ${S}.identities i ON i.oid = a.grantee
   WHERE ${SYSTEM_SCHEMAS};

CREATE VIEW ${S}.svv_database_privileges AS
  SELECT d.datname::text AS database_name,
         CASE a.privilege_type WHEN 'TEMPORARY' THEN 'TEMP' ELSE a.privilege_type END::text AS privilege_type,
         i.oid::integer AS identity_id, i.name AS identity_name, i.kind AS identity_type, a.is_grantable AS admin_option
    FROM pg_catalog.pg_database d
    CROSS JOIN LATERAL aclexplode(d.datacl) a
    JOIN ${S}.identities i ON i.oid = a.grantee
   WHERE a.privilege_type <> 'CONNECT' AND NOT d.datistemplate;

GRANT SELECT ON ALL TABLES IN SCHEMA ${S} TO PUBLIC;
`;

/**
 * Installs the shim into the database the client is connected to (as a superuser) and sets the database's
 * search_path to `"$user", public, redshift_shim, pg_catalog`: Redshift's default path, with the shim ahead of
 * pg_catalog so that its `pg_group` shadows PostgreSQL's (pg_catalog is searched first unless it is listed), while
 * new objects still go to `public`.
 */
export async function installShim(client: ClientBase): Promise<void> {
  const db = (await client.query('SELECT current_database() AS db')).rows[0].db as string;
  await client.query(SHIM_SQL);
  await client.query(`ALTER DATABASE ${quoteIdent(db)} SET search_path = "$user", public, ${S}, pg_catalog`);
}
