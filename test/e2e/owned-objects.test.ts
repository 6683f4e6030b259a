/**
 * Issue 7, points 1 and 4, end to end on a provisioned cluster and on a Serverless workgroup: a user that owns its
 * schema, tables, views, functions and a stored procedure (created by itself, no GRANT anywhere) and has a
 * search_path of its own.
 * After the first ALTERNATING_USERS rotation AWSCURRENT is the clone, which reads and writes those objects and
 * resolves names the same way; after the next rotation the original user uses what the clone created while it was
 * AWSCURRENT. The outcome is checked through PostgreSQL's own catalog (has_*_privilege, pg_user.useconfig) and by
 * running SQL as the new AWSCURRENT, never through the shim views the handler reads.
 */
import { Client } from 'pg';
import { E2e } from './helpers';
import type { Target, UserSecret } from './helpers';

let e: E2e;

beforeAll(async () => {
  e = await E2e.start();
});

afterAll(async () => {
  await e?.stop();
});

/** Runs statements in one session as the user of a secret version (the way an application does); rows of each. */
async function asStage(arn: string, stage: string, sqls: readonly string[]): Promise<Array<Array<Record<string, unknown>>>> {
  const v = (await e.value(arn, stage))!;
  const { host, port, database } = e.stack.postgres;
  const c = new Client({ host, port, database, user: v.username, password: v.password });
  c.on('error', () => undefined);
  await c.connect();
  try {
    const out = [];
    for (const sql of sqls) out.push((await c.query(sql)).rows);
    return out;
  } finally {
    await c.end();
  }
}

/** has_*_privilege for each check, as PostgreSQL itself answers it (one privilege per check). */
async function has(user: string, checks: ReadonlyArray<readonly [kind: 'table' | 'schema' | 'function', object: string, privilege: string]>): Promise<string[]> {
  const out: string[] = [];
  for (const [kind, object, privilege] of checks) {
    const rows = await e.stack.adminQuery<{ ok: boolean }>(`SELECT pg_catalog.has_${kind}_privilege($1, $2, $3) AS ok`, [user, object, privilege]);
    out.push(`${kind} ${object} ${privilege}: ${rows[0].ok}`);
  }
  return out;
}

const allTrue = (lines: string[]) => lines.map((l) => l.replace(/: (true|false)$/, ': true'));

async function useconfig(user: string): Promise<string[] | null> {
  const rows = await e.stack.adminQuery<{ useconfig: string[] | null }>('SELECT useconfig FROM pg_catalog.pg_user WHERE usename = $1', [user]);
  expect(rows).toHaveLength(1);
  return rows[0].useconfig;
}

async function owner(schema: string, relation: string): Promise<string> {
  const rows = await e.stack.adminQuery<{ owner: string }>(`SELECT r.rolname AS owner FROM pg_catalog.pg_class c
    JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace JOIN pg_catalog.pg_roles r ON r.oid = c.relowner
    WHERE n.nspname = $1 AND c.relname = $2`, [schema, relation]);
  return rows[0]?.owner;
}

describe.each(['cluster', 'workgroup'] as Target[])('a user that owns its objects and has its own search_path, on a %s', (target) => {
  let user: UserSecret;
  let app: string;
  let clone: string;
  let schema: string;

  beforeAll(async () => {
    user = await e.newUser('ALTERNATING_USERS', target, 'own');
    app = user.username;
    clone = `${app}_clone`;
    schema = `${app}_data`;
    // the schema is the application's (AUTHORIZATION: owned, no GRANT), its search_path its own
    await e.redshift(`CREATE SCHEMA "${schema}" AUTHORIZATION "${app}"`);
    await e.redshift(`ALTER USER "${app}" SET search_path TO ${schema}, public`);
    // the application's migrations, run as itself, with unqualified names
    await asStage(user.arn, 'AWSCURRENT', [
      'CREATE TABLE items (id int, name varchar(20))',
      'INSERT INTO items VALUES (1, \'one\')',
      'CREATE VIEW items_v AS SELECT id FROM items',
      'CREATE FUNCTION double_it(integer) RETURNS integer LANGUAGE sql IMMUTABLE AS \'SELECT $1 * 2\'',
      // a function's EXECUTE is PUBLIC's by default; the owner takes it away, so only ownership gives it
      'REVOKE EXECUTE ON FUNCTION double_it(integer) FROM PUBLIC',
      // a stored procedure (PL/pgSQL, as Redshift's are), granted ON PROCEDURE
      'CREATE PROCEDURE nightly(integer) LANGUAGE plpgsql AS $$ BEGIN PERFORM $1; END $$',
      'REVOKE EXECUTE ON PROCEDURE nightly(integer) FROM PUBLIC',
    ]);
    expect(await owner(schema, 'items')).toBe(app);
  });

  test('first rotation: AWSCURRENT is the clone, which reads and writes the owned objects and resolves names the same way', async () => {
    const checks = [
      ['schema', schema, 'USAGE'], ['schema', schema, 'CREATE'],
      ...['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'REFERENCES', 'TRUNCATE'].map((p) => ['table', `${schema}.items`, p] as const),
      ['table', `${schema}.items_v`, 'SELECT'],
      ['function', `${schema}.double_it(integer)`, 'EXECUTE'],
      ['function', `${schema}.nightly(integer)`, 'EXECUTE'],
    ] as const;
    await e.rotateOk(user.arn);
    expect((await e.value(user.arn))!.username).toBe(clone);

    const granted = await has(clone, checks);
    expect(granted).toEqual(allTrue(granted));
    // as PostgreSQL stores it (the local stack keeps its own schema at the end of a user's search_path)
    expect(await useconfig(clone)).toEqual([`search_path=${schema}, public, redshift_shim, pg_catalog`]);
    expect(await useconfig(clone)).toEqual(await useconfig(app));

    const out = await asStage(user.arn, 'AWSCURRENT', [
      'SHOW search_path',
      'SELECT count(*)::int AS n FROM items',
      'INSERT INTO items VALUES (2, \'two\')',
      'UPDATE items SET name = \'uno\' WHERE id = 1',
      'DELETE FROM items WHERE id = 2',
      'SELECT count(*)::int AS n FROM items_v',
      'SELECT double_it(21) AS d',
      'CALL nightly(1)',
      // objects the clone creates while it is AWSCURRENT land in the same schema (same name resolution)
      'CREATE TABLE made_by_clone (id int)',
      'INSERT INTO made_by_clone VALUES (7)',
      'CREATE VIEW clone_v AS SELECT id FROM made_by_clone',
      'CREATE FUNCTION clone_fn() RETURNS integer LANGUAGE sql IMMUTABLE AS \'SELECT 42\'',
      'REVOKE EXECUTE ON FUNCTION clone_fn() FROM PUBLIC',
    ]);
    expect(out[0]).toEqual([{ search_path: `${schema}, public, redshift_shim, pg_catalog` }]);
    expect(out[1]).toEqual([{ n: 1 }]);
    expect(out[5]).toEqual([{ n: 1 }]);
    expect(out[6]).toEqual([{ d: 42 }]);
    expect(await has(app, [['function', `${schema}.nightly(integer)`, 'EXECUTE']])).toEqual([`function ${schema}.nightly(integer) EXECUTE: true`]);
    expect(await owner(schema, 'made_by_clone')).toBe(clone);
    // until the next rotation the original user (AWSPREVIOUS) has no rights on what the clone created
    expect(await has(app, [['table', `${schema}.made_by_clone`, 'SELECT']])).toEqual([`table ${schema}.made_by_clone SELECT: false`]);
  });

  test('second rotation: AWSCURRENT is the original user again, which uses what the clone created while it was AWSCURRENT', async () => {
    await e.rotateOk(user.arn);
    expect((await e.value(user.arn))!.username).toBe(app);
    const granted = await has(app, [
      ...['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'REFERENCES', 'TRUNCATE'].map((p) => ['table', `${schema}.made_by_clone`, p] as const),
      ['table', `${schema}.clone_v`, 'SELECT'],
      ['function', `${schema}.clone_fn()`, 'EXECUTE'],
    ]);
    expect(granted).toEqual(allTrue(granted));
    const out = await asStage(user.arn, 'AWSCURRENT', [
      'SELECT id FROM made_by_clone',
      'INSERT INTO made_by_clone VALUES (8)',
      'SELECT count(*)::int AS n FROM clone_v',
      'SELECT clone_fn() AS f',
      'SELECT count(*)::int AS n FROM items',
    ]);
    expect(out[0]).toEqual([{ id: 7 }]);
    expect(out[2]).toEqual([{ n: 2 }]);
    expect(out[3]).toEqual([{ f: 42 }]);
    expect(out[4]).toEqual([{ n: 1 }]);
    // and the clone (AWSPREVIOUS, still logging in) kept its rights on the original's objects
    const kept = await has(clone, [['table', `${schema}.items`, 'SELECT'], ['function', `${schema}.double_it(integer)`, 'EXECUTE']]);
    expect(kept).toEqual(allTrue(kept));
  });

  test('third rotation: the clone is AWSCURRENT again and still uses both users\' objects; nothing drifts', async () => {
    await e.rotateOk(user.arn);
    expect((await e.value(user.arn))!.username).toBe(clone);
    const out = await asStage(user.arn, 'AWSCURRENT', [
      'SELECT count(*)::int AS n FROM items',
      'SELECT count(*)::int AS n FROM made_by_clone',
      'SELECT double_it(1) AS d',
    ]);
    expect(out).toEqual([[{ n: 1 }], [{ n: 2 }], [{ d: 2 }]]);
    expect(await useconfig(clone)).toEqual(await useconfig(app));
    expect(await e.versionLogsIn(user.arn, 'AWSPREVIOUS')).toBe(true);
  });
});

test('nothing the handler logged, and no SQL, carries a password', async () => {
  await e.expectNoPasswordLeaked();
});
