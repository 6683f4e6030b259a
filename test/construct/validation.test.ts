import * as cdk from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { isolatedVpc, natVpc, newCluster, newServerless, newStack } from './helpers';
import {
  RedshiftRotationFunction, RedshiftSecretRotation, RedshiftSecretRotationProps, RedshiftTarget, RotationNetwork, RotationSchedule,
  RotationStrategy,
} from '../../src';

const MASTER_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:redshift/admin-AbCdEf';

function build(props: Partial<RedshiftSecretRotationProps>, prepare?: (stack: cdk.Stack) => Partial<RedshiftSecretRotationProps>) {
  const stack = newStack();
  const extra = prepare ? prepare(stack) : {};
  return new RedshiftSecretRotation(stack, 'Rotation', {
    target: RedshiftTarget.cluster('analytics'),
    ...props,
    ...extra,
  } as RedshiftSecretRotationProps);
}

describe('impossible combinations throw, naming the prop', () => {
  test('alternating users without a master', () => {
    expect(() => build({ username: 'etl', strategy: RotationStrategy.ALTERNATING_USERS })).toThrow(/strategy: ALTERNATING_USERS needs a master secret/);
  });

  test('both masterSecret and masterUsername', () => {
    expect(() => build({ username: 'etl', masterUsername: 'admin' }, (stack) => ({
      masterSecret: secretsmanager.Secret.fromSecretCompleteArn(stack, 'M', MASTER_ARN),
    }))).toThrow(/masterUsername: give masterSecret .* not both/);
  });

  test('both username and secret, or neither', () => {
    expect(() => build({ username: 'app' }, (stack) => ({ secret: new secretsmanager.Secret(stack, 'S') }))).toThrow(/username: .*not both/);
    expect(() => build({})).toThrow(/username: give username .* or secret/);
  });

  test('securityGroups, vpcSubnets or network without vpc', () => {
    expect(() => build({ username: 'app' }, (stack) => ({
      securityGroups: [ec2.SecurityGroup.fromSecurityGroupId(stack, 'Sg', 'sg-12345678')],
    }))).toThrow(/securityGroups: security groups need a vpc/);
    expect(() => build({ username: 'app', vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED } })).toThrow(/vpcSubnets:/);
    expect(() => build({ username: 'app', network: RotationNetwork.natGateway() })).toThrow(/network:/);
  });

  test('natGateway() on isolated subnets', () => {
    expect(() => build({ username: 'app', network: RotationNetwork.natGateway() }, (stack) => ({ vpc: isolatedVpc(stack) })))
      .toThrow('network: RotationNetwork.natGateway() needs subnets with egress, but 2 of the selected subnets are isolated '
        + '(TestStack/Vpc/isolatedSubnet1, TestStack/Vpc/isolatedSubnet2); choose PRIVATE_WITH_EGRESS subnets in vpcSubnets, or use RotationNetwork.interfaceEndpoints()');
  });

  test('public subnets', () => {
    expect(() => build({ username: 'app', vpcSubnets: { subnetType: ec2.SubnetType.PUBLIC } }, (stack) => ({ vpc: natVpc(stack) })))
      .toThrow(/vpcSubnets: the rotation function cannot run in public subnets/);
  });

  test.each([
    [cdk.Duration.hours(3), /automaticallyAfter: Secrets Manager rotates at most every 4 hours/],
    [cdk.Duration.days(1001), /automaticallyAfter: Secrets Manager rotates at least every 1000 days/],
    [cdk.Duration.minutes(270), /automaticallyAfter: the interval must be a whole number of hours/],
  ])('automaticallyAfter %s is outside the limits', (after, error) => {
    expect(() => build({ username: 'app', automaticallyAfter: after })).toThrow(error);
  });

  test('schedule outside the limits', () => {
    expect(() => RotationSchedule.rate(cdk.Duration.hours(2))).toThrow(/schedule: Secrets Manager rotates at most every 4 hours/);
    expect(() => RotationSchedule.expression('rate(2 hours)')).toThrow(/schedule: .*outside Secrets Manager's limits/);
    expect(() => RotationSchedule.expression('rate(1001 days)')).toThrow(/schedule: .*outside/);
    expect(() => RotationSchedule.expression('cron(0 * * * ? *)')).toThrow(/schedule: .*more often than every 4 hours/);
    expect(() => RotationSchedule.expression('cron(0 */2 * * ? *)')).toThrow(/more often than every 4 hours/);
    expect(() => RotationSchedule.expression('cron(0 1,3 * * ? *)')).toThrow(/more often than every 4 hours/);
    expect(() => RotationSchedule.expression('cron(0 1 * *)')).toThrow(/schedule: .*needs 6 fields/);
    expect(() => RotationSchedule.expression('every day')).toThrow(/schedule: .*neither rate/);
    expect(() => RotationSchedule.cron({ day: '1', weekDay: 'MON' })).toThrow(/schedule: .*day or weekDay/);
  });

  test('both automaticallyAfter and schedule', () => {
    expect(() => build({
      username: 'app',
      automaticallyAfter: cdk.Duration.days(7),
      schedule: RotationSchedule.rate(cdk.Duration.days(7)),
    })).toThrow(/schedule: give automaticallyAfter or schedule, not both/);
  });

  test('rotation window outside 1..24 hours or not shorter than the interval', () => {
    expect(() => build({ username: 'app', rotationWindow: cdk.Duration.hours(25) })).toThrow(/rotationWindow: must be a whole number of hours from 1 to 24/);
    expect(() => build({ username: 'app', rotationWindow: cdk.Duration.minutes(30) })).toThrow(/rotationWindow:/);
    expect(() => build({ username: 'app', automaticallyAfter: cdk.Duration.hours(4), rotationWindow: cdk.Duration.hours(4) }))
      .toThrow(/rotationWindow: 4h must be shorter than the rotation interval/);
  });

  test.each([7, 65, 12.5])('passwordLength %s is outside 8..64', (length) => {
    expect(() => build({ username: 'app', passwordLength: length })).toThrow(/passwordLength: Redshift passwords have 8 to 64 characters/);
  });

  test('excludeCharacters that leave no valid password', () => {
    expect(() => build({ username: 'app', excludeCharacters: '0123456789' })).toThrow('excludeCharacters: excludes every digit, so no valid Redshift password remains (it needs an uppercase letter, a lowercase letter and a digit)');
    expect(() => build({ username: 'app', excludeCharacters: 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz' }))
      .toThrow(/^excludeCharacters: excludes every uppercase letter and every lowercase letter, so no valid/);
    expect(() => build({ username: 'app', excludeCharacters: 'ABCDEFGHIJKLMNOPQRSTUVWXYZ' })).toThrow(/^excludeCharacters: excludes every uppercase letter, so/);
    // one letter of each kind left is enough
    expect(() => build({ username: 'app', excludeCharacters: 'ABCDEFGHIJKLMNOPQRSTUVWXY012345678' })).not.toThrow();
  });

  test('usernames Redshift would need quoted, or too long for the clone', () => {
    expect(() => build({ username: 'App User' })).toThrow(/username: 'App User' must be a plain lowercase Redshift identifier/);
    expect(() => build({ username: 'a'.repeat(128) })).toThrow(/username: .*longer than 127 bytes/);
    expect(() => build({ username: 'a'.repeat(122) }, (stack) => ({
      masterSecret: secretsmanager.Secret.fromSecretCompleteArn(stack, 'M', MASTER_ARN),
    }))).toThrow(/username: .*longer than 121 bytes \(the alternate user appends _clone\)/);
    expect(() => build({ username: 'app', masterUsername: 'Admin' })).toThrow(/masterUsername:/);
    expect(() => build({ username: 'app', database: 'My DB' })).toThrow(/database:/);
  });

  test('function settings next to a given rotationFunction', () => {
    expect(() => build({ username: 'app', testStatements: ['SELECT 1'] }, (stack) => ({
      rotationFunction: new RedshiftRotationFunction(stack, 'Fn'),
    }))).toThrow(/testStatements: a setting of the rotation function/);
    expect(() => build({ username: 'app' }, (stack) => ({
      rotationFunction: new RedshiftRotationFunction(stack, 'Fn'),
      vpc: isolatedVpc(stack),
    }))).toThrow(/vpc: a setting of the rotation function/);
    expect(() => build({ username: 'app' }, (stack) => ({
      rotationFunction: new RedshiftRotationFunction(stack, 'Fn'),
      logGroupEncryptionKey: new kms.Key(stack, 'Key'),
    }))).toThrow(/logGroupEncryptionKey: a setting of the rotation function/);
    expect(() => build({ username: 'app', passwordLength: 40 }, (stack) => ({
      rotationFunction: new RedshiftRotationFunction(stack, 'Fn'),
    }))).toThrow(/passwordLength: the rotationFunction draws passwords of 32 characters/);
  });

  test('a statementTimeout that does not fit in timeout (statementTimeout + 30 seconds <= timeout), naming both props', () => {
    const fn = (props: Record<string, unknown>) => () => new RedshiftRotationFunction(newStack(), 'Fn', props);
    expect(fn({ statementTimeout: cdk.Duration.minutes(2), timeout: cdk.Duration.minutes(2) })).toThrow(
      'statementTimeout: 2 minutes does not fit in timeout (2 minutes): one statement may run that long and the function needs 30 seconds more '
      + 'for its Secrets Manager calls, its probe secret and cleanup; make timeout at least statementTimeout plus 30 seconds, or lower statementTimeout');
    expect(fn({ statementTimeout: cdk.Duration.minutes(5) })).toThrow(/statementTimeout: 5 minutes does not fit in timeout \(5 minutes, the default\)/);
    expect(fn({ timeout: cdk.Duration.minutes(1) })).toThrow(/statementTimeout: 1 minute \(the default\) does not fit in timeout \(1 minute\)/);
    // exactly 30 seconds to spare is enough
    expect(fn({ statementTimeout: cdk.Duration.seconds(90), timeout: cdk.Duration.minutes(2) })).not.toThrow();
    expect(fn({ timeout: cdk.Duration.seconds(90) })).not.toThrow();
  });

  test('a rotation function of another account or region', () => {
    expect(() => build({ username: 'app' }, (stack) => ({
      rotationFunction: RedshiftRotationFunction.fromFunctionArn(stack, 'F', 'arn:aws:lambda:us-east-1:123456789012:function:rotator'),
    }))).toThrow(/rotationFunction: the function is in 123456789012\/us-east-1, but Secrets Manager only invokes a rotation function of the secret's own account and region/);
    const stack = newStack();
    const other = new cdk.Stack(cdk.App.of(stack)!, 'Other', { env: { account: '210987654321', region: 'eu-west-1' } });
    const fn = new RedshiftRotationFunction(other, 'Fn');
    expect(() => new RedshiftSecretRotation(stack, 'R', { target: RedshiftTarget.cluster('analytics'), username: 'app', rotationFunction: fn }))
      .toThrow(/rotationFunction: the function is in 210987654321\/eu-west-1/);
  });

  test('masterUsername needs a target defined in this app, wired once', () => {
    expect(() => build({ username: 'app', masterUsername: 'admin' })).toThrow(/masterUsername: a master secret can only be created for a target defined in this app/);
    const stack = newStack();
    const cluster = newCluster(stack);
    new RedshiftSecretRotation(stack, 'A', { target: RedshiftTarget.fromCfnCluster(cluster), username: 'a', masterUsername: 'admin' });
    expect(() => new RedshiftSecretRotation(stack, 'B', { target: RedshiftTarget.fromCfnCluster(cluster), username: 'b', masterUsername: 'admin' }))
      .toThrow(/masterUsername: the CfnCluster already has a masterUserPassword/);
  });

  test('masterUsername on a cluster whose password Redshift manages, or with another admin name, or no literal identifier', () => {
    const stack = newStack();
    const managed = newCluster(stack, 'Managed', { manageMasterPassword: true });
    expect(() => new RedshiftSecretRotation(stack, 'A', { target: RedshiftTarget.fromCfnCluster(managed), username: 'a', masterUsername: 'admin' }))
      .toThrow(/masterUsername: the CfnCluster has manageMasterPassword set/);
    const other = newCluster(stack, 'Other', { clusterIdentifier: 'other' });
    expect(() => new RedshiftSecretRotation(stack, 'B', { target: RedshiftTarget.fromCfnCluster(other), username: 'b', masterUsername: 'root' }))
      .toThrow(/masterUsername: 'root' differs from the CfnCluster's masterUsername 'admin'/);
    const unnamed = newCluster(stack, 'Unnamed', { clusterIdentifier: undefined });
    expect(() => new RedshiftSecretRotation(stack, 'C', { target: RedshiftTarget.fromCfnCluster(unnamed), username: 'c', masterUsername: 'admin' }))
      .toThrow(/masterUsername: the CfnCluster needs a literal clusterIdentifier/);
  });

  test('masterUsername on a workgroup whose namespace cannot be found', () => {
    const stack = newStack();
    const { workgroup } = newServerless(stack);
    workgroup.namespaceName = 'not-in-this-app';
    expect(() => new RedshiftSecretRotation(stack, 'A', { target: RedshiftTarget.fromCfnWorkgroup(workgroup), username: 'a', masterUsername: 'admin' }))
      .toThrow(/masterUsername: no CfnNamespace named 'not-in-this-app' found/);
  });

  test('invalid target names and function ARNs', () => {
    expect(() => RedshiftTarget.cluster('1bad')).toThrow(/not a valid cluster identifier/);
    expect(() => RedshiftTarget.workgroup('Bad_Name')).toThrow(/not a valid workgroup name/);
    const stack = newStack();
    expect(() => RedshiftRotationFunction.fromFunctionArn(stack, 'F', 'arn:aws:sns:eu-west-1:123456789012:topic'))
      .toThrow(/rotationFunction: .* is not the ARN of a Lambda function/);
  });

  test('a wiring changed after construction fails synthesis (node.addValidation)', () => {
    const stack = newStack();
    const cluster = newCluster(stack);
    new RedshiftSecretRotation(stack, 'A', { target: RedshiftTarget.fromCfnCluster(cluster), username: 'a', masterUsername: 'admin' });
    cluster.masterUserPassword = 'overwritten-later';
    expect(() => cdk.App.of(stack)!.synth()).toThrow(/masterUsername: the CfnCluster's masterUserPassword or manageMasterPassword was changed/);
  });
});

describe('soft problems are warnings with stable ids', () => {
  test('a master with SINGLE_USER', () => {
    const rotation = build({ username: 'app', strategy: RotationStrategy.SINGLE_USER }, (stack) => ({
      masterSecret: secretsmanager.Secret.fromSecretCompleteArn(stack, 'M', MASTER_ARN),
    }));
    const warnings = rotation.node.metadata.filter((m) => m.type === 'aws:cdk:warning').map((m) => String(m.data));
    expect(warnings.join('\n')).toMatch(/\[ack: cdk-redshift-rotation:masterUnused\]/);
  });
});
