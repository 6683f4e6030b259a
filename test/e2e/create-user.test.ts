/**
 * Issue 9, point 1, end to end: on a fresh local stack that holds only the admin user, secrets made the way the
 * construct makes them (the JSON of a created secret, the strategy tag and `redshift-rotation:create-user` = `true`)
 * rotate on the first try, on a cluster and on a workgroup: the first rotation creates the original user with
 * AWSCURRENT's password, then the clone. The tag never makes the function alter a user that exists.
 */
import { E2e, newPassword } from './helpers';
import type { Target } from './helpers';

let e: E2e;
/** The cluster's master secret, made by the first test. */
let clusterMaster: string;

beforeAll(async () => {
  e = await E2e.start();
});

afterAll(async () => {
  await e?.stop();
});

/** Login roles other than PostgreSQL's own: the database users. */
async function users(): Promise<string[]> {
  const rows = await e.stack.adminQuery<{ rolname: string }>('SELECT rolname FROM pg_roles WHERE rolcanlogin AND rolname !~ \'^pg_\' ORDER BY 1');
  return rows.map((r) => r.rolname);
}

/** A secret as RedshiftSecretRotation creates it: engine, username, dbname, the target field, masterarn; tags. */
async function constructSecret(name: string, username: string, target: Target, fields: Record<string, unknown>,
  tags: Record<string, string>): Promise<string> {
  const password = newPassword();
  e.passwords.add(password);
  const json = {
    engine: 'redshift',
    username,
    dbname: e.stack.postgres.database,
    ...(target === 'cluster' ? { dbClusterIdentifier: e.stack.clusterIdentifier } : { workgroupName: e.stack.workgroupName }),
    ...fields,
    password,
  };
  return e.rawSecret(name, JSON.stringify(json), tags);
}

test('a fresh stack holds only the admin user; every created secret rotates on its first try, creating its users', async () => {
  const admin = e.stack.postgres.adminUser;
  expect(await users()).toEqual([admin]);

  // the master secrets the construct creates from masterUsername: the admin password, SINGLE_USER (here the
  // admin's real password, as the cluster was created with it)
  const masters: Record<Target, string> = {
    cluster: await e.rawSecret('cluster/master', JSON.stringify({
      engine: 'redshift', username: admin, dbname: e.stack.postgres.database, dbClusterIdentifier: e.stack.clusterIdentifier, password: e.stack.postgres.adminPassword,
    }), { 'redshift-rotation:strategy': 'SINGLE_USER' }),
    workgroup: await e.rawSecret('workgroup/master', JSON.stringify({
      engine: 'redshift', username: admin, dbname: e.stack.postgres.database, workgroupName: e.stack.workgroupName, password: e.stack.postgres.adminPassword,
    }), { 'redshift-rotation:strategy': 'SINGLE_USER' }),
  };
  // the function runs under the role policy the construct makes for these masters
  await e.useConstruct({
    also: (['cluster', 'workgroup'] as Target[]).map((target) => ({
      arn: `arn:aws:secretsmanager:${e.stack.region}:${e.stack.account}:secret:${target}/created-AbCdEf`, target, strategy: 'ALTERNATING_USERS' as const, masterArn: masters[target],
    })),
  });
  const secrets: Array<{ arn: string; username: string }> = [];
  for (const target of ['cluster', 'workgroup'] as Target[]) {
    for (const username of [`app_${target}`, `etl_${target}`]) {
      const arn = await constructSecret(`${target}/${username}`, username, target, { masterarn: masters[target] },
        { 'redshift-rotation:strategy': 'ALTERNATING_USERS', 'redshift-rotation:create-user': 'true' });
      secrets.push({ arn, username });
    }
  }

  // the construct rotates the masters first; here they are not rotated: the local stack's own admin connections use
  // the admin password, and one PostgreSQL serves both targets (master rotation is covered by the other suites)
  clusterMaster = masters.cluster;
  for (const arn of secrets.map((s) => s.arn)) {
    const r = await e.rotate(arn);
    expect({ type: r.event.type, error: e.redact(r.event.error) }).toEqual({ type: 'RotationSucceeded', error: '' });
    // on the first try: no failed attempt before the success
    expect(e.eventsOf(r.token).filter((x) => x.type === 'RotationAttemptFailed')).toEqual([]);
    expect(await e.versionLogsIn(arn, 'AWSCURRENT')).toBe(true);
  }
  for (const s of secrets) {
    // AWSPREVIOUS is the original user, created with the secret's first password: it still logs in
    expect((await e.value(s.arn, 'AWSPREVIOUS'))?.username).toBe(s.username);
    expect(await e.versionLogsIn(s.arn, 'AWSPREVIOUS')).toBe(true);
    expect((await e.value(s.arn))?.username).toBe(`${s.username}_clone`);
  }
  expect(await users()).toEqual([admin, ...secrets.flatMap((s) => [s.username, `${s.username}_clone`])].sort());
  // the users created are plain users
  const attributes = await e.stack.adminQuery<{ n: string }>('SELECT count(*)::text AS n FROM pg_roles WHERE rolname = ANY($1) AND (rolsuper OR rolcreatedb)',
    [secrets.flatMap((s) => [s.username, `${s.username}_clone`])]);
  expect(attributes).toEqual([{ n: '0' }]);

  // the second rotation of each works as usual
  for (const s of secrets) await e.rotateOk(s.arn);
  expect(await e.probeSecrets()).toEqual([]);
});

test('the create-user tag never alters a user that exists: another password, nothing changes', async () => {
  const owner = e.uniqueName('taken');
  const password = newPassword();
  e.passwords.add(password);
  await e.stack.createUser(owner, password);
  const arn = await constructSecret(`cluster/${owner}`, owner, 'cluster', { masterarn: clusterMaster },
    { 'redshift-rotation:strategy': 'ALTERNATING_USERS', 'redshift-rotation:create-user': 'true' });
  const before = await e.dbSnapshot();
  const r = await e.rotate(arn);
  expect(r.event.type).toBe('RotationFailed');
  expect(e.redact(r.event.error)).toMatch(new RegExp(`AWSCURRENT does not log in as "${owner}"; refusing to change users for it \\(the user exists, so the redshift-rotation:create-user tag does not apply\\)`));
  expect(await e.dbSnapshot()).toEqual(before);
  expect(await e.stack.canLogin(owner, password)).toBe(true);
  expect(await e.stack.adminQuery('SELECT 1 FROM pg_roles WHERE rolname = $1', [`${owner}_clone`])).toEqual([]);
});

test('nothing the handler logged, and no SQL, carries a password', async () => {
  await e.expectNoPasswordLeaked();
});
