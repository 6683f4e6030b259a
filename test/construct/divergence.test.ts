import * as cdk from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as redshift from 'aws-cdk-lib/aws-redshift';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { newCluster, newServerless, newStack, warningsOf } from './helpers';
import { RedshiftSecretRotation, RedshiftTarget, RotationStrategy } from '../../src';

const MASTER_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:redshift/admin-AbCdEf';

/** The template of the created secret of the construct `id`, as one JSON-ish string (tokens kept as objects). */
function secretTemplate(stack: cdk.Stack, id: string): any {
  const secrets = Template.fromStack(stack).findResources('AWS::SecretsManager::Secret');
  const match = Object.entries(secrets).filter(([logicalId]) => new RegExp(`^${id}Secret[0-9A-F]{8}$`).test(logicalId));
  expect(match).toHaveLength(1);
  return match[0][1].Properties.GenerateSecretString.SecretStringTemplate;
}

/** Like @aws-cdk/aws-redshift-alpha's Cluster: a construct whose default child is a CfnCluster without identifier. */
class AlphaLikeCluster extends Construct implements secretsmanager.ISecretAttachmentTarget {
  public readonly cfn: redshift.CfnCluster;
  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.cfn = new redshift.CfnCluster(this, 'Resource', {
      clusterType: 'single-node', nodeType: 'ra3.xlplus', dbName: 'default_db', masterUsername: 'admin', masterUserPassword: 'Placeholder1',
    });
  }
  public asSecretAttachmentTarget(): secretsmanager.SecretAttachmentTargetProps {
    return { targetId: this.cfn.ref, targetType: secretsmanager.AttachmentTargetType.REDSHIFT_CLUSTER };
  }
}

describe('the database and endpoint come from the target when this app defines it', () => {
  test('a CfnCluster with dbName warehouse: the secret is for warehouse, with the cluster\'s host and port', () => {
    // GIVEN
    const stack = newStack();
    const cluster = newCluster(stack, 'Cluster', { dbName: 'warehouse' });

    // WHEN
    const rotation = new RedshiftSecretRotation(stack, 'App', { target: RedshiftTarget.fromCfnCluster(cluster), username: 'app' });

    // THEN
    expect(rotation.database).toBe('warehouse');
    expect(secretTemplate(stack, 'App')).toEqual({
      'Fn::Join': ['', [
        '{"engine":"redshift","username":"app","dbname":"warehouse","dbClusterIdentifier":"analytics","host":"',
        { 'Fn::GetAtt': ['Cluster', 'Endpoint.Address'] },
        '","port":',
        { 'Fn::GetAtt': ['Cluster', 'Endpoint.Port'] },
        '}',
      ]],
    });
  });

  test('an explicit database wins over the target\'s', () => {
    const stack = newStack();
    const cluster = newCluster(stack, 'Cluster', { dbName: 'warehouse' });
    const rotation = new RedshiftSecretRotation(stack, 'App', { target: RedshiftTarget.fromCfnCluster(cluster), username: 'app', database: 'sales' });
    expect(rotation.database).toBe('sales');
    expect(JSON.stringify(secretTemplate(stack, 'App'))).toContain('\\"dbname\\":\\"sales\\"');
  });

  test('a workgroup: the database of its namespace, and the workgroup endpoint', () => {
    const stack = newStack();
    const { namespace, workgroup } = newServerless(stack);
    namespace.dbName = 'lake';
    const rotation = new RedshiftSecretRotation(stack, 'App', { target: RedshiftTarget.fromCfnWorkgroup(workgroup), username: 'app' });
    expect(rotation.database).toBe('lake');
    const text = JSON.stringify(secretTemplate(stack, 'App'));
    expect(text).toContain('\\"dbname\\":\\"lake\\"');
    expect(text).toContain('"Workgroup.Endpoint.Address"');
    expect(text).toContain('"Workgroup.Endpoint.Port"');
  });

  test('a same-stack CfnCluster named by literal identifier: dependency, database and endpoint', () => {
    // GIVEN
    const stack = newStack();
    newCluster(stack, 'Cluster', { clusterIdentifier: 'Analytics', dbName: 'warehouse' });

    // WHEN
    new RedshiftSecretRotation(stack, 'App', { target: RedshiftTarget.cluster('analytics'), username: 'app' });

    // THEN
    const template = Template.fromStack(stack);
    template.hasResource('AWS::SecretsManager::RotationSchedule', { DependsOn: Match.arrayWith(['Cluster']) });
    const text = JSON.stringify(secretTemplate(stack, 'App'));
    expect(text).toContain('\\"dbname\\":\\"warehouse\\"');
    expect(text).toContain('"Endpoint.Address"');
  });

  test('a cluster of another stack named by literal: no dependency, no host (no cross-stack reference)', () => {
    const stack = newStack();
    const other = new cdk.Stack(cdk.App.of(stack)!, 'Db', { env: { account: '123456789012', region: 'eu-west-1' } });
    newCluster(other, 'Cluster');
    new RedshiftSecretRotation(stack, 'App', { target: RedshiftTarget.cluster('analytics'), username: 'app' });
    const schedule = Object.values(Template.fromStack(stack).findResources('AWS::SecretsManager::RotationSchedule'))[0];
    expect((schedule.DependsOn as string[]).some((d) => /Cluster/.test(d))).toBe(false);
    expect(typeof secretTemplate(stack, 'App')).toBe('string');
  });

  test('a target defined elsewhere: dev, no host', () => {
    const stack = newStack();
    const rotation = new RedshiftSecretRotation(stack, 'App', { target: RedshiftTarget.cluster('analytics'), username: 'app' });
    expect(rotation.database).toBe('dev');
    expect(secretTemplate(stack, 'App')).toBe('{"engine":"redshift","username":"app","dbname":"dev","dbClusterIdentifier":"analytics"}');
  });
});

describe('RedshiftTarget.fromSecretAttachmentTarget', () => {
  test('a redshift-alpha-like Cluster: its Ref names the cluster, default_db, dependency and endpoint', () => {
    // GIVEN
    const stack = newStack();
    const cluster = new AlphaLikeCluster(stack, 'Alpha');

    // WHEN
    const target = RedshiftTarget.fromSecretAttachmentTarget(cluster);
    const rotation = new RedshiftSecretRotation(stack, 'App', { target, username: 'app' });

    // THEN
    expect(rotation.database).toBe('default_db');
    const template = Template.fromStack(stack);
    const clusterId = Object.keys(template.findResources('AWS::Redshift::Cluster'))[0];
    template.hasResource('AWS::SecretsManager::RotationSchedule', { DependsOn: Match.arrayWith([clusterId]) });
    const text = JSON.stringify(secretTemplate(stack, 'App'));
    expect(text).toContain(`"dbClusterIdentifier\\":\\"",{"Ref":"${clusterId}"}`);
    expect(text).toContain('\\"dbname\\":\\"default_db\\"');
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([Match.objectLike({
          Sid: 'RunStatements',
          Resource: { 'Fn::Join': ['', Match.arrayWith([{ Ref: clusterId }])] },
        })]),
      },
    });
  });

  test('a target of another type throws, naming target', () => {
    const fake: secretsmanager.ISecretAttachmentTarget = {
      asSecretAttachmentTarget: () => ({ targetId: 'db', targetType: secretsmanager.AttachmentTargetType.RDS_DB_INSTANCE }),
    };
    expect(() => RedshiftTarget.fromSecretAttachmentTarget(fake)).toThrow(/target: RedshiftTarget.fromSecretAttachmentTarget\(\) needs a Redshift cluster/);
  });

  test('a plain object of type cluster: the identifier only', () => {
    const target = RedshiftTarget.fromSecretAttachmentTarget({
      asSecretAttachmentTarget: () => ({ targetId: 'Analytics', targetType: secretsmanager.AttachmentTargetType.REDSHIFT_CLUSTER }),
    });
    expect(target.clusterIdentifier).toBe('analytics');
  });
});

describe('given and imported secrets: no silent divergence', () => {
  test('database with secret throws, naming database', () => {
    const stack = newStack();
    const secret = secretsmanager.Secret.fromSecretNameV2(stack, 'S', 'redshift/app');
    expect(() => new RedshiftSecretRotation(stack, 'App', { target: RedshiftTarget.cluster('analytics'), secret, database: 'sales' }))
      .toThrow(/database: sets the dbname of a created secret/);
  });

  test('removalPolicy with secret throws, naming removalPolicy', () => {
    const stack = newStack();
    const secret = secretsmanager.Secret.fromSecretNameV2(stack, 'S', 'redshift/app');
    expect(() => new RedshiftSecretRotation(stack, 'App', { target: RedshiftTarget.cluster('analytics'), secret, removalPolicy: cdk.RemovalPolicy.DESTROY }))
      .toThrow(/removalPolicy: applies to created secrets/);
  });

  test('an imported secret with alternating users: a warning says to put masterarn in it', () => {
    // GIVEN
    const stack = newStack();
    const secret = secretsmanager.Secret.fromSecretNameV2(stack, 'S', 'redshift/etl');
    const masterSecret = secretsmanager.Secret.fromSecretCompleteArn(stack, 'M', MASTER_ARN);

    // WHEN
    const rotation = new RedshiftSecretRotation(stack, 'Etl', { target: RedshiftTarget.cluster('analytics'), secret, masterSecret });

    // THEN
    expect(rotation.strategy).toBe(RotationStrategy.ALTERNATING_USERS);
    const warnings = warningsOf(stack, 'importedSecret');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain(`"masterarn": "${MASTER_ARN}"`);
    expect(warnings[0]).toContain('"dbClusterIdentifier": "analytics"');
    expect(warnings[0]).toContain('redshift-rotation:strategy=ALTERNATING_USERS');
  });

  test('an imported secret with a single user: the warning says no masterarn', () => {
    const stack = newStack();
    const secret = secretsmanager.Secret.fromSecretNameV2(stack, 'S', 'redshift/app');
    new RedshiftSecretRotation(stack, 'App', { target: RedshiftTarget.workgroup('wg-one', { workgroupArn: 'arn:aws:redshift-serverless:eu-west-1:123456789012:workgroup/abc' }), secret });
    const warnings = warningsOf(stack, 'importedSecret');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/For SINGLE_USER it must hold "workgroupName": "wg-one", no "masterarn"/);
  });

  test('a given secret of the app with a literal JSON: checked against target and strategy', () => {
    const stack = newStack();
    const master = secretsmanager.Secret.fromSecretCompleteArn(stack, 'M', MASTER_ARN);
    const make = (id: string, json: object) => new secretsmanager.Secret(stack, id, {
      generateSecretString: { secretStringTemplate: JSON.stringify(json), generateStringKey: 'password' },
    });
    // matches: tagged, no warning
    const good = make('Good', { engine: 'redshift', username: 'etl', dbname: 'dev', dbClusterIdentifier: 'analytics', masterarn: MASTER_ARN });
    new RedshiftSecretRotation(stack, 'A', { target: RedshiftTarget.cluster('analytics'), secret: good, masterSecret: master });
    expect(warningsOf(stack, 'givenSecretFields')).toEqual([]);
    Template.fromStack(stack).hasResourceProperties('AWS::SecretsManager::Secret', {
      Tags: [{ Key: 'redshift-rotation:strategy', Value: 'ALTERNATING_USERS' }],
    });

    const otherCluster = make('OtherCluster', { engine: 'redshift', username: 'a', dbname: 'dev', dbClusterIdentifier: 'other' });
    expect(() => new RedshiftSecretRotation(stack, 'B', { target: RedshiftTarget.cluster('analytics'), secret: otherCluster }))
      .toThrow(/secret: its JSON does not match this rotation: dbClusterIdentifier is "other", not "analytics"/);
    const noMaster = make('NoMaster', { engine: 'redshift', username: 'b', dbname: 'dev', dbClusterIdentifier: 'analytics' });
    expect(() => new RedshiftSecretRotation(stack, 'C', { target: RedshiftTarget.cluster('analytics'), secret: noMaster, masterSecret: master }))
      .toThrow(/secret: .*masterarn is missing \(ALTERNATING_USERS needs it\)/);
    const withMaster = make('WithMaster', { engine: 'redshift', username: 'c', dbname: 'dev', dbClusterIdentifier: 'analytics', masterarn: MASTER_ARN });
    expect(() => new RedshiftSecretRotation(stack, 'D', { target: RedshiftTarget.cluster('analytics'), secret: withMaster, strategy: RotationStrategy.SINGLE_USER }))
      .toThrow(/secret: .*masterarn is set, but the strategy is SINGLE_USER/);
    const workgroup = make('Wg', { engine: 'redshift', username: 'd', dbname: 'dev', workgroupName: 'wg-one', dbClusterIdentifier: 'analytics' });
    expect(() => new RedshiftSecretRotation(stack, 'E', { target: RedshiftTarget.cluster('analytics'), secret: workgroup }))
      .toThrow(/secret: .*workgroupName is set, but the target is Redshift cluster analytics/);
  });

  test('a given secret of the app against a cluster named by a token: the token field is not compared, the literal ones are', () => {
    const stack = newStack();
    const clusterId = new cdk.CfnParameter(stack, 'ClusterId').valueAsString;
    const secret = new secretsmanager.Secret(stack, 'Given', {
      generateSecretString: { secretStringTemplate: JSON.stringify({ engine: 'redshift', username: 'etl', dbname: 'dev', dbClusterIdentifier: 'analytics' }), generateStringKey: 'password' },
    });
    expect(() => new RedshiftSecretRotation(stack, 'A', { target: RedshiftTarget.cluster(clusterId), secret })).not.toThrow();
    const other = new secretsmanager.Secret(stack, 'OtherKind', {
      generateSecretString: { secretStringTemplate: JSON.stringify({ engine: 'redshift', username: 'etl', dbname: 'dev', workgroupName: 'wg-one' }), generateStringKey: 'password' },
    });
    expect(() => new RedshiftSecretRotation(stack, 'B', { target: RedshiftTarget.cluster(clusterId), secret: other }))
      .toThrow(/secret: its JSON does not match this rotation: .*workgroupName is set/);
  });

  test('a given secret of the app whose JSON is not known: a warning says what it must hold', () => {
    const stack = newStack();
    const secret = new secretsmanager.Secret(stack, 'Existing');
    new RedshiftSecretRotation(stack, 'App', { target: RedshiftTarget.cluster('analytics'), secret });
    const warnings = warningsOf(stack, 'givenSecretFields');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('"dbClusterIdentifier": "analytics", no "masterarn"');
  });
});

describe('one rotation per secret', () => {
  test('the same secret of the app rotated twice fails, naming the first rotation', () => {
    const stack = newStack();
    const secret = new secretsmanager.Secret(stack, 'Existing');
    new RedshiftSecretRotation(stack, 'First', { target: RedshiftTarget.cluster('analytics'), secret });
    expect(() => new RedshiftSecretRotation(stack, 'Second', { target: RedshiftTarget.cluster('analytics'), secret }))
      .toThrow(/secret: TestStack\/Existing is already rotated by TestStack\/First/);
  });

  test('an imported secret imported twice under one name, in two stacks of the app, fails', () => {
    const stack = newStack();
    const other = new cdk.Stack(cdk.App.of(stack)!, 'Other', { env: { account: '123456789012', region: 'eu-west-1' } });
    new RedshiftSecretRotation(stack, 'First', { target: RedshiftTarget.cluster('analytics'), secret: secretsmanager.Secret.fromSecretNameV2(stack, 'S', 'redshift/app') });
    expect(() => new RedshiftSecretRotation(other, 'Second', {
      target: RedshiftTarget.cluster('analytics'), secret: secretsmanager.Secret.fromSecretNameV2(other, 'S', 'redshift/app'),
    })).toThrow(/secret: Other\/S is already rotated by TestStack\/First/);
  });

  test('a created master secret given again as the secret of another rotation fails', () => {
    const stack = newStack();
    const cluster = newCluster(stack);
    const first = new RedshiftSecretRotation(stack, 'Etl', { target: RedshiftTarget.fromCfnCluster(cluster), username: 'etl', masterUsername: 'admin' });
    expect(() => new RedshiftSecretRotation(stack, 'Admin', { target: RedshiftTarget.fromCfnCluster(cluster), secret: first.masterSecret! }))
      .toThrow(/secret: TestStack\/Etl\/MasterSecret is already rotated by TestStack\/Etl/);
  });

  test('two different imported secrets are fine', () => {
    const stack = newStack();
    new RedshiftSecretRotation(stack, 'A', { target: RedshiftTarget.cluster('analytics'), secret: secretsmanager.Secret.fromSecretNameV2(stack, 'S1', 'redshift/a') });
    new RedshiftSecretRotation(stack, 'B', { target: RedshiftTarget.cluster('analytics'), secret: secretsmanager.Secret.fromSecretNameV2(stack, 'S2', 'redshift/b') });
    Template.fromStack(stack).resourceCountIs('AWS::SecretsManager::RotationSchedule', 2);
  });
});
