/**
 * The end-to-end rotations run under the exact permissions the construct grants: the local function gets the
 * environment and the role policy synthesized from the construct scenario (E2e.useConstruct), and the local
 * Secrets Manager and Data API authorize each of its calls against that policy. A defect that AWS would refuse
 * (a probe named outside the granted prefix, a secret or master encrypted with a key the construct was not told
 * about) fails the rotation here, with nothing changed in the database; the same rotation passes once the
 * construct is told.
 */
import { DeleteSecretCommand, UpdateSecretVersionStageCommand } from '@aws-sdk/client-secrets-manager';
import { E2e, FAST_ENV, newPassword } from './helpers';
import type { UserSecret } from './helpers';
import { probeName } from '../../lambda/rotation/secrets';

const SECRET_KEY = 'arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';
const MASTER_KEY = 'arn:aws:kms:us-east-1:123456789012:key/feedface-12ab-34cd-56ef-1234567890ab';

let e: E2e;

beforeAll(async () => {
  e = await E2e.start();
});

afterAll(async () => {
  await e?.stop();
});

/** A user and its secret (optionally encrypted with `kmsKeyId`, paired with `masterArn`). */
async function user(strategy: 'SINGLE_USER' | 'ALTERNATING_USERS', options: { kmsKeyId?: string; masterArn?: string } = {}): Promise<UserSecret> {
  const username = e.uniqueName(strategy === 'SINGLE_USER' ? 'iam_su' : 'iam_au');
  const password = newPassword();
  e.passwords.add(password);
  await e.stack.createUser(username, password);
  const s = await e.stack.createSecret({
    name: `app/${username}`,
    username,
    password,
    target: 'cluster',
    strategy,
    kmsKeyId: options.kmsKeyId,
    masterArn: strategy === 'ALTERNATING_USERS' ? options.masterArn ?? await e.masterArn('cluster') : undefined,
  });
  return { arn: s.arn, name: s.name, username, strategy, target: 'cluster' };
}

/**
 * Rotates and expects a failure at `step` whose error is an AccessDeniedException for `action`; nothing changed.
 * Returns the token, for the service's retry of the same rotation (its AWSPENDING stays).
 */
async function expectDenied(secret: UserSecret, step: string, action: RegExp): Promise<string> {
  const before = await e.dbSnapshot();
  const current = (await e.value(secret.arn))!;
  const r = await e.rotate(secret.arn);
  expect(r.event.type).toBe('RotationFailed');
  expect(r.event.step).toBe(step);
  expect(e.redact(r.event.error)).toMatch(/AccessDeniedException/);
  expect(e.redact(r.event.error)).toMatch(action);
  expect(await e.dbSnapshot()).toEqual(before);
  expect((await e.value(secret.arn))!.versionId).toBe(current.versionId);
  expect(await e.stack.canLogin(current.username, current.password)).toBe(true);
  expect(await e.probeSecrets()).toEqual([]);
  return r.token;
}

/** {@link expectDenied}, when `probes` secrets under the probe root exist on purpose. */
async function expectDeniedKeeping(secret: UserSecret, step: string, action: RegExp, probes: number): Promise<string> {
  const before = await e.dbSnapshot();
  const current = (await e.value(secret.arn))!;
  const r = await e.rotate(secret.arn);
  expect([r.event.type, r.event.step]).toEqual(['RotationFailed', step]);
  expect(e.redact(r.event.error)).toMatch(/AccessDeniedException/);
  expect(e.redact(r.event.error)).toMatch(action);
  expect(await e.dbSnapshot()).toEqual(before);
  expect(await e.stack.canLogin(current.username, current.password)).toBe(true);
  expect((await e.probeSecrets()).length).toBe(probes);
  return r.token;
}

/** A new rotation after the failed one of `token` (its AWSPENDING removed, as an operator does), expected to succeed. */
async function retryOk(secret: UserSecret, token: string): Promise<void> {
  await e.sm.send(new UpdateSecretVersionStageCommand({ SecretId: secret.arn, VersionStage: 'AWSPENDING', RemoveFromVersionId: token }));
  const r = await e.rotate(secret.arn);
  expect([r.event.type, r.event.step, e.redact(r.event.error)]).toEqual(['RotationSucceeded', undefined, '']);
  expect(await e.versionLogsIn(secret.arn)).toBe(true);
}

describe('the function runs as the construct deploys it', () => {
  test('its environment is the synthesized one: a probe prefix of its own, and the probes it makes carry its tag', async () => {
    const { env } = await e.useConstruct();
    expect(env.PROBE_SECRET_PREFIX).toMatch(/^redshift-rotation-probe\/[0-9a-f]{16}\/$/);
    const secret = await user('SINGLE_USER');
    const created: string[] = [];
    e.stack.secretsManager.onSecretStringStored = (name) => { created.push(name); };
    try {
      await e.rotateOk(secret.arn);
    } finally {
      e.stack.secretsManager.onSecretStringStored = undefined;
    }
    const probes = created.filter((name) => name.startsWith('redshift-rotation-probe/'));
    expect(probes.length).toBeGreaterThan(0);
    for (const name of probes) expect(name.startsWith(env.PROBE_SECRET_PREFIX)).toBe(true);
    expect(await e.probeSecrets()).toEqual([]);
  });
});

describe('a defect AWS would refuse fails here too', () => {
  afterEach(async () => {
    await e.useConstruct();
  });

  test('a probe named outside the granted prefix: setSecret is denied CreateSecret, and the password is unchanged', async () => {
    const { env } = await e.useConstruct();
    await e.useConstruct({ env: { ...FAST_ENV, PROBE_SECRET_PREFIX: 'redshift-rotation-probe/elsewhere/' } });
    const secret = await user('SINGLE_USER');
    const token = await expectDenied(secret, 'setSecret', /secretsmanager:CreateSecret/);
    // the same rotation with the granted prefix passes
    await e.useConstruct({ env: { ...FAST_ENV, PROBE_SECRET_PREFIX: env.PROBE_SECRET_PREFIX } });
    await retryOk(secret, token);
  });

  test('a secret in the probe\'s place that another function made (its tag) cannot be read or deleted: the rotation fails closed', async () => {
    const { env } = await e.useConstruct();
    const secret = await user('SINGLE_USER');
    const squatter = await e.rawSecret(probeName(env.PROBE_SECRET_PREFIX, secret.arn), '{"note":"not this function\'s"}', {
      'RotationProbeFor': secret.arn, 'redshift-rotation:probe-for-function': 'another-function',
    });
    try {
      const token = await expectDeniedKeeping(secret, 'setSecret', /secretsmanager:GetSecretValue/, 1);
      await e.sm.send(new DeleteSecretCommand({ SecretId: squatter, ForceDeleteWithoutRecovery: true }));
      await retryOk(secret, token);
    } finally {
      await e.sm.send(new DeleteSecretCommand({ SecretId: squatter, ForceDeleteWithoutRecovery: true })).catch(() => undefined);
    }
  });

  test('a secret encrypted with a key the construct was not given: its reads are denied at KMS; given the key, it rotates', async () => {
    const secret = await user('SINGLE_USER', { kmsKeyId: SECRET_KEY });
    await e.useConstruct({ secrets: [{ arn: secret.arn, target: 'cluster', strategy: 'SINGLE_USER' }] });
    const token = await expectDenied(secret, 'createSecret', /kms:Decrypt/);
    await e.useConstruct({ secrets: [{ arn: secret.arn, target: 'cluster', strategy: 'SINGLE_USER', kmsKeyId: SECRET_KEY }] });
    await retryOk(secret, token);
  });

  test('a master encrypted with a key the construct was not given: reading it is denied at KMS; given the key, it rotates', async () => {
    const { adminUser, adminPassword } = e.stack.postgres;
    const master = await e.stack.createSecret({ name: 'master-with-key', username: adminUser, password: adminPassword, target: 'cluster', kmsKeyId: MASTER_KEY });
    const secret = await user('ALTERNATING_USERS', { masterArn: master.arn });
    const scenario = (masterKmsKeyId?: string) => ({ secrets: [{ arn: secret.arn, target: 'cluster' as const, strategy: 'ALTERNATING_USERS' as const, masterArn: master.arn, masterKmsKeyId }] });
    await e.useConstruct(scenario());
    const token = await expectDenied(secret, 'setSecret', /kms:Decrypt/);
    await e.useConstruct(scenario(MASTER_KEY));
    await retryOk(secret, token);
  });

  test('a master the construct was not given (the secret names another): reading it is denied', async () => {
    const { adminUser, adminPassword } = e.stack.postgres;
    const unlisted = await e.stack.createSecret({ name: 'master-unlisted', username: adminUser, password: adminPassword, target: 'cluster' });
    const secret = await user('ALTERNATING_USERS', { masterArn: unlisted.arn });
    await e.useConstruct({ secrets: [{ arn: secret.arn, target: 'cluster', strategy: 'ALTERNATING_USERS', masterArn: await e.masterArn('cluster') }] });
    await expectDenied(secret, 'setSecret', /secretsmanager:(GetSecretValue|DescribeSecret)/);
  });

  test('a function registered without a policy is not checked (the local stack\'s default)', async () => {
    const fn = e.stack.functionArn('no-iam');
    e.stack.registerFunction(fn, { env: { ...FAST_ENV, PROBE_SECRET_PREFIX: 'anywhere/' } });
    const secret = await user('SINGLE_USER', { kmsKeyId: SECRET_KEY });
    await e.rotateOk(secret.arn, { functionArn: fn });
  });
});
