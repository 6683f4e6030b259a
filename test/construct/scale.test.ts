import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import { countOfType, isolatedVpc, newCluster, newStack, resourceCount, rolePolicyJson } from './helpers';
import { RedshiftSecretRotation, RedshiftTarget } from '../../src';

const CLOUDFORMATION_RESOURCE_LIMIT = 500;

describe('scale', () => {
  test('150 secrets in one stack stay under 500 resources, with exactly one Lambda function', () => {
    // GIVEN
    const stack = newStack();
    const cluster = newCluster(stack);
    const target = RedshiftTarget.fromCfnCluster(cluster);
    const first = new RedshiftSecretRotation(stack, 'User0', { target, username: 'etl_0', masterUsername: 'admin' });

    // WHEN
    for (let i = 1; i < 150; i++) {
      new RedshiftSecretRotation(stack, `User${i}`, { target, username: `etl_${i}`, masterSecret: first.masterSecret });
    }

    // THEN
    const count = resourceCount(stack);
    expect(count).toBeLessThan(CLOUDFORMATION_RESOURCE_LIMIT);
    expect(countOfType(stack, 'AWS::Lambda::Function')).toBe(1);
    expect(countOfType(stack, 'AWS::Lambda::Permission')).toBe(1);
    expect(countOfType(stack, 'AWS::SecretsManager::RotationSchedule')).toBe(151);
    // each rotated secret of the app denies DeleteSecret to the account root in its resource policy
    expect(countOfType(stack, 'AWS::SecretsManager::ResourcePolicy')).toBe(151);
    // 150 secrets + 150 resource policies + 151 schedules + master and its resource policy + cluster + 5 for the function
    expect(count).toBe(150 + 150 + 151 + 2 + 1 + 5);
  });

  test('119 secrets with alarms and in an isolated VPC still fit (4 resources each: secret, resource policy, schedule, rule)', () => {
    const stack = newStack();
    const vpc = isolatedVpc(stack);
    const topic = new sns.Topic(stack, 'Alerts');
    for (let i = 0; i < 119; i++) {
      new RedshiftSecretRotation(stack, `User${i}`, { target: RedshiftTarget.cluster('analytics'), username: `u_${i}`, vpc, alarmTopic: topic });
    }
    expect(resourceCount(stack)).toBeLessThan(CLOUDFORMATION_RESOURCE_LIMIT);
    expect(countOfType(stack, 'AWS::Lambda::Function')).toBe(1);
  });

  test.each([
    ['a single-user secret', {}],
    ['an alternating-users secret with a given master', { alternating: true }],
    ['a secret with an alarm topic', { alarm: true }],
    ['a secret in a VPC', { vpc: true }],
  ])('adding %s to an existing function adds 3 resources (4 with an alarm topic)', (_name, options: { alternating?: boolean; alarm?: boolean; vpc?: boolean }) => {
    // GIVEN stacks whose function rotates n secrets
    const withSecrets = (n: number) => {
      const stack = newStack();
      const vpc = options.vpc ? isolatedVpc(stack) : undefined;
      const topic = options.alarm ? new sns.Topic(stack, 'Alerts') : undefined;
      const masterSecret = options.alternating
        ? secretsmanager.Secret.fromSecretCompleteArn(stack, 'Master', 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:admin-AbCdEf')
        : undefined;
      for (let i = 0; i < n; i++) {
        new RedshiftSecretRotation(stack, `User${i}`, {
          target: RedshiftTarget.cluster('analytics'), username: `u_${i}`, vpc, alarmTopic: topic, masterSecret,
        });
      }
      return resourceCount(stack);
    };

    // WHEN one more secret is added
    const added = withSecrets(2) - withSecrets(1);

    // THEN the secret, its resource policy and its schedule (and the alarm rule)
    expect(added).toBe(options.alarm ? 4 : 3);
    expect(withSecrets(50) - withSecrets(49)).toBe(added);
  });

  test('the role\'s policies do not grow with the number of secrets', () => {
    const sizeWith = (n: number) => {
      const stack = newStack();
      const master = secretsmanager.Secret.fromSecretCompleteArn(stack, 'Master', 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:admin-AbCdEf');
      for (let i = 0; i < n; i++) {
        new RedshiftSecretRotation(stack, `User${i}`, { target: RedshiftTarget.cluster('analytics'), username: `u_${i}`, masterSecret: master });
      }
      return rolePolicyJson(stack).length;
    };
    const one = sizeWith(1);
    expect(sizeWith(10)).toBe(one);
    expect(sizeWith(150)).toBe(one);
    // well under IAM's 10,240 characters for a role's inline policies (and 6,144 for a managed policy)
    expect(one).toBeLessThan(6144);
  });
});
