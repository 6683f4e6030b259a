/**
 * The local endpoints authorize the calls of a function registered with a role policy (FunctionConfig.iam), as AWS
 * does: the Data API on the cluster or workgroup ARN (by id), the secret it is given read as the caller (and its KMS
 * key), the statement operations only on statements the caller submitted; Secrets Manager with the secret's tags and
 * KMS key. A function without a policy, and any other client, is not checked.
 */
import * as path from 'path';
import { DescribeStatementCommand, ExecuteStatementCommand } from '@aws-sdk/client-redshift-data';
import { startLocalStack } from '../../local-stack/local-stack';
import type { LocalStack } from '../../local-stack/local-stack';

const HANDLER = path.join(__dirname, 'fixtures', 'sdk-calls-handler.js');
const KEY = 'arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';

let stack: LocalStack;
let secretArn: string;
let keyedArn: string;

beforeAll(async () => {
  stack = await startLocalStack();
  const { adminUser, adminPassword } = stack.postgres;
  secretArn = (await stack.createSecret({ name: 'admin', username: adminUser, password: adminPassword })).arn;
  keyedArn = (await stack.createSecret({ name: 'admin-keyed', username: adminUser, password: adminPassword, kmsKeyId: KEY })).arn;
});

afterAll(async () => {
  await stack?.stop();
});

interface CallResult { op: string; ok: boolean; name?: string; message?: string; output?: { Id?: string } }

/** Invokes a function that makes `calls`; returns what each call did. */
async function run(functionArn: string, calls: Array<{ op: string; input: Record<string, unknown> }>): Promise<CallResult[]> {
  const record = await stack.lambda.invoke(functionArn, { calls } as any);
  expect(record.ok).toBe(true);
  return stack.lambdaLogs
    .filter((l) => l.invocationId === record.invocationId && l.stream === 'stdout' && l.message.startsWith('{'))
    .map((l) => JSON.parse(l.message) as CallResult);
}

function policy(statements: unknown[]) {
  return { policies: [{ name: 'p', document: { Version: '2012-10-17', Statement: statements } }], roleName: 'probe-role' };
}

describe('a function with a role policy', () => {
  const fn = () => stack.functionArn('with-iam');
  beforeAll(() => {
    stack.registerFunction(fn(), {
      handlerFile: HANDLER,
      iam: policy([
        { Effect: 'Allow', Action: 'redshift-data:ExecuteStatement', Resource: stack.clusterArn },
        { Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: [secretArn, keyedArn] },
        {
          Effect: 'Allow',
          Action: 'redshift-data:DescribeStatement',
          Resource: '*',
          Condition: { StringEquals: { 'redshift-data:statement-owner-iam-userid': '${aws:userid}' } },
        },
      ]),
    });
  });

  test('runs statements on the granted cluster and describes its own statements', async () => {
    const [submit] = await run(fn(), [{ op: 'ExecuteStatement', input: { ClusterIdentifier: stack.clusterIdentifier, Database: 'dev', SecretArn: secretArn, Sql: 'SELECT 1' } }]);
    expect(submit).toMatchObject({ op: 'ExecuteStatement', ok: true });
    const [describe] = await run(fn(), [{ op: 'DescribeStatement', input: { Id: submit.output!.Id } }]);
    expect(describe).toMatchObject({ ok: true });
  });

  test('the workgroup is not granted: AccessDeniedException naming its ARN (by id)', async () => {
    const [submit] = await run(fn(), [{ op: 'ExecuteStatement', input: { WorkgroupName: stack.workgroupName, Database: 'dev', SecretArn: secretArn, Sql: 'SELECT 1' } }]);
    expect(submit).toMatchObject({ ok: false, name: 'AccessDeniedException' });
    expect(submit.message).toContain(`redshift-data:ExecuteStatement on resource: ${stack.workgroupArn}`);
    expect(stack.workgroupArn).toMatch(/^arn:aws:redshift-serverless:us-east-1:123456789012:workgroup\/[0-9a-f-]{36}$/);
  });

  test('a statement another caller submitted is not its own: DescribeStatement is denied', async () => {
    const client = stack.redshiftDataClient();
    const { Id } = await client.send(new ExecuteStatementCommand({ ClusterIdentifier: stack.clusterIdentifier, Database: 'dev', SecretArn: secretArn, Sql: 'SELECT 1' }));
    // the client itself is not checked
    expect((await client.send(new DescribeStatementCommand({ Id }))).Id).toBe(Id);
    client.destroy();
    const [describe] = await run(fn(), [{ op: 'DescribeStatement', input: { Id } }]);
    expect(describe).toMatchObject({ ok: false, name: 'AccessDeniedException' });
    expect(describe.message).toContain('redshift-data:DescribeStatement');
  });

  test('a secret with a customer managed key it has no grant for: denied at KMS, directly and when the Data API reads it as the caller', async () => {
    const results = await run(fn(), [
      { op: 'GetSecretValue', input: { SecretId: keyedArn } },
      { op: 'ExecuteStatement', input: { ClusterIdentifier: stack.clusterIdentifier, Database: 'dev', SecretArn: keyedArn, Sql: 'SELECT 1' } },
    ]);
    for (const r of results) {
      expect(r).toMatchObject({ ok: false, name: 'AccessDeniedException' });
      expect(r.message).toMatch(/^Access to KMS is not allowed\. .* kms:Decrypt on resource: arn:aws:kms:us-east-1:123456789012:key\/1234abcd/);
    }
  });

  test('CreateSecret without a grant: denied, and nothing is created', async () => {
    const [create] = await run(fn(), [{ op: 'CreateSecret', input: { Name: 'not-allowed', SecretString: '{}' } }]);
    expect(create).toMatchObject({ ok: false, name: 'AccessDeniedException' });
    expect(stack.secretsManager.resolveArn('not-allowed')).toBeUndefined();
  });
});

test('a function without a policy is not checked', async () => {
  const fn = stack.functionArn('no-iam');
  stack.registerFunction(fn, { handlerFile: HANDLER });
  const results = await run(fn, [
    { op: 'ExecuteStatement', input: { ClusterIdentifier: stack.clusterIdentifier, Database: 'dev', SecretArn: keyedArn, Sql: 'SELECT 1' } },
    { op: 'GetSecretValue', input: { SecretId: keyedArn } },
    { op: 'CreateSecret', input: { Name: 'made-without-iam', SecretString: '{}' } },
  ]);
  expect(results.map((r) => [r.op, r.ok, r.name])).toEqual([['ExecuteStatement', true, undefined], ['GetSecretValue', true, undefined], ['CreateSecret', true, undefined]]);
});
