/**
 * `npm run local-stack`: starts the local stack and prints one JSON line with its endpoints and the PostgreSQL
 * connection; runs until SIGINT or SIGTERM, then stops everything and deletes the data directory.
 *
 * Options (environment): LOCAL_STACK_ADMIN_PASSWORD, LOCAL_STACK_REGION, LOCAL_STACK_ACCOUNT,
 * LOCAL_STACK_CLUSTER, LOCAL_STACK_WORKGROUP, LOCAL_STACK_WORKGROUP_ID, and IAM (off unless one is given):
 * LOCAL_STACK_IAM_TEMPLATE (a synthesized CloudFormation template: every function runs with its rotation
 * function's environment and role policy; LOCAL_STACK_IAM_FUNCTION names the function's logical id when the
 * template has several) or LOCAL_STACK_IAM_POLICY (an IAM policy document: every function's calls are authorized
 * against it).
 */
import { readFileSync } from 'fs';
import { functionFromTemplate } from './iam';
import type { FunctionConfig } from './lambda-runner';
import { startLocalStack } from './local-stack';

/** The configuration of every function from the IAM options, or undefined (no IAM checks). */
function iamFunction(env: NodeJS.ProcessEnv, region: string, account: string): FunctionConfig | undefined {
  if (env.LOCAL_STACK_IAM_TEMPLATE) {
    const template = JSON.parse(readFileSync(env.LOCAL_STACK_IAM_TEMPLATE, 'utf-8'));
    const deployed = functionFromTemplate(template, `arn:aws:lambda:${region}:${account}:function:redshift-rotation`,
      { partition: 'aws', region, account }, {}, env.LOCAL_STACK_IAM_FUNCTION || undefined);
    return { env: deployed.env, iam: deployed.iam };
  }
  if (env.LOCAL_STACK_IAM_POLICY) {
    const document = JSON.parse(readFileSync(env.LOCAL_STACK_IAM_POLICY, 'utf-8'));
    return { iam: { policies: [{ name: 'LOCAL_STACK_IAM_POLICY', document }] } };
  }
  return undefined;
}

async function main(): Promise<void> {
  const env = process.env;
  const region = env.LOCAL_STACK_REGION || 'us-east-1';
  const account = env.LOCAL_STACK_ACCOUNT || '123456789012';
  const defaultFunction = iamFunction(env, region, account);
  const stack = await startLocalStack({
    defaultFunction,
    workgroupId: env.LOCAL_STACK_WORKGROUP_ID || undefined,
    adminPassword: env.LOCAL_STACK_ADMIN_PASSWORD || undefined,
    region: env.LOCAL_STACK_REGION || undefined,
    account: env.LOCAL_STACK_ACCOUNT || undefined,
    clusterIdentifier: env.LOCAL_STACK_CLUSTER || undefined,
    workgroupName: env.LOCAL_STACK_WORKGROUP || undefined,
  });
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    void stack.stop().then(() => {
      process.stderr.write(`local stack stopped (${signal})\n`);
      process.exit(0);
    }, (e) => {
      process.stderr.write(`local stack stop failed: ${(e as Error).message}\n`);
      process.exit(1);
    });
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.stdout.write(JSON.stringify({
    secretsManagerEndpoint: stack.endpoints.secretsManager,
    redshiftDataEndpoint: stack.endpoints.redshiftData,
    pgHost: stack.postgres.host,
    pgPort: stack.postgres.port,
    database: stack.postgres.database,
    adminUser: stack.postgres.adminUser,
    adminPassword: stack.postgres.adminPassword,
    clusterIdentifier: stack.clusterIdentifier,
    workgroupName: stack.workgroupName,
    clusterArn: stack.clusterArn,
    workgroupArn: stack.workgroupArn,
    iam: defaultFunction?.iam ? (env.LOCAL_STACK_IAM_TEMPLATE ? 'template' : 'policy') : 'off',
    region: stack.region,
    account: stack.account,
    rotationLambdaArn: stack.functionArn(),
    startupMs: stack.startupMs.total,
  }) + '\n');
}

main().catch((e) => {
  process.stderr.write(`local stack failed to start: ${(e as Error).message}\n`);
  process.exit(1);
});
