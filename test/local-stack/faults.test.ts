import * as path from 'path';
import { DescribeStatementCommand, ExecuteStatementCommand, RedshiftDataClient } from '@aws-sdk/client-redshift-data';
import {
  DescribeSecretCommand, GetSecretValueCommand, PutSecretValueCommand, RotateSecretCommand, SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { startLocalStack } from '../../local-stack/local-stack';
import type { LocalStack } from '../../local-stack/local-stack';

const FIXTURE = path.join(__dirname, 'fixtures', 'single-user-handler.js');

let stack: LocalStack;
let sm: SecretsManagerClient;
let data: RedshiftDataClient;
let n = 0;

beforeAll(async () => {
  stack = await startLocalStack({ defaultFunction: { handlerFile: FIXTURE }, rotationRetryDelayMs: 20 });
  sm = stack.secretsManagerClient();
  data = stack.redshiftDataClient();
});
afterAll(async () => {
  sm?.destroy();
  data?.destroy();
  await stack?.stop();
});
afterEach(() => stack.faults.clear());

async function userWithSecret(password = 'Startpass1'): Promise<{ user: string; arn: string; password: string }> {
  const user = `fault_user_${++n}`;
  await stack.createUser(user, password);
  const { arn } = await stack.createSecret({ name: `faults/${user}`, username: user, password });
  return { user, arn, password };
}

async function current(arn: string): Promise<{ password: string }> {
  return JSON.parse((await sm.send(new GetSecretValueCommand({ SecretId: arn }))).SecretString!);
}

describe('error responses', () => {
  test('at the Nth matching call only, parsed by the SDK as the named exception', async () => {
    const { arn } = await userWithSecret();
    const fault = stack.faults.inject({ service: 'secretsmanager', operation: 'GetSecretValue', secretId: arn, nth: 2, action: { type: 'error', code: 'InternalServiceError' } });
    await sm.send(new GetSecretValueCommand({ SecretId: arn }));
    const err = await sm.send(new GetSecretValueCommand({ SecretId: arn })).catch((e) => e);
    expect(err).toMatchObject({ name: 'InternalServiceError', $metadata: { httpStatusCode: 500 } });
    await sm.send(new GetSecretValueCommand({ SecretId: arn }));
    expect(fault.fired).toBe(1);
    expect(fault.seen).toBe(2); // removed once spent
    const calls = stack.faults.calls({ operation: 'GetSecretValue', secretId: arn });
    expect(calls.map((c) => c.fault === undefined)).toEqual([true, false, true]);
    expect(calls[1].fault).toMatch(/^fault-\d+:error$/);
  });

  test('"times" repeats the fault; "when: after" applies the call before answering with the error', async () => {
    const { arn } = await userWithSecret();
    stack.faults.inject({ operation: 'PutSecretValue', secretId: arn, times: 2, action: { type: 'error', code: 'ThrottlingException', when: 'after' } });
    const put = (t: string) => sm.send(new PutSecretValueCommand({ SecretId: arn, SecretString: t, ClientRequestToken: `00000000-0000-4000-8000-00000000000${t}` }));
    await expect(put('1')).rejects.toMatchObject({ name: 'ThrottlingException' });
    await expect(put('2')).rejects.toMatchObject({ name: 'ThrottlingException' });
    await put('3');
    const stages = (await sm.send(new DescribeSecretCommand({ SecretId: arn }))).VersionIdsToStages!;
    expect(Object.keys(stages)).toHaveLength(2); // versions 2 (AWSPREVIOUS) and 3 (AWSCURRENT): the faulted calls were applied
  });

  test('Data API errors and latency', async () => {
    const { arn } = await userWithSecret();
    stack.faults.inject({ service: 'redshift-data', operation: 'ExecuteStatement', action: { type: 'error', code: 'ActiveStatementsExceededException' } });
    const input = { ClusterIdentifier: stack.clusterIdentifier, SecretArn: arn, Database: 'dev', Sql: 'SELECT 1' };
    await expect(data.send(new ExecuteStatementCommand(input))).rejects.toMatchObject({ name: 'ActiveStatementsExceededException' });
    stack.faults.inject({ service: 'redshift-data', operation: 'ExecuteStatement', action: { type: 'latency', ms: 1000 } });
    const { Id } = await data.send(new ExecuteStatementCommand(input));
    expect((await data.send(new DescribeStatementCommand({ Id }))).Status).toBe('SUBMITTED');
    expect((await data.send(new DescribeStatementCommand({ Id, WaitTimeSeconds: 5 }))).Status).toBe('FINISHED');
  });

  test('a FAILED statement chosen by its SQL: not run, the database unchanged', async () => {
    const { user, arn } = await userWithSecret();
    stack.faults.inject({ service: 'redshift-data', sql: /^ALTER USER/, action: { type: 'statementFailed', error: 'ERROR: injected' } });
    const base = { ClusterIdentifier: stack.clusterIdentifier, SecretArn: arn, Database: 'dev' };
    const a = await data.send(new ExecuteStatementCommand({ ...base, Sql: 'SELECT 1' }));
    expect((await data.send(new DescribeStatementCommand({ Id: a.Id, WaitTimeSeconds: 5 }))).Status).toBe('FINISHED');
    const b = await data.send(new ExecuteStatementCommand({ ...base, Sql: `ALTER USER "${user}" CONNECTION LIMIT 5` }));
    expect(await data.send(new DescribeStatementCommand({ Id: b.Id, WaitTimeSeconds: 5 }))).toMatchObject({ Status: 'FAILED', Error: 'ERROR: injected' });
    expect(await stack.adminQuery('SELECT rolconnlimit FROM pg_roles WHERE rolname = $1', [user])).toEqual([{ rolconnlimit: -1 }]);
    expect(stack.faults.calls({ service: 'redshift-data', secretId: arn }).map((c) => c.statementKinds?.[0])).toContain('ALTER USER');
  });

  test('statementFailed is refused for Secrets Manager; nth/times must be positive', () => {
    expect(() => stack.faults.inject({ service: 'secretsmanager', action: { type: 'statementFailed' } })).toThrow();
    expect(() => stack.faults.inject({ nth: 0, action: { type: 'latency', ms: 1 } })).toThrow();
  });
});

describe('call log', () => {
  test('records operation, step and secret of every call, never a secret value or SQL text', async () => {
    stack.faults.resetCalls();
    const { user, arn, password } = await userWithSecret();
    await sm.send(new RotateSecretCommand({ SecretId: arn, RotationLambdaARN: stack.functionArn() }));
    expect((await stack.waitForRotation(arn)).type).toBe('RotationSucceeded');
    const calls = stack.faults.calls({ secretId: arn });
    expect(calls[0]).toMatchObject({ service: 'secretsmanager', operation: 'RotateSecret', secretId: arn });
    expect(calls[0].lambda).toBeUndefined();
    const fromLambda = stack.faults.calls({ secretId: arn, fromLambda: true });
    expect(new Set(fromLambda.map((c) => c.lambda!.step))).toEqual(new Set(['createSecret', 'setSecret', 'testSecret', 'finishSecret']));
    expect(stack.faults.count({ step: 'setSecret', service: 'redshift-data', operation: 'ExecuteStatement' })).toBeGreaterThanOrEqual(1);
    const text = JSON.stringify([stack.faults.calls(), stack.lambdaLogs, stack.events, stack.invocations]);
    // booleans: a failure must not print the passwords it found
    expect(text.includes(password)).toBe(false);
    expect(text.includes((await current(arn)).password)).toBe(false);
    expect(text.includes(`"${user}" PASSWORD`)).toBe(false);
  });
});

describe('Lambda crashes', () => {
  test('a crash before the call: the call is not applied, the invocation fails, the service retries', async () => {
    const { user, arn } = await userWithSecret();
    const fault = stack.faults.inject({ operation: 'PutSecretValue', step: 'createSecret', secretId: arn, action: { type: 'crash', when: 'before' } });
    await sm.send(new RotateSecretCommand({ SecretId: arn, RotationLambdaARN: stack.functionArn() }));
    expect((await stack.waitForRotation(arn)).type).toBe('RotationSucceeded');
    expect(fault.fired).toBe(1);
    const inv = stack.invocations.filter((i) => i.secretId === arn);
    expect(inv[0]).toMatchObject({ step: 'createSecret', ok: false, errorType: 'Runtime.ExitError' });
    expect(inv[0].errorMessage).toMatch(/crash fault before PutSecretValue/);
    expect(await stack.canLogin(user, (await current(arn)).password)).toBe(true);
  });

  test('calls not made by a Lambda never match a crash fault', async () => {
    const { arn } = await userWithSecret();
    const fault = stack.faults.inject({ operation: 'GetSecretValue', secretId: arn, action: { type: 'crash', when: 'before' } });
    await sm.send(new GetSecretValueCommand({ SecretId: arn }));
    expect(fault.seen).toBe(0);
  });

  test('a crash after the Nth call of a rotation, for every N: the rotation still completes and logs in', async () => {
    // one clean rotation to count the calls the (fixture) handler makes
    const probe = await userWithSecret();
    await sm.send(new RotateSecretCommand({ SecretId: probe.arn, RotationLambdaARN: stack.functionArn() }));
    await stack.waitForRotation(probe.arn);
    const total = stack.faults.count({ secretId: probe.arn, fromLambda: true });
    expect(total).toBeGreaterThanOrEqual(12);
    for (let nth = 1; nth <= total; nth++) {
      const { user, arn } = await userWithSecret();
      const fault = stack.faults.inject({ secretId: arn, fromLambda: true, nth, action: { type: 'crash', when: 'after' } });
      await sm.send(new RotateSecretCommand({ SecretId: arn, RotationLambdaARN: stack.functionArn() }));
      const outcome = await stack.waitForRotation(arn);
      expect([nth, outcome.type, fault.fired]).toEqual([nth, 'RotationSucceeded', 1]);
      expect(await stack.canLogin(user, (await current(arn)).password)).toBe(true);
    }
  });
});
