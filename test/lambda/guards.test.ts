/**
 * One test per guard that a one-line change could remove without another test noticing (issue 12): each was seen
 * to fail with its guard removed.
 */
import { ExecuteStatementCommand } from '@aws-sdk/client-redshift-data';
import { CreateSecretCommand } from '@aws-sdk/client-secrets-manager';
import { addSingleUserApp, ARN, expectNothingLeaked, NEW_PASSWORDS, secretJson, TOKEN, World } from './world';
import { createHandler } from '../../lambda/rotation/index';

let world: World;
const event = (Step: string) => ({ SecretId: ARN, ClientRequestToken: TOKEN, Step });

const singleUser = (): void => addSingleUserApp(world, 'alias/app-key');

beforeEach(() => {
  world = new World();
});

// The leftover-probe tag check the issue named is gone with the probe redesign: a probe's name is derived from the
// rotated secret alone (no ListSecrets, no name prefix shared with other secrets), and a secret found in that place is
// used only when it holds the pending value, else deleted and reported (steps.test.ts, single-user.test.ts); the role
// may read or delete only probes tagged with its function (role-policy.test.ts, test/e2e/iam.test.ts).

describe('the handler\'s last redaction', () => {
  test('an error from a part that does not redact (here the timer) leaves the handler without any password', async () => {
    singleUser();
    world.startRotation();
    await world.handler()(event('createSecret'));
    // the statement stays STARTED, so that waiting for it sleeps
    world.faults.push({ match: () => true, fault: { kind: 'HANG' } });
    const lines: string[] = [];
    const handler = createHandler({
      env: { STATEMENT_POLL_MS: '10', AWS_LAMBDA_FUNCTION_NAME: 'redshift-rotation' },
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
