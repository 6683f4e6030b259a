/**
 * `npm run local-stack`: starts the local stack and prints one JSON line with its endpoints and the PostgreSQL
 * connection; runs until SIGINT or SIGTERM, then stops everything and deletes the data directory.
 *
 * Options (environment): LOCAL_STACK_ADMIN_PASSWORD, LOCAL_STACK_REGION, LOCAL_STACK_ACCOUNT,
 * LOCAL_STACK_CLUSTER, LOCAL_STACK_WORKGROUP.
 */
import { startLocalStack } from './local-stack';

async function main(): Promise<void> {
  const env = process.env;
  const stack = await startLocalStack({
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
