/**
 * SQL text the handler sends (docs/architecture.md, "The SQL the handler sends"). Identifiers are always
 * double-quoted; the only literals are the md5 verifier (hex), a validated VALID UNTIL timestamp, integers, setting
 * values without `'` or `\` and function argument types that are plain type names. Passwords never appear in SQL text.
 */
import { createHash } from 'crypto';
import { objectKey, OWNER_EQUIVALENT, Privilege, PRIVILEGE_ALLOW_LIST, privilegeKey, PrivilegeKind, UserAttributes, UserState } from './catalog';

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

const KIND_KEYWORD: Readonly<Record<PrivilegeKind, string>> = {
  relation: 'TABLE', schema: 'SCHEMA', database: 'DATABASE', function: 'FUNCTION', procedure: 'PROCEDURE',
};
/** The order in which grants and revokes of each kind are sent (databases and schemas before what they contain). */
const KIND_ORDER: readonly PrivilegeKind[] = ['database', 'schema', 'relation', 'function', 'procedure'];

/** An object as GRANT names it after its kind keyword: `"s"."t"`, `"s"`, `"d"`, `"s"."f"(integer)` (also procedures). */
export function objectRef(kind: PrivilegeKind, object: readonly string[]): string {
  switch (kind) {
    case 'relation': return `${quoteIdent(object[0])}.${quoteIdent(object[1])}`;
    case 'schema': return quoteIdent(object[0]);
    case 'database': return quoteIdent(object[0]);
    case 'function':
    case 'procedure': return `${quoteIdent(object[0])}.${quoteIdent(object[1])}(${object[2]})`;
  }
}

/** `GRANT p ON … TO "u"` or `REVOKE p ON … FROM "u"`; the privilege keyword comes from the allow-list only. */
export function privilegeSql(op: 'GRANT' | 'REVOKE', privilege: Privilege, user: string): string {
  return `${op} ${privilege.privilege} ON ${KIND_KEYWORD[privilege.kind]} ${objectRef(privilege.kind, privilege.object)} ${op === 'GRANT' ? 'TO' : 'FROM'} ${quoteIdent(user)}`;
}

/** Longest statement the handler sends, in UTF-8 bytes (the Data API takes up to 100 KB of SQL). */
export const MAX_STATEMENT_BYTES = 60_000;

/**
 * GRANT (or REVOKE) statements for `privileges`, grouped: one statement per object kind and privilege set, naming
 * as many objects as fit in {@link MAX_STATEMENT_BYTES} (`GRANT SELECT, INSERT ON TABLE "s"."a", "s"."b" TO "u"`).
 * Deterministic: kinds in a fixed order, privilege sets and objects sorted.
 */
export function groupedPrivilegeStatements(op: 'GRANT' | 'REVOKE', privileges: readonly Privilege[], user: string): string[] {
  const byObject = new Map<string, { kind: PrivilegeKind; ref: string; privileges: Set<string> }>();
  for (const p of privileges) {
    const key = objectKey(p.kind, p.object);
    let entry = byObject.get(key);
    if (!entry) {
      entry = { kind: p.kind, ref: objectRef(p.kind, p.object), privileges: new Set() };
      byObject.set(key, entry);
    }
    entry.privileges.add(p.privilege);
  }
  const groups = new Map<string, { kind: PrivilegeKind; list: string; refs: string[] }>();
  for (const entry of byObject.values()) {
    const order = PRIVILEGE_ALLOW_LIST[entry.kind];
    const list = [...entry.privileges].sort((a, b) => order.indexOf(a) - order.indexOf(b) || (a < b ? -1 : 1)).join(', ');
    const key = `${entry.kind}|${list}`;
    let group = groups.get(key);
    if (!group) {
      group = { kind: entry.kind, list, refs: [] };
      groups.set(key, group);
    }
    group.refs.push(entry.ref);
  }
  const sorted = [...groups.values()]
    .sort((a, b) => KIND_ORDER.indexOf(a.kind) - KIND_ORDER.indexOf(b.kind) || (a.list < b.list ? -1 : a.list > b.list ? 1 : 0));
  const out: string[] = [];
  const tail = ` ${op === 'GRANT' ? 'TO' : 'FROM'} ${quoteIdent(user)}`;
  for (const group of sorted) {
    const head = `${op} ${group.list} ON ${KIND_KEYWORD[group.kind]} `;
    const fixed = Buffer.byteLength(head + tail, 'utf8');
    let refs: string[] = [];
    let size = fixed;
    for (const ref of group.refs.sort()) {
      const add = Buffer.byteLength(ref, 'utf8') + (refs.length > 0 ? 2 : 0);
      if (refs.length > 0 && size + add > MAX_STATEMENT_BYTES) {
        out.push(head + refs.join(', ') + tail);
        refs = [];
        size = fixed;
      }
      size += Buffer.byteLength(ref, 'utf8') + (refs.length > 0 ? 2 : 0);
      refs.push(ref);
    }
    if (refs.length > 0) out.push(head + refs.join(', ') + tail);
  }
  return out;
}

/** Parameters whose value is a list: re-applied element by element (`SET search_path TO 'a', 'b'`). */
export const LIST_PARAMETERS: ReadonlySet<string> = new Set(['search_path', 'datestyle']);
/** Parameter names the handler puts into `ALTER USER … SET name` / `RESET name`. */
export const PARAMETER_NAME = /^[a-z_][a-z0-9_.]*$/;
const UNSAFE_VALUE = /['\\\u0000-\u001f]/;

/**
 * The elements of a list-valued setting as stored (`"$user", public` → `$user`, `public`): comma-separated,
 * double-quoted elements with `""` for `"`. Undefined when the text is not such a list.
 */
export function splitSettingList(value: string): string[] | undefined {
  const out: string[] = [];
  let i = 0;
  const n = value.length;
  for (;;) {
    while (i < n && value[i] === ' ') i++;
    let element = '';
    if (value[i] === '"') {
      i++;
      for (;;) {
        if (i >= n) return undefined;
        if (value[i] === '"') {
          if (value[i + 1] === '"') { element += '"'; i += 2; continue; }
          i++;
          break;
        }
        element += value[i++];
      }
      while (i < n && value[i] === ' ') i++;
    } else {
      let j = i;
      while (j < n && value[j] !== ',') {
        if (value[j] === '"') return undefined;
        j++;
      }
      element = value.slice(i, j).trim();
      i = j;
    }
    out.push(element);
    if (i >= n) return out;
    if (value[i] !== ',') return undefined;
    i++;
  }
}

/** The SQL for a setting's value (`'1000'`, `'$user', 'public'`), or undefined when it cannot be written safely. */
export function settingValueSql(name: string, value: string): string | undefined {
  if (UNSAFE_VALUE.test(value)) return undefined;
  if (!LIST_PARAMETERS.has(name)) return `'${value}'`;
  const elements = splitSettingList(value);
  if (!elements || elements.some((e) => UNSAFE_VALUE.test(e))) return undefined;
  return elements.map((e) => `'${e}'`).join(', ');
}

/**
 * `ALTER USER "u" SET name TO value` / `RESET name` statements that give `user` the settings `to` (from `from`,
 * its own, or nothing when it is being created). A setting whose name or value cannot be written safely is not
 * touched and is named in `skipped` (never its value). `to` undefined (unparseable) changes nothing.
 */
export function settingStatements(user: string, source: string, from: ReadonlyMap<string, string> | undefined,
  to: ReadonlyMap<string, string> | undefined): { statements: string[]; skipped: string[] } {
  const statements: string[] = [];
  const skipped: string[] = [];
  if (!to) return { statements, skipped };
  const u = quoteIdent(user);
  const label = (name: string) => JSON.stringify(name.length > 64 ? name.slice(0, 64) + '…' : name);
  for (const name of [...to.keys()].sort()) {
    const value = to.get(name)!;
    if (from?.get(name) === value) continue;
    if (!PARAMETER_NAME.test(name)) {
      skipped.push(`setting ${label(name)} of ${source}: the parameter name is not a plain identifier`);
      continue;
    }
    const sql = settingValueSql(name, value);
    if (sql === undefined) {
      skipped.push(`setting ${label(name)} of ${source}: the value contains a quote, a backslash or a control character`);
      continue;
    }
    statements.push(`ALTER USER ${u} SET ${name} TO ${sql}`);
  }
  for (const name of [...(from?.keys() ?? [])].sort()) {
    if (to.has(name)) continue;
    if (!PARAMETER_NAME.test(name)) {
      skipped.push(`setting ${label(name)} of ${user}: the parameter name is not a plain identifier, so it was not reset`);
      continue;
    }
    statements.push(`ALTER USER ${u} RESET ${name}`);
  }
  return { statements, skipped };
}

/**
 * The grants the pending user must hold (docs/architecture.md, "The sync rule"): the current user's explicit grants
 * on objects the pending user does not own, plus the owner-equivalent grants on every object the current user owns
 * (and the pending user does not).
 */
export function targetPrivileges(current: UserState, pending: UserState | undefined): Privilege[] {
  const pendingOwns = new Set((pending?.owned ?? []).map((o) => objectKey(OWNER_EQUIVALENT[o.kind].kind, o.object)));
  const target = new Map<string, Privilege>();
  const add = (p: Privilege) => {
    if (!pendingOwns.has(objectKey(p.kind, p.object))) target.set(privilegeKey(p), p);
  };
  for (const p of current.privileges) add(p);
  for (const o of current.owned) {
    const { kind, privileges } = OWNER_EQUIVALENT[o.kind];
    for (const privilege of privileges) add({ kind, object: o.object, privilege });
  }
  return [...target.values()];
}

function minus(a: Iterable<string>, b: ReadonlySet<string>): string[] {
  return [...a].filter((x) => !b.has(x)).sort();
}

/**
 * The statements that make user `pendingUser` (state `pending`, or undefined when it is being created) equal to the
 * current user: attributes, settings, groups, roles, and grants (explicit and owner-equivalent), added and removed.
 * Every statement names the pending user only. Grants the pending user holds on objects it owns are left alone.
 */
export function syncStatements(pendingUser: string, current: UserState, pending: UserState | undefined): { statements: string[]; skipped: string[] } {
  const p = quoteIdent(pendingUser);
  const statements = attributeStatements(pendingUser, pending?.attributes ?? DEFAULT_ATTRIBUTES, current.attributes);
  const settings = settingStatements(pendingUser, current.name, pending ? pending.settings ?? new Map() : new Map(), current.settings);
  statements.push(...settings.statements);
  const pendingGroups = pending?.groups ?? new Set<string>();
  for (const g of minus(pendingGroups, current.groups)) statements.push(`ALTER GROUP ${quoteIdent(g)} DROP USER ${p}`);
  for (const g of minus(current.groups, pendingGroups)) statements.push(`ALTER GROUP ${quoteIdent(g)} ADD USER ${p}`);
  const pendingRoles = pending?.roles ?? new Set<string>();
  for (const r of minus(pendingRoles, current.roles)) statements.push(`REVOKE ROLE ${quoteIdent(r)} FROM ${p}`);
  for (const r of minus(current.roles, pendingRoles)) statements.push(`GRANT ROLE ${quoteIdent(r)} TO ${p}`);

  const target = new Map(targetPrivileges(current, pending).map((x) => [privilegeKey(x), x]));
  const pendingOwns = new Set((pending?.owned ?? []).map((o) => objectKey(OWNER_EQUIVALENT[o.kind].kind, o.object)));
  const held = new Map((pending?.privileges ?? []).filter((x) => !pendingOwns.has(objectKey(x.kind, x.object))).map((x) => [privilegeKey(x), x]));
  const revokes = minus(held.keys(), new Set(target.keys())).map((k) => held.get(k)!);
  const grants = minus(target.keys(), new Set(held.keys())).map((k) => target.get(k)!);
  statements.push(...groupedPrivilegeStatements('REVOKE', revokes, pendingUser));
  statements.push(...groupedPrivilegeStatements('GRANT', grants, pendingUser));
  return { statements, skipped: settings.skipped };
}

/** The state of a user Redshift has just created with no options: default attributes, nothing granted or owned. */
export function newUserState(name: string): UserState {
  return { name, attributes: DEFAULT_ATTRIBUTES, settings: new Map(), groups: new Set(), roles: new Set(), privileges: [], owned: [] };
}

/**
 * The whole ALTERNATING_USERS write for setSecret: set the pending user's password (CREATE USER when it does not
 * exist), then make the pending user equal to the current one. The AWSCURRENT user is the source of truth and is
 * never altered; it must exist, unless `currentPassword` is given (the create-user tag): then a missing AWSCURRENT
 * user is created first, with that password, and the pending user is made equal to a new user.
 */
export function alternatingWrites(args: {
  readonly pendingUser: string;
  readonly pendingPassword: string;
  readonly currentUser: string;
  readonly current: UserState | undefined;
  readonly pending: UserState | undefined;
  readonly currentPassword?: string;
}): { statements: string[]; skipped: string[] } {
  const create: string[] = [];
  let current = args.current;
  if (!current) {
    if (args.currentPassword === undefined) {
      throw new Error(`the AWSCURRENT user ${JSON.stringify(args.currentUser)} is not in pg_user / svv_user_info as the master user reads them; it is the source of truth for ${JSON.stringify(args.pendingUser)}, so nothing was changed`);
    }
    create.push(createUserSql(args.currentUser, args.currentPassword));
    current = newUserState(args.currentUser);
  }
  const first = args.pending ? alterPasswordSql(args.pendingUser, args.pendingPassword) : createUserSql(args.pendingUser, args.pendingPassword);
  const sync = syncStatements(args.pendingUser, current, args.pending);
  return { statements: [...create, first, ...sync.statements], skipped: sync.skipped };
}
