/**
 * RedshiftRotationFunction's own decisions (src/rotation-function.ts), each test written against a mutant the other
 * construct tests let through: the warning for a log group key this app does not manage, the default network path
 * for subnets of mixed kinds (interface endpoints: the NAT path would refuse the isolated ones), which stack dependencies forbid sharing a function,
 * the master pairing's warning and environment size, and how grants grow.
 */
import * as cdk from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { natVpc, newStack, warningsOf } from './helpers';
import { RedshiftRotationFunction, RedshiftSecretRotation, RedshiftTarget } from '../../src';

const MASTER_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:redshift/admin-AbCdEf';
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

describe('MASTER_TARGETS and the 4 KB of environment variables', () => {
  const UNPAIRED = (kind: string, field: string) => `masterSecret: the master secret or the ${kind} is defined in another stack than the rotation function, `
    + `so the function cannot be told at synth that this master may be used against this ${kind}; it uses a master only against the target its JSON names: `
    + `put "${field}" in the master secret, or give the master and the target by literal ARN and name [ack: cdk-redshift-rotation:masterTargetUnpaired]`;

  test.each([
    ['cluster', RedshiftTarget.cluster('analytics'), 'dbClusterIdentifier'],
    ['workgroup', RedshiftTarget.workgroup('wg-one'), 'workgroupName'],
  ])('a master of another stack than the function, against a %s: the warning in full', (kind, target, field) => {
    const home = newStack('Home');
    const fn = new RedshiftRotationFunction(home, 'Fn');
    const consumer = new cdk.Stack(cdk.App.of(home)!, 'Consumer', { env: { account: '123456789012', region: 'eu-west-1' } });
    new RedshiftSecretRotation(consumer, 'A', { target, username: 'a', masterSecret: new secretsmanager.Secret(consumer, 'Master'), rotationFunction: fn });
    expect(warningsOf(consumer, 'masterTargetUnpaired')).toEqual([UNPAIRED(kind, field)]);
  });

  /** Bytes of the function's environment variables as synthesized (names and values); synth fails over the limit. */
  const environmentBytes = (stack: cdk.Stack) => {
    const functions = Object.values(Template.fromStack(stack).findResources('AWS::Lambda::Function'));
    expect(functions).toHaveLength(1);
    return Object.entries(functions[0].Properties.Environment.Variables as Record<string, string>)
      .reduce((bytes, [name, value]) => bytes + Buffer.byteLength(name) + Buffer.byteLength(value), 0);
  };
  /** A function with `count` literal masters, each against one cluster and the first also against a workgroup; the last master's name is `pad` bytes longer. */
  const withMasters = (count: number, pad: number) => {
    const stack = newStack();
    const fn = new RedshiftRotationFunction(stack, 'Fn');
    for (let i = 0; i < count; i++) {
      const name = `redshift/admins/master-${i}${i === count - 1 ? 'x'.repeat(pad) : ''}`;
      const master = secretsmanager.Secret.fromSecretCompleteArn(stack, `M${i}`, `arn:aws:secretsmanager:eu-west-1:123456789012:secret:${name}-AbCdEf`);
      fn.addMasterSecret(master, RedshiftTarget.cluster(`cluster-${i}`));
      if (i === 0) fn.addMasterSecret(master, RedshiftTarget.workgroup('wg-one'));
    }
    return stack;
  };

  test('literal values count at their exact size: 4096 bytes synthesize, 4097 fail and say 4097', () => {
    const base = environmentBytes(withMasters(35, 0));
    // the padding stays within a secret name's 512 characters
    expect(4096 - base).toBeGreaterThan(0);
    expect(4096 - base).toBeLessThan(450);
    expect(environmentBytes(withMasters(35, 4096 - base))).toBe(4096);
    const over = withMasters(35, 4097 - base);
    expect(() => (over.node.root as cdk.App).synth()).toThrow(
      /^Validation failed with the following errors:\n {2}\[TestStack\/Fn\] the rotation function's environment variables would take about 4097 bytes, over Lambda's limit of 4096 \(MASTER_TARGETS pairs 35 master secret\(s\) with their targets; values known only at deploy time are counted at their likely longest: 200 bytes for a secret ARN, 64 for a name\)\. Use a second RedshiftRotationFunction \(rotationFunction\) for some of the secrets, give master secrets that name their cluster or workgroup in their JSON \(they need no pairing\), or shorten testStatements$/);
  });
});

describe('grants: one statement per kind, one ARN per distinct master or key', () => {
  const statementsOf = (stack: cdk.Stack, sid: string) => Object.values(Template.fromStack(stack).findResources('AWS::IAM::Policy'))
    .flatMap((p) => p.Properties.PolicyDocument.Statement as Array<{ Sid?: string; Resource: unknown }>)
    .filter((s) => s.Sid === sid);

  test('two masters, one by partial ARN: one MasterSecrets statement, the partial ARN ending in the 6 characters Secrets Manager adds', () => {
    const stack = newStack();
    const fn = new RedshiftRotationFunction(stack, 'Fn');
    fn.addMasterSecret(secretsmanager.Secret.fromSecretCompleteArn(stack, 'M1', MASTER_ARN));
    fn.addMasterSecret(secretsmanager.Secret.fromSecretPartialArn(stack, 'M2', 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:admins/other'));
    expect(statementsOf(stack, 'MasterSecrets').map((s) => s.Resource)).toEqual([
      [MASTER_ARN, 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:admins/other-??????'],
    ]);
  });

  test('a key given twice, directly and as a master\'s key: one SecretsKeys statement naming it once', () => {
    const stack = newStack();
    const fn = new RedshiftRotationFunction(stack, 'Fn');
    const key = kms.Key.fromKeyArn(stack, 'Key', KEY_ARN);
    fn.addEncryptionKey(key);
    fn.addMasterSecret(secretsmanager.Secret.fromSecretAttributes(stack, 'M', { secretCompleteArn: MASTER_ARN, encryptionKey: key }));
    fn.addEncryptionKey(key);
    expect(statementsOf(stack, 'SecretsKeys').map((s) => s.Resource)).toEqual([KEY_ARN]);
  });

  test('the grants of a function used in another stack: one policy there, whose logical id stays the same from release to release', () => {
    const home = newStack('Home');
    const fn = new RedshiftRotationFunction(home, 'Fn');
    const consumer = new cdk.Stack(cdk.App.of(home)!, 'Consumer', { env: { account: '123456789012', region: 'eu-west-1' } });
    for (const id of ['A', 'B']) {
      new RedshiftSecretRotation(consumer, id, { target: RedshiftTarget.cluster('analytics'), username: id.toLowerCase(), rotationFunction: fn });
    }
    expect(Object.keys(Template.fromStack(consumer).findResources('AWS::IAM::Policy'))).toEqual(['RedshiftRotationGrants6B177A4BPolicyE95F67A4']);
  });
});
