import * as path from 'path';
import {
  DescribeSecretCommand, GetSecretValueCommand, InvalidRequestException, RotateSecretCommand, SecretsManagerClient,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import { md5Verifier, startLocalStack } from '../../local-stack/local-stack';
import type { LocalStack } from '../../local-stack/local-stack';

const FIXTURE = path.join(__dirname, 'fixtures', 'single-user-handler.js');
const ECHO = path.join(__dirname, 'fixtures', 'env-echo-handler.js');

let stack: LocalStack;
let sm: SecretsManagerClient;
let n = 0;

beforeAll(async () => {
  stack = await startLocalStack({ defaultFunction: { handlerFile: FIXTURE }, rotationRetryDelayMs: 50 });
  sm = stack.secretsManagerClient();
});
afterAll(async () => {
  sm?.destroy();
  await stack?.stop();
});

/** A database user and its secret. */
async function userWithSecret(password = 'Startpass1'): Promise<{ user: string; arn: string; password: string }> {
  const user = `rot_user_${++n}`;
  await stack.createUser(user, password);
  const { arn } = await stack.createSecret({ name: `rot/${user}`, username: user, password });
  return { user, arn, password };
}

async function current(arn: string): Promise<{ username: string; password: string }> {
  return JSON.parse((await sm.send(new GetSecretValueCommand({ SecretId: arn }))).SecretString!);
}

describe('RotateSecret runs the four steps like the service', () => {
  test('returns at once with AWSPENDING staged, then the rotation completes', async () => {
    const fn = stack.functionArn('slow-fixture');
    stack.registerFunction(fn, { handlerFile: FIXTURE, env: { FIXTURE_SLOW_MS: '150' } });
    const { user, arn, password } = await userWithSecret();
    const out = await sm.send(new RotateSecretCommand({ SecretId: arn, RotationLambdaARN: fn, RotationRules: { AutomaticallyAfterDays: 30 } }));
    const token = out.VersionId!;
    const during = await sm.send(new DescribeSecretCommand({ SecretId: arn }));
    expect(during.VersionIdsToStages![token]).toEqual(['AWSPENDING']);
    await expect(sm.send(new GetSecretValueCommand({ SecretId: arn, VersionId: token }))).rejects.toThrow(/can't find the specified secret value/);
    await expect(sm.send(new RotateSecretCommand({ SecretId: arn }))).rejects.toThrow(InvalidRequestException);
    await expect(sm.send(new RotateSecretCommand({ SecretId: arn }))).rejects.toThrow('A previous rotation isn\'t complete. That rotation will be reattempted.');

    const outcome = await stack.waitForRotation(arn, { token });
    expect(outcome.type).toBe('RotationSucceeded');
    const after = await sm.send(new DescribeSecretCommand({ SecretId: arn }));
    expect(after).toMatchObject({ RotationEnabled: true, RotationLambdaARN: fn, RotationRules: { AutomaticallyAfterDays: 30 } });
    expect(after.LastRotatedDate).toBeInstanceOf(Date);
    expect(Object.values(after.VersionIdsToStages!).sort()).toEqual([['AWSCURRENT'], ['AWSPREVIOUS']]);
    expect(after.VersionIdsToStages![token]).toEqual(['AWSCURRENT']);
    const cur = await current(arn);
    expect(cur.password === password).toBe(false);
    expect(await stack.canLogin(user, cur.password)).toBe(true);
    expect(await stack.canLogin(user, password)).toBe(false);
    const steps = stack.invocations.filter((i) => i.secretId === arn).map((i) => [i.step, i.ok]);
    expect(steps).toEqual([['createSecret', true], ['setSecret', true], ['testSecret', true], ['finishSecret', true]]);
    expect(stack.events.filter((e) => e.secretArn === arn).map((e) => e.type)).toEqual(['RotationStarted', 'RotationSucceeded']);
  });

  test('a failed step is retried as a whole rotation with the same token', async () => {
    const fn = stack.functionArn('flaky-fixture');
    stack.registerFunction(fn, { handlerFile: FIXTURE, env: { FIXTURE_FAIL_STEP: 'setSecret', FIXTURE_FAIL_TIMES: '1' }, maxConcurrency: 1 });
    const { user, arn } = await userWithSecret();
    const { VersionId: token } = await sm.send(new RotateSecretCommand({ SecretId: arn, RotationLambdaARN: fn }));
    const outcome = await stack.waitForRotation(arn);
    expect(outcome.type).toBe('RotationSucceeded');
    const events = stack.events.filter((e) => e.secretArn === arn);
    expect(events.map((e) => [e.type, e.attempt, e.step])).toEqual([
      ['RotationStarted', undefined, undefined], ['RotationAttemptFailed', 0, 'setSecret'], ['RotationSucceeded', undefined, undefined],
    ]);
    expect(events[1].error).toBe('fixture failure at setSecret');
    const invocations = stack.invocations.filter((i) => i.secretId === arn);
    expect(invocations.map((i) => i.step)).toEqual(['createSecret', 'setSecret', 'createSecret', 'setSecret', 'testSecret', 'finishSecret']);
    expect(stack.lambda.invocations.filter((i) => i.secretId === arn && !i.ok)).toHaveLength(1);
    expect((await sm.send(new DescribeSecretCommand({ SecretId: arn }))).VersionIdsToStages![token!]).toEqual(['AWSCURRENT']);
    expect(await stack.canLogin(user, (await current(arn)).password)).toBe(true);
  });

  test('a rotation failing on every attempt ends in RotationFailed after 1 + 2 retries; AWSPENDING is left', async () => {
    const fn = stack.functionArn('broken-fixture');
    stack.registerFunction(fn, { handlerFile: FIXTURE, env: { FIXTURE_FAIL_STEP: 'testSecret' } });
    const { user, arn, password } = await userWithSecret();
    const { VersionId: token } = await sm.send(new RotateSecretCommand({ SecretId: arn, RotationLambdaARN: fn }));
    const outcome = await stack.waitForRotation(arn);
    expect(outcome).toMatchObject({ type: 'RotationFailed', step: 'testSecret', error: 'fixture failure at testSecret', token });
    expect(stack.events.filter((e) => e.secretArn === arn && e.type === 'RotationAttemptFailed').map((e) => e.attempt)).toEqual([0, 1, 2]);
    const stages = (await sm.send(new DescribeSecretCommand({ SecretId: arn }))).VersionIdsToStages!;
    expect(stages[token!]).toEqual(['AWSPENDING']);
    expect((await current(arn)).password === password).toBe(true);
    // single user: setSecret already changed the password, so AWSCURRENT no longer logs in (the window the
    // service's next attempt closes)
    expect(await stack.canLogin(user, password)).toBe(false);

    // any new rotation is refused while AWSPENDING is staged on another version than AWSCURRENT, even with the same
    // token; removing the label by hand (the documented troubleshooting step) lets a new rotation run.
    await expect(sm.send(new RotateSecretCommand({ SecretId: arn, RotationLambdaARN: stack.functionArn() })))
      .rejects.toThrow(InvalidRequestException);
    await expect(sm.send(new RotateSecretCommand({ SecretId: arn, RotationLambdaARN: stack.functionArn(), ClientRequestToken: token })))
      .rejects.toThrow('A previous rotation isn\'t complete');
    await sm.send(new UpdateSecretVersionStageCommand({ SecretId: arn, VersionStage: 'AWSPENDING', RemoveFromVersionId: token }));
    // the user's password was already changed by setSecret: put the live one back into AWSCURRENT first
    await stack.adminQuery(`ALTER USER "${user}" PASSWORD '${md5Verifier(user, password)}'`);
    await sm.send(new RotateSecretCommand({ SecretId: arn, RotationLambdaARN: stack.functionArn() }));
    expect((await stack.waitForRotation(arn, { after: outcome.time + 1 })).type).toBe('RotationSucceeded');
    expect(await stack.canLogin(user, (await current(arn)).password)).toBe(true);
  });

  test('a crashing function (process exit) fails the invocation as Runtime.ExitError; the worker is replaced', async () => {
    const fn = stack.functionArn('crashing-fixture');
    stack.registerFunction(fn, { handlerFile: FIXTURE, env: { FIXTURE_EXIT_STEP: 'createSecret' } });
    const { arn } = await userWithSecret();
    await sm.send(new RotateSecretCommand({ SecretId: arn, RotationLambdaARN: fn }));
    const outcome = await stack.waitForRotation(arn);
    expect(outcome.type).toBe('RotationFailed');
    const failed = stack.invocations.filter((i) => i.secretId === arn);
    expect(failed).toHaveLength(3);
    for (const i of failed) expect(i).toMatchObject({ ok: false, errorType: 'Runtime.ExitError' });
    expect(failed[0].errorMessage).toMatch(/Runtime exited with error: exit status 3/);
  });

  test('a hanging function times out (Sandbox.Timedout)', async () => {
    const fn = stack.functionArn('hanging-fixture');
    stack.registerFunction(fn, { handlerFile: FIXTURE, env: { FIXTURE_HANG_STEP: 'createSecret' }, timeoutMs: 300 });
    const { arn } = await userWithSecret();
    await sm.send(new RotateSecretCommand({ SecretId: arn, RotationLambdaARN: fn }));
    const outcome = await stack.waitForRotation(arn);
    expect(outcome.type).toBe('RotationFailed');
    expect(outcome.error).toMatch(/Task timed out after 0.30 seconds/);
    expect(stack.invocations.filter((i) => i.secretId === arn)[0].errorType).toBe('Sandbox.Timedout');
  });

  test('RotateImmediately=false runs testSecret only, on an AWSPENDING version that is removed afterwards', async () => {
    const fn = stack.functionArn('echo-test-only');
    stack.registerFunction(fn, { handlerFile: ECHO });
    const { arn } = await userWithSecret();
    const before = (await sm.send(new DescribeSecretCommand({ SecretId: arn }))).VersionIdsToStages;
    const rules = { ScheduleExpression: 'rate(4 hours)' };
    await sm.send(new RotateSecretCommand({ SecretId: arn, RotationLambdaARN: fn, RotateImmediately: false, RotationRules: rules }));
    const outcome = await stack.waitForRotation(arn);
    expect(outcome.type).toBe('TestRotationSucceeded');
    expect(before![outcome.token]).toBeUndefined();
    expect(stack.invocations.filter((i) => i.secretId === arn).map((i) => i.step)).toEqual(['testSecret']);
    const after = await sm.send(new DescribeSecretCommand({ SecretId: arn }));
    expect(after.VersionIdsToStages).toEqual(before);
    expect(after.RotationEnabled).toBe(true);
  });

  test('a function outside the account, a missing function ARN and bad rules are refused', async () => {
    const { arn } = await userWithSecret();
    await expect(sm.send(new RotateSecretCommand({ SecretId: arn }))).rejects.toThrow('No Lambda rotation function ARN is associated with this secret.');
    await expect(sm.send(new RotateSecretCommand({ SecretId: arn, RotationLambdaARN: 'arn:aws:lambda:us-east-1:999999999999:function:x' })))
      .rejects.toMatchObject({ name: 'AccessDeniedException' });
    const badRules = { SecretId: arn, RotationLambdaARN: stack.functionArn(), RotationRules: { AutomaticallyAfterDays: 0 } };
    await expect(sm.send(new RotateSecretCommand(badRules)))
      .rejects.toMatchObject({ name: 'InvalidParameterException' });
    await expect(sm.send(new RotateSecretCommand({ SecretId: 'missing', RotationLambdaARN: stack.functionArn() }))).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
  });

  test('concurrent rotations of several secrets run on several warm workers', async () => {
    const secrets = await Promise.all([1, 2, 3, 4, 5].map(() => userWithSecret()));
    await Promise.all(secrets.map((s) => sm.send(new RotateSecretCommand({ SecretId: s.arn, RotationLambdaARN: stack.functionArn() }))));
    const outcomes = await Promise.all(secrets.map((s) => stack.waitForRotation(s.arn)));
    expect(outcomes.map((o) => o.type)).toEqual(Array(5).fill('RotationSucceeded'));
    for (const s of secrets) expect(await stack.canLogin(s.user, (await current(s.arn)).password)).toBe(true);
    expect(stack.lambda.workerCount).toBeGreaterThan(1);
  });

  test('the secret can be set back by hand with UpdateSecretVersionStage after a rotation', async () => {
    const { arn } = await userWithSecret();
    await sm.send(new RotateSecretCommand({ SecretId: arn, RotationLambdaARN: stack.functionArn() }));
    await stack.waitForRotation(arn);
    const stages = (await sm.send(new DescribeSecretCommand({ SecretId: arn }))).VersionIdsToStages!;
    const prev = Object.keys(stages).find((k) => stages[k].includes('AWSPREVIOUS'))!;
    const cur = Object.keys(stages).find((k) => stages[k].includes('AWSCURRENT'))!;
    await sm.send(new UpdateSecretVersionStageCommand({ SecretId: arn, VersionStage: 'AWSCURRENT', MoveToVersionId: prev, RemoveFromVersionId: cur }));
    expect((await sm.send(new DescribeSecretCommand({ SecretId: arn }))).VersionIdsToStages).toEqual({ [prev]: ['AWSCURRENT'], [cur]: ['AWSPREVIOUS'] });
  });
});

describe('the Lambda runtime', () => {
  test('environment: local endpoints with the worker path, region, fake credentials, per-function env; nothing from the test process', async () => {
    const fn = stack.functionArn('echo');
    stack.registerFunction(fn, { handlerFile: ECHO, env: { PASSWORD_LENGTH: '40', TEST_STATEMENTS: '["SELECT 1"]' }, timeoutMs: 7000 });
    const r = await stack.lambda.invoke(fn, { Step: 'echo', SecretId: 's', ClientRequestToken: 't' });
    expect(r.ok).toBe(true);
    const line = stack.lambdaLogs.find((l) => l.invocationId === r.invocationId && l.message.startsWith('{'))!;
    const { env, remaining, remainingMs } = JSON.parse(line.message);
    // context.getRemainingTimeInMillis() counts down from the function's configured timeout
    expect(remainingMs).toBeLessThanOrEqual(7000);
    expect(remainingMs).toBeGreaterThan(7000 - 3000);
    expect(env.AWS_ENDPOINT_URL_SECRETS_MANAGER).toMatch(new RegExp(`^${stack.endpoints.secretsManager}/fn/w\\d+/$`));
    expect(env.AWS_ENDPOINT_URL_REDSHIFT_DATA).toMatch(new RegExp(`^${stack.endpoints.redshiftData}/fn/w\\d+/$`));
    expect(env).toMatchObject({ AWS_REGION: 'us-east-1', AWS_LAMBDA_FUNCTION_NAME: 'echo', PASSWORD_LENGTH: '40', TEST_STATEMENTS: '["SELECT 1"]' });
    expect(env.AWS_ACCESS_KEY_ID).toBeTruthy();
    expect(env.JEST_WORKER_ID).toBeUndefined();
    expect(remaining).toBe(true);
    expect(stack.lambdaLogs.some((l) => l.invocationId === r.invocationId && l.stream === 'stderr' && l.message === 'to stderr')).toBe(true);
    expect(stack.lambdaLogs.some((l) => l.invocationId === r.invocationId && l.stream === 'runtime' && l.message.startsWith('REPORT RequestId'))).toBe(true);
  });

  test('workers stay warm: the module is loaded once per worker', async () => {
    const fn = stack.functionArn('echo-warm');
    stack.registerFunction(fn, { handlerFile: ECHO, maxConcurrency: 1 });
    const a = await stack.lambda.invoke(fn, { Step: 'echo', SecretId: 's', ClientRequestToken: 't' });
    const b = await stack.lambda.invoke(fn, { Step: 'echo', SecretId: 's', ClientRequestToken: 't' });
    const pid = (id: string) => JSON.parse(stack.lambdaLogs.find((l) => l.invocationId === id && l.message.startsWith('{'))!.message).pid;
    expect(pid(a.invocationId)).toBe(pid(b.invocationId));
    expect(stack.lambdaLogs.filter((l) => l.functionArn === fn && l.message === 'module loaded')).toHaveLength(1);
  });

  test('registering a function again applies the new environment to the next invocation, also when it was busy', async () => {
    const fn = stack.functionArn('echo-reconfigured');
    stack.registerFunction(fn, { handlerFile: ECHO, env: { PASSWORD_LENGTH: '10' } });
    const env = (id: string) => JSON.parse(stack.lambdaLogs.find((l) => l.invocationId === id && l.message.startsWith('{'))!.message).env;
    const busy = stack.lambda.invoke(fn, { Step: 'sleep', SecretId: 's', ClientRequestToken: 't' });
    await new Promise((r) => setTimeout(r, 100));
    stack.registerFunction(fn, { handlerFile: ECHO, env: { PASSWORD_LENGTH: '20' } });
    expect(env((await busy).invocationId).PASSWORD_LENGTH).toBe('10');
    const next = await stack.lambda.invoke(fn, { Step: 'echo', SecretId: 's', ClientRequestToken: 't' });
    expect(env(next.invocationId).PASSWORD_LENGTH).toBe('20');
  });

  test('a handler error is reported with its type and message, as Lambda does', async () => {
    const fn = stack.functionArn('echo-throw');
    stack.registerFunction(fn, { handlerFile: ECHO });
    const r = await stack.lambda.invoke(fn, { Step: 'throw', SecretId: 's', ClientRequestToken: 't' });
    expect(r).toMatchObject({ ok: false, errorType: 'TypeError', errorMessage: 'thrown by the handler' });
  });

  test('concurrent invocations beyond maxConcurrency wait for a worker', async () => {
    const fn = stack.functionArn('echo-limited');
    stack.registerFunction(fn, { handlerFile: ECHO, maxConcurrency: 2 });
    const t = Date.now();
    const results = await Promise.all([1, 2, 3, 4].map(() => stack.lambda.invoke(fn, { Step: 'sleep', SecretId: 's', ClientRequestToken: 't' })));
    expect(results.every((r) => r.ok)).toBe(true);
    expect(Date.now() - t).toBeGreaterThanOrEqual(550);
    const pids = new Set(results.map((r) => JSON.parse(stack.lambdaLogs.find((l) => l.invocationId === r.invocationId && l.message.startsWith('{'))!.message).pid));
    expect(pids.size).toBe(2);
  });
});
