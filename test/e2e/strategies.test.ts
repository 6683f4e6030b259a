/**
 * Invariant 1, end to end through RotateSecret and the bundled handler: for both strategies, on a provisioned
 * cluster (dbClusterIdentifier) and on a workgroup (workgroupName), several rotations in a row; after each
 * AWSCURRENT logs in, for ALTERNATING_USERS AWSPREVIOUS too, for SINGLE_USER the old password is refused.
 */
import { RotateSecretCommand } from '@aws-sdk/client-secrets-manager';
import { E2e, median, report } from './helpers';
import type { Strategy, Target, UserSecret } from './helpers';

const ROTATIONS = 3;
let e: E2e;

beforeAll(async () => {
  e = await E2e.start();
});

afterAll(async () => {
  await e?.stop();
});

const cases: Array<[Strategy, Target]> = [
  ['SINGLE_USER', 'cluster'],
  ['SINGLE_USER', 'workgroup'],
  ['ALTERNATING_USERS', 'cluster'],
  ['ALTERNATING_USERS', 'workgroup'],
];

describe.each(cases)('%s on a %s', (strategy, target) => {
  let user: UserSecret;
  const durations: number[] = [];

  beforeAll(async () => {
    user = await e.newUser(strategy, target);
  });

  test(`${ROTATIONS} rotations in a row: AWSCURRENT logs in after each, and the previous credentials behave as the strategy says`, async () => {
    const initial = (await e.value(user.arn))!;
    expect(await e.stack.canLogin(initial.username, initial.password)).toBe(true);
    let before = initial;
    for (let i = 0; i < ROTATIONS; i++) {
      const seq = e.lastSeq();
      const r = await e.rotateOk(user.arn);
      durations.push(r.ms);

      const current = (await e.value(user.arn, 'AWSCURRENT'))!;
      const previous = (await e.value(user.arn, 'AWSPREVIOUS'))!;
      expect(current.versionId).toBe(r.token);
      expect(previous.versionId).toBe(before.versionId);
      expect(current.password === before.password).toBe(false);
      expect(await e.stages(user.arn)).toEqual({ [r.token]: ['AWSCURRENT'], [before.versionId]: ['AWSPREVIOUS'] });
      expect(await e.stack.canLogin(current.username, current.password)).toBe(true);

      if (strategy === 'ALTERNATING_USERS') {
        // the users alternate: u, u_clone, u, …; the previous user still logs in with its (unchanged) password
        expect(current.username).toBe(i % 2 === 0 ? `${user.username}_clone` : user.username);
        expect(await e.stack.canLogin(previous.username, previous.password)).toBe(true);
      } else {
        expect(current.username).toBe(user.username);
        expect(await e.stack.canLogin(previous.username, previous.password)).toBe(false);
      }

      // the secret's other fields are kept; the Data API was called with the secret's target only
      expect(current.engine).toBe('redshift');
      expect(current.dbname).toBe(e.stack.postgres.database);
      if (target === 'cluster') {
        expect(current.dbClusterIdentifier).toBe(e.stack.clusterIdentifier);
        expect(current.workgroupName).toBeUndefined();
      } else {
        expect(current.workgroupName).toBe(e.stack.workgroupName);
        expect(current.dbClusterIdentifier).toBeUndefined();
      }
      const calls = e.lambdaCalls(user.arn, seq);
      expect(calls.filter((c) => c.service === 'redshift-data').length).toBeGreaterThan(0);
      // four invocations, one per step, each logged once with outcome ok and the strategy
      const steps = e.stack.invocations.filter((inv) => inv.secretId === user.arn && inv.start >= r.started);
      expect(steps.map((inv) => [inv.step, inv.ok])).toEqual([
        ['createSecret', true], ['setSecret', true], ['testSecret', true], ['finishSecret', true],
      ]);
      before = current;
    }
    const lines = e.stepLogs().filter((l) => l.secretArn === user.arn);
    expect(lines).toHaveLength(4 * ROTATIONS);
    expect(lines.every((l) => l.outcome === 'ok' && l.strategy === strategy && typeof l.durationMs === 'number')).toBe(true);
    expect(await e.probeSecrets()).toEqual([]);
    report(`${strategy} ${target}: ${ROTATIONS} rotations, median ${median(durations)} ms`);
  });

  if (strategy === 'ALTERNATING_USERS') {
    // (that the user a rotation leaves keeps its password is checked after each rotation above: AWSPREVIOUS logs in)
    test('the clone exists and the last two versions are the two users, each logging in', async () => {
      const clone = await e.stack.adminQuery<{ n: number }>('SELECT count(*)::int AS n FROM pg_roles WHERE rolname = $1', [`${user.username}_clone`]);
      expect(clone[0].n).toBe(1);
      const users = [(await e.value(user.arn, 'AWSCURRENT'))!.username, (await e.value(user.arn, 'AWSPREVIOUS'))!.username];
      expect(users.sort()).toEqual([user.username, `${user.username}_clone`]);
      expect(await e.versionLogsIn(user.arn, 'AWSCURRENT')).toBe(true);
      expect(await e.versionLogsIn(user.arn, 'AWSPREVIOUS')).toBe(true);
    });
  }
});

describe.each(['SINGLE_USER', 'ALTERNATING_USERS'] as Strategy[])('RotateImmediately=false with %s', (strategy) => {
  test('the service tests the configuration (testSecret on an empty AWSPENDING version): it passes and changes nothing', async () => {
    const user = await e.newUser(strategy, 'cluster');
    const before = await e.stages(user.arn);
    const current = (await e.value(user.arn))!;
    const t0 = Date.now();
    await e.sm.send(new RotateSecretCommand({ SecretId: user.arn, RotationLambdaARN: e.stack.functionArn(), RotateImmediately: false }));
    const outcome = await e.stack.waitForRotation(user.arn, { after: t0 });
    expect(outcome.type).toBe('TestRotationSucceeded');
    expect(await e.stages(user.arn)).toEqual(before);
    expect((await e.value(user.arn))!.versionId).toBe(current.versionId);
    expect(await e.stack.canLogin(current.username, current.password)).toBe(true);
  });
});

test('nothing the handler logged, and no SQL, carries a password', async () => {
  const checked = await e.expectNoPasswordLeaked();
  expect(checked.passwords).toBeGreaterThanOrEqual(4 * (ROTATIONS + 1));
});
