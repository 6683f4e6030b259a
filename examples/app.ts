/**
 * A small CDK app that uses the construct: a provisioned cluster with one single-user secret and one
 * alternating-users secret whose master secret is created and wired as the cluster's admin password, and a
 * Redshift Serverless workgroup with one secret.
 *
 *   npx ts-node --project examples/tsconfig.json examples/app.ts      # synthesizes into examples/cdk.out
 */
import * as path from 'path';
import * as cdk from 'aws-cdk-lib';
import * as redshift from 'aws-cdk-lib/aws-redshift';
import * as redshiftserverless from 'aws-cdk-lib/aws-redshiftserverless';
import { RedshiftSecretRotation, RedshiftTarget, RotationStrategy } from '../src';

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

  // Single user: the user changes its own password; shares the stack's rotation function.
  new RedshiftSecretRotation(clusterStack, 'ReportingUser', {
    target: clusterTarget,
    username: 'reporting',
    strategy: RotationStrategy.SINGLE_USER,
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
