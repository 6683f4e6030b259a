/**
 * The Redshift dialect shim: makes a PostgreSQL database answer the catalog reads and accept the statements that
 * the rotation handler sends to Redshift (docs/architecture.md, "The SQL the handler sends"), and refuse what
 * Redshift refuses (docs/local-stack.md, "Redshift behaviours the handler relies on").
 *
 * - `installShim(client)` creates the schema `redshift_shim` with the Redshift system views PostgreSQL lacks
 *   (`svv_user_info`, `svl_user_info`, `svv_user_grants`, `svv_role_grants`, `svv_roles`, `svv_relation_privileges`,
 *   `svv_schema_privileges`, `svv_database_privileges`, `svv_function_privileges`), a `pg_group` that lists groups
 *   only and a `pg_user` with Redshift's columns, and puts the schema in the database's search_path ahead of
 *   pg_catalog so that unqualified names resolve to it.
 * - RBAC roles and groups are both NOLOGIN roles in PostgreSQL; the table `redshift_shim.rbac_roles`, filled by the
 *   rewritten `CREATE ROLE`, tells them apart. `redshift_shim.user_attributes` keeps SYSLOG ACCESS and
 *   SESSION TIMEOUT; `redshift_shim.extra_privileges` the privileges PostgreSQL lacks (ALTER, DROP, database USAGE).
 * - `rewriteStatement(sql, { target })` turns one Redshift statement into the PostgreSQL statements that implement
 *   it, or throws `RedshiftError` for what Redshift refuses (including, on a workgroup, the provisioned-only
 *   STL/STV/SVL/SVCS views: `checkTarget`).
 */
import { createHash } from 'crypto';
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
const isPunct = (t: SqlToken | undefined, p: string) => t !== undefined && t.kind === 'punct' && t.text === p;
const text = (ts: readonly SqlToken[]) => ts.map((t) => t.text).join(' ').replace(/ \. /g, '.').replace(/ ,/g, ',');

/** Thrown for Redshift statements the shim recognises but cannot express in PostgreSQL. */
export class UnsupportedStatementError extends Error {}

/**
 * Thrown for statements Redshift itself refuses (PostgreSQL-only syntax, a group where a role is expected, a
 * plain-text password that breaks Redshift's rules, a provisioned-only system view on Serverless, …). The message
 * is worded like Redshift's error; the local Data API reports it as `ERROR: <message>`.
 */
export class RedshiftError extends Error {}

const syntaxError = (t: SqlToken | undefined) => new RedshiftError(`syntax error at or near "${t ? t.text : 'end of input'}"`);

/** What a statement runs against: a provisioned cluster or a Serverless workgroup. */
export type RedshiftTarget = 'cluster' | 'workgroup';

/** Options of {@link rewriteStatement}. */
export interface RewriteOptions {
  /** The target the statement was sent to; on a workgroup, STL/STV/SVL/SVCS views are refused. @default 'cluster' */
  readonly target?: RedshiftTarget;
}

/**
 * Refuses, on a Serverless workgroup, every reference to a provisioned-only system table or view (names starting
 * with `stl_`, `stv_`, `svl_` or `svcs_`, unqualified or in `pg_catalog`): Redshift Serverless does not let anyone
 * query them (https://docs.aws.amazon.com/redshift/latest/dg/c_intro_system_views.html,
 * https://docs.aws.amazon.com/redshift/latest/mgmt/serverless-monitoring.html); the error is the one Serverless
 * gives (`permission denied for relation stl_insert`, SQLSTATE 42501). Does nothing for a cluster.
 */
export function checkTarget(sql: string, target: RedshiftTarget = 'cluster'): void {
  if (target !== 'workgroup') return;
  const toks = significant(sql);
  toks.forEach((t, i) => {
    if (!isName(t)) return;
    const name = identName(t);
    if (!/^(stl|stv|svl|svcs)_/.test(name)) return;
    if (isPunct(toks[i + 1], '(')) return; // a function, not a relation
    if (isPunct(toks[i - 1], '.') && !(isName(toks[i - 2]) && identName(toks[i - 2]) === 'pg_catalog')) return;
    throw new RedshiftError(`permission denied for relation ${name}`);
  });
}

/**
 * Rewrites one Redshift statement into the PostgreSQL statements that implement it, and refuses what Redshift
 * refuses (see docs/local-stack.md, "Fidelity"). Handled:
 * - users: `CREATE USER` / `ALTER USER` with only the options Redshift documents (`CREATEUSER` → SUPERUSER,
 *   `CONNECTION LIMIT UNLIMITED`, `SYSLOG ACCESS`, `SESSION TIMEOUT`, `PASSWORD DISABLE`, `IN GROUP`, `SET`/`RESET`
 *   of Redshift's configuration parameters, …); plain-text passwords are checked against Redshift's rules and stored
 *   as the md5 verifier Redshift would store; `DROP USER` refuses a user that still holds a shim-recorded privilege;
 * - groups and roles: `CREATE GROUP`, `ALTER GROUP` (groups only), `DROP GROUP`, `CREATE ROLE r [EXTERNALID …]`,
 *   `DROP ROLE` (RBAC roles only), `GRANT ROLE` / `REVOKE ROLE` (roles only, to users or `ROLE r`);
 * - object privileges: `GRANT`/`REVOKE` with Redshift's privileges per object kind and grantees `user`, `ROLE r`,
 *   `GROUP g`, `PUBLIC`, several privileges and several objects per statement; ALTER and DROP (tables, schemas) and
 *   ALTER and USAGE (databases) are recorded in `redshift_shim.extra_privileges`;
 * - `SET ROLE`, `RESET ROLE`, `ALTER ROLE` (other than Redshift's forms) and PostgreSQL-only options are refused.
 * Everything else passes unchanged. On a workgroup target, STL/STV/SVL/SVCS views are refused ({@link checkTarget}).
 */
export function rewriteStatement(sql: string, options: RewriteOptions = {}): string[] {
  checkTarget(sql, options.target);
  const toks = significant(sql);
  if (toks.length === 0) return [];
  if (isPunct(toks[toks.length - 1], ';')) toks.pop();
  const [a, b] = toks;
  if (isWord(a, 'GRANT') || isWord(a, 'REVOKE')) return rewriteGrant(toks);
  if ((isWord(a, 'CREATE') || isWord(a, 'ALTER')) && isWord(b, 'USER')) return rewriteUser(toks, isWord(a, 'CREATE'));
  if (isWord(a, 'DROP') && (isWord(b, 'USER') || isWord(b, 'GROUP') || isWord(b, 'ROLE'))) return rewriteDrop(toks);
  if (isWord(a, 'CREATE') && isWord(b, 'ROLE')) return rewriteCreateRole(toks);
  if (isWord(a, 'ALTER') && isWord(b, 'ROLE')) return rewriteAlterRole(toks);
  if ((isWord(a, 'CREATE') || isWord(a, 'ALTER')) && isWord(b, 'GROUP')) return rewriteGroup(sql, toks, isWord(a, 'CREATE'));
  if ((isWord(a, 'SET') || isWord(a, 'RESET')) && (isWord(b, 'ROLE') || (isWord(b, 'SESSION') && isWord(toks[2], 'ROLE'))
    || (isWord(b, 'LOCAL') && isWord(toks[2], 'ROLE')))) {
    // Redshift has no SET ROLE (https://docs.aws.amazon.com/redshift/latest/dg/r_SET.html lists run-time parameters only)
    throw syntaxError(isWord(b, 'ROLE') ? b : toks[2]);
  }
  return [sql];
}

const lit = quoteLiteral;
const call = (fn: string, ...args: string[]) => `SELECT ${SHIM_SCHEMA}.${fn}(${args.join(', ')})`;
const checkIdentity = (name: string, kind: 'user' | 'group' | 'role') => call('check_identity', lit(name), lit(kind));

/** Reads one identifier token at `i` or throws Redshift's syntax error. */
function nameAt(toks: SqlToken[], i: number): string {
  if (!isName(toks[i])) throw syntaxError(toks[i]);
  return identName(toks[i]);
}

/** Splits tokens at top-level commas (parentheses nest). */
function splitCommas(toks: SqlToken[]): SqlToken[][] {
  const out: SqlToken[][] = [[]];
  let depth = 0;
  for (const t of toks) {
    if (isPunct(t, '(')) depth++;
    if (isPunct(t, ')')) depth--;
    if (depth === 0 && isPunct(t, ',')) out.push([]); else out[out.length - 1].push(t);
  }
  return out;
}

// ---- GRANT / REVOKE ------------------------------------------------------------------------------------------

type ObjectKind = 'table' | 'schema' | 'database' | 'function' | 'procedure' | 'language' | 'all_tables' | 'all_functions' | 'all_procedures';

/**
 * Privileges per object kind as the GRANT page documents them (https://docs.aws.amazon.com/redshift/latest/dg/r_GRANT.html):
 * `native` PostgreSQL has too, `extra` are recorded by the shim. Redshift has no TRIGGER, RULE or MAINTAIN.
 */
const PRIVILEGES: Record<'table' | 'schema' | 'database' | 'function' | 'language', { native: string[]; extra: string[] }> = {
  table: { native: ['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'REFERENCES', 'TRUNCATE'], extra: ['ALTER', 'DROP'] },
  schema: { native: ['CREATE', 'USAGE'], extra: ['ALTER', 'DROP'] },
  database: { native: ['CREATE', 'TEMP'], extra: ['ALTER', 'USAGE'] },
  function: { native: ['EXECUTE'], extra: [] },
  language: { native: ['USAGE'], extra: [] },
};
const baseKind = (k: ObjectKind) => (k === 'all_tables' ? 'table' : k === 'all_functions' || k === 'all_procedures' || k === 'procedure' ? 'function' : k);
/** What GRANT ALL grants on a database: the documented CREATE and TEMP (whether ALL includes ALTER is not documented). */
const ALL_DATABASE = ['CREATE', 'TEMP'];

interface Grantee { readonly kind: 'user' | 'group' | 'role' | 'public'; readonly name: string }

function rewriteGrant(toks: SqlToken[]): string[] {
  const grant = isWord(toks[0], 'GRANT');
  let i = 1;
  let optionFor: 'GRANT' | 'ADMIN' | undefined;
  if (!grant && (isWord(toks[1], 'GRANT') || isWord(toks[1], 'ADMIN')) && isWord(toks[2], 'OPTION') && isWord(toks[3], 'FOR')) {
    optionFor = isWord(toks[1], 'GRANT') ? 'GRANT' : 'ADMIN';
    i = 4;
  }
  if (isWord(toks[i], 'ROLE')) return rewriteRoleGrant(toks, grant, i + 1, optionFor === 'ADMIN');
  if (optionFor === 'ADMIN') throw syntaxError(toks[i]);
  // privileges up to ON (or, without ON, up to TO/FROM)
  let depth = 0;
  let on = -1;
  let to = -1;
  for (let j = i; j < toks.length; j++) {
    if (isPunct(toks[j], '(')) depth++;
    if (isPunct(toks[j], ')')) depth--;
    if (depth !== 0) continue;
    if (on < 0 && isWord(toks[j], 'ON')) on = j;
    if (isWord(toks[j], grant ? 'TO' : 'FROM')) { to = j; break; }
  }
  if (to < 0) throw syntaxError(undefined);
  if (on < 0) {
    const first = toks[i];
    // `GRANT "r" TO "u"` is PostgreSQL's role membership; Redshift needs `GRANT ROLE "r" TO "u"`.
    if (first?.kind === 'qident' || (to === i + 1 && !SYSTEM_PRIVILEGE_WORDS.has(first.text.toUpperCase()))) throw syntaxError(first);
    throw new UnsupportedStatementError('system permissions (GRANT … TO ROLE without ON) are not modelled by the local stack');
  }
  const privTokens = toks.slice(i, on);
  const { kind, objects } = parseObjects(toks.slice(on + 1, to));
  const { grantees, withOption: withGrantOption } = parseGranteeClause(toks.slice(to + 1), grant, 'GRANT');
  if (withGrantOption && grantees.some((g) => g.kind !== 'user')) {
    throw new RedshiftError('WITH GRANT OPTION can only be granted to a user, not to a group, a role or PUBLIC');
  }

  const base = baseKind(kind);
  const allowed = PRIVILEGES[base];
  const native: string[] = [];
  const extra: string[] = [];
  let columnLevel = false;
  for (const p of splitCommas(privTokens)) {
    if (p.length === 0) throw syntaxError(toks[on]);
    const word = p[0].kind === 'word' ? p[0].text.toUpperCase() : '';
    if (word === 'ALL') {
      if (p.length > 1 && !isWord(p[1], 'PRIVILEGES') && !isPunct(p[1], '(')) throw syntaxError(p[1]);
      if (p.some((t) => isPunct(t, '('))) { columnLevel = true; native.push(text(p)); continue; }
      native.push(...(base === 'database' ? ALL_DATABASE : allowed.native));
      if (!grant || base !== 'database') extra.push(...allowed.extra);
      continue;
    }
    const name = word === 'TEMPORARY' ? 'TEMP' : word;
    if (p.length > 1) {
      // column-level SELECT (a, b) / UPDATE (a) on tables only
      if (base === 'table' && (name === 'SELECT' || name === 'UPDATE') && isPunct(p[1], '(') && isPunct(p[p.length - 1], ')')) {
        columnLevel = true;
        native.push(text(p));
        continue;
      }
      throw syntaxError(p[1]);
    }
    if (allowed.native.includes(name)) native.push(name);
    else if (allowed.extra.includes(name)) extra.push(name);
    else throw syntaxError(p[0]);
  }
  if (columnLevel && extra.length > 0) throw syntaxError(privTokens[0]);

  const out: string[] = [];
  for (const g of grantees) if (g.kind !== 'public') out.push(checkIdentity(g.name, g.kind));
  const pgKind = kind === 'table' ? 'TABLE' : kind === 'schema' ? 'SCHEMA' : kind === 'database' ? 'DATABASE' : kind === 'function' ? 'FUNCTION'
    : kind === 'procedure' ? 'PROCEDURE' : kind === 'language' ? 'LANGUAGE' : kind === 'all_tables' ? 'ALL TABLES IN SCHEMA'
      : kind === 'all_functions' ? 'ALL FUNCTIONS IN SCHEMA' : 'ALL PROCEDURES IN SCHEMA';
  const pgGrantees = grantees.map((g) => (g.kind === 'public' ? 'PUBLIC' : quoteIdent(g.name))).join(', ');
  const unique = (xs: string[]) => [...new Set(xs)];
  if (native.length > 0) {
    out.push(`${grant ? 'GRANT' : `REVOKE${optionFor ? ' GRANT OPTION FOR' : ''}`} ${unique(native).join(', ')} ON ${pgKind} ${objects.map(text).join(', ')} `
      + `${grant ? 'TO' : 'FROM'} ${pgGrantees}${withGrantOption ? ' WITH GRANT OPTION' : ''}`);
  }
  if (extra.length > 0) {
    const extraKind = kind === 'all_tables' ? 'all_tables' : base === 'table' ? 'relation' : base;
    const names = objects.map((o) => (kind === 'table' ? text(o) : o.length === 1 ? nameAt(o, 0) : (() => { throw syntaxError(o[1]); })()));
    const array = (xs: string[]) => `ARRAY[${xs.map(lit).join(', ')}]::text[]`;
    for (const g of grantees) {
      out.push(call('set_extra_privileges', lit(grant ? 'GRANT' : optionFor ? 'REVOKE GRANT OPTION' : 'REVOKE'), lit(extraKind), array(names),
        lit(g.name), lit(g.kind), array(unique(extra)), withGrantOption ? 'true' : 'false'));
    }
  }
  return out;
}

/** Words that start Redshift's system permissions (`GRANT CREATE USER TO ROLE r`). */
const SYSTEM_PRIVILEGE_WORDS = new Set(['CREATE', 'DROP', 'ALTER', 'ACCESS', 'TRUNCATE', 'VACUUM', 'ANALYZE', 'CANCEL', 'IGNORE', 'EXPLAIN', 'ALL']);

function parseObjects(ts: SqlToken[]): { kind: ObjectKind; objects: SqlToken[][] } {
  let kind: ObjectKind = 'table';
  let k = 0;
  const w = ts[0]?.kind === 'word' ? ts[0].text.toUpperCase() : '';
  if (w === 'ALL') {
    const what = ts[1]?.kind === 'word' ? ts[1].text.toUpperCase() : '';
    if (!isWord(ts[2], 'IN') || !isWord(ts[3], 'SCHEMA')) throw syntaxError(ts[2] ?? ts[1]);
    if (what === 'TABLES') kind = 'all_tables';
    else if (what === 'FUNCTIONS') kind = 'all_functions';
    else if (what === 'PROCEDURES') kind = 'all_procedures';
    else throw syntaxError(ts[1]);
    k = 4;
  } else if (w === 'TABLE' || w === 'SCHEMA' || w === 'DATABASE' || w === 'FUNCTION' || w === 'PROCEDURE' || w === 'LANGUAGE') {
    kind = w.toLowerCase() as ObjectKind;
    k = 1;
  } else if (['DATASHARE', 'MODEL', 'EXTERNAL', 'COPY'].includes(w) || ts[0]?.kind === 'string') {
    throw new UnsupportedStatementError(`GRANT … ON ${w || 'an IAM role'} is not modelled by the local stack`);
  } else if (['SEQUENCE', 'SEQUENCES', 'DOMAIN', 'TYPE', 'FOREIGN', 'LARGE', 'TABLESPACE', 'PARAMETER', 'ROUTINE'].includes(w) && isName(ts[1])) {
    // PostgreSQL-only object kinds
    throw syntaxError(ts[1]);
  }
  const objects = splitCommas(ts.slice(k));
  if (objects.some((o) => o.length === 0)) throw syntaxError(ts[ts.length - 1]);
  return { kind, objects };
}

/**
 * What follows TO (GRANT) or FROM (REVOKE): the grantees, with a trailing `WITH GRANT OPTION` / `WITH ADMIN OPTION`
 * (GRANT) or `RESTRICT` (REVOKE) taken off.
 */
function parseGranteeClause(rest: readonly SqlToken[], grant: boolean, option: 'GRANT' | 'ADMIN'): { grantees: Grantee[]; withOption: boolean } {
  const ts = [...rest];
  const n = ts.length;
  const withOption = grant && n >= 3 && isWord(ts[n - 3], 'WITH') && isWord(ts[n - 2], option) && isWord(ts[n - 1], 'OPTION');
  if (withOption) ts.splice(n - 3, 3);
  if (!grant && isWord(ts[n - 1], 'RESTRICT')) ts.pop();
  return { grantees: parseGrantees(ts), withOption };
}

function parseGrantees(ts: SqlToken[]): Grantee[] {
  if (ts.length === 0) throw syntaxError(undefined);
  return splitCommas(ts).map((g) => {
    if (g.length === 1 && isWord(g[0], 'PUBLIC')) return { kind: 'public', name: 'public' };
    if (g.length === 1) return { kind: 'user', name: nameAt(g, 0) };
    if (g.length === 2 && (isWord(g[0], 'ROLE') || isWord(g[0], 'GROUP'))) return { kind: isWord(g[0], 'ROLE') ? 'role' : 'group', name: nameAt(g, 1) };
    throw syntaxError(g[1] ?? g[0]);
  });
}

/** `GRANT ROLE r[, …] TO { u [WITH ADMIN OPTION] | ROLE r2 }[, …]`, `REVOKE [ADMIN OPTION FOR] ROLE r[, …] FROM …`. */
function rewriteRoleGrant(toks: SqlToken[], grant: boolean, start: number, adminOptionFor: boolean): string[] {
  const to = toks.findIndex((t, j) => j >= start && isWord(t, grant ? 'TO' : 'FROM'));
  if (to < 0) throw syntaxError(undefined);
  const roles = splitCommas(toks.slice(start, to)).map((r) => {
    if (r.length !== 1) throw syntaxError(r[1] ?? toks[to]);
    return nameAt(r, 0);
  });
  const rest = toks.slice(to + 1);
  const { grantees, withOption: withAdmin } = parseGranteeClause(rest, grant, 'ADMIN');
  for (const g of grantees) {
    // Redshift grants roles to users and roles only (no GROUP, no PUBLIC in the documented syntax)
    if (g.kind === 'group' || g.kind === 'public') throw syntaxError(rest.find((t) => isWord(t, g.kind === 'group' ? 'GROUP' : 'PUBLIC')));
  }
  if (withAdmin && grantees.some((g) => g.kind !== 'user')) throw new RedshiftError('WITH ADMIN OPTION can only be granted to a user');
  const out = [...roles.map((r) => checkIdentity(r, 'role')), ...grantees.map((g) => checkIdentity(g.name, g.kind as 'user' | 'role'))];
  const list = (xs: string[]) => xs.map(quoteIdent).join(', ');
  const names = grantees.map((g) => g.name);
  out.push(grant ? `GRANT ${list(roles)} TO ${list(names)}${withAdmin ? ' WITH ADMIN OPTION' : ''}`
    : `REVOKE ${adminOptionFor ? 'ADMIN OPTION FOR ' : ''}${list(roles)} FROM ${list(names)}`);
  return out;
}

// ---- roles and groups ----------------------------------------------------------------------------------------

/** `CREATE ROLE r [EXTERNALID id]` (https://docs.aws.amazon.com/redshift/latest/dg/r_CREATE_ROLE.html). */
function rewriteCreateRole(toks: SqlToken[]): string[] {
  const name = nameAt(toks, 2);
  let i = 3;
  if (isWord(toks[i], 'EXTERNALID')) i += 2;
  if (i < toks.length) throw syntaxError(toks[i]);
  return [`CREATE ROLE ${quoteIdent(name)} NOLOGIN`, call('register_role', lit(name))];
}

/** Redshift's ALTER ROLE: `RENAME TO`, `OWNER TO`, `EXTERNALID TO`; PostgreSQL's attributes are refused. */
function rewriteAlterRole(toks: SqlToken[]): string[] {
  const name = nameAt(toks, 2);
  const i = isWord(toks[3], 'WITH') ? 4 : 3;
  if (isWord(toks[i], 'RENAME') && isWord(toks[i + 1], 'TO') && toks.length === i + 3) {
    const to = nameAt(toks, i + 2);
    return [checkIdentity(name, 'role'), `ALTER ROLE ${quoteIdent(name)} RENAME TO ${quoteIdent(to)}`, call('rename_role', lit(name), lit(to))];
  }
  if ((isWord(toks[i], 'OWNER') || isWord(toks[i], 'EXTERNALID')) && isWord(toks[i + 1], 'TO')) {
    throw new UnsupportedStatementError(`ALTER ROLE … ${toks[i].text.toUpperCase()} TO is not modelled by the local stack`);
  }
  throw syntaxError(toks[i]);
}

/** `DROP USER|GROUP|ROLE [IF EXISTS] x[, …]`: each name must be of that kind; holders of shim privileges are refused. */
function rewriteDrop(toks: SqlToken[]): string[] {
  const what = toks[1].text.toUpperCase() as 'USER' | 'GROUP' | 'ROLE';
  let i = 2;
  const ifExists = isWord(toks[2], 'IF') && isWord(toks[3], 'EXISTS');
  if (ifExists) i = 4;
  let end = toks.length;
  if (what === 'ROLE' && (isWord(toks[end - 1], 'FORCE') || isWord(toks[end - 1], 'RESTRICT'))) end--;
  const names = splitCommas(toks.slice(i, end)).map((n) => {
    if (n.length !== 1) throw syntaxError(n[1] ?? toks[end - 1]);
    return nameAt(n, 0);
  });
  const kind = what === 'USER' ? 'user' : what === 'GROUP' ? 'group' : 'role';
  const out: string[] = [];
  for (const n of names) {
    out.push(call('check_droppable', lit(n), lit(kind), ifExists ? 'true' : 'false'));
  }
  out.push(`DROP ${what === 'ROLE' ? 'ROLE' : what}${ifExists ? ' IF EXISTS' : ''} ${names.map(quoteIdent).join(', ')}`);
  if (kind === 'role') for (const n of names) out.push(call('unregister_role', lit(n)));
  return out;
}

/** `CREATE GROUP g [[WITH] USER u[, …]]`, `ALTER GROUP g {ADD|DROP} USER u[, …] | RENAME TO n` (https://docs.aws.amazon.com/redshift/latest/dg/r_ALTER_GROUP.html). */
function rewriteGroup(sql: string, toks: SqlToken[], create: boolean): string[] {
  const name = nameAt(toks, 2);
  if (create) {
    let i = 3;
    if (isWord(toks[i], 'WITH')) i++;
    if (i === toks.length) return [`CREATE GROUP ${quoteIdent(name)}`];
    if (!isWord(toks[i], 'USER')) throw syntaxError(toks[i]);
    const users = splitCommas(toks.slice(i + 1)).map((u) => { if (u.length !== 1) throw syntaxError(u[1]); return nameAt(u, 0); });
    return [...users.map((u) => checkIdentity(u, 'user')), `CREATE GROUP ${quoteIdent(name)} WITH USER ${users.map(quoteIdent).join(', ')}`];
  }
  const out = [checkIdentity(name, 'group')];
  if ((isWord(toks[3], 'ADD') || isWord(toks[3], 'DROP')) && isWord(toks[4], 'USER')) {
    const users = splitCommas(toks.slice(5)).map((u) => { if (u.length !== 1) throw syntaxError(u[1] ?? toks[4]); return nameAt(u, 0); });
    for (const u of users) out.push(checkIdentity(u, 'user'));
    out.push(`ALTER GROUP ${quoteIdent(name)} ${toks[3].text.toUpperCase()} USER ${users.map(quoteIdent).join(', ')}`);
    return out;
  }
  if (isWord(toks[3], 'RENAME') && isWord(toks[4], 'TO') && toks.length === 6) return [...out, sql];
  throw syntaxError(toks[3]);
}

// ---- users ---------------------------------------------------------------------------------------------------

/**
 * Redshift's configuration parameters (https://docs.aws.amazon.com/redshift/latest/dg/cm_chap_ConfigurationRef.html);
 * the ones PostgreSQL also has are set as they are, the others as the placeholder `redshift.<name>` (shown without
 * the prefix by the shim's `pg_user`). Anything else is refused as unrecognized.
 */
export const REDSHIFT_PARAMETERS: { readonly native: ReadonlySet<string>; readonly redshiftOnly: ReadonlySet<string> } = {
  native: new Set(['datestyle', 'extra_float_digits', 'search_path', 'statement_timeout', 'timezone']),
  redshiftOnly: new Set(['analyze_threshold_percent', 'cast_super_null_on_error', 'datashare_break_glass_session_var',
    'default_array_search_null_handling', 'default_geometry_encoding', 'describe_field_name_in_uppercase', 'downcase_delimited_identifier',
    'enable_case_sensitive_identifier', 'enable_case_sensitive_super_attribute', 'enable_numeric_rounding', 'enable_result_cache_for_session',
    'enable_vacuum_boost', 'error_on_nondeterministic_update', 'interval_forbid_composite_literals', 'json_serialization_enable',
    'json_serialization_parse_nested_strings', 'max_concurrency_scaling_clusters', 'max_cursor_result_set_size', 'max_failed_login_attempts',
    'mv_enable_aqmv_for_session', 'navigate_super_null_on_error', 'parse_super_null_on_error', 'pg_federation_repeatable_read',
    'query_group', 'spectrum_enable_pseudo_columns', 'enable_spectrum_oid', 'spectrum_query_maxerror', 'stored_proc_log_min_messages',
    'use_fips_ssl', 'wlm_query_slot_count']),
};

function parameterName(t: SqlToken | undefined): string {
  if (!t || t.kind !== 'word') throw syntaxError(t);
  const name = t.text.toLowerCase();
  if (REDSHIFT_PARAMETERS.native.has(name)) return name;
  if (REDSHIFT_PARAMETERS.redshiftOnly.has(name)) return `redshift.${name}`;
  throw new RedshiftError(`unrecognized configuration parameter "${name}"`);
}

/**
 * Checks a clear-text password against Redshift's rules (https://docs.aws.amazon.com/redshift/latest/dg/r_CREATE_USER.html):
 * 8 to 64 characters, at least one upper-case letter, one lower-case letter and one digit, printable ASCII (33-126)
 * except `'`, `"`, `\`, `/`, `@`. The error never contains the password.
 */
export function checkPlaintextPassword(password: string): void {
  if (password.length < 8 || password.length > 64) throw new RedshiftError('password must be 8 to 64 characters long');
  if (!/[A-Z]/.test(password)) throw new RedshiftError('password must contain an upper-case letter');
  if (!/[a-z]/.test(password)) throw new RedshiftError('password must contain a lower-case letter');
  if (!/[0-9]/.test(password)) throw new RedshiftError('password must contain a number');
  for (const ch of password) {
    const code = ch.charCodeAt(0);
    if (code < 33 || code > 126 || '\'"\\/@'.includes(ch)) {
      throw new RedshiftError('password may use printable ASCII characters (codes 33 to 126) except \' " \\ / @ and space');
    }
  }
}

/** The PASSWORD value as PostgreSQL gets it: an md5 verifier as is, a clear-text password as Redshift stores it (md5). */
function passwordValue(t: SqlToken | undefined, user: string): string {
  if (!t) throw syntaxError(t);
  if (isWord(t, 'DISABLE')) return 'NULL';
  if (t.kind !== 'string' || !t.text.startsWith('\'')) throw syntaxError(t);
  const value = t.text.slice(1, -1).replace(/''/g, '\'');
  if (value.startsWith('sha256|')) throw new UnsupportedStatementError('sha256 password hashes are not supported by the local stack');
  if (/^md5[0-9a-f]{32}$/.test(value)) return lit(value);
  checkPlaintextPassword(value);
  return lit('md5' + createHash('md5').update(value + user).digest('hex'));
}

/** PostgreSQL role options Redshift does not have (refused with Redshift's syntax error). */
const POSTGRES_ONLY_USER_OPTIONS = new Set(['SUPERUSER', 'NOSUPERUSER', 'CREATEROLE', 'NOCREATEROLE', 'INHERIT', 'NOINHERIT', 'LOGIN',
  'NOLOGIN', 'REPLICATION', 'NOREPLICATION', 'BYPASSRLS', 'NOBYPASSRLS', 'ENCRYPTED', 'UNENCRYPTED', 'ROLE', 'ADMIN', 'SYSID', 'USER']);

function rewriteUser(toks: SqlToken[], create: boolean): string[] {
  const name = nameAt(toks, 2);
  if (create && name === 'public') throw new RedshiftError('the user name "public" is reserved');
  const u = quoteIdent(name);
  let i = 3;
  if (isWord(toks[i], 'WITH')) i++;
  if (!create) {
    // ALTER USER u RENAME TO n | SET p {TO|=} {v|DEFAULT} | RESET p  (https://docs.aws.amazon.com/redshift/latest/dg/r_ALTER_USER.html)
    if (isWord(toks[i], 'RENAME')) {
      if (!isWord(toks[i + 1], 'TO') || toks.length !== i + 3) throw syntaxError(toks[i + 1]);
      return [`ALTER USER ${u} RENAME TO ${quoteIdent(nameAt(toks, i + 2))}`];
    }
    if (isWord(toks[i], 'SET')) {
      const param = parameterName(toks[i + 1]);
      if (!isWord(toks[i + 2], 'TO') && !isPunct(toks[i + 2], '=')) throw syntaxError(toks[i + 2]);
      const value = toks.slice(i + 3);
      if (value.length === 0) throw syntaxError(undefined);
      if (value.length === 1 && isWord(value[0], 'DEFAULT')) return [call('check_user', lit(name)), `ALTER USER ${u} RESET ${param}`];
      if (isWord(value[0], 'FROM') || isWord(value[0], 'CURRENT')) throw syntaxError(value[0]);
      let v = value.map((t) => t.text).join(' ').replace(/ ,/g, ',');
      // keep the shim's views visible to a user with its own search_path (pg_user shows the value without this suffix)
      if (param === 'search_path') v += `, ${SHIM_SCHEMA}, pg_catalog`;
      return [call('check_user', lit(name)), `ALTER USER ${u} SET ${param} TO ${v}`];
    }
    if (isWord(toks[i], 'RESET') && !isWord(toks[i + 1], 'SESSION')) {
      if (toks.length !== i + 2 || isWord(toks[i + 1], 'ALL')) throw syntaxError(toks[i + 1] ?? toks[i]);
      return [call('check_user', lit(name)), `ALTER USER ${u} RESET ${parameterName(toks[i + 1])}`];
    }
    if (isWord(toks[i], 'IN') && isWord(toks[i + 1], 'DATABASE')) throw syntaxError(toks[i]);
  }
  const kept: string[] = [];
  const before: string[] = [];
  const after: string[] = [];
  let password = false;
  while (i < toks.length) {
    const t = toks[i];
    const w = t.kind === 'word' ? t.text.toUpperCase() : '';
    if (isPunct(t, ',')) { i++; continue; }
    if (w === 'CREATEDB' || w === 'NOCREATEDB') { kept.push(w); i++; } else if (w === 'CREATEUSER' || w === 'NOCREATEUSER') {
      kept.push(w === 'CREATEUSER' ? 'SUPERUSER' : 'NOSUPERUSER');
      i++;
    } else if (w === 'CONNECTION' && isWord(toks[i + 1], 'LIMIT')) {
      const v = toks[i + 2];
      if (isWord(v, 'UNLIMITED')) kept.push('CONNECTION LIMIT -1');
      else if (v?.kind === 'number' && /^[0-9]+$/.test(v.text)) kept.push(`CONNECTION LIMIT ${v.text}`);
      else throw syntaxError(v);
      i += 3;
    } else if (w === 'SYSLOG' && isWord(toks[i + 1], 'ACCESS')) {
      const v = toks[i + 2];
      if (!isWord(v, 'RESTRICTED') && !isWord(v, 'UNRESTRICTED')) throw syntaxError(v);
      after.push(call('set_syslog_access', lit(name), lit(v.text.toUpperCase())));
      i += 3;
    } else if (w === 'SESSION' && isWord(toks[i + 1], 'TIMEOUT')) {
      const v = toks[i + 2];
      if (!v || v.kind !== 'number' || !/^[0-9]+$/.test(v.text)) throw syntaxError(v ?? toks[i + 1]);
      after.push(call('set_session_timeout', lit(name), String(Number(v.text))));
      i += 3;
    } else if (!create && w === 'RESET' && isWord(toks[i + 1], 'SESSION') && isWord(toks[i + 2], 'TIMEOUT')) {
      after.push(call('set_session_timeout', lit(name), '0'));
      i += 3;
    } else if (w === 'PASSWORD') {
      kept.push(`PASSWORD ${passwordValue(toks[i + 1], name)}`);
      password = true;
      i += 2;
    } else if (w === 'VALID' && isWord(toks[i + 1], 'UNTIL')) {
      if (toks[i + 2]?.kind !== 'string') throw syntaxError(toks[i + 2]);
      kept.push(`VALID UNTIL ${toks[i + 2].text}`);
      i += 3;
    } else if (create && w === 'IN' && isWord(toks[i + 1], 'GROUP')) {
      i += 2;
      const groups: string[] = [];
      do {
        if (isPunct(toks[i], ',')) i++;
        groups.push(nameAt(toks, i));
        i++;
      } while (isPunct(toks[i], ',') && isName(toks[i + 1]) && !POSTGRES_ONLY_USER_OPTIONS.has(toks[i + 1].text.toUpperCase()));
      for (const g of groups) {
        before.push(checkIdentity(g, 'group'));
        after.push(`ALTER GROUP ${quoteIdent(g)} ADD USER ${u}`);
      }
    } else if (w === 'EXTERNALID') {
      if (!toks[i + 1]) throw syntaxError(undefined);
      i += 2; // identity-provider id: not modelled (svv_user_info.external_user_id stays NULL)
    } else {
      throw syntaxError(t);
    }
  }
  if (create && !password) throw new RedshiftError('CREATE USER needs a PASSWORD (a password, an md5 or sha256 hash, or DISABLE)');
  const statements = [...before];
  if (create) statements.push(`CREATE USER ${u}${kept.length ? ' ' + kept.join(' ') : ''}`);
  else if (kept.length > 0) statements.push(`ALTER USER ${u} ${kept.join(' ')}`);
  if (!create && kept.length === 0 && after.length === 0) throw syntaxError(undefined);
  return statements.concat(after);
}

// ---------------------------------------------------------------------------------------------------------------
// Catalog objects
// ---------------------------------------------------------------------------------------------------------------

const S = SHIM_SCHEMA;
const SYSTEM_SCHEMAS = `n.nspname NOT IN ('information_schema', '${S}') AND n.nspname !~ '^pg_'`;

/** The SQL that creates the shim (idempotent: drops and recreates the schema). */
export const SHIM_SQL = `
DROP EVENT TRIGGER IF EXISTS ${S}_forget_dropped;
DROP SCHEMA IF EXISTS ${S} CASCADE;
CREATE SCHEMA ${S};
GRANT USAGE ON SCHEMA ${S} TO PUBLIC;

CREATE TABLE ${S}.rbac_roles (role_name name PRIMARY KEY);
CREATE TABLE ${S}.user_attributes (
  usesysid oid PRIMARY KEY,
  syslog_access text NOT NULL DEFAULT 'RESTRICTED' CHECK (syslog_access IN ('RESTRICTED', 'UNRESTRICTED')),
  session_timeout integer NOT NULL DEFAULT 0
);
-- Privileges Redshift has and PostgreSQL lacks: ALTER and DROP on tables, views and schemas, ALTER and USAGE on
-- databases. grantee 0 is PUBLIC.
CREATE TABLE ${S}.extra_privileges (
  kind text NOT NULL CHECK (kind IN ('relation', 'schema', 'database')),
  objoid oid NOT NULL,
  grantee oid NOT NULL,
  privilege text NOT NULL,
  grantable boolean NOT NULL DEFAULT false,
  PRIMARY KEY (kind, objoid, grantee, privilege)
);
GRANT SELECT ON ${S}.rbac_roles, ${S}.user_attributes, ${S}.extra_privileges TO PUBLIC;

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

-- The oid of an identity of the kind Redshift expects at that place (a user, a group, an RBAC role; 0 for PUBLIC),
-- or Redshift's "does not exist" error: a group where a role is expected does not exist as a role, and so on.
CREATE FUNCTION ${S}.identity_oid(n text, kind text) RETURNS oid LANGUAGE plpgsql SECURITY DEFINER
  SET search_path = pg_catalog AS $$
DECLARE id oid;
BEGIN
  IF kind = 'public' THEN RETURN 0; END IF;
  SELECT r.oid INTO id FROM pg_roles r
   WHERE r.rolname = n AND r.rolname !~ '^pg_' AND CASE kind
     WHEN 'user' THEN r.rolcanlogin
     WHEN 'role' THEN EXISTS (SELECT 1 FROM ${S}.rbac_roles x WHERE x.role_name = r.rolname)
     WHEN 'group' THEN NOT r.rolcanlogin AND NOT EXISTS (SELECT 1 FROM ${S}.rbac_roles x WHERE x.role_name = r.rolname)
   END;
  IF id IS NULL THEN RAISE EXCEPTION '% "%" does not exist', kind, n USING ERRCODE = '42704'; END IF;
  RETURN id;
END $$;

CREATE FUNCTION ${S}.check_identity(n text, kind text) RETURNS void LANGUAGE plpgsql SECURITY DEFINER
  SET search_path = pg_catalog AS $$ BEGIN PERFORM ${S}.identity_oid(n, kind); END $$;

-- GRANT/REVOKE of a shim-recorded privilege. Like a native GRANT, it needs a superuser or the object's owner
-- (or, for a grant, a user holding the privilege WITH GRANT OPTION).
CREATE FUNCTION ${S}.set_extra_privilege(op text, kind text, objname text, grantee_name text, grantee_kind text, priv text,
  grantable boolean) RETURNS void LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
#variable_conflict use_column
DECLARE obj oid; owner oid; who oid; rel record; k text := kind;
BEGIN
  IF kind = 'all_tables' THEN
    IF NOT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = objname) THEN
      RAISE EXCEPTION 'schema "%" does not exist', objname USING ERRCODE = '3F000';
    END IF;
    FOR rel IN SELECT c.oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                WHERE n.nspname = objname AND c.relkind IN ('r', 'v', 'm', 'p', 'f') LOOP
      PERFORM ${S}.set_extra_privilege(op, 'relation', rel.oid::regclass::text, grantee_name, grantee_kind, priv, grantable);
    END LOOP;
    RETURN;
  END IF;
  IF kind = 'relation' THEN
    obj := objname::regclass::oid;
    SELECT relowner INTO owner FROM pg_class WHERE oid = obj;
  ELSIF kind = 'schema' THEN
    SELECT oid, nspowner INTO obj, owner FROM pg_namespace WHERE nspname = objname;
    IF obj IS NULL THEN RAISE EXCEPTION 'schema "%" does not exist', objname USING ERRCODE = '3F000'; END IF;
  ELSE
    SELECT oid, datdba INTO obj, owner FROM pg_database WHERE datname = objname;
    IF obj IS NULL THEN RAISE EXCEPTION 'database "%" does not exist', objname USING ERRCODE = '3D000'; END IF;
  END IF;
  who := ${S}.identity_oid(grantee_name, grantee_kind);
  IF NOT ((SELECT rolsuper FROM pg_roles WHERE rolname = session_user) OR pg_has_role(session_user, owner, 'MEMBER')
          OR (op = 'GRANT' AND EXISTS (SELECT 1 FROM ${S}.extra_privileges e JOIN pg_roles r ON r.rolname = session_user
               WHERE e.kind = k AND e.objoid = obj AND e.grantee = r.oid AND e.privilege = priv AND e.grantable))) THEN
    RAISE EXCEPTION 'permission denied for % %', CASE kind WHEN 'relation' THEN 'relation' ELSE kind END, objname USING ERRCODE = '42501';
  END IF;
  IF op = 'GRANT' THEN
    INSERT INTO ${S}.extra_privileges AS e VALUES (k, obj, who, priv, grantable)
      ON CONFLICT (kind, objoid, grantee, privilege) DO UPDATE SET grantable = e.grantable OR EXCLUDED.grantable;
  ELSIF op = 'REVOKE GRANT OPTION' THEN
    UPDATE ${S}.extra_privileges e SET grantable = false WHERE e.kind = k AND e.objoid = obj AND e.grantee = who AND e.privilege = priv;
  ELSE
    DELETE FROM ${S}.extra_privileges e WHERE e.kind = k AND e.objoid = obj AND e.grantee = who AND e.privilege = priv;
  END IF;
END $$;

-- The same for several objects and privileges (one call per grantee and statement).
CREATE FUNCTION ${S}.set_extra_privileges(op text, kind text, objnames text[], grantee_name text, grantee_kind text, privs text[],
  grantable boolean) RETURNS void LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
DECLARE o text; p text;
BEGIN
  FOREACH o IN ARRAY objnames LOOP
    FOREACH p IN ARRAY privs LOOP
      PERFORM ${S}.set_extra_privilege(op, kind, o, grantee_name, grantee_kind, p, grantable);
    END LOOP;
  END LOOP;
END $$;

-- DROP USER/GROUP/ROLE: the name must be of that kind; like PostgreSQL (and Redshift) for native privileges, an
-- identity that still holds a shim-recorded privilege cannot be dropped.
CREATE FUNCTION ${S}.check_droppable(n text, kind text, if_exists boolean) RETURNS void LANGUAGE plpgsql SECURITY DEFINER
  SET search_path = pg_catalog AS $$
DECLARE id oid;
BEGIN
  IF if_exists AND NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = n) THEN RETURN; END IF;
  id := ${S}.identity_oid(n, kind);
  IF EXISTS (SELECT 1 FROM ${S}.extra_privileges WHERE grantee = id) THEN
    RAISE EXCEPTION '% "%" cannot be dropped because the % has a privilege on some object', kind, n, kind
      USING ERRCODE = '2BP01';
  END IF;
END $$;

CREATE FUNCTION ${S}.forget_dropped_objects() RETURNS event_trigger LANGUAGE plpgsql SECURITY DEFINER
  SET search_path = pg_catalog AS $$
BEGIN
  DELETE FROM ${S}.extra_privileges e USING pg_event_trigger_dropped_objects() d
   WHERE d.objid = e.objoid
     AND ((e.kind = 'relation' AND d.classid = 'pg_class'::regclass) OR (e.kind = 'schema' AND d.classid = 'pg_namespace'::regclass));
END $$;
CREATE EVENT TRIGGER ${S}_forget_dropped ON sql_drop EXECUTE FUNCTION ${S}.forget_dropped_objects();

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

CREATE FUNCTION ${S}.rename_role(r name, n name) RETURNS void LANGUAGE sql SECURITY DEFINER
  SET search_path = pg_catalog AS $$ UPDATE ${S}.rbac_roles SET role_name = n WHERE role_name = r $$;

REVOKE ALL ON ALL FUNCTIONS IN SCHEMA ${S} FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ${S}.check_user(name), ${S}.set_syslog_access(name, text), ${S}.set_session_timeout(name, integer),
  ${S}.register_role(name), ${S}.unregister_role(name), ${S}.rename_role(name, name), ${S}.identity_oid(text, text),
  ${S}.check_identity(text, text), ${S}.set_extra_privilege(text, text, text, text, text, text, boolean),
  ${S}.set_extra_privileges(text, text, text[], text, text, text[], boolean),
  ${S}.check_droppable(text, text, boolean) TO PUBLIC;

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

-- Redshift's PG_USER columns (PostgreSQL 8.0's); useconfig shows Redshift-only parameters without the shim's
-- "redshift." prefix, canonical names in lower case, and search_path without the shim's own suffix.
CREATE VIEW ${S}.pg_user AS
  SELECT u.usename, u.usesysid, u.usecreatedb, u.usesuper, false AS usecatupd, u.passwd, u.valuntil,
         CASE WHEN u.useconfig IS NULL THEN NULL ELSE ARRAY(
           SELECT regexp_replace(
                    lower(regexp_replace(split_part(c, '=', 1), '^redshift\\.', '')) || '=' || substr(c, strpos(c, '=') + 1),
                    '^(search_path=.*), ${S}, pg_catalog$', '\\1')
             FROM unnest(u.useconfig) WITH ORDINALITY AS x(c, n) ORDER BY n) END AS useconfig
    FROM pg_catalog.pg_user u;

-- SVL_USER_INFO: visible only to superusers (provisioned clusters only; refused on Serverless by the Data API).
CREATE VIEW ${S}.svl_user_info AS
  SELECT r.rolname AS usename, r.oid AS usesysid, r.rolcreatedb AS usecreatedb, r.rolsuper AS usesuper,
         false AS usecatupd,
         CASE WHEN r.rolconnlimit < 0 THEN 'UNLIMITED' ELSE r.rolconnlimit::text END AS useconnlimit,
         COALESCE(a.syslog_access, 'RESTRICTED') AS syslogaccess,
         NULL::timestamp AS last_ddl_ts,
         COALESCE(a.session_timeout, 0) AS sessiontimeout,
         NULL::text AS external_id
    FROM pg_catalog.pg_roles r LEFT JOIN ${S}.user_attributes a ON a.usesysid = r.oid
   WHERE r.rolcanlogin;

-- SVV_USER_INFO: visible to all users; superusers see all rows, other users their own.
CREATE VIEW ${S}.svv_user_info AS
  SELECT r.rolname::text AS user_name, r.oid::integer AS user_id, r.rolcreatedb AS createdb, r.rolsuper AS superuser,
         false AS catalog_update,
         CASE WHEN r.rolconnlimit < 0 THEN 'UNLIMITED' ELSE r.rolconnlimit::text END AS connection_limit,
         COALESCE(a.syslog_access, 'RESTRICTED') AS syslog_access,
         NULL::timestamp AS last_ddl_timestamp,
         COALESCE(a.session_timeout, 0) AS session_timeout,
         NULL::text AS external_user_id
    FROM pg_catalog.pg_roles r LEFT JOIN ${S}.user_attributes a ON a.usesysid = r.oid
   WHERE r.rolcanlogin
     AND (r.rolname = current_user OR (SELECT me.rolsuper FROM pg_catalog.pg_roles me WHERE me.rolname = current_user));

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

-- The svv_*_privileges views list explicit grants only: the owner's own ACL entries (which PostgreSQL shows once
-- an ACL exists) are left out, and so are privileges Redshift does not have (TRIGGER, MAINTAIN, CONNECT).
CREATE VIEW ${S}.svv_relation_privileges AS
  SELECT n.nspname::text AS namespace_name, c.relname::text AS relation_name, a.privilege_type::text AS privilege_type,
         i.oid::integer AS identity_id, i.name AS identity_name, i.kind AS identity_type, a.is_grantable AS admin_option
    FROM pg_catalog.pg_class c
    JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
    CROSS JOIN LATERAL aclexplode(c.relacl) a
    JOIN ${S}.identities i ON i.oid = a.grantee
   WHERE c.relkind IN ('r', 'v', 'm', 'p', 'f') AND ${SYSTEM_SCHEMAS} AND a.privilege_type NOT IN ('MAINTAIN', 'TRIGGER')
     AND a.grantee <> c.relowner
  UNION ALL
  SELECT n.nspname::text, c.relname::text, e.privilege, i.oid::integer, i.name, i.kind, e.grantable
    FROM ${S}.extra_privileges e
    JOIN pg_catalog.pg_class c ON e.kind = 'relation' AND c.oid = e.objoid
    JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
    JOIN ${S}.identities i ON i.oid = e.grantee;

CREATE VIEW ${S}.svv_schema_privileges AS
  SELECT n.nspname::text AS namespace_name, a.privilege_type::text AS privilege_type,
         i.oid::integer AS identity_id, i.name AS identity_name, i.kind AS identity_type, a.is_grantable AS admin_option
    FROM pg_catalog.pg_namespace n
    CROSS JOIN LATERAL aclexplode(n.nspacl) a
    JOIN ${S}.identities i ON i.oid = a.grantee
   WHERE ${SYSTEM_SCHEMAS} AND a.grantee <> n.nspowner
  UNION ALL
  SELECT n.nspname::text, e.privilege, i.oid::integer, i.name, i.kind, e.grantable
    FROM ${S}.extra_privileges e
    JOIN pg_catalog.pg_namespace n ON e.kind = 'schema' AND n.oid = e.objoid
    JOIN ${S}.identities i ON i.oid = e.grantee;

CREATE VIEW ${S}.svv_database_privileges AS
  SELECT d.datname::text AS database_name,
         CASE a.privilege_type WHEN 'TEMPORARY' THEN 'TEMP' ELSE a.privilege_type END::text AS privilege_type,
         i.oid::integer AS identity_id, i.name AS identity_name, i.kind AS identity_type, a.is_grantable AS admin_option
    FROM pg_catalog.pg_database d
    CROSS JOIN LATERAL aclexplode(d.datacl) a
    JOIN ${S}.identities i ON i.oid = a.grantee
   WHERE a.privilege_type <> 'CONNECT' AND NOT d.datistemplate AND a.grantee <> d.datdba
  UNION ALL
  SELECT d.datname::text, e.privilege, i.oid::integer, i.name, i.kind, e.grantable
    FROM ${S}.extra_privileges e
    JOIN pg_catalog.pg_database d ON e.kind = 'database' AND d.oid = e.objoid
    JOIN ${S}.identities i ON i.oid = e.grantee;

-- SVV_FUNCTION_PRIVILEGES: explicit EXECUTE grants on functions and procedures, owner excluded.
CREATE VIEW ${S}.svv_function_privileges AS
  SELECT n.nspname::text AS namespace_name, p.proname::text AS function_name,
         pg_catalog.oidvectortypes(p.proargtypes)::text AS argument_types, a.privilege_type::text AS privilege_type,
         i.oid::integer AS identity_id, i.name AS identity_name, i.kind AS identity_type, a.is_grantable AS admin_option
    FROM pg_catalog.pg_proc p
    JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
    CROSS JOIN LATERAL aclexplode(p.proacl) a
    JOIN ${S}.identities i ON i.oid = a.grantee
   WHERE p.prokind IN ('f', 'p') AND ${SYSTEM_SCHEMAS} AND a.grantee <> p.proowner;

GRANT SELECT ON ALL TABLES IN SCHEMA ${S} TO PUBLIC;
REVOKE SELECT ON ${S}.svl_user_info FROM PUBLIC;
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
