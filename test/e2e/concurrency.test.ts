/**
 * 20 secrets (both strategies, cluster and workgroup) rotated at once through the same function: all complete,
 * each AWSCURRENT logs in, and the invocations really overlapped.
 */
import { RotateSecretCommand } from '@aws-sdk/client-secrets-manager';
import { E2e, median, report } from './helpers';
import type { UserSecret } from './helpers';

const SECRETS = 20;
let e: E2e;

beforeAll(async () => {
  e = await E2e.start();
});

afterAll(async () => {
  await e?.stop();
});

test(`${SECRETS} secrets rotated at once through one function all complete`, async () => {
  const users: UserSecret[] = [];
  for (let i = 0; i < SECRETS; i++) {
    users.push(await e.newUser(i % 2 === 0 ? 'SINGLE_USER' : 'ALTERNATING_USERS', i % 4 < 2 ? 'cluster' : 'workgroup', 'many'));
  }
  const before = await Promise.all(users.map((u) => e.value(u.arn)));
  const fn = e.stack.functionArn();
  const t0 = Date.now();
  const rotate = async (u: UserSecret) => (await e.sm.send(new RotateSecretCommand({ SecretId: u.arn, RotationLambdaARN: fn }))).VersionId!;
  const tokens = await Promise.all(users.map(rotate));
  const outcomes = await Promise.all(users.map((u, i) => e.stack.waitForRotation(u.arn, { token: tokens[i], timeoutMs: 230_000 })));
  const wall = Date.now() - t0;
  expect(outcomes.map((o) => `${o.type}${o.error ? `: ${e.redact(o.error)}` : ''}`)).toEqual(users.map(() => 'RotationSucceeded'));

  for (const [i, u] of users.entries()) {
    const current = (await e.value(u.arn))!;
    expect(current.versionId).toBe(tokens[i]);
    expect(await e.stack.canLogin(current.username, current.password)).toBe(true);
    const previous = (await e.value(u.arn, 'AWSPREVIOUS'))!;
    expect(previous.versionId).toBe(before[i]!.versionId);
    expect(await e.stack.canLogin(previous.username, previous.password)).toBe(u.strategy === 'ALTERNATING_USERS');
  }
  // one function served them all, with overlapping invocations
  const invocations = e.stack.invocations.filter((inv) => inv.start >= t0);
  expect(new Set(invocations.map((inv) => inv.functionArn))).toEqual(new Set([fn]));
  expect(invocations.filter((inv) => inv.ok).length).toBe(4 * SECRETS);
  let maxOverlap = 0;
  for (const inv of invocations) {
    maxOverlap = Math.max(maxOverlap, invocations.filter((o) => o.start <= inv.start && (o.end ?? Infinity) > inv.start).length);
  }
  expect(maxOverlap).toBeGreaterThan(1);
  expect(await e.probeSecrets()).toEqual([]);
  const perSecret = outcomes.map((o) => o.time - t0);
  report(`${SECRETS} concurrent rotations: all succeeded in ${wall} ms (median ${median(perSecret)} ms each), up to ${maxOverlap} invocations at once`);
}, 240_000);

test('nothing the handler logged, and no SQL, carries a password', async () => {
  await e.expectNoPasswordLeaked();
});
