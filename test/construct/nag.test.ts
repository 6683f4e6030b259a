import * as cdk from 'aws-cdk-lib';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import { AwsSolutionsChecks, NagSuppressions } from 'cdk-nag';
import { isolatedVpc, natVpc, newCluster, newServerless, newStack } from './helpers';
import { RedshiftRotationFunction, RedshiftSecretRotation, RedshiftTarget, RotationNetwork } from '../../src';

/**
 * The construct carries its own suppressions (with reasons) as cdk_nag metadata. Only the test fixtures
 * (the cluster, namespace, VPC, topic and admin secret that users bring) are suppressed here.
 */
function suppressFixtures(stack: cdk.Stack) {
  const fixtures = stack.node.children.filter((c) => ['Cluster', 'Namespace', 'Workgroup', 'Vpc', 'Alerts', 'Key', 'Admin'].includes(c.node.id));
  if (fixtures.length === 0) {
    return;
  }
  const brought: Array<[string, string[]]> = [
    ['cluster', ['RS1', 'RS2', 'RS3', 'RS4', 'RS5', 'RS6', 'RS8', 'RS9', 'RS10', 'RS11']],
    ['VPC', ['VPC7']],
    ['alarm topic', ['SNS2', 'SNS3']],
    ['admin secret (rotated where the user manages it)', ['SMG4']],
  ];
  NagSuppressions.addResourceSuppressions(fixtures, brought.flatMap(([what, rules]) => rules.map((rule) => ({
    id: `AwsSolutions-${rule}`,
    reason: `Test fixture: the ${what} a user brings, not provisioned by this library.`,
  }))), true);
}

function nagErrors(stack: cdk.Stack) {
  suppressFixtures(stack);
  cdk.Aspects.of(stack).add(new AwsSolutionsChecks({ verbose: true }));
  const errors = Annotations.fromStack(stack).findError('*', Match.stringLikeRegexp('AwsSolutions-.*'));
  return errors.map((e) => `${e.id}: ${e.entry.data}`);
}

describe('cdk-nag AwsSolutions', () => {
  test('single user and alternating users, no VPC, with a KMS key (secret and log group) and alarms: no errors', () => {
    const stack = newStack();
    const cluster = newCluster(stack);
    const key = new kms.Key(stack, 'Key', { enableKeyRotation: true });
    const topic = new sns.Topic(stack, 'Alerts');
    new RedshiftSecretRotation(stack, 'App', {
      target: RedshiftTarget.fromCfnCluster(cluster), username: 'app_user', encryptionKey: key, logGroupEncryptionKey: key,
    });
    new RedshiftSecretRotation(stack, 'Etl', {
      target: RedshiftTarget.fromCfnCluster(cluster), username: 'etl', masterUsername: 'admin', alarmTopic: topic,
    });
    expect(nagErrors(stack)).toEqual([]);
  });

  test('Serverless, isolated VPC with endpoints: no errors', () => {
    const stack = newStack();
    const { workgroup } = newServerless(stack);
    new RedshiftSecretRotation(stack, 'Etl', {
      target: RedshiftTarget.fromCfnWorkgroup(workgroup), username: 'etl', masterUsername: 'admin', vpc: isolatedVpc(stack),
    });
    expect(nagErrors(stack)).toEqual([]);
  });

  test('a function shared with another stack, with a Serverless workgroup by name: no errors in either stack', () => {
    const shared = newStack('Shared');
    const fn = new RedshiftRotationFunction(shared, 'Rotator');
    const consumer = new cdk.Stack(cdk.App.of(shared)!, 'Consumer', { env: { account: '123456789012', region: 'eu-west-1' } });
    const master = new secretsmanager.Secret(consumer, 'Admin');
    new RedshiftSecretRotation(consumer, 'Etl', { target: RedshiftTarget.workgroup('analytics-wg'), username: 'etl', masterSecret: master, rotationFunction: fn });
    expect(nagErrors(consumer)).toEqual([]);
    expect(nagErrors(shared)).toEqual([]);
  });

  test('NAT gateway: no errors', () => {
    const stack = newStack();
    new RedshiftSecretRotation(stack, 'App', {
      target: RedshiftTarget.workgroup('analytics-wg'),
      username: 'app_user',
      vpc: natVpc(stack),
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      network: RotationNetwork.natGateway(),
    });
    expect(nagErrors(stack)).toEqual([]);
  });
});
