/**
 * A provisioned cluster whose admin secret (made by the app, the cluster's MasterUserPassword) is rotated with
 * SINGLE_USER: after the rotations AWSCURRENT logs in as admin, and the previous password is rejected.
 *
 * Deploy: npx integ-runner --update-on-failed test/integ.single-user.ts (see CONTRIBUTING.md).
 */
import { IntegTest } from '@aws-cdk/integ-tests-alpha';
import { App, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { RedshiftSecretRotation, RedshiftTarget, RotationStrategy } from '../src';
import { isolatedVpc, OldCredentials, rotateAndCheck, smallCluster, useCreatableNodeRuntime } from './integ-support/rotation-checks';

useCreatableNodeRuntime();
const app = new App();
const stack = new Stack(app, 'redshift-rotation-integ-single-user');
const clusterIdentifier = 'integ-rotation-single-user';

const admin = new secretsmanager.Secret(stack, 'AdminSecret', {
  removalPolicy: RemovalPolicy.DESTROY,
  generateSecretString: {
    secretStringTemplate: JSON.stringify({ engine: 'redshift', username: 'admin', dbname: 'dev', dbClusterIdentifier: clusterIdentifier }),
    generateStringKey: 'password',
    excludeCharacters: '\'"\\/@ ',
    passwordLength: 32,
    requireEachIncludedType: true,
  },
});
const cluster = smallCluster(stack, isolatedVpc(stack), {
  clusterIdentifier,
  masterUserPassword: admin.secretValueFromJson('password').unsafeUnwrap(),
});

new RedshiftSecretRotation(stack, 'Admin', {
  target: RedshiftTarget.fromCfnCluster(cluster),
  secret: admin,
  strategy: RotationStrategy.SINGLE_USER,
  rotateImmediatelyOnUpdate: false, // the test rotates
});

const integ = new IntegTest(app, 'SingleUser', {
  testCases: [stack],
  // the test rotates with fixed ClientRequestTokens: deploy fresh secrets only
  stackUpdateWorkflow: false,
});
rotateAndCheck(integ, 'Admin', {
  secret: admin,
  target: { ClusterIdentifier: clusterIdentifier },
  database: 'dev',
  currentUser: 'admin',
  previousUser: 'admin',
  old: OldCredentials.REJECTED,
});

app.synth();
