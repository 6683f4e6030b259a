/**
 * The imported rotation function (RedshiftRotationFunction.fromFunctionArn / fromFunctionAttributes in
 * src/rotation-function.ts), each test written against a mutant the other construct tests let through: which ARNs
 * it takes, when it has connections, and what its warnings say in full.
 */
import * as cdk from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { IConstruct } from 'constructs';
import { newStack } from './helpers';
import { RedshiftRotationFunction, RedshiftTarget } from '../../src';

const FUNCTION_ARN = 'arn:aws:lambda:eu-west-1:123456789012:function:redshift-rotation';
const WORKGROUP_ARN = 'arn:aws:redshift-serverless:eu-west-1:123456789012:workgroup/abc';

/** The warnings added to a construct, in full (no synthesis needed). */
const warningsOf = (construct: IConstruct) => construct.node.metadata.filter((m) => m.type === 'aws:cdk:warning').map((m) => String(m.data));

test.each([
  ['a Lambda layer', 'arn:aws:lambda:eu-west-1:123456789012:layer:redshift-rotation'],
  ['another service\'s function', 'arn:aws:states:eu-west-1:123456789012:function:redshift-rotation'],
])('the ARN of %s is refused', (_what, functionArn) => {
  expect(() => RedshiftRotationFunction.fromFunctionArn(newStack(), 'Fn', functionArn)).toThrow(new Error(
    `rotationFunction: '${functionArn}' is not the ARN of a Lambda function`));
});

test('an ARN given as a token is taken as it is', () => {
  const stack = newStack();
  const functionArn = new cdk.CfnParameter(stack, 'Arn').valueAsString;
  expect(RedshiftRotationFunction.fromFunctionArn(stack, 'Fn', functionArn).functionArn).toBe(functionArn);
});

test('an empty list of security groups gives no connections', () => {
  const stack = newStack();
  const fn = RedshiftRotationFunction.fromFunctionAttributes(stack, 'Fn', { functionArn: FUNCTION_ARN, securityGroups: [] });
  expect(() => fn.connections).toThrow(new Error(
    'TestStack/Fn: an imported rotation function has no connections unless its securityGroups are given to fromFunctionAttributes()'));
});

describe('without its role: each grant is a warning that names it', () => {
  const grantWarning = (grant: string) => `rotationFunction: an imported function without its role cannot be granted ${grant}; `
    + 'call it on the function where it is defined, or pass role to RedshiftRotationFunction.fromFunctionAttributes() '
    + '[ack: cdk-redshift-rotation:importedFunctionGrant]';

  test('targets: a cluster, a workgroup, and one whose name is a token', () => {
    const stack = newStack();
    const fn = RedshiftRotationFunction.fromFunctionArn(stack, 'Fn', FUNCTION_ARN);
    fn.addTarget(RedshiftTarget.cluster('analytics'));
    fn.addTarget(RedshiftTarget.workgroup('wg-one', { workgroupArn: WORKGROUP_ARN }));
    fn.addTarget(RedshiftTarget.cluster(new cdk.CfnParameter(stack, 'Cluster').valueAsString));
    expect(warningsOf(fn)).toEqual([
      grantWarning('redshift-data:ExecuteStatement and BatchExecuteStatement on the cluster analytics (addTarget)'),
      grantWarning('redshift-data:ExecuteStatement and BatchExecuteStatement on the workgroup wg-one (addTarget)'),
      grantWarning('redshift-data:ExecuteStatement and BatchExecuteStatement on the cluster (addTarget)'),
    ]);
  });

  test('a master known by its partial ARN is named by that ARN', () => {
    const stack = newStack();
    const fn = RedshiftRotationFunction.fromFunctionArn(stack, 'Fn', FUNCTION_ARN);
    const partial = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:redshift/admin';
    fn.addMasterSecret(secretsmanager.Secret.fromSecretAttributes(stack, 'Master', { secretPartialArn: partial }));
    expect(warningsOf(fn)).toEqual([grantWarning(`secretsmanager:GetSecretValue and DescribeSecret on the master secret ${partial} (addMasterSecret)`)]);
  });

  test.each([
    [RedshiftTarget.cluster('analytics'), 'cluster', 'dbClusterIdentifier'],
    [RedshiftTarget.workgroup('wg-one', { workgroupArn: WORKGROUP_ARN }), 'workgroup', 'workgroupName'],
  ])('a master paired with a target: the function cannot be told (%#)', (target, kind, field) => {
    const stack = newStack();
    const fn = RedshiftRotationFunction.fromFunctionAttributes(stack, 'Fn', { functionArn: FUNCTION_ARN, role: iam.Role.fromRoleName(stack, 'Role', 'rotation') });
    fn.addMasterSecret(secretsmanager.Secret.fromSecretCompleteArn(stack, 'Master', 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:redshift/admin-AbCdEf'), target);
    expect(warningsOf(fn)).toEqual([
      `masterSecret: an imported rotation function's environment cannot be changed here, so it cannot be told that this master may be used against this ${kind}; `
      + `it uses a master only against the target its JSON names (put "${field}" in the master secret), `
      + 'or call addMasterSecret(secret, target) on the function where it is defined [ack: cdk-redshift-rotation:masterTargetUnpaired]',
    ]);
  });
});

test('with its role, a key is granted on that role, no warning', () => {
  const stack = newStack();
  const fn = RedshiftRotationFunction.fromFunctionAttributes(stack, 'Fn', { functionArn: FUNCTION_ARN, role: iam.Role.fromRoleName(stack, 'Role', 'rotation') });
  const keyArn = 'arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555';
  fn.addEncryptionKey(kms.Key.fromKeyArn(stack, 'Key', keyArn));
  expect(warningsOf(fn)).toEqual([]);
  expect(JSON.stringify(Template.fromStack(stack).findResources('AWS::IAM::Policy')).includes(keyArn)).toBe(true);
});
