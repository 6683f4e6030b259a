import * as cdk from 'aws-cdk-lib';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import { AwsSolutionsChecks, NagSuppressions } from 'cdk-nag';
import { isolatedVpc, natVpc, newCluster, newServerless, newStack } from './helpers';
import { RedshiftSecretRotation, RedshiftTarget, RotationNetwork } from '../../src';

/**
 * The construct carries its own suppressions (with reasons) as cdk_nag metadata. Only the test fixtures
 * (the cluster, namespace, VPC and topic that users bring) are suppressed here.
 */
function suppressFixtures(stack: cdk.Stack) {
  const fixtures = stack.node.children.filter((c) => ['Cluster', 'Namespace', 'Workgroup', 'Vpc', 'Alerts', 'Key'].includes(c.node.id));
  NagSuppressions.addResourceSuppressions(fixtures, [
    { id: 'AwsSolutions-RS1', reason: 'Test fixture: the cluster a user brings, not provisioned by this library.' },
    { id: 'AwsSolutions-RS2', reason: 'Test fixture: the cluster a user brings, not provisioned by this library.' },
    { id: 'AwsSolutions-RS3', reason: 'Test fixture: the cluster a user brings, not provisioned by this library.' },
    { id: 'AwsSolutions-RS4', reason: 'Test fixture: the cluster a user brings, not provisioned by this library.' },
    { id: 'AwsSolutions-RS5', reason: 'Test fixture: the cluster a user brings, not provisioned by this library.' },
    { id: 'AwsSolutions-RS6', reason: 'Test fixture: the cluster a user brings, not provisioned by this library.' },
    { id: 'AwsSolutions-RS8', reason: 'Test fixture: the cluster a user brings, not provisioned by this library.' },
    { id: 'AwsSolutions-RS9', reason: 'Test fixture: the cluster a user brings, not provisioned by this library.' },
    { id: 'AwsSolutions-RS10', reason: 'Test fixture: the cluster a user brings, not provisioned by this library.' },
    { id: 'AwsSolutions-RS11', reason: 'Test fixture: the cluster a user brings, not provisioned by this library.' },
    { id: 'AwsSolutions-VPC7', reason: 'Test fixture: the VPC a user brings, not provisioned by this library.' },
    { id: 'AwsSolutions-SNS2', reason: 'Test fixture: the alarm topic a user brings, not provisioned by this library.' },
    { id: 'AwsSolutions-SNS3', reason: 'Test fixture: the alarm topic a user brings, not provisioned by this library.' },
  ], true);
}

function nagErrors(stack: cdk.Stack) {
  suppressFixtures(stack);
  cdk.Aspects.of(stack).add(new AwsSolutionsChecks({ verbose: true }));
  const errors = Annotations.fromStack(stack).findError('*', Match.stringLikeRegexp('AwsSolutions-.*'));
  return errors.map((e) => `${e.id}: ${e.entry.data}`);
}

describe('cdk-nag AwsSolutions', () => {
  test('single user and alternating users, no VPC, with a KMS key and alarms: no errors', () => {
    const stack = newStack();
    const cluster = newCluster(stack);
    const key = new kms.Key(stack, 'Key', { enableKeyRotation: true });
    const topic = new sns.Topic(stack, 'Alerts');
    new RedshiftSecretRotation(stack, 'App', { target: RedshiftTarget.fromCfnCluster(cluster), username: 'app_user', encryptionKey: key });
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
