/**
 * RedshiftRotationFunction's own decisions (src/rotation-function.ts), each test written against a mutant the other
 * construct tests let through: the warning for a log group key this app does not manage, the default network path
 * for subnets of mixed kinds (interface endpoints: the NAT path would refuse the isolated ones), and which stack dependencies forbid sharing a function.
 */
import * as cdk from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import { natVpc, newStack } from './helpers';
import { RedshiftRotationFunction, RedshiftSecretRotation, RedshiftTarget } from '../../src';

const KEY_ARN = 'arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555';

test.each([
  ['an environment', newStack, 'logs.eu-west-1.amazonaws.com', 'arn:<partition>:logs:eu-west-1:123456789012:log-group:*'],
  ['no environment', () => new cdk.Stack(new cdk.App(), 'Agnostic'), 'logs.<region>.amazonaws.com', 'arn:<partition>:logs:<region>:<account>:log-group:*'],
])('a log group key this app does not manage, in a stack with %s: the statement to add, in full', (_what, makeStack, principal, logGroups) => {
  const stack = makeStack();
  const fn = new RedshiftRotationFunction(stack, 'Fn', { logGroupEncryptionKey: kms.Key.fromKeyArn(stack, 'Key', KEY_ARN) });
  expect(fn.node.metadata.filter((m) => m.type === 'aws:cdk:warning').map((m) => m.data)).toEqual([
    'logGroupEncryptionKey: the key is not managed by this app, so its policy cannot be changed here; add a statement that allows the service principal '
    + `${principal} kms:Encrypt*, kms:Decrypt*, kms:ReEncrypt*, kms:GenerateDataKey*, kms:Describe* on the key, with the condition ArnLike `
    + `kms:EncryptionContext:aws:logs:arn ${logGroups}, or the log group cannot be created [ack: cdk-redshift-rotation:logKeyPolicy]`,
  ]);
});

test('subnets of mixed kinds (one isolated, one with egress) default to interface endpoints, which serve both', () => {
  const stack = newStack();
  const vpc = natVpc(stack);
  new RedshiftRotationFunction(stack, 'Fn', { vpc, vpcSubnets: { subnets: [vpc.isolatedSubnets[0], vpc.privateSubnets[0]] } });
  Template.fromStack(stack).resourceCountIs('AWS::EC2::VPCEndpoint', 2);
});

test('a function whose stack depends on another stack, not on the consumer, is shared', () => {
  const shared = newStack('Shared');
  const app = cdk.App.of(shared)!;
  const env = { account: '123456789012', region: 'eu-west-1' };
  const base = new cdk.Stack(app, 'Base', { env });
  shared.addDependency(base);
  const fn = new RedshiftRotationFunction(shared, 'Rotator');
  const consumer = new cdk.Stack(app, 'Consumer', { env });
  expect(() => new RedshiftSecretRotation(consumer, 'A', { target: RedshiftTarget.cluster('analytics'), username: 'a', rotationFunction: fn })).not.toThrow();
});
