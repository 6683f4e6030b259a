/**
 * SQL text the handler sends (docs/architecture.md, "The SQL the handler sends"). Identifiers are always
 * double-quoted; the only literals are the md5 verifier (hex), a validated VALID UNTIL timestamp and integers.
 * Passwords never appear in SQL text.
 */
import { createHash } from 'crypto';
import { PrivilegeKind, UserAttributes, UserState, privilegeKey, Privilege } from './catalog';

/** `name` as a quoted identifier (`"` doubled). Refuses empty names and NUL characters. */
export function quoteIdent(name: string): string {
  if (typeof name !== 'string' || name.length === 0) throw new Error('an SQL identifier must be a non-empty string');
  if (name.includes('\0')) throw new Error('an SQL identifier must not contain a NUL character');
  return '"' + name.replace(/"/g, '""') + '"';
}

/** Redshift's (and PostgreSQL's) md5 password verifier: `md5` + md5(password + username), hex. */
export function md5Verifier(password: string, username: string): string {
  return 'md5' + createHash('md5').update(password + username, 'utf8').digest('hex');
}

/** The verifier as an SQL literal: `'md5<32 hex>'`, which no password can break out of. */
export function md5Literal(password: string, username: string): string {
  return `'${md5Verifier(password, username)}'`;
}

export const SELECT_ONE = 'SELECT 1';

export function alterPasswordSql(username: string, password: string): string {
  return `ALTER USER ${quoteIdent(username)} PASSWORD ${md5Literal(password, username)}`;
}

export function createUserSql(username: string, password: string): string {
  return `CREATE USER ${quoteIdent(username)} PASSWORD ${md5Literal(password, username)}`;
}

const VALID_UNTIL = /^[0-9 :.+-]+$|^infinity$/;

/** The attributes of a user Redshift creates with no options. */
export const DEFAULT_ATTRIBUTES: UserAttributes = {
  createdb: false,
  superuser: false,
  connectionLimit: 'UNLIMITED',
  validUntil: 'infinity',
  syslogAccess: 'RESTRICTED',
  sessionTimeout: 0,
};

/** ALTER USER statements that change `user`'s attributes from `from` to `to` (none when they are equal). */
export function attributeStatements(user: string, from: UserAttributes, to: UserAttributes): string[] {
  const u = quoteIdent(user);
  const out: string[] = [];
  if (from.createdb !== to.createdb) out.push(`ALTER USER ${u} ${to.createdb ? 'CREATEDB' : 'NOCREATEDB'}`);
  if (from.superuser !== to.superuser) out.push(`ALTER USER ${u} ${to.superuser ? 'CREATEUSER' : 'NOCREATEUSER'}`);
  if (from.connectionLimit !== to.connectionLimit) {
    if (!/^(UNLIMITED|[0-9]+)$/.test(to.connectionLimit)) throw new Error(`connection limit ${JSON.stringify(to.connectionLimit)} is not UNLIMITED or an integer`);
    out.push(`ALTER USER ${u} CONNECTION LIMIT ${to.connectionLimit}`);
  }
  if (from.validUntil !== to.validUntil) {
    if (!VALID_UNTIL.test(to.validUntil)) throw new Error(`VALID UNTIL ${JSON.stringify(to.validUntil)} is not a timestamp or infinity`);
    out.push(`ALTER USER ${u} VALID UNTIL '${to.validUntil}'`);
  }
  if (from.syslogAccess !== to.syslogAccess) out.push(`ALTER USER ${u} SYSLOG ACCESS ${to.syslogAccess}`);
  if (from.sessionTimeout !== to.sessionTimeout) {
    if (!Number.isSafeInteger(to.sessionTimeout) || to.sessionTimeout < 0) throw new Error(`session timeout ${to.sessionTimeout} is not a non-negative integer`);
    out.push(to.sessionTimeout === 0 ? `ALTER USER ${u} RESET SESSION TIMEOUT` : `ALTER USER ${u} SESSION TIMEOUT ${to.sessionTimeout}`);
  }
  return out;
}

function objectSql(kind: PrivilegeKind, object: readonly string[]): string {
  switch (kind) {
    case 'relation': return `TABLE ${quoteIdent(object[0])}.${quoteIdent(object[1])}`;
    case 'schema': return `SCHEMA ${quoteIdent(object[0])}`;
    case 'database': return `DATABASE ${quoteIdent(object[0])}`;
  }
}

/** `GRANT p ON … TO "u"` or `REVOKE p ON … FROM "u"`; the privilege keyword comes from the allow-list only. */
export function privilegeSql(op: 'GRANT' | 'REVOKE', privilege: Privilege, user: string): string {
  return `${op} ${privilege.privilege} ON ${objectSql(privilege.kind, privilege.object)} ${op === 'GRANT' ? 'TO' : 'FROM'} ${quoteIdent(user)}`;
}

function minus(a: Iterable<string>, b: ReadonlySet<string>): string[] {
  return [...a].filter((x) => !b.has(x)).sort();
}

/**
 * The statements that bring user `clone` (state `cloneState`, or undefined when it is being created) exactly in line
 * with the original user: attributes, groups, roles and direct grants, added and removed.
 */
export function syncStatements(clone: string, original: UserState, cloneState: UserState | undefined): string[] {
  const c = quoteIdent(clone);
  const out = attributeStatements(clone, cloneState?.attributes ?? DEFAULT_ATTRIBUTES, original.attributes);
  const cloneGroups = cloneState?.groups ?? new Set<string>();
  for (const g of minus(cloneGroups, original.groups)) out.push(`ALTER GROUP ${quoteIdent(g)} DROP USER ${c}`);
  for (const g of minus(original.groups, cloneGroups)) out.push(`ALTER GROUP ${quoteIdent(g)} ADD USER ${c}`);
  const cloneRoles = cloneState?.roles ?? new Set<string>();
  for (const r of minus(cloneRoles, original.roles)) out.push(`REVOKE ROLE ${quoteIdent(r)} FROM ${c}`);
  for (const r of minus(original.roles, cloneRoles)) out.push(`GRANT ROLE ${quoteIdent(r)} TO ${c}`);
  const originalKeys = new Map(original.privileges.map((p) => [privilegeKey(p), p]));
  const cloneKeys = new Map((cloneState?.privileges ?? []).map((p) => [privilegeKey(p), p]));
  for (const key of minus(cloneKeys.keys(), new Set(originalKeys.keys()))) out.push(privilegeSql('REVOKE', cloneKeys.get(key)!, clone));
  for (const key of minus(originalKeys.keys(), new Set(cloneKeys.keys()))) out.push(privilegeSql('GRANT', originalKeys.get(key)!, clone));
  return out;
}

/**
 * The whole ALTERNATING_USERS write for setSecret: set the pending user's password (CREATE USER when it does not
 * exist), then bring the clone in line with the original. The original is the source of truth on every rotation;
 * it must exist.
 */
export function alternatingWrites(args: {
  readonly pendingUser: string;
  readonly pendingPassword: string;
  readonly originalUser: string;
  readonly cloneUser: string;
  readonly original: UserState | undefined;
  readonly clone: UserState | undefined;
}): string[] {
  if (!args.original) {
    throw new Error(`the original user ${JSON.stringify(args.originalUser)} does not exist in the database; it is the source of truth for ${JSON.stringify(args.cloneUser)}, so nothing was changed`);
  }
  const out: string[] = [];
  const pendingExists = args.pendingUser === args.originalUser ? true : args.clone !== undefined;
  out.push(pendingExists ? alterPasswordSql(args.pendingUser, args.pendingPassword) : createUserSql(args.pendingUser, args.pendingPassword));
  // the clone exists unless it is created right now (then it starts with default attributes and no grants)
  if (args.clone !== undefined || args.pendingUser === args.cloneUser) out.push(...syncStatements(args.cloneUser, args.original, args.clone));
  return out;
}
