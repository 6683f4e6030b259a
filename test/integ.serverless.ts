/**
 * A Redshift Serverless workgroup (8 RPUs, the smallest base capacity) whose namespace's admin password comes from
 * a master secret created by the construct, and a user `app` rotated with ALTERNATING_USERS: after two rotations
 * AWSCURRENT logs in as `app` and the previous version, `app_clone`, still logs in.
 *
 * Deploy: npx integ-runner --update-on-failed test/integ.serverless.ts (see CONTRIBUTING.md).
 */
import { IntegTest } from '@aws-cdk/integ-tests-alpha';
import { App, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as redshiftserverless from 'aws-cdk-lib/aws-redshiftserverless';
import { RedshiftSecretRotation, RedshiftTarget } from '../src';
import { DatabaseUser, isolatedVpc, OldCredentials, rotateAndCheck, useCreatableNodeRuntime } from './integ-support/rotation-checks';

useCreatableNodeRuntime();
const app = new App();
const stack = new Stack(app, 'redshift-rotation-integ-serverless');
const workgroupName = 'integ-rotation-wg';

// Redshift Serverless places a workgroup in subnets of three Availability Zones
const vpc = isolatedVpc(stack, 3);
const securityGroup = new ec2.SecurityGroup(stack, 'WorkgroupSecurityGroup', { vpc, allowAllOutbound: false });
const namespace = new redshiftserverless.CfnNamespace(stack, 'Namespace', {
  namespaceName: 'integ-rotation-ns',
  dbName: 'dev',
  adminUsername: 'admin',
});
namespace.applyRemovalPolicy(RemovalPolicy.DESTROY);
const workgroup = new redshiftserverless.CfnWorkgroup(stack, 'Workgroup', {
  workgroupName,
  namespaceName: namespace.namespaceName,
  baseCapacity: 8,
  subnetIds: vpc.isolatedSubnets.map((s) => s.subnetId),
  securityGroupIds: [securityGroup.securityGroupId],
  publiclyAccessible: false,
});
workgroup.addDependency(namespace);
workgroup.applyRemovalPolicy(RemovalPolicy.DESTROY);

const app_ = new RedshiftSecretRotation(stack, 'App', {
  target: RedshiftTarget.fromCfnWorkgroup(workgroup, { namespace }),
  username: 'app',
  masterUsername: 'admin', // creates the master secret and makes it the namespace's AdminUserPassword
  removalPolicy: RemovalPolicy.DESTROY,
  rotateImmediatelyOnUpdate: false, // the test rotates
});

// the user exists before its first rotation, with the password of its secret
const user = new DatabaseUser(stack, 'AppUser', {
  userSecret: app_.secret,
  masterSecret: app_.masterSecret!,
  target: { WorkgroupName: workgroupName },
  targetArn: workgroup.attrWorkgroupWorkgroupArn,
  database: 'dev',
});
user.node.addDependency(workgroup);

const integ = new IntegTest(app, 'Serverless', {
  testCases: [stack],
  // the test rotates with fixed ClientRequestTokens: deploy fresh secrets only
  stackUpdateWorkflow: false,
});
rotateAndCheck(integ, 'App', {
  secret: app_.secret,
  target: { WorkgroupName: workgroupName },
  database: 'dev',
  currentUser: 'app',
  previousUser: 'app_clone',
  old: OldCredentials.STILL_WORK,
});

app.synth();
