/**
 * A provisioned cluster with a master secret created by the construct (wired as the cluster's MasterUserPassword)
 * and a user `etl` rotated with ALTERNATING_USERS: after two rotations AWSCURRENT logs in as `etl`, and the
 * previous version, `etl_clone`, still logs in (the user clients used is never altered).
 *
 * Deploy: npx integ-runner --update-on-failed test/integ.alternating-users.ts (see CONTRIBUTING.md).
 */
import { IntegTest } from '@aws-cdk/integ-tests-alpha';
import { App, ArnFormat, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { RedshiftSecretRotation, RedshiftTarget } from '../src';
import { DatabaseUser, isolatedVpc, OldCredentials, rotateAndCheck, smallCluster, useCreatableNodeRuntime } from './integ-support/rotation-checks';

useCreatableNodeRuntime();
const app = new App();
const stack = new Stack(app, 'redshift-rotation-integ-alternating-users');
const clusterIdentifier = 'integ-rotation-alternating';
const cluster = smallCluster(stack, isolatedVpc(stack), { clusterIdentifier });

const etl = new RedshiftSecretRotation(stack, 'Etl', {
  target: RedshiftTarget.fromCfnCluster(cluster),
  username: 'etl',
  masterUsername: 'admin', // creates the master secret and makes it the cluster's MasterUserPassword
  removalPolicy: RemovalPolicy.DESTROY,
  rotateImmediatelyOnUpdate: false, // the test rotates
});

// the user exists before its first rotation, with the password of its secret
const user = new DatabaseUser(stack, 'EtlUser', {
  userSecret: etl.secret,
  masterSecret: etl.masterSecret!,
  target: { ClusterIdentifier: clusterIdentifier },
  targetArn: stack.formatArn({ service: 'redshift', resource: 'cluster', resourceName: clusterIdentifier, arnFormat: ArnFormat.COLON_RESOURCE_NAME }),
  database: 'dev',
});
user.node.addDependency(cluster);

const integ = new IntegTest(app, 'AlternatingUsers', {
  testCases: [stack],
  // the test rotates with fixed ClientRequestTokens: deploy fresh secrets only
  stackUpdateWorkflow: false,
});
rotateAndCheck(integ, 'Etl', {
  secret: etl.secret,
  target: { ClusterIdentifier: clusterIdentifier },
  database: 'dev',
  currentUser: 'etl',
  previousUser: 'etl_clone',
  old: OldCredentials.STILL_WORK,
});

app.synth();
