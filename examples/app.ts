/**
 * A small CDK app that uses the construct, deployable as is on a fresh cluster and workgroup: no user is created by
 * hand. Each target's admin secret is created by the construct, becomes the admin password and is rotated as a
 * single user (the admin exists); every application user is an alternating user with that admin as master, so
 * the first rotation creates it (`createUser`, on by default for created secrets with a master).
 *
 * - a provisioned cluster: `etl` (creates the admin secret from `masterUsername`) and `reporting` (reuses it);
 * - a Redshift Serverless workgroup: `app` (creates the namespace's admin secret).
 *
 *   npx ts-node --project examples/tsconfig.json examples/app.ts      # synthesizes into examples/cdk.out
 */
import * as path from 'path';
import * as cdk from 'aws-cdk-lib';
import * as redshift from 'aws-cdk-lib/aws-redshift';
import * as redshiftserverless from 'aws-cdk-lib/aws-redshiftserverless';
import { RedshiftSecretRotation, RedshiftTarget } from '../src';

export function buildExampleApp(props: cdk.AppProps = {}): cdk.App {
  const app = new cdk.App(props);

  // A provisioned cluster, its admin secret created and rotated by the construct.
  const clusterStack = new cdk.Stack(app, 'RedshiftRotationExampleCluster');
  const cluster = new redshift.CfnCluster(clusterStack, 'Cluster', {
    clusterIdentifier: 'analytics',
    clusterType: 'single-node',
    nodeType: 'ra3.xlplus',
    dbName: 'dev',
    masterUsername: 'admin',
    encrypted: true,
    publiclyAccessible: false,
  });
  const clusterTarget = RedshiftTarget.fromCfnCluster(cluster);

  // Alternating users: the master secret is created, becomes the cluster's MasterUserPassword, and is rotated too.
  const etl = new RedshiftSecretRotation(clusterStack, 'EtlUser', {
    target: clusterTarget,
    username: 'etl',
    masterUsername: 'admin',
    automaticallyAfter: cdk.Duration.days(7),
  });

  // Another user with the same admin as master; shares the stack's rotation function. (SINGLE_USER would need
  // `reporting` to exist already: a single user changes its own password and cannot create itself.)
  new RedshiftSecretRotation(clusterStack, 'ReportingUser', {
    target: clusterTarget,
    username: 'reporting',
    masterSecret: etl.masterSecret,
  });

  // Redshift Serverless: a namespace and its workgroup with one alternating-users secret.
  const serverlessStack = new cdk.Stack(app, 'RedshiftRotationExampleServerless');
  const namespace = new redshiftserverless.CfnNamespace(serverlessStack, 'Namespace', {
    namespaceName: 'analytics',
    dbName: 'dev',
  });
  const workgroup = new redshiftserverless.CfnWorkgroup(serverlessStack, 'Workgroup', {
    workgroupName: 'analytics-wg',
    namespaceName: namespace.ref,
    baseCapacity: 8,
  });
  workgroup.addDependency(namespace);
  new RedshiftSecretRotation(serverlessStack, 'AppUser', {
    target: RedshiftTarget.fromCfnWorkgroup(workgroup),
    username: 'app',
    masterUsername: 'admin',
  });

  new cdk.CfnOutput(clusterStack, 'EtlSecretArn', { value: etl.secret.secretArn });
  return app;
}

if (require.main === module) {
  buildExampleApp({ outdir: path.join(__dirname, 'cdk.out') }).synth();
}
