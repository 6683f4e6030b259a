/**
 * The rotation function's configuration helpers (src/rotation-function.ts) without synthesis: the key that decides
 * which rotations share one function, the password exclusions written into a secret's generator, the options a
 * RedshiftSecretRotation passes on, cdk-nag suppressions added next to existing ones, and the checks of the
 * function's props (validateFunctionProps) at their bounds.
 */
import * as cdk from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kms from 'aws-cdk-lib/aws-kms';
import { isolatedVpc, newStack } from './helpers';
import { RedshiftRotationFunction, RedshiftRotationFunctionProps, RotationNetwork } from '../../src';
import { addNagSuppressions, passwordExclusions, rotationFunctionOptions, validateFunctionProps } from '../../src/rotation-function';

describe('_configKey', () => {
  const key = RedshiftRotationFunction._configKey;

  test('the defaults, spelled out or not, give the empty key: one shared function', () => {
    expect(key({})).toBe('');
    expect(key({ passwordLength: 32, excludeCharacters: '', testStatements: [], allowSuperuserClone: false })).toBe('');
  });

  test('each setting that changes the function is in the key', () => {
    const stack = newStack();
    expect(key({ passwordLength: 40 })).toBe('length=40');
    expect(key({ excludeCharacters: '%' })).toBe('exclude=%');
    expect(key({ testStatements: ['SELECT 1'] })).toBe('tests=["SELECT 1"]');
    expect(key({ logGroupEncryptionKey: new kms.Key(stack, 'LogKey') })).toBe('logKey=TestStack/LogKey');
    expect(key({ allowSuperuserClone: true })).toBe('superuserClone');
    expect(key({ passwordLength: 40, allowSuperuserClone: true })).toBe('length=40|superuserClone');
  });

  test('in a VPC: the VPC, its selected subnets, the security groups and the network path', () => {
    const stack = newStack();
    const vpc = isolatedVpc(stack);
    const subnets = 'TestStack/Vpc/isolatedSubnet1|TestStack/Vpc/isolatedSubnet2';
    expect(key({ vpc })).toBe(`TestStack/Vpc|${subnets}|default`);
    const sg = ec2.SecurityGroup.fromSecurityGroupId(stack, 'Sg', 'sg-12345678');
    expect(key({ vpc, securityGroups: [sg], network: RotationNetwork.interfaceEndpoints({ privateDns: true }) }))
      .toBe(`TestStack/Vpc|${subnets}|TestStack/Sg|INTERFACE_ENDPOINTS,privateDns`);
    expect(key({ vpc, vpcSubnets: { availabilityZones: [vpc.availabilityZones[0]] } })).toBe('TestStack/Vpc|TestStack/Vpc/isolatedSubnet1|default');
  });
});

test('passwordExclusions: Redshift\'s forbidden characters first, then the user\'s, each once', () => {
  expect(passwordExclusions(undefined)).toBe('\'"\\/@ ');
  expect(passwordExclusions('%@%&')).toBe('\'"\\/@ %&');
});

test('rotationFunctionOptions keeps the function\'s options and nothing else', () => {
  const stack = newStack();
  const vpc = isolatedVpc(stack);
  const options = {
    vpc,
    vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
    securityGroups: [],
    network: RotationNetwork.natGateway(),
    passwordLength: 40,
    excludeCharacters: '%',
    testStatements: ['SELECT 1'],
    logGroupEncryptionKey: new kms.Key(stack, 'K'),
    allowSuperuserClone: true,
  };
  expect(rotationFunctionOptions({ ...options, username: 'app', secretName: 'x' } as never)).toEqual(options);
});

test('addNagSuppressions adds to the suppressions already on the resource, with applies_to only when given', () => {
  const stack = newStack();
  const resource = new cdk.CfnResource(stack, 'R', { type: 'AWS::SQS::Queue' });
  addNagSuppressions(resource, [{ id: 'AwsSolutions-IAM5', reason: 'one', appliesTo: ['Resource::*'] }]);
  addNagSuppressions(resource, [{ id: 'AwsSolutions-L1', reason: 'two' }]);
  expect(resource.getMetadata('cdk_nag')).toEqual({
    rules_to_suppress: [{ id: 'AwsSolutions-IAM5', reason: 'one', applies_to: ['Resource::*'] }, { id: 'AwsSolutions-L1', reason: 'two' }],
  });
});

describe('validateFunctionProps: each refusal at its bounds, in full', () => {
  const validate = (props: RedshiftRotationFunctionProps) => () => validateFunctionProps(props);

  test.each([8, 64])('passwordLength %d is taken', (passwordLength) => {
    expect(validate({ passwordLength })).not.toThrow();
  });

  test.each([7, 65, 8.5])('passwordLength %d is refused', (passwordLength) => {
    expect(validate({ passwordLength })).toThrow(new Error(`passwordLength: Redshift passwords have 8 to 64 characters, got ${passwordLength}`));
  });

  test('an empty test statement is refused by its index; a token is not checked', () => {
    expect(validate({ testStatements: ['SELECT 1', ' \n '] })).toThrow(new Error('testStatements: statement 1 is empty'));
    expect(validate({ testStatements: [''] })).toThrow(new Error('testStatements: statement 0 is empty'));
    const stack = newStack();
    expect(validate({ testStatements: ['SELECT 1', new cdk.CfnParameter(stack, 'Sql').valueAsString] })).not.toThrow();
  });

  test.each(['team/probes/', 'a', 'A-z_0+9=.@/', 'p'.repeat(200)])('probeSecretPrefix %s is taken', (probeSecretPrefix) => {
    expect(validate({ probeSecretPrefix })).not.toThrow();
  });

  test.each(['', 'p'.repeat(201), 'bad prefix', 'bad!prefix', 'prefix!', '!prefix'])('probeSecretPrefix %p is refused', (probeSecretPrefix) => {
    expect(validate({ probeSecretPrefix })).toThrow(new Error(
      `probeSecretPrefix: '${probeSecretPrefix}' must be 1 to 200 characters of A-Z a-z 0-9 / _ + = . @ -`));
  });

  test('a probeSecretPrefix given as a token is not checked', () => {
    expect(validate({ probeSecretPrefix: new cdk.CfnParameter(newStack(), 'Prefix').valueAsString })).not.toThrow();
  });

  test.each([
    [cdk.Duration.seconds(1), undefined], [cdk.Duration.minutes(14), cdk.Duration.minutes(15)],
  ])('statementTimeout %s is taken', (statementTimeout, timeout) => {
    expect(validate({ statementTimeout, timeout })).not.toThrow();
  });

  test.each([
    [cdk.Duration.millis(999), '999 millis'], [cdk.Duration.millis(840_001), '14 minutes 1 milli'],
  ])('statementTimeout %s is refused', (statementTimeout, human) => {
    expect(validate({ statementTimeout, timeout: cdk.Duration.minutes(15) })).toThrow(new Error(
      `statementTimeout: must be between 1 second and 14 minutes, got ${human}`));
  });

  test('a statementTimeout or timeout given as a token is not checked', () => {
    const stack = newStack();
    const seconds = new cdk.CfnParameter(stack, 'Seconds', { type: 'Number' }).valueAsNumber;
    expect(validate({ statementTimeout: cdk.Duration.seconds(seconds) })).not.toThrow();
    expect(validate({ timeout: cdk.Duration.seconds(seconds) })).not.toThrow();
  });
});
