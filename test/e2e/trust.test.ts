/**
 * Issue 8, points 1 to 3, end to end on the local stack: each takeover or misuse of the shared rotation function
 * fails safe, with a clear error, and nothing changes in the database (PostgreSQL's own catalog before and after:
 * users with their password verifiers and attributes, memberships, ACLs; and login attempts with the passwords the
 * users had). The migration from AWS's multi-user rotation still works.
 */
import { PutSecretValueCommand, UpdateSecretVersionStageCommand } from '@aws-sdk/client-secrets-manager';
import { E2e, FAST_ENV, newPassword } from './helpers';
import type { Target } from './helpers';

let e: E2e;

beforeAll(async () => {
  e = await E2e.start();
});

afterAll(async () => {
  await e?.stop();
});

/** A database user with a password the test keeps (never printed). */
async function user(prefix: string, name?: string): Promise<{ name: string; password: string }> {
  const username = name ?? e.uniqueName(prefix);
  const password = newPassword();
  e.passwords.add(password);
  await e.stack.createUser(username, password);
  return { name: username, password };
}

/** Rotates and expects a failure at setSecret whose message matches; the database and the logins are unchanged. */
async function expectRefused(arn: string, message: RegExp, logins: Array<{ name: string; password: string }>,
  options: { functionArn?: string; token?: string } = {}): Promise<string> {
  const before = await e.dbSnapshot();
  for (const u of logins) expect(await e.stack.canLogin(u.name, u.password)).toBe(true);
  const r = await e.rotate(arn, options);
  expect(r.event.type).toBe('RotationFailed');
  expect(r.event.step).toBe('setSecret');
  expect(e.redact(r.event.error)).toMatch(message);
  expect(await e.dbSnapshot()).toEqual(before);
  for (const u of logins) expect(await e.stack.canLogin(u.name, u.password)).toBe(true);
  // nothing was written as the master: no write batch in this secret's rotation
  expect(e.writeBatches(arn)).toEqual([]);
  expect(await e.probeSecrets()).toEqual([]);
  return r.token;
}

/** The failed rotation abandoned (AWSPENDING removed) and a new one with another function; it must succeed. */
async function retryOk(arn: string, functionArn: string, token: string): Promise<void> {
  await e.sm.send(new UpdateSecretVersionStageCommand({ SecretId: arn, VersionStage: 'AWSPENDING', RemoveFromVersionId: token }));
  const r = await e.rotate(arn, { functionArn });
  expect({ type: r.event.type, error: e.redact(r.event.error) }).toEqual({ type: 'RotationSucceeded', error: '' });
}

describe.each(['cluster', 'workgroup'] as Target[])('8.1 takeover by name, on a %s', (target) => {
  test('an unrelated, pre-existing app_clone is not taken over by the first rotation of app', async () => {
    const app = await user('app');
    const squatter = await user('', `${app.name}_clone`);
    await e.redshift(`CREATE SCHEMA IF NOT EXISTS squat_${target}`);
    await e.redshift(`GRANT USAGE ON SCHEMA squat_${target} TO "${squatter.name}"`);
    const secret = await e.stack.createSecret({
      name: `app/${app.name}`, username: app.name, password: app.password, target, strategy: 'ALTERNATING_USERS', masterArn: await e.masterArn(target),
    });
    await expectRefused(secret.arn, new RegExp(`the alternate user "${squatter.name}" already exists, and this secret has not proven it owns it`), [app, squatter]);
    // the secret still holds the working credentials
    expect(await e.versionLogsIn(secret.arn)).toBe(true);
  });

  test('a secret {username: "etl_clone", masterarn} whose password is a real user\'s cannot reset user etl', async () => {
    const etl = await user('etl');
    const etlClone = await user('', `${etl.name}_clone`);
    const secret = await e.stack.createSecret({
      name: `attack/${etlClone.name}`, username: etlClone.name, password: etlClone.password, target, masterArn: await e.masterArn(target),
    });
    await expectRefused(secret.arn, new RegExp(`the alternate user "${etl.name}" already exists, and this secret has not proven it owns it`), [etl, etlClone]);
  });
});

test('8.1 migration from AWS\'s multi-user rotation: _clone exists and AWSPREVIOUS holds it; the rotation brings it in line', async () => {
  const app = await user('mig');
  const clone = await user('', `${app.name}_clone`);
  await e.redshift('CREATE TABLE IF NOT EXISTS public.mig_t (x int)');
  await e.redshift(`GRANT SELECT ON public.mig_t TO "${app.name}"`);
  const master = await e.masterArn('cluster');
  // AWS's template secret: host, port, masterarn; AWSPREVIOUS is the clone, AWSCURRENT the original
  const extra = { host: `${e.stack.clusterIdentifier}.abc123xyz.${e.stack.region}.redshift.amazonaws.com`, port: 5439 };
  const secret = await e.stack.createSecret({ name: `app/${app.name}`, username: clone.name, password: clone.password, masterArn: master, extra });
  const current = JSON.parse(JSON.stringify({ ...(await e.value(secret.arn)) }));
  delete current.versionId;
  await e.sm.send(new PutSecretValueCommand({
    SecretId: secret.arn, SecretString: JSON.stringify({ ...current, username: app.name, password: app.password }), VersionStages: ['AWSCURRENT'],
  }));
  expect((await e.value(secret.arn, 'AWSPREVIOUS'))?.username).toBe(clone.name);

  await e.rotateOk(secret.arn);
  const now = await e.value(secret.arn);
  expect(now?.username).toBe(clone.name);
  expect(await e.versionLogsIn(secret.arn, 'AWSCURRENT')).toBe(true);
  expect(await e.versionLogsIn(secret.arn, 'AWSPREVIOUS')).toBe(true);
  const grants = await e.stack.adminQuery<{ ok: boolean }>('SELECT has_table_privilege($1, \'public.mig_t\', \'SELECT\') AS ok', [clone.name]);
  expect(grants).toEqual([{ ok: true }]);
  expect(await e.probeSecrets()).toEqual([]);
});

describe('8.2 superuser is given to the alternate user only with the deployer\'s opt-in', () => {
  test('a superuser original without the opt-in fails before any change; with ALLOW_SUPERUSER_CLONE the clone is a superuser', async () => {
    const boss = await user('boss');
    await e.redshift(`ALTER USER "${boss.name}" CREATEUSER`);
    const secret = await e.stack.createSecret({
      name: `app/${boss.name}`, username: boss.name, password: boss.password, strategy: 'ALTERNATING_USERS', masterArn: await e.masterArn('cluster'),
    });
    const token = await expectRefused(secret.arn, new RegExp(`the AWSCURRENT user "${boss.name}" is a superuser \\(CREATEUSER\\).*allowSuperuserClone`), [boss]);
    expect(await e.stack.adminQuery('SELECT 1 FROM pg_roles WHERE rolname = $1', [`${boss.name}_clone`])).toEqual([]);

    const optedIn = e.stack.functionArn('rotation-superuser-clone');
    e.stack.registerFunction(optedIn, { env: { ...FAST_ENV, ALLOW_SUPERUSER_CLONE: 'true' } });
    await retryOk(secret.arn, optedIn, token);
    expect(await e.stack.adminQuery('SELECT rolsuper FROM pg_roles WHERE rolname = $1', [`${boss.name}_clone`])).toEqual([{ rolsuper: true }]);
  });
});

describe('8.3 a master secret is used only against its own target', () => {
  test('a master without target fields is refused unless the deployer paired it with the target; a pairing elsewhere is refused too', async () => {
    const admin = e.stack.postgres;
    // a Redshift-managed admin secret: username and password only
    const bareArn = await e.rawSecret(e.uniqueName('managed-admin'), JSON.stringify({ username: admin.adminUser, password: admin.adminPassword }));
    const app = await user('paired');
    const secret = await e.stack.createSecret({ name: `app/${app.name}`, username: app.name, password: app.password, strategy: 'ALTERNATING_USERS', masterArn: bareArn });

    // the handler's own check, on a function without IAM checks: under the construct's policy the role could not
    // even read a master the deployer never gave it (AccessDenied, also fail-closed)
    const unpaired = e.stack.functionArn('rotation-unpaired');
    e.stack.registerFunction(unpaired, { env: FAST_ENV });
    const token = await expectRefused(secret.arn, /names no cluster or workgroup, and the deployer did not pair it with the cluster "local-cluster"/, [app],
      { functionArn: unpaired });

    const elsewhere = e.stack.functionArn('rotation-paired-elsewhere');
    e.stack.registerFunction(elsewhere, { env: { ...FAST_ENV, MASTER_TARGETS: JSON.stringify([[bareArn, 'workgroup:local-workgroup', 'cluster:other']]) } });
    await e.sm.send(new UpdateSecretVersionStageCommand({ SecretId: secret.arn, VersionStage: 'AWSPENDING', RemoveFromVersionId: token }));
    const token2 = await expectRefused(secret.arn, /is paired with other targets .* not with the cluster "local-cluster"/, [app], { functionArn: elsewhere });

    // paired by its partial ARN (a secret known by name): used
    const paired = e.stack.functionArn('rotation-paired');
    e.stack.registerFunction(paired, { env: { ...FAST_ENV, MASTER_TARGETS: JSON.stringify([[`${bareArn.slice(0, -7)}-??????`, 'cluster:local-cluster']]) } });
    await retryOk(secret.arn, paired, token2);
    expect(await e.versionLogsIn(secret.arn)).toBe(true);
  });

  test('a master whose JSON names a workgroup is not used against a cluster', async () => {
    const app = await user('wrongtarget');
    const secret = await e.stack.createSecret({
      name: `app/${app.name}`, username: app.name, password: app.password, target: 'cluster', strategy: 'ALTERNATING_USERS', masterArn: await e.masterArn('workgroup'),
    });
    await expectRefused(secret.arn, /the master secret's workgroupName is not the one of the rotated secret/, [app]);
  });
});

test('nothing the handler logged, and no SQL, carries a password', async () => {
  await e.expectNoPasswordLeaked();
});
