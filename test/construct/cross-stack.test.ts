import * as cdk from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { isolatedVpc, newCluster, newStack } from './helpers';
import { RedshiftRotationFunction, RedshiftSecretRotation, RedshiftTarget } from '../../src';

const FUNCTION_ARN = 'arn:aws:lambda:eu-west-1:123456789012:function:redshift-rotation';
const MASTER_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:redshift/admin-AbCdEf';

function sids(template: Template): string[] {
  return Object.values(template.findResources('AWS::IAM::Policy'))
    .flatMap((p) => p.Properties.PolicyDocument.Statement.map((s: any) => s.Sid));
}

describe('a function shared across stacks', () => {
  test('the grants for the consuming stack\'s master, key and cluster live in that stack: no cycle', () => {
    // GIVEN a function in one stack, and a cluster, master secret and key in another
    const shared = newStack('Shared');
    const app = cdk.App.of(shared)!;
    const fn = new RedshiftRotationFunction(shared, 'Rotator');
    const db = new cdk.Stack(app, 'Db', { env: { account: '123456789012', region: 'eu-west-1' } });
    const cluster = newCluster(db, 'Cluster', { clusterIdentifier: undefined });
    const key = new kms.Key(db, 'Key', { enableKeyRotation: true });
    const master = new secretsmanager.Secret(db, 'Admin', { encryptionKey: key });

    // WHEN
    new RedshiftSecretRotation(db, 'Etl', { target: RedshiftTarget.fromCfnCluster(cluster), username: 'etl', masterSecret: master, rotationFunction: fn });
    const assembly = app.synth();

    // THEN the consuming stack holds a policy on the function's role with the three grants
    const dbTemplate = Template.fromJSON(assembly.getStackByName('Db').template);
    dbTemplate.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ 'Fn::ImportValue': Match.stringLikeRegexp('RotatorRole') }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Sid: 'RunStatements', Resource: { 'Fn::Join': ['', Match.arrayWith([{ Ref: 'Cluster' }])] } }),
          Match.objectLike({ Sid: 'MasterSecrets', Resource: { Ref: Match.stringLikeRegexp('^Admin') } }),
          Match.objectLike({ Sid: 'SecretsKeys', Resource: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Key'), 'Arn'] } }),
        ]),
      },
    });
    // the schedule waits for that policy
    const policyId = Object.keys(dbTemplate.findResources('AWS::IAM::Policy'))[0];
    dbTemplate.hasResource('AWS::SecretsManager::RotationSchedule', { DependsOn: Match.arrayWith([policyId]) });
    // and the function's own stack refers to nothing of the consuming stack
    const sharedTemplate = Template.fromJSON(assembly.getStackByName('Shared').template);
    expect(sids(sharedTemplate)).not.toContain('MasterSecrets');
    expect(JSON.stringify(sharedTemplate.toJSON())).not.toContain('Fn::ImportValue');
  });

  test('two rotations in the consuming stack share one policy there', () => {
    const shared = newStack('Shared');
    const app = cdk.App.of(shared)!;
    const fn = new RedshiftRotationFunction(shared, 'Rotator');
    const consumer = new cdk.Stack(app, 'Consumer', { env: { account: '123456789012', region: 'eu-west-1' } });
    new RedshiftSecretRotation(consumer, 'A', { target: RedshiftTarget.cluster('analytics'), username: 'a', rotationFunction: fn });
    new RedshiftSecretRotation(consumer, 'B', { target: RedshiftTarget.cluster('other'), username: 'b', rotationFunction: fn });
    const template = Template.fromJSON(app.synth().getStackByName('Consumer').template);
    template.resourceCountIs('AWS::IAM::Policy', 1);
    const statements = Object.values(template.findResources('AWS::IAM::Policy'))[0].Properties.PolicyDocument.Statement;
    expect(statements.map((st: any) => st.Sid)).toEqual(['RunStatements']);
    expect(statements[0].Resource).toHaveLength(2);
  });

  test('a function in a VPC whose rotations are all in another stack: its endpoints still admit the statements they run', () => {
    const shared = newStack('Shared');
    const app = cdk.App.of(shared)!;
    const fn = new RedshiftRotationFunction(shared, 'Rotator', { vpc: isolatedVpc(shared) });
    const consumer = new cdk.Stack(app, 'Consumer', { env: { account: '123456789012', region: 'eu-west-1' } });
    new RedshiftSecretRotation(consumer, 'A', { target: RedshiftTarget.cluster('analytics'), username: 'a', rotationFunction: fn });
    const template = Template.fromJSON(app.synth().getStackByName('Shared').template);
    expect(sids(template)).not.toContain('RunStatements');
    const data = Object.values(template.findResources('AWS::EC2::VPCEndpoint')).find((e) => String(e.Properties.ServiceName).endsWith('redshift-data'))!;
    expect(data.Properties.PolicyDocument.Statement[0].Action).toEqual(expect.arrayContaining(['redshift-data:BatchExecuteStatement', 'redshift-data:ExecuteStatement']));
  });

  test('a function whose stack depends on the consuming stack fails, naming the fix', () => {
    const shared = newStack('Shared');
    const app = cdk.App.of(shared)!;
    const fn = new RedshiftRotationFunction(shared, 'Rotator');
    const consumer = new cdk.Stack(app, 'Consumer', { env: { account: '123456789012', region: 'eu-west-1' } });
    shared.addDependency(consumer);
    expect(() => new RedshiftSecretRotation(consumer, 'A', { target: RedshiftTarget.cluster('analytics'), username: 'a', rotationFunction: fn }))
      .toThrow(/rotationFunction: the function's stack Shared depends on Consumer.*define the function in Consumer.*fromFunctionAttributes/);
  });
});

describe('an imported function', () => {
  test('fromFunctionAttributes with its role: the grants are a policy on that role in this stack; its security groups are its connections', () => {
    // GIVEN
    const stack = newStack();
    const role = iam.Role.fromRoleArn(stack, 'Role', 'arn:aws:iam::123456789012:role/redshift-rotation');
    const sg = ec2.SecurityGroup.fromSecurityGroupId(stack, 'Sg', 'sg-12345678');
    const fn = RedshiftRotationFunction.fromFunctionAttributes(stack, 'Fn', { functionArn: FUNCTION_ARN, role, securityGroups: [sg] });
    const master = secretsmanager.Secret.fromSecretCompleteArn(stack, 'Master', MASTER_ARN);

    // WHEN
    const rotation = new RedshiftSecretRotation(stack, 'Etl', { target: RedshiftTarget.cluster('analytics'), username: 'etl', masterSecret: master, rotationFunction: fn });

    // THEN
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::IAM::Policy', {
      Roles: ['redshift-rotation'],
      PolicyDocument: {
        Statement: [
          Match.objectLike({ Sid: 'RunStatements' }),
          Match.objectLike({ Sid: 'MasterSecrets', Resource: MASTER_ARN }),
        ],
      },
    });
    template.hasResourceProperties('AWS::SecretsManager::RotationSchedule', { RotationLambdaARN: FUNCTION_ARN });
    expect(rotation.connections.securityGroups).toEqual([sg]);
    expect(fn.isInVpc).toBe(true);
    Annotations.fromStack(stack).hasNoWarning('*', Match.stringLikeRegexp('importedFunctionGrant'));
  });

  test('fromFunctionArn: each grant the rotations need is a warning (once), not silently ignored', () => {
    // GIVEN
    const stack = newStack();
    const fn = RedshiftRotationFunction.fromFunctionArn(stack, 'Fn', FUNCTION_ARN);
    const master = secretsmanager.Secret.fromSecretCompleteArn(stack, 'Master', MASTER_ARN);
    const key = kms.Key.fromKeyArn(stack, 'Key', 'arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555');

    // WHEN two rotations need the same grants
    for (const user of ['a', 'b']) {
      new RedshiftSecretRotation(stack, user, {
        target: RedshiftTarget.cluster('analytics'), username: user, masterSecret: master, encryptionKey: key, rotationFunction: fn,
      });
    }

    // THEN
    Template.fromStack(stack).resourceCountIs('AWS::IAM::Policy', 0);
    const warnings = Annotations.fromStack(stack).findWarning('/TestStack/Fn', Match.stringLikeRegexp('importedFunctionGrant')).map((w) => String(w.entry.data));
    expect(warnings).toHaveLength(3);
    expect(warnings.some((w) => /ExecuteStatement .* on the cluster analytics \(addTarget\)/.test(w))).toBe(true);
    expect(warnings.some((w) => w.includes(`master secret ${MASTER_ARN} (addMasterSecret)`))).toBe(true);
    expect(warnings.some((w) => w.includes('key arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555 (addEncryptionKey)'))).toBe(true);
    expect(warnings.every((w) => w.includes('pass role to RedshiftRotationFunction.fromFunctionAttributes()'))).toBe(true);
  });

  test('fromFunctionAttributes without security groups has no connections', () => {
    const stack = newStack();
    const fn = RedshiftRotationFunction.fromFunctionAttributes(stack, 'Fn', { functionArn: FUNCTION_ARN });
    expect(fn.isInVpc).toBe(false);
    expect(() => fn.connections).toThrow(/securityGroups/);
    expect(() => RedshiftRotationFunction.fromFunctionAttributes(stack, 'Bad', { functionArn: 'arn:aws:sns:eu-west-1:123456789012:topic' }))
      .toThrow(/rotationFunction: .* is not the ARN of a Lambda function/);
  });
});
