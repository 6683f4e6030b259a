/**
 * SecretsApi on its own (lambda/rotation/secrets.ts), against a mocked Secrets Manager client: what each call's
 * failure says, missing versions, the versions without labels, and the probe secret's life: made, found kept, found
 * as a leftover of an earlier attempt, its name still held by a secret being deleted. The values here are made-up
 * strings, never printed: assertions on them compare booleans.
 */
import {
  CreateSecretCommand, DeleteSecretCommand, DescribeSecretCommand, GetRandomPasswordCommand, GetSecretValueCommand, ListSecretVersionIdsCommand,
  SecretsManagerClient, UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { parseConfig } from '../../lambda/rotation/config';
import { Redactor } from '../../lambda/rotation/errors';
import { Deadline, Timing } from '../../lambda/rotation/retry';
import { PROBE_FUNCTION_TAG, PROBE_TAG, RECREATE_DELAYS_MS, SecretsApi } from '../../lambda/rotation/secrets';

const ARN = 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:app-AbCdEf';
const PROBE = 'redshift-rotation-probe/0123456789abcdef';
const PROBE_ARN = 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:redshift-rotation-probe/0123456789abcdef-XyZ123';
const VALUE = JSON.stringify({ username: 'app', password: 'ProbeValuePassw0rd' });
const OTHER_VALUE = JSON.stringify({ username: 'app', password: 'LeftoverPassw0rd' });

const sm = mockClient(SecretsManagerClient);
let clock: number;
let slept: number[];
const timing: Timing = { sleep: async (ms) => { slept.push(ms); clock += ms; }, now: () => clock, random: () => 0.5 };

const sdkError = (name: string, message = `${name} message`, status = 400) => Object.assign(new Error(message), { name, $metadata: { httpStatusCode: status } });

function api(options: { functionName?: string | null; remainingMs?: number } = {}) {
  const redactor = new Redactor();
  const secrets = new SecretsApi(sm as unknown as SecretsManagerClient, redactor, {
    timing,
    deadline: Deadline.fromRemaining(timing, options.remainingMs),
    functionName: options.functionName === null ? undefined : options.functionName ?? 'redshift-rotation',
  });
  return { secrets, redactor };
}

beforeEach(() => {
  sm.reset();
  clock = 1_000_000;
  slept = [];
});

describe('what a failed call says', () => {
  test.each([
    ['DescribeSecret', DescribeSecretCommand, (s: SecretsApi) => s.describe(ARN)],
    ['ListSecretVersionIds', ListSecretVersionIdsCommand, (s: SecretsApi) => s.deprecatedVersionIds(ARN)],
    ['UpdateSecretVersionStage', UpdateSecretVersionStageCommand, (s: SecretsApi) => s.moveCurrent(ARN, 'v2', 'v1')],
    ['DeleteSecret', DeleteSecretCommand, (s: SecretsApi) => s.deleteProbe(PROBE_ARN)],
  ] as const)('%s: the operation, the error, its status and its message', async (operation, command, call) => {
    sm.on(command as never).rejects(sdkError('AccessDeniedException', 'not allowed here'));
    await expect(call(api().secrets)).rejects.toThrow(new Error(`Secrets Manager ${operation} failed: AccessDeniedException (HTTP 400): not allowed here`));
  });

  test('GetRandomPassword: the error, or no password, or one Redshift would refuse', async () => {
    const config = parseConfig({});
    sm.on(GetRandomPasswordCommand).rejectsOnce(sdkError('ThrottlingException', 'slow down'))
      .resolvesOnce({})
      .resolvesOnce({ RandomPassword: 'short' });
    await expect(api().secrets.randomPassword(config)).rejects.toThrow(new Error('Secrets Manager GetRandomPassword failed: ThrottlingException (HTTP 400): slow down'));
    await expect(api().secrets.randomPassword(config)).rejects.toThrow(new Error('Secrets Manager GetRandomPassword returned no password'));
    const err = await api().secrets.randomPassword(config).catch((e) => e);
    // each problem named, separated by '; ' (the value itself never)
    expect(/^GetRandomPassword returned a password Redshift would refuse \([^;]+(; [^;]+)+\)$/.test(err.message)).toBe(true);
    expect(err.message.includes('short')).toBe(false);
  });
});

describe('reading a version', () => {
  test('a missing version is an error, unless allowed to be missing; any other error is one either way', async () => {
    sm.on(GetSecretValueCommand).rejects(sdkError('ResourceNotFoundException', 'no such version'));
    await expect(api().secrets.secretString(ARN, { stage: 'AWSPENDING' }, 'AWSPENDING'))
      .rejects.toThrow(new Error('cannot read AWSPENDING: Secrets Manager GetSecretValue failed: ResourceNotFoundException (HTTP 400): no such version'));
    expect(await api().secrets.secretString(ARN, { stage: 'AWSPENDING' }, 'AWSPENDING', true)).toBeUndefined();
    sm.on(GetSecretValueCommand).rejects(sdkError('AccessDeniedException', 'not allowed'));
    await expect(api().secrets.secretString(ARN, { stage: 'AWSPENDING' }, 'AWSPENDING', true))
      .rejects.toThrow(new Error('cannot read AWSPENDING: Secrets Manager GetSecretValue failed: AccessDeniedException (HTTP 400): not allowed'));
  });

  test('a version without a SecretString says so', async () => {
    sm.on(GetSecretValueCommand).resolves({ ARN, SecretBinary: new Uint8Array([1]) });
    await expect(api().secrets.secretString(ARN, { stage: 'AWSCURRENT' }, 'AWSCURRENT')).rejects.toThrow(new Error('AWSCURRENT has no SecretString'));
  });

  test('a value read is remembered for redaction: the whole string and its password', async () => {
    sm.on(GetSecretValueCommand).resolves({ ARN, SecretString: VALUE });
    const { secrets, redactor } = api();
    await secrets.secretString(ARN, { stage: 'AWSCURRENT' }, 'AWSCURRENT');
    expect(redactor.redact('x ProbeValuePassw0rd y') === 'x [REDACTED] y').toBe(true);
    // values that are not JSON objects are remembered whole, without failing
    for (const odd of ['null', '"text"', '42', 'not json']) expect(() => secrets.remember(odd)).not.toThrow();
  });
});

test('versions without labels: every page, labelled ones left out, newest first', async () => {
  const at = (s: number) => new Date(s * 1000);
  sm.on(ListSecretVersionIdsCommand)
    .resolvesOnce({ Versions: [{ VersionId: 'old', VersionStages: [], CreatedDate: at(1) }, { VersionId: 'current', VersionStages: ['AWSCURRENT'], CreatedDate: at(9) }], NextToken: 'p2' })
    .resolvesOnce({ Versions: [{ VersionId: 'new', CreatedDate: at(5) }, { VersionStages: [], CreatedDate: at(6) }] });
  expect(await api().secrets.deprecatedVersionIds(ARN)).toEqual(['new', 'old']);
  expect(sm).toHaveReceivedNthCommandWith(2, ListSecretVersionIdsCommand, { SecretId: ARN, IncludeDeprecated: true, NextToken: 'p2' });
});

describe('the probe secret', () => {
  const probe = { name: PROBE };

  test('made with its description, tags, key and value', async () => {
    sm.on(CreateSecretCommand).resolves({ ARN: PROBE_ARN });
    expect(await api().secrets.ensureProbe(probe, ARN, 'alias/k', VALUE)).toBe(PROBE_ARN);
    const input = sm.commandCalls(CreateSecretCommand)[0].args[0].input;
    expect({ ...input, SecretString: input.SecretString === VALUE }).toEqual({
      Name: PROBE,
      Description: 'Temporary copy of a pending Redshift credential, made by the rotation function to test it; deleted at once.',
      SecretString: true,
      KmsKeyId: 'alias/k',
      Tags: [{ Key: PROBE_TAG, Value: ARN }, { Key: PROBE_FUNCTION_TAG, Value: 'redshift-rotation' }],
    });
  });

  test('not made without the function\'s name to tag it with', async () => {
    await expect(api({ functionName: null }).secrets.ensureProbe(probe, ARN, undefined, VALUE))
      .rejects.toThrow(new Error('AWS_LAMBDA_FUNCTION_NAME is not set: the probe secret cannot be tagged with the function that makes it'));
    expect(sm.calls()).toHaveLength(0);
  });

  test('CreateSecret answering without an ARN is an error', async () => {
    sm.on(CreateSecretCommand).resolves({});
    await expect(api().secrets.ensureProbe(probe, ARN, undefined, VALUE)).rejects.toThrow(new Error('Secrets Manager CreateSecret returned no ARN for the probe secret'));
  });

  test('a kept probe that cannot be read is made anew', async () => {
    sm.on(GetSecretValueCommand).rejects(sdkError('ResourceNotFoundException'));
    sm.on(CreateSecretCommand).resolves({ ARN: PROBE_ARN });
    expect(await api().secrets.ensureProbe({ name: PROBE, kept: true }, ARN, undefined, VALUE)).toBe(PROBE_ARN);
    expect(sm).toHaveReceivedCommandTimes(CreateSecretCommand, 1);
  });

  test('a probe of that name holding the same value is this rotation\'s: used, not deleted', async () => {
    sm.on(CreateSecretCommand).rejects(sdkError('ResourceExistsException'));
    sm.on(GetSecretValueCommand).resolves({ ARN: PROBE_ARN, SecretString: VALUE });
    const { secrets } = api();
    expect(await secrets.ensureProbe(probe, ARN, undefined, VALUE)).toBe(PROBE_ARN);
    expect(sm).toHaveReceivedCommandTimes(DeleteSecretCommand, 0);
    expect(secrets.leftoverProbesDeleted).toEqual([]);
  });

  test('a leftover holding another value is deleted, recorded, and the probe made anew; a second clash is an error, not a loop', async () => {
    sm.on(CreateSecretCommand).rejectsOnce(sdkError('ResourceExistsException')).resolves({ ARN: PROBE_ARN });
    sm.on(GetSecretValueCommand).resolves({ ARN: 'arn:leftover', SecretString: OTHER_VALUE });
    const { secrets, redactor } = api();
    expect(await secrets.ensureProbe(probe, ARN, undefined, VALUE)).toBe(PROBE_ARN);
    expect(sm).toHaveReceivedCommandWith(DeleteSecretCommand, { SecretId: 'arn:leftover', ForceDeleteWithoutRecovery: true });
    expect(secrets.leftoverProbesDeleted).toEqual([PROBE]);
    // the leftover's password is redacted too
    expect(redactor.redact('LeftoverPassw0rd') === '[REDACTED]').toBe(true);

    sm.reset();
    sm.on(CreateSecretCommand).rejects(sdkError('ResourceExistsException', 'still there'));
    sm.on(GetSecretValueCommand).resolves({ ARN: 'arn:leftover', SecretString: OTHER_VALUE });
    await expect(api().secrets.ensureProbe(probe, ARN, undefined, VALUE))
      .rejects.toThrow(new Error(`Secrets Manager CreateSecret failed for the probe secret ${PROBE}: ResourceExistsException (HTTP 400): still there`));
    expect(sm).toHaveReceivedCommandTimes(CreateSecretCommand, 2);
  });

  test('another CreateSecret error is reported at once', async () => {
    sm.on(CreateSecretCommand).rejects(sdkError('AccessDeniedException', 'no'));
    await expect(api().secrets.ensureProbe(probe, ARN, undefined, VALUE))
      .rejects.toThrow(new Error(`Secrets Manager CreateSecret failed for the probe secret ${PROBE}: AccessDeniedException (HTTP 400): no`));
    expect(sm).toHaveReceivedCommandTimes(GetSecretValueCommand, 0);
  });

  test('a probe of that name that cannot be read, or is read without an ARN, is an error', async () => {
    sm.on(CreateSecretCommand).rejects(sdkError('ResourceExistsException'));
    sm.on(GetSecretValueCommand).rejectsOnce(sdkError('AccessDeniedException', 'not yours')).resolvesOnce({ SecretString: OTHER_VALUE });
    await expect(api().secrets.ensureProbe(probe, ARN, undefined, VALUE)).rejects.toThrow(new Error(
      `a secret named like the probe ${PROBE} exists and cannot be read: Secrets Manager GetSecretValue failed: AccessDeniedException (HTTP 400): not yours`));
    await expect(api().secrets.ensureProbe(probe, ARN, undefined, VALUE)).rejects.toThrow(new Error('Secrets Manager GetSecretValue returned no ARN for the probe secret'));
  });

  const beingDeleted = () => sdkError('InvalidRequestException', 'You can\'t create this secret because a secret with this name is already scheduled for deletion.');

  test('a name still held by a secret being deleted: tried again after each delay in turn', async () => {
    sm.on(CreateSecretCommand).rejectsOnce(beingDeleted()).rejectsOnce(beingDeleted()).resolves({ ARN: PROBE_ARN });
    expect(await api().secrets.ensureProbe(probe, ARN, undefined, VALUE)).toBe(PROBE_ARN);
    expect(slept).toEqual(RECREATE_DELAYS_MS.slice(0, 2));
  });

  test('... until the delays run out', async () => {
    sm.on(CreateSecretCommand).rejects(beingDeleted());
    const err = await api().secrets.ensureProbe(probe, ARN, undefined, VALUE).catch((e) => e);
    expect(err.message).toMatch(/^Secrets Manager CreateSecret failed for the probe secret .*: InvalidRequestException \(HTTP 400\): .*scheduled for deletion/);
    expect(slept).toEqual(RECREATE_DELAYS_MS);
  });

  test('... and only while more than the delay is left before the deadline', async () => {
    // 3,500 ms left: 1,750 kept for cleanup, 1,750 for work; after waiting 250 and 500, exactly 1,000 are left: not enough
    sm.on(CreateSecretCommand).rejects(beingDeleted());
    await api({ remainingMs: 3500 }).secrets.ensureProbe(probe, ARN, undefined, VALUE).catch(() => undefined);
    expect(slept).toEqual([250, 500]);
  });

  test('another InvalidRequestException, or one on a name not being deleted, is not tried again', async () => {
    sm.on(CreateSecretCommand).rejects(sdkError('InvalidRequestException', 'something else'));
    await expect(api().secrets.ensureProbe(probe, ARN, undefined, VALUE)).rejects.toThrow(/InvalidRequestException \(HTTP 400\): something else$/);
    sm.on(CreateSecretCommand).rejects(sdkError('LimitExceededException', 'is scheduled for deletion'));
    await expect(api().secrets.ensureProbe(probe, ARN, undefined, VALUE)).rejects.toThrow(/LimitExceededException/);
    expect(slept).toEqual([]);
  });
});
