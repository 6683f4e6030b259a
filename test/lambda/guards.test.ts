/**
 * One test per guard that a one-line change could remove without another test noticing (issue 12): each was seen
 * to fail with its guard removed.
 */
import { ExecuteStatementCommand } from '@aws-sdk/client-redshift-data';
import { CreateSecretCommand, DeleteSecretCommand } from '@aws-sdk/client-secrets-manager';
import { ARN, CURRENT_PASSWORD, expectNothingLeaked, md5, NEW_PASSWORDS, PREVIOUS_PASSWORD, secretJson, TOKEN, World } from './world';
import { createHandler } from '../../lambda/rotation/index';
import { probeName, probeNamePrefix } from '../../lambda/rotation/secrets';

let world: World;
const event = (Step: string) => ({ SecretId: ARN, ClientRequestToken: TOKEN, Step });
const PREFIX = 'redshift-rotation-probe/';

function singleUser(): void {
  world.addSecret({
    arn: ARN,
    current: secretJson({ username: 'app', password: CURRENT_PASSWORD }),
    previous: secretJson({ username: 'app', password: PREVIOUS_PASSWORD }),
    kmsKeyId: 'alias/app-key',
  });
  world.users.set('app', md5(CURRENT_PASSWORD, 'app'));
}

beforeEach(() => {
  world = new World();
});

describe('leftover probe cleanup', () => {
  test('a secret named like this secret\'s probes but tagged RotationProbeFor another secret is left alone', async () => {
    singleUser();
    world.startRotation();
    await world.handler()(event('createSecret'));
    const prefix = probeNamePrefix(PREFIX, ARN);
    // same name prefix (the name filter matches it), another secret's tag: not this rotation's leftover
    const foreign = `${prefix}-0123456789abcdef-CCC`;
    world.addSecret({ arn: `arn:aws:secretsmanager:eu-west-1:111122223333:secret:${foreign}`, current: '{}', tags: { RotationProbeFor: 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:other-XyZ' } });
    const leftover = `${prefix}-fedcba9876543210-DDD`;
    world.addSecret({ arn: `arn:aws:secretsmanager:eu-west-1:111122223333:secret:${leftover}`, current: '{}', tags: { RotationProbeFor: ARN } });
    await world.handler()(event('setSecret'));
    const live = world.liveProbes().map((s) => s.name).sort();
    // the leftover of this secret is gone, the other secret's is kept, the rotation's own probe is there
    expect(live).toEqual([foreign, probeName(PREFIX, ARN, TOKEN)].sort());
    expect(world.sm).toHaveReceivedCommandTimes(DeleteSecretCommand, 1);
  });
});

describe('the handler\'s last redaction', () => {
  test('an error from a part that does not redact (here the timer) leaves the handler without any password', async () => {
    singleUser();
    world.startRotation();
    await world.handler()(event('createSecret'));
    const lines: string[] = [];
    const handler = createHandler({
      env: { STATEMENT_POLL_MS: '10' },
      timing: {
        // the pending password (known to the redactor once AWSPENDING is read) in a message nothing else redacts
        sleep: async () => { throw new Error(`timer broke near ${NEW_PASSWORDS[0]}`); },
        now: () => 0,
        random: () => 0.5,
      },
      write: (line) => { lines.push(line); },
    });
    const err = await handler(event('setSecret')).catch((e) => e);
    expect(err instanceof Error).toBe(true);
    expect(String(err.message).startsWith('setSecret failed for ')).toBe(true);
    expect(String(err.message).includes('timer broke near [REDACTED]')).toBe(true);
    expect(String(err.message).includes(NEW_PASSWORDS[0])).toBe(false);
    expect(lines.length).toBe(1);
    expect(lines[0].includes(NEW_PASSWORDS[0])).toBe(false);
    expect(lines[0].includes('timer broke near [REDACTED]')).toBe(true);
  });
});

describe('testSecret checks the pending secret against AWSCURRENT', () => {
  test('an AWSPENDING for another cluster is refused before a probe is made or any SQL runs', async () => {
    singleUser();
    world.startRotation();
    world.secret(ARN).versions.get(TOKEN)!.value = secretJson({ username: 'app', password: NEW_PASSWORDS[0], dbClusterIdentifier: 'other-cluster' });
    const err = await world.handler()(event('testSecret')).catch((e) => e);
    expect(String(err?.message)).toMatch(/AWSPENDING: dbClusterIdentifier, workgroupName and dbname must be the same as in AWSCURRENT/);
    expect(world.sm).toHaveReceivedCommandTimes(CreateSecretCommand, 0);
    expect(world.rsd).toHaveReceivedCommandTimes(ExecuteStatementCommand, 0);
    expectNothingLeaked(world, err);
  });

  test('an AWSPENDING with another user name is refused before a probe is made or any SQL runs', async () => {
    singleUser();
    world.startRotation();
    world.secret(ARN).versions.get(TOKEN)!.value = secretJson({ username: 'other', password: NEW_PASSWORDS[0] });
    const err = await world.handler()(event('testSecret')).catch((e) => e);
    expect(String(err?.message)).toMatch(/AWSPENDING: username "other" does not fit SINGLE_USER: expected "app"/);
    expect(world.sm).toHaveReceivedCommandTimes(CreateSecretCommand, 0);
    expect(world.rsd).toHaveReceivedCommandTimes(ExecuteStatementCommand, 0);
  });
});
