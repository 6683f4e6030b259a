/**
 * Issue 7, point 12, end to end: a user with 2,000 explicit grants (SELECT on 1,200 tables; SELECT, INSERT, UPDATE on
 * 200 more; USAGE, CREATE on 100 schemas) is brought in line in one setSecret: the grants are grouped per object kind
 * and privilege set, so the pending user gets them in a handful of statements (each well under the Data API's
 * 100 KB), in one BatchExecuteStatement. The outcome is checked through PostgreSQL's has_*_privilege; the setSecret
 * time is measured and reported (not asserted: it depends on the machine).
 */
import { ListStatementsCommand } from '@aws-sdk/client-redshift-data';
import { E2e, report } from './helpers';
import type { UserSecret } from './helpers';

let e: E2e;
let user: UserSecret;
let clone: string;
const SCHEMA = 'big_grants';
const SELECT_ONLY = 1200;
const READ_WRITE = 200;
const SCHEMAS = 100;
/** the privilege sets the grants fall into: {SELECT}, {SELECT, INSERT, UPDATE} on tables, {USAGE, CREATE} on schemas */
const GROUPS = 3;
const table = (i: number) => `t${String(i).padStart(4, '0')}`;

beforeAll(async () => {
  e = await E2e.start();
  user = await e.newUser('ALTERNATING_USERS', 'cluster', 'big');
  clone = `${user.username}_clone`;
  const u = `"${user.username}"`;
  const sql: string[] = [`CREATE SCHEMA ${SCHEMA}`];
  for (let i = 0; i < SELECT_ONLY + READ_WRITE; i++) sql.push(`CREATE TABLE ${SCHEMA}.${table(i)} (id int)`);
  for (let i = 0; i < SCHEMAS; i++) sql.push(`CREATE SCHEMA ${SCHEMA}_${i}`);
  for (let i = 0; i < SELECT_ONLY; i++) sql.push(`GRANT SELECT ON TABLE ${SCHEMA}.${table(i)} TO ${u}`);
  for (let i = SELECT_ONLY; i < SELECT_ONLY + READ_WRITE; i++) sql.push(`GRANT SELECT, INSERT, UPDATE ON TABLE ${SCHEMA}.${table(i)} TO ${u}`);
  for (let i = 0; i < SCHEMAS; i++) sql.push(`GRANT USAGE, CREATE ON SCHEMA ${SCHEMA}_${i} TO ${u}`);
  await e.stack.adminQuery(sql.join(';\n'));
  const grants = await e.stack.adminQuery<{ n: number }>(`SELECT
    (SELECT count(*) FROM redshift_shim.svv_relation_privileges WHERE identity_name = $1)
    + (SELECT count(*) FROM redshift_shim.svv_schema_privileges WHERE identity_name = $1) AS n`, [user.username]);
  expect(Number(grants[0].n)).toBe(2000);
}, 120_000);

afterAll(async () => {
  await e?.stop();
});

/** How many tables of the schema the user holds a privilege on, and schemas it holds USAGE / CREATE on (PostgreSQL's answer). */
async function effective(username: string): Promise<Record<string, number>> {
  const rows = await e.stack.adminQuery<Record<string, string>>(`SELECT
      count(*) FILTER (WHERE has_table_privilege($1, c.oid, 'SELECT')) AS select,
      count(*) FILTER (WHERE has_table_privilege($1, c.oid, 'INSERT')) AS insert,
      count(*) FILTER (WHERE has_table_privilege($1, c.oid, 'UPDATE')) AS update,
      count(*) FILTER (WHERE has_table_privilege($1, c.oid, 'DELETE')) AS delete,
      (SELECT count(*) FROM pg_catalog.pg_namespace n WHERE n.nspname LIKE '${SCHEMA}\\_%' AND has_schema_privilege($1, n.oid, 'USAGE')) AS usage,
      (SELECT count(*) FROM pg_catalog.pg_namespace n WHERE n.nspname LIKE '${SCHEMA}\\_%' AND has_schema_privilege($1, n.oid, 'CREATE')) AS create
    FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = '${SCHEMA}' AND c.relkind = 'r'`, [username]);
  return Object.fromEntries(Object.entries(rows[0]).map(([k, v]) => [k, Number(v)]));
}

/** The writes of one rotation's setSecret: its BatchExecuteStatement calls and every statement they carried. */
async function setSecretWrites(sinceSeq: number, startedMs: number): Promise<{ batches: number; statements: number; largestBytes: number }> {
  const calls = e.writeBatches(user.arn, sinceSeq).filter((c) => c.lambda?.step === 'setSecret');
  const masterArn = await e.masterArn('cluster');
  const listed = await e.data.send(new ListStatementsCommand({ MaxResults: 1_000_000, Status: 'ALL', RoleLevel: false }));
  const sqls = (listed.Statements ?? [])
    .filter((s) => s.IsBatchStatement && s.SecretArn === masterArn && s.CreatedAt !== undefined && s.CreatedAt.getTime() >= startedMs - 1000)
    .flatMap((s) => s.QueryStrings ?? []).filter((sql) => !sql.startsWith('SELECT'));
  return {
    batches: calls.length,
    statements: calls.reduce((n, c) => n + (c.statementKinds?.length ?? 0), 0),
    largestBytes: Math.max(0, ...sqls.map((s) => Buffer.byteLength(s))),
  };
}

function setSecretMs(): number {
  const line = e.stepLogs().filter((l) => l.secretArn === user.arn && l.step === 'setSecret' && l.outcome === 'ok').pop();
  expect(line).toBeDefined();
  return line!.durationMs;
}

test('first rotation: the clone gets all 2,000 grants in one batch of at most 1 + 3 statements', async () => {
  const seq = e.lastSeq();
  const r = await e.rotateOk(user.arn, { timeoutMs: 300_000 });
  expect((await e.value(user.arn))!.username).toBe(clone);
  expect(await effective(clone)).toEqual({ select: 1400, insert: 200, update: 200, delete: 0, usage: 100, create: 100 });
  expect(await effective(clone)).toEqual(await effective(user.username));
  const writes = await setSecretWrites(seq, r.started);
  // CREATE USER, then one GRANT per privilege set (each set's object list fits one statement of at most 60,000 bytes)
  expect(writes.batches).toBe(1);
  expect(writes.statements).toBeGreaterThanOrEqual(1 + GROUPS);
  expect(writes.statements).toBeLessThanOrEqual(1 + GROUPS);
  expect(writes.largestBytes).toBeGreaterThan(1200 * 14);
  expect(writes.largestBytes).toBeLessThanOrEqual(60_000);
  report(`big user, first rotation: 2,000 grants in ${writes.statements} statements, ${writes.batches} batch, largest ${writes.largestBytes} bytes; setSecret ${setSecretMs()} ms, rotation ${r.ms} ms`);
});

test('second rotation: 500 grants taken from the AWSCURRENT clone are taken from the original in one REVOKE; the clone is not altered', async () => {
  const c = `"${clone}"`;
  const revoke = Array.from({ length: 500 }, (_, i) => `${SCHEMA}.${table(i)}`);
  await e.stack.adminQuery(`REVOKE SELECT ON TABLE ${revoke.join(', ')} FROM ${c}`);
  const live = await effective(clone);
  expect(live).toEqual({ select: 900, insert: 200, update: 200, delete: 0, usage: 100, create: 100 });
  const seq = e.lastSeq();
  const r = await e.rotateOk(user.arn, { timeoutMs: 300_000 });
  expect((await e.value(user.arn))!.username).toBe(user.username);
  expect(await effective(clone)).toEqual(live);
  expect(await effective(user.username)).toEqual(live);
  const writes = await setSecretWrites(seq, r.started);
  // ALTER USER … PASSWORD, then one REVOKE naming the 500 tables
  expect(writes).toMatchObject({ batches: 1, statements: 2 });
  report(`big user, second rotation: 500 revokes in ${writes.statements - 1} statement; setSecret ${setSecretMs()} ms, rotation ${r.ms} ms`);
});

test('nothing the handler logged, and no SQL, carries a password', async () => {
  await e.expectNoPasswordLeaked();
});
