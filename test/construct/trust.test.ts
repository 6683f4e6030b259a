/**
 * Issue 8 points 2 and 3, issue 9 point 1, construct side: the allowSuperuserClone setting of the function, the
 * MASTER_TARGETS variable that pairs master secrets with their targets, and the create-user tag.
 */
import * as cdk from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { newCluster, newServerless, newStack, warningIds } from './helpers';
import { RedshiftRotationFunction, RedshiftSecretRotation, RedshiftTarget, RotationStrategy } from '../../src';

const MASTER_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:redshift/admin-AbCdEf';
const CREATE_TAG = 'redshift-rotation:create-user';

/** The environment variables of the only Lambda function of a stack, resolved. */
function envOf(stack: cdk.Stack): Record<string, unknown> {
  const functions = Template.fromStack(stack).findResources('AWS::Lambda::Function');
  expect(Object.keys(functions)).toHaveLength(1);
  return Object.values(functions)[0].Properties.Environment.Variables;
}

function tagsOfSecret(stack: cdk.Stack, logicalIdPrefix: string): Array<{ Key: string; Value: string }> {
  const secrets = Template.fromStack(stack).findResources('AWS::SecretsManager::Secret');
  const id = Object.keys(secrets).find((k) => k.startsWith(logicalIdPrefix));
  expect(id).toBeDefined();
  return secrets[id!].Properties.Tags ?? [];
}

describe('allowSuperuserClone: a setting of the function, never of a secret', () => {
  test('off by default: no ALLOW_SUPERUSER_CLONE; on: the variable is "true"', () => {
    const off = newStack();
    new RedshiftRotationFunction(off, 'Fn');
    expect(envOf(off).ALLOW_SUPERUSER_CLONE).toBeUndefined();
    const on = newStack();
    const fn = new RedshiftRotationFunction(on, 'Fn', { allowSuperuserClone: true });
    expect(fn.allowSuperuserClone).toBe(true);
    expect(envOf(on).ALLOW_SUPERUSER_CLONE).toBe('true');
  });

  test('on a RedshiftSecretRotation it picks a shared function of its own (the others keep theirs without it)', () => {
    const stack = newStack();
    const master = secretsmanager.Secret.fromSecretCompleteArn(stack, 'Master', MASTER_ARN);
    new RedshiftSecretRotation(stack, 'Boss', { target: RedshiftTarget.cluster('analytics'), username: 'boss', masterSecret: master, allowSuperuserClone: true });
    new RedshiftSecretRotation(stack, 'App', { target: RedshiftTarget.cluster('analytics'), username: 'app', masterSecret: master });
    const functions = Object.values(Template.fromStack(stack).findResources('AWS::Lambda::Function'));
    expect(functions.map((f) => f.Properties.Environment.Variables.ALLOW_SUPERUSER_CLONE ?? 'unset').sort()).toEqual(['true', 'unset']);
  });

  test('with a given rotationFunction it is refused (set it on the function)', () => {
    const stack = newStack();
    const fn = new RedshiftRotationFunction(stack, 'Fn');
    expect(() => new RedshiftSecretRotation(stack, 'App', {
      target: RedshiftTarget.cluster('analytics'), username: 'app', rotationFunction: fn, allowSuperuserClone: true,
    })).toThrow(/allowSuperuserClone: a setting of the rotation function; with rotationFunction, set it on that function instead/);
  });
});

describe('MASTER_TARGETS: a given master secret is paired with the targets it rotates for', () => {
  test('a master given by complete ARN, used for a cluster and a workgroup (twice for the cluster): one entry, both targets', () => {
    const stack = newStack();
    const master = secretsmanager.Secret.fromSecretCompleteArn(stack, 'Master', MASTER_ARN);
    new RedshiftSecretRotation(stack, 'A', { target: RedshiftTarget.cluster('Analytics'), username: 'a', masterSecret: master });
    new RedshiftSecretRotation(stack, 'B', { target: RedshiftTarget.cluster('analytics'), username: 'b', masterSecret: master });
    new RedshiftSecretRotation(stack, 'C', { target: RedshiftTarget.workgroup('analytics-wg'), username: 'c', masterSecret: master });
    expect(JSON.parse(envOf(stack).MASTER_TARGETS as string)).toEqual([[MASTER_ARN, 'cluster:analytics', 'workgroup:analytics-wg']]);
  });

  test('a master known by name only: its partial ARN with -?????? (matched as IAM matches it)', () => {
    const stack = newStack();
    const master = secretsmanager.Secret.fromSecretNameV2(stack, 'Master', 'redshift/admin');
    new RedshiftSecretRotation(stack, 'A', { target: RedshiftTarget.cluster('analytics'), username: 'a', masterSecret: master });
    const value = Template.fromStack(stack).toJSON();
    const fn = Object.values(value.Resources as Record<string, any>).find((r) => r.Type === 'AWS::Lambda::Function');
    const joined = JSON.stringify(fn.Properties.Environment.Variables.MASTER_TARGETS);
    expect(joined).toMatch(/:secret:redshift\/admin-\?\?\?\?\?\?/);
    expect(joined).toMatch(/cluster:analytics/);
  });

  test('a master secret of this stack (a token ARN) and a CfnCluster target: the variable refers to both', () => {
    const stack = newStack();
    const cluster = newCluster(stack, 'Cluster', { clusterIdentifier: undefined });
    const master = new secretsmanager.Secret(stack, 'Master');
    new RedshiftSecretRotation(stack, 'A', { target: RedshiftTarget.fromCfnCluster(cluster), username: 'a', masterSecret: master });
    const variable = envOf(stack).MASTER_TARGETS as { 'Fn::Join': [string, unknown[]] };
    const parts = variable['Fn::Join'][1];
    expect(parts).toContainEqual({ Ref: expect.stringMatching(/^Master/) });
    expect(parts).toContainEqual({ Ref: 'Cluster' });
  });

  test('no pairing for a created master (its JSON names its target), nor for SINGLE_USER', () => {
    const stack = newStack();
    const cluster = newCluster(stack);
    new RedshiftSecretRotation(stack, 'A', { target: RedshiftTarget.fromCfnCluster(cluster), username: 'a', masterUsername: 'admin' });
    const master = secretsmanager.Secret.fromSecretCompleteArn(stack, 'Master', MASTER_ARN);
    new RedshiftSecretRotation(stack, 'S', { target: RedshiftTarget.cluster('analytics'), username: 's', masterSecret: master, strategy: RotationStrategy.SINGLE_USER });
    expect(envOf(stack).MASTER_TARGETS).toBeUndefined();
  });

  test('addMasterSecret(secret, target) pairs too', () => {
    const stack = newStack();
    const fn = new RedshiftRotationFunction(stack, 'Fn');
    fn.addMasterSecret(secretsmanager.Secret.fromSecretCompleteArn(stack, 'Master', MASTER_ARN), RedshiftTarget.workgroup('wg-one'));
    expect(JSON.parse(envOf(stack).MASTER_TARGETS as string)).toEqual([[MASTER_ARN, 'workgroup:wg-one']]);
  });

  test('a function of another stack: a literal master and target are written there; a token master of this stack is a warning, not a cycle', () => {
    const app = new cdk.App();
    const env = { account: '123456789012', region: 'eu-west-1' };
    const home = new cdk.Stack(app, 'Home', { env });
    const fn = new RedshiftRotationFunction(home, 'Fn');
    const consumer = new cdk.Stack(app, 'Consumer', { env });
    const literal = secretsmanager.Secret.fromSecretCompleteArn(consumer, 'Literal', MASTER_ARN);
    new RedshiftSecretRotation(consumer, 'A', { target: RedshiftTarget.cluster('analytics'), username: 'a', masterSecret: literal, rotationFunction: fn });
    const local = new secretsmanager.Secret(consumer, 'Local');
    new RedshiftSecretRotation(consumer, 'B', { target: RedshiftTarget.cluster('analytics'), username: 'b', masterSecret: local, rotationFunction: fn });
    app.synth();
    expect(JSON.parse(envOf(home).MASTER_TARGETS as string)).toEqual([[MASTER_ARN, 'cluster:analytics']]);
    expect(warningIds(consumer)).toContain('cdk-redshift-rotation:masterTargetUnpaired');
    expect(warningIds(home)).not.toContain('cdk-redshift-rotation:masterTargetUnpaired');
  });

  test('an imported function cannot be told: a warning', () => {
    const stack = newStack();
    const fn = RedshiftRotationFunction.fromFunctionArn(stack, 'Fn', 'arn:aws:lambda:eu-west-1:123456789012:function:rotation');
    const master = secretsmanager.Secret.fromSecretCompleteArn(stack, 'Master', MASTER_ARN);
    new RedshiftSecretRotation(stack, 'A', { target: RedshiftTarget.cluster('analytics'), username: 'a', masterSecret: master, rotationFunction: fn });
    expect(warningIds(stack)).toContain('cdk-redshift-rotation:masterTargetUnpaired');
  });

  test('over Lambda\'s 4 KB of environment variables: a synth error that says what to do (literal ARNs)', () => {
    const stack = newStack();
    const fn = new RedshiftRotationFunction(stack, 'Fn');
    for (let i = 0; i < 40; i++) {
      const arn = `arn:aws:secretsmanager:eu-west-1:123456789012:secret:redshift/admins/a-rather-long-master-secret-name-${i}-AbCdEf`;
      fn.addMasterSecret(secretsmanager.Secret.fromSecretCompleteArn(stack, `M${i}`, arn), RedshiftTarget.cluster(`cluster-${i}`));
    }
    expect(() => (stack.node.root as cdk.App).synth()).toThrow(/environment variables would take about \d+ bytes, over Lambda's limit of 4096 .*MASTER_TARGETS pairs 40 master secret/);
  });

  test('token ARNs count at their likely longest (200 bytes): 20 masters of this stack are too many, 10 are not', () => {
    const build = (n: number) => {
      const stack = newStack();
      const fn = new RedshiftRotationFunction(stack, 'Fn');
      for (let i = 0; i < n; i++) fn.addMasterSecret(new secretsmanager.Secret(stack, `M${i}`), RedshiftTarget.cluster(`c${i}`));
      return stack;
    };
    expect(() => (build(10).node.root as cdk.App).synth()).not.toThrow();
    expect(() => (build(20).node.root as cdk.App).synth()).toThrow(/over Lambda's limit of 4096/);
  });
});

describe('createUser: the create-user tag', () => {
  test('a created secret with a master: tagged by default; the first rotation creates the user', () => {
    const stack = newStack();
    const master = secretsmanager.Secret.fromSecretCompleteArn(stack, 'Master', MASTER_ARN);
    new RedshiftSecretRotation(stack, 'App', { target: RedshiftTarget.cluster('analytics'), username: 'app', masterSecret: master });
    expect(tagsOfSecret(stack, 'AppSecret')).toContainEqual({ Key: CREATE_TAG, Value: 'true' });
    expect(warningIds(stack)).not.toContain('cdk-redshift-rotation:createUserManually');
  });

  test('a created master for a workgroup: the user secret is tagged, the master is not', () => {
    const stack = newStack();
    const { workgroup } = newServerless(stack, { adminUsername: 'admin' });
    new RedshiftSecretRotation(stack, 'App', { target: RedshiftTarget.fromCfnWorkgroup(workgroup), username: 'app', masterUsername: 'admin' });
    expect(tagsOfSecret(stack, 'AppSecret')).toContainEqual({ Key: CREATE_TAG, Value: 'true' });
    expect(tagsOfSecret(stack, 'AppMasterSecret').map((t) => t.Key)).not.toContain(CREATE_TAG);
  });

  test('createUser: false: no tag, and the warning says how to create the user', () => {
    const stack = newStack();
    const master = secretsmanager.Secret.fromSecretCompleteArn(stack, 'Master', MASTER_ARN);
    new RedshiftSecretRotation(stack, 'App', { target: RedshiftTarget.cluster('analytics'), username: 'app', masterSecret: master, createUser: false });
    expect(tagsOfSecret(stack, 'AppSecret').map((t) => t.Key)).not.toContain(CREATE_TAG);
    Annotations.fromStack(stack).hasWarning('/TestStack/App', Match.stringLikeRegexp('CREATE USER app PASSWORD .*createUserManually'));
  });

  test('no master (SINGLE_USER): no tag, the warning with its stable id; createUser: true is refused', () => {
    const stack = newStack();
    new RedshiftSecretRotation(stack, 'App', { target: RedshiftTarget.cluster('analytics'), username: 'app' });
    expect(tagsOfSecret(stack, 'AppSecret').map((t) => t.Key)).not.toContain(CREATE_TAG);
    expect(warningIds(stack)).toEqual(['cdk-redshift-rotation:createUserManually']);
    expect(() => new RedshiftSecretRotation(stack, 'Other', { target: RedshiftTarget.cluster('analytics'), username: 'other', createUser: true }))
      .toThrow(/createUser: the function creates users with the master secret, which only ALTERNATING_USERS uses/);
  });

  test('a given secret: off by default (no tag, no warning); on request a secret of this app is tagged, an imported one is refused', () => {
    const stack = newStack();
    const master = secretsmanager.Secret.fromSecretCompleteArn(stack, 'Master', MASTER_ARN);
    const given = new secretsmanager.Secret(stack, 'Given', {
      generateSecretString: {
        secretStringTemplate: JSON.stringify({ engine: 'redshift', username: 'g', dbClusterIdentifier: 'analytics', masterarn: MASTER_ARN }),
        generateStringKey: 'password',
      },
    });
    new RedshiftSecretRotation(stack, 'G', { target: RedshiftTarget.cluster('analytics'), secret: given, masterSecret: master });
    expect(tagsOfSecret(stack, 'Given').map((t) => t.Key)).not.toContain(CREATE_TAG);
    expect(warningIds(stack)).not.toContain('cdk-redshift-rotation:createUserManually');

    const stack2 = newStack();
    const master2 = secretsmanager.Secret.fromSecretCompleteArn(stack2, 'Master', MASTER_ARN);
    const given2 = new secretsmanager.Secret(stack2, 'Given', {
      generateSecretString: {
        secretStringTemplate: JSON.stringify({ engine: 'redshift', username: 'g', dbClusterIdentifier: 'analytics', masterarn: MASTER_ARN }),
        generateStringKey: 'password',
      },
    });
    new RedshiftSecretRotation(stack2, 'G', { target: RedshiftTarget.cluster('analytics'), secret: given2, masterSecret: master2, createUser: true });
    expect(tagsOfSecret(stack2, 'Given')).toContainEqual({ Key: CREATE_TAG, Value: 'true' });

    const imported = secretsmanager.Secret.fromSecretCompleteArn(stack2, 'Imported', 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:app/x-AbCdEf');
    expect(() => new RedshiftSecretRotation(stack2, 'I', { target: RedshiftTarget.cluster('analytics'), secret: imported, masterSecret: master2, createUser: true }))
      .toThrow(/createUser: an imported secret cannot be tagged here/);
  });
});
