/**
 * The rotation function in the isolated subnets of a VPC without NAT or internet gateway: it reaches Secrets Manager
 * and the Redshift Data API through the interface endpoints the construct creates. A provisioned cluster in the same
 * VPC, a master secret created by the construct and a user `loader` rotated with ALTERNATING_USERS (the function
 * reads the master secret and runs statements as both users through the endpoints).
 *
 * Deploy: npx integ-runner --update-on-failed test/integ.isolated-vpc.ts (see CONTRIBUTING.md).
 */
import { IntegTest } from '@aws-cdk/integ-tests-alpha';
import { App, ArnFormat, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { RedshiftSecretRotation, RedshiftTarget } from '../src';
import { DatabaseUser, isolatedVpc, OldCredentials, rotateAndCheck, smallCluster, useCreatableNodeRuntime } from './integ-support/rotation-checks';

useCreatableNodeRuntime();
const app = new App();
const stack = new Stack(app, 'redshift-rotation-integ-isolated-vpc');
const clusterIdentifier = 'integ-rotation-isolated-vpc';
const vpc = isolatedVpc(stack);
const cluster = smallCluster(stack, vpc, { clusterIdentifier });

const loader = new RedshiftSecretRotation(stack, 'Loader', {
  target: RedshiftTarget.fromCfnCluster(cluster),
  username: 'loader',
  masterUsername: 'admin',
  vpc,
  vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED }, // RotationNetwork.interfaceEndpoints() by default
  removalPolicy: RemovalPolicy.DESTROY,
  rotateImmediatelyOnUpdate: false, // the test rotates
});

const user = new DatabaseUser(stack, 'LoaderUser', {
  userSecret: loader.secret,
  masterSecret: loader.masterSecret!,
  target: { ClusterIdentifier: clusterIdentifier },
  targetArn: stack.formatArn({ service: 'redshift', resource: 'cluster', resourceName: clusterIdentifier, arnFormat: ArnFormat.COLON_RESOURCE_NAME }),
  database: 'dev',
});
user.node.addDependency(cluster);

const integ = new IntegTest(app, 'IsolatedVpc', {
  testCases: [stack],
  // the test rotates with fixed ClientRequestTokens: deploy fresh secrets only
  stackUpdateWorkflow: false,
});
rotateAndCheck(integ, 'Loader', {
  secret: loader.secret,
  target: { ClusterIdentifier: clusterIdentifier },
  database: 'dev',
  currentUser: 'loader',
  previousUser: 'loader_clone',
  old: OldCredentials.STILL_WORK,
});

app.synth();
