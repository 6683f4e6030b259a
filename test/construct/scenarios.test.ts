import * as cdk from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import { assetHashSerializer, isolatedVpc, natVpc, newCluster, newServerless, newStack, rolePolicyJson } from './helpers';
import {
  RedshiftRotationFunction, RedshiftSecretRotation, RedshiftTarget, RotationNetwork, RotationSchedule, RotationStrategy,
} from '../../src';

expect.addSnapshotSerializer(assetHashSerializer);

const STRATEGY_TAG = 'redshift-rotation:strategy';
/** An ARN as the template writes it: the partition stays a reference. */
const arn = (rest: string) => ({ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, rest]] });
const MASTER_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:redshift/admin-AbCdEf';

describe('single user', () => {
  test('creates the secret, the shared function and a rotation schedule', () => {
    // GIVEN
    const stack = newStack();

    // WHEN
    const rotation = new RedshiftSecretRotation(stack, 'App', {
      target: RedshiftTarget.cluster('Analytics'),
      username: 'app_user',
    });

    // THEN
    const template = Template.fromStack(stack);
    expect(rotation.strategy).toBe(RotationStrategy.SINGLE_USER);
    template.hasResourceProperties('AWS::SecretsManager::Secret', {
      GenerateSecretString: {
        SecretStringTemplate: JSON.stringify({ engine: 'redshift', username: 'app_user', dbname: 'dev', dbClusterIdentifier: 'analytics' }),
        GenerateStringKey: 'password',
        ExcludeCharacters: '\'"\\/@ ',
        PasswordLength: 32,
        RequireEachIncludedType: true,
      },
      Tags: [{ Key: STRATEGY_TAG, Value: 'SINGLE_USER' }],
    });
    template.hasResourceProperties('AWS::SecretsManager::RotationSchedule', {
      SecretId: { Ref: Match.stringLikeRegexp('AppSecret') },
      RotationLambdaARN: { 'Fn::GetAtt': [Match.stringLikeRegexp('RedshiftRotationFunction'), 'Arn'] },
      RotationRules: { ScheduleExpression: 'rate(30 days)' },
    });
    template.resourceCountIs('AWS::Lambda::Function', 1);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Handler: 'index.handler',
      Architectures: ['arm64'],
      Environment: {
        Variables: {
          PASSWORD_LENGTH: '32',
          EXCLUDE_CHARACTERS: '',
          PROBE_SECRET_PREFIX: Match.stringLikeRegexp('^redshift-rotation-probe/[0-9a-f]{16}/$'),
          TEST_STATEMENTS: '[]',
          STATEMENT_TIMEOUT_MS: '60000',
        },
      },
    });
    template.hasResourceProperties('AWS::Lambda::Permission', {
      Principal: 'secretsmanager.amazonaws.com',
      SourceAccount: '123456789012',
    });
    template.resourceCountIs('AWS::SecretsManager::ResourcePolicy', 1);
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Sid: 'RotatedSecrets',
            Action: ['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue', 'secretsmanager:PutSecretValue', 'secretsmanager:UpdateSecretVersionStage',
              'secretsmanager:ListSecretVersionIds'],
            Resource: arn(':secretsmanager:eu-west-1:123456789012:secret:*'),
            Condition: { StringEquals: { 'secretsmanager:resource/AllowRotationLambdaArn': { 'Fn::GetAtt': [Match.anyValue(), 'Arn'] } } },
          }),
          Match.objectLike({
            Sid: 'CreateProbeSecrets',
            Action: ['secretsmanager:CreateSecret', 'secretsmanager:TagResource'],
            Resource: arn(Match.stringLikeRegexp('^:secretsmanager:eu-west-1:123456789012:secret:redshift-rotation-probe/[0-9a-f]{16}/\\*$') as any),
          }),
          Match.objectLike({ Sid: 'UseProbeSecrets', Action: ['secretsmanager:GetSecretValue', 'secretsmanager:DeleteSecret'] }),
          Match.objectLike({ Action: 'secretsmanager:GetRandomPassword', Resource: '*' }),
          Match.objectLike({
            Sid: 'OwnStatements',
            Condition: { StringEquals: { 'redshift-data:statement-owner-iam-userid': '${aws:userid}' } },
          }),
          Match.objectLike({
            Sid: 'RunStatements',
            Action: ['redshift-data:ExecuteStatement', 'redshift-data:BatchExecuteStatement'],
            Resource: arn(':redshift:eu-west-1:123456789012:cluster:analytics'),
          }),
        ]),
      },
    });
    expect(Template.fromStack(stack).toJSON()).toMatchSnapshot();
  });

  test('the function runs the newest Node.js runtime aws-cdk-lib knows, on arm64, unless overridden', () => {
    const newest = lambda.Runtime.ALL
      .filter((r) => /^nodejs\d+\.x$/.test(r.name))
      .map((r) => r.name)
      .sort((a, b) => Number(b.replace(/\D/g, '')) - Number(a.replace(/\D/g, '')))[0];
    const stack = newStack();
    new RedshiftSecretRotation(stack, 'App', { target: RedshiftTarget.cluster('analytics'), username: 'app_user' });
    Template.fromStack(stack).hasResourceProperties('AWS::Lambda::Function', { Runtime: newest, Architectures: ['arm64'] });

    const other = newStack('Other');
    new RedshiftRotationFunction(other, 'Fn', { runtime: lambda.Runtime.NODEJS_20_X });
    Template.fromStack(other).hasResourceProperties('AWS::Lambda::Function', { Runtime: 'nodejs20.x' });
  });

  test('the schedule waits for the function, its policy and its invoke permission', () => {
    const stack = newStack();
    new RedshiftSecretRotation(stack, 'App', { target: RedshiftTarget.cluster('analytics'), username: 'app_user' });
    const schedule = Object.values(Template.fromStack(stack).findResources('AWS::SecretsManager::RotationSchedule'))[0];
    const dependsOn: string[] = schedule.DependsOn;
    expect(dependsOn.some((d) => /Policy/.test(d))).toBe(true);
    expect(dependsOn.some((d) => /InvokeBySecretsManager/.test(d))).toBe(true);
  });

  test('an existing secret is used as is, and tagged with the strategy', () => {
    const stack = newStack();
    const secret = new secretsmanager.Secret(stack, 'Existing');
    const rotation = new RedshiftSecretRotation(stack, 'App', { target: RedshiftTarget.cluster('analytics'), secret });
    expect(rotation.secret).toBe(secret);
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::SecretsManager::Secret', 1);
    template.hasResourceProperties('AWS::SecretsManager::Secret', { Tags: [{ Key: STRATEGY_TAG, Value: 'SINGLE_USER' }] });
    template.hasResourceProperties('AWS::SecretsManager::RotationSchedule', { SecretId: { Ref: Match.stringLikeRegexp('Existing') } });
  });

  test('grantRead gives the secret to a consumer', () => {
    const stack = newStack();
    const rotation = new RedshiftSecretRotation(stack, 'App', { target: RedshiftTarget.cluster('analytics'), username: 'app_user' });
    const role = new iam.Role(stack, 'Consumer', { assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com') });
    rotation.grantRead(role);
    Template.fromStack(stack).hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: Match.stringLikeRegexp('Consumer') }],
      PolicyDocument: { Statement: [Match.objectLike({ Action: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'] })] },
    });
  });
});

describe('retention', () => {
  const DENY_ROOT_DELETE = {
    Effect: 'Deny',
    Action: 'secretsmanager:DeleteSecret',
    Principal: { AWS: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::123456789012:root']] } },
    Resource: '*',
  };

  test('the created secret and the created master (the admin password) are retained, and deny deletion to the account root', () => {
    // GIVEN
    const stack = newStack();
    const cluster = newCluster(stack);

    // WHEN
    new RedshiftSecretRotation(stack, 'Etl', { target: RedshiftTarget.fromCfnCluster(cluster), username: 'etl', masterUsername: 'admin' });

    // THEN
    const template = Template.fromStack(stack);
    const byId = template.findResources('AWS::SecretsManager::Secret');
    for (const name of ['EtlSecret', 'EtlMasterSecret']) {
      const ids = Object.keys(byId).filter((id) => new RegExp(`^${name}[0-9A-F]{8}$`).test(id));
      expect(ids).toHaveLength(1);
      expect(byId[ids[0]].DeletionPolicy).toBe('Retain');
      expect(byId[ids[0]].UpdateReplacePolicy).toBe('Retain');
      template.hasResourceProperties('AWS::SecretsManager::ResourcePolicy', {
        SecretId: { Ref: Match.stringLikeRegexp(`^${name}`) },
        ResourcePolicy: { Statement: [DENY_ROOT_DELETE] },
      });
    }
    const secrets = Object.values(template.findResources('AWS::SecretsManager::Secret'));
    expect(secrets).toHaveLength(2);
    expect(secrets.map((r) => r.DeletionPolicy)).toEqual(['Retain', 'Retain']);
  });

  test('removalPolicy: DESTROY deletes the created secrets with the stack (the deny stays)', () => {
    const stack = newStack();
    const cluster = newCluster(stack);
    new RedshiftSecretRotation(stack, 'Etl', {
      target: RedshiftTarget.fromCfnCluster(cluster), username: 'etl', masterUsername: 'admin', removalPolicy: cdk.RemovalPolicy.DESTROY,
    });
    const template = Template.fromStack(stack);
    const secrets = Object.values(template.findResources('AWS::SecretsManager::Secret'));
    expect(secrets.map((r) => r.DeletionPolicy)).toEqual(['Delete', 'Delete']);
    template.resourceCountIs('AWS::SecretsManager::ResourcePolicy', 2);
  });

  test('a given secret of the app and a shared given master deny deletion once each; its removal policy is the user\'s', () => {
    // GIVEN
    const stack = newStack();
    const master = new secretsmanager.Secret(stack, 'Admin');
    const existing = new secretsmanager.Secret(stack, 'Existing');

    // WHEN
    new RedshiftSecretRotation(stack, 'A', { target: RedshiftTarget.cluster('analytics'), secret: existing, masterSecret: master });
    new RedshiftSecretRotation(stack, 'B', { target: RedshiftTarget.cluster('analytics'), username: 'b', masterSecret: master });

    // THEN one resource policy per secret, each with one statement
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::SecretsManager::ResourcePolicy', 3);
    for (const name of ['Admin', 'Existing']) {
      template.hasResourceProperties('AWS::SecretsManager::ResourcePolicy', {
        SecretId: { Ref: Match.stringLikeRegexp(`^${name}`) },
        ResourcePolicy: { Statement: [DENY_ROOT_DELETE] },
      });
    }
    // the given secrets keep the removal policy their owner chose (aws-cdk-lib's default here)
    const byId = template.findResources('AWS::SecretsManager::Secret');
    const given = Object.entries(byId).filter(([id]) => /^(Admin|Existing)[0-9A-F]{8}$/.test(id)).map(([, r]) => r.DeletionPolicy);
    expect(given).toEqual(['Delete', 'Delete']);
  });

  test('an imported secret gets no resource policy (this app does not manage it)', () => {
    const stack = newStack();
    const secret = secretsmanager.Secret.fromSecretNameV2(stack, 'Imported', 'redshift/app');
    new RedshiftSecretRotation(stack, 'App', { target: RedshiftTarget.cluster('analytics'), secret });
    Template.fromStack(stack).resourceCountIs('AWS::SecretsManager::ResourcePolicy', 0);
  });
});

describe('alternating users', () => {
  test('with a given master secret', () => {
    // GIVEN
    const stack = newStack();
    const master = secretsmanager.Secret.fromSecretCompleteArn(stack, 'Master', MASTER_ARN);

    // WHEN
    const rotation = new RedshiftSecretRotation(stack, 'Etl', {
      target: RedshiftTarget.cluster('analytics'),
      database: 'warehouse',
      username: 'etl',
      masterSecret: master,
    });

    // THEN
    expect(rotation.strategy).toBe(RotationStrategy.ALTERNATING_USERS);
    expect(rotation.masterSecret).toBe(master);
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::SecretsManager::Secret', {
      GenerateSecretString: Match.objectLike({
        SecretStringTemplate: JSON.stringify({
          engine: 'redshift', username: 'etl', dbname: 'warehouse', dbClusterIdentifier: 'analytics', masterarn: MASTER_ARN,
        }),
      }),
      Tags: [{ Key: 'redshift-rotation:create-user', Value: 'true' }, { Key: STRATEGY_TAG, Value: 'ALTERNATING_USERS' }],
    });
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([Match.objectLike({
          Sid: 'MasterSecrets',
          Action: ['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue'],
          Resource: MASTER_ARN,
        })]),
      },
    });
    template.resourceCountIs('AWS::SecretsManager::RotationSchedule', 1);
    expect(template.toJSON()).toMatchSnapshot();
  });

  test('with a master created for a CfnCluster', () => {
    // GIVEN
    const stack = newStack();
    const cluster = newCluster(stack);

    // WHEN
    const rotation = new RedshiftSecretRotation(stack, 'Etl', {
      target: RedshiftTarget.fromCfnCluster(cluster),
      username: 'etl',
      masterUsername: 'admin',
    });

    // THEN
    const template = Template.fromStack(stack);
    expect(rotation.masterSecret).toBeDefined();
    template.hasResourceProperties('AWS::Redshift::Cluster', {
      MasterUsername: 'admin',
      MasterUserPassword: {
        'Fn::Join': ['', ['{{resolve:secretsmanager:', { Ref: Match.stringLikeRegexp('EtlMasterSecret') }, ':SecretString:password::}}']],
      },
    });
    template.hasResourceProperties('AWS::SecretsManager::Secret', {
      GenerateSecretString: Match.objectLike({
        SecretStringTemplate: JSON.stringify({ engine: 'redshift', username: 'admin', dbname: 'dev', dbClusterIdentifier: 'analytics' }),
      }),
      Tags: [{ Key: STRATEGY_TAG, Value: 'SINGLE_USER' }],
    });
    template.hasResourceProperties('AWS::SecretsManager::Secret', {
      GenerateSecretString: Match.objectLike({
        SecretStringTemplate: {
          'Fn::Join': ['', [
            '{"engine":"redshift","username":"etl","dbname":"dev","dbClusterIdentifier":"analytics","host":"',
            { 'Fn::GetAtt': ['Cluster', 'Endpoint.Address'] },
            '","port":',
            { 'Fn::GetAtt': ['Cluster', 'Endpoint.Port'] },
            ',"masterarn":"',
            { Ref: Match.stringLikeRegexp('EtlMasterSecret') },
            '"}',
          ]],
        },
      }),
      Tags: [{ Key: 'redshift-rotation:create-user', Value: 'true' }, { Key: STRATEGY_TAG, Value: 'ALTERNATING_USERS' }],
    });
    // the master is rotated too (single user), by the same function, after the cluster exists
    template.resourceCountIs('AWS::SecretsManager::RotationSchedule', 2);
    template.resourceCountIs('AWS::Lambda::Function', 1);
    template.hasResource('AWS::SecretsManager::RotationSchedule', {
      Properties: { SecretId: { Ref: Match.stringLikeRegexp('EtlMasterSecret') } },
      DependsOn: Match.arrayWith(['Cluster']),
    });
    template.hasResource('AWS::SecretsManager::RotationSchedule', {
      Properties: { SecretId: { Ref: Match.stringLikeRegexp('EtlSecret') } },
      DependsOn: Match.arrayWith([Match.stringLikeRegexp('EtlMasterRotationSchedule')]),
    });
    // a master rotated by this function needs no grant of its own
    expect(JSON.stringify(template.findResources('AWS::IAM::Policy'))).not.toContain('MasterSecrets');
    expect(template.toJSON()).toMatchSnapshot();
  });

  test('with a master created for a Serverless namespace', () => {
    // GIVEN
    const stack = newStack();
    const { workgroup } = newServerless(stack);

    // WHEN
    new RedshiftSecretRotation(stack, 'Etl', {
      target: RedshiftTarget.fromCfnWorkgroup(workgroup),
      username: 'etl',
      masterUsername: 'admin',
    });

    // THEN
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::RedshiftServerless::Namespace', {
      AdminUsername: 'admin',
      AdminUserPassword: {
        'Fn::Join': ['', ['{{resolve:secretsmanager:', { Ref: Match.stringLikeRegexp('EtlMasterSecret') }, ':SecretString:password::}}']],
      },
    });
    template.hasResourceProperties('AWS::SecretsManager::Secret', {
      GenerateSecretString: Match.objectLike({
        SecretStringTemplate: JSON.stringify({ engine: 'redshift', username: 'admin', dbname: 'dev', workgroupName: 'analytics-wg' }),
      }),
    });
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([Match.objectLike({
          Sid: 'RunStatements',
          Resource: { 'Fn::GetAtt': ['Workgroup', 'Workgroup.WorkgroupArn'] },
        })]),
      },
    });
    expect(template.toJSON()).toMatchSnapshot();
  });

  test('the namespace can be given when it cannot be found', () => {
    const stack = newStack();
    const { namespace, workgroup } = newServerless(stack);
    workgroup.namespaceName = 'renamed-elsewhere';
    new RedshiftSecretRotation(stack, 'Etl', {
      target: RedshiftTarget.fromCfnWorkgroup(workgroup, { namespace }),
      username: 'etl',
      masterUsername: 'admin',
    });
    Template.fromStack(stack).hasResourceProperties('AWS::RedshiftServerless::Namespace', { AdminUsername: 'admin' });
  });
});

describe('Serverless workgroup', () => {
  test('by name: secret names the workgroup, and a warning says the Data API permission spans every workgroup', () => {
    const stack = newStack();
    new RedshiftSecretRotation(stack, 'App', { target: RedshiftTarget.workgroup('analytics-wg'), username: 'app_user' });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::SecretsManager::Secret', {
      GenerateSecretString: Match.objectLike({
        SecretStringTemplate: JSON.stringify({ engine: 'redshift', username: 'app_user', dbname: 'dev', workgroupName: 'analytics-wg' }),
      }),
    });
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([Match.objectLike({
          Sid: 'RunStatements',
          Resource: arn(':redshift-serverless:eu-west-1:123456789012:workgroup/*'),
        })]),
      },
    });
    Annotations.fromStack(stack).hasWarning('/TestStack/App', Match.stringLikeRegexp('workgroupArn'));
  });

  test('with its ARN: the permission names that workgroup only, no warning about it', () => {
    const stack = newStack();
    const workgroupArn = 'arn:aws:redshift-serverless:eu-west-1:123456789012:workgroup/0c1b2a3d-1111-2222-3333-444455556666';
    new RedshiftSecretRotation(stack, 'App', {
      target: RedshiftTarget.workgroup('analytics-wg', { workgroupArn }),
      username: 'app_user',
    });
    Template.fromStack(stack).hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Sid: 'RunStatements', Resource: workgroupArn })]) },
    });
    // only the warning that the user must be created by hand (no master): none about the workgroup
    const warnings = Annotations.fromStack(stack).findWarning('*', Match.anyValue()).map((w) => String(w.entry.data));
    expect(warnings.map((w) => /\[ack: ([^\]]+)\]/.exec(w)?.[1])).toEqual(['cdk-redshift-rotation:createUserManually']);
  });

  test('a CfnWorkgroup target without a master', () => {
    const stack = newStack();
    const { workgroup } = newServerless(stack);
    new RedshiftSecretRotation(stack, 'App', { target: RedshiftTarget.fromCfnWorkgroup(workgroup), username: 'app_user' });
    const template = Template.fromStack(stack);
    template.hasResource('AWS::SecretsManager::RotationSchedule', { DependsOn: Match.arrayWith(['Workgroup']) });
    expect(JSON.stringify(template.findResources('AWS::RedshiftServerless::Namespace'))).not.toContain('AdminUserPassword');
  });
});

describe('network placement', () => {
  test('no VPC by default: no VpcConfig, and connections throws', () => {
    const stack = newStack();
    const rotation = new RedshiftSecretRotation(stack, 'App', { target: RedshiftTarget.cluster('analytics'), username: 'app_user' });
    const fn = Template.fromStack(stack).findResources('AWS::Lambda::Function');
    expect(Object.values(fn)[0].Properties.VpcConfig).toBeUndefined();
    Template.fromStack(stack).resourceCountIs('AWS::EC2::SecurityGroup', 0);
    expect(() => rotation.connections).toThrow(/not in a VPC/);
  });

  test('isolated VPC: interface endpoints without private DNS, reached through AWS_ENDPOINT_URL_*, 443 open from the function only', () => {
    // GIVEN
    const stack = newStack();
    const vpc = isolatedVpc(stack);

    // WHEN
    const rotation = new RedshiftSecretRotation(stack, 'App', { target: RedshiftTarget.cluster('analytics'), username: 'app_user', vpc });

    // THEN
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::EC2::VPCEndpoint', 2);
    for (const service of ['secretsmanager', 'redshift-data']) {
      template.hasResourceProperties('AWS::EC2::VPCEndpoint', {
        ServiceName: `com.amazonaws.eu-west-1.${service}`,
        VpcEndpointType: 'Interface',
        PrivateDnsEnabled: false,
      });
    }
    // the function reaches each endpoint by the endpoint's own (regional, first) DNS name
    const endpointUrl = (endpoint: string) => ({
      'Fn::Join': ['', ['https://', {
        'Fn::Select': [1, { 'Fn::Split': [':', { 'Fn::Select': [0, { 'Fn::GetAtt': [Match.stringLikeRegexp(`^RedshiftRotationEndpoints.*${endpoint}`), 'DnsEntries'] }] }] }],
      }]],
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          AWS_ENDPOINT_URL_SECRETS_MANAGER: endpointUrl('SecretsManager'),
          AWS_ENDPOINT_URL_REDSHIFT_DATA: endpointUrl('RedshiftData'),
        }),
      },
    });
    // no ingress from anywhere but the function's security group
    expect(JSON.stringify(template.findResources('AWS::EC2::SecurityGroup'))).not.toContain('CidrIp\":\"10.');
    template.hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
      IpProtocol: 'tcp',
      FromPort: 443,
      ToPort: 443,
      SourceSecurityGroupId: { 'Fn::GetAtt': [Match.stringLikeRegexp('RedshiftRotationFunction.*SecurityGroup'), 'GroupId'] },
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      VpcConfig: { SubnetIds: Match.anyValue(), SecurityGroupIds: [{ 'Fn::GetAtt': [Match.anyValue(), 'GroupId'] }] },
    });
    // the function's security group allows outbound HTTPS to the endpoints only
    template.hasResourceProperties('AWS::EC2::SecurityGroupEgress', { FromPort: 443, ToPort: 443, DestinationSecurityGroupId: Match.anyValue() });
    const sgs = template.findResources('AWS::EC2::SecurityGroup');
    expect(JSON.stringify(sgs)).not.toContain('0.0.0.0/0');
    template.hasResourceProperties('AWS::IAM::Role', {
      Policies: Match.arrayWith([Match.objectLike({
        PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Action: Match.arrayWith(['ec2:CreateNetworkInterface']) })]) },
      })]),
    });
    expect(rotation.connections.securityGroups).toHaveLength(1);
    expect(template.toJSON()).toMatchSnapshot();
  });

  test('each endpoint policy admits only the role\'s actions for its service, and only the rotation roles', () => {
    // GIVEN
    const stack = newStack();
    const vpc = isolatedVpc(stack);

    // WHEN
    new RedshiftSecretRotation(stack, 'App', { target: RedshiftTarget.cluster('analytics'), username: 'app_user', vpc });

    // THEN
    const template = Template.fromStack(stack);
    const policies = Object.values(template.findResources('AWS::EC2::VPCEndpoint')).map((e) => e.Properties);
    const roleIds = Object.keys(template.findResources('AWS::IAM::Role'));
    expect(roleIds).toHaveLength(1);
    const roleId = roleIds[0];
    const roleActions: string[] = JSON.parse(rolePolicyJson(stack))
      .flat()
      .flatMap((doc: any) => (doc.PolicyDocument ?? doc).Statement)
      .flatMap((st: any) => (Array.isArray(st.Action) ? st.Action : [st.Action]));
    for (const [service, prefix] of [['secretsmanager', 'secretsmanager:'], ['redshift-data', 'redshift-data:']]) {
      const endpoint = policies.find((p) => String(p.ServiceName).endsWith(service))!;
      const statements = endpoint.PolicyDocument.Statement;
      expect(statements).toHaveLength(1);
      expect(statements[0].Effect).toBe('Allow');
      expect(statements[0].Condition).toEqual({ ArnEquals: { 'aws:PrincipalArn': [{ 'Fn::GetAtt': [roleId, 'Arn'] }] } });
      const expected = [...new Set(roleActions.filter((a) => a.startsWith(prefix)))].sort();
      expect(expected.length).toBeGreaterThan(1);
      expect(statements[0].Action).toEqual(expected);
    }
    const sm = policies.find((p) => String(p.ServiceName).endsWith('secretsmanager'))!;
    expect(sm.PolicyDocument.Statement[0].Action).not.toContain('secretsmanager:*');
    expect(sm.PolicyDocument.Statement[0].Action).toContain('secretsmanager:PutSecretValue');
  });

  test('interfaceEndpoints({ privateDns: true }): private DNS, 443 open to the VPC CIDR, no endpoint variables', () => {
    // GIVEN
    const stack = newStack();
    const vpc = isolatedVpc(stack);

    // WHEN
    new RedshiftSecretRotation(stack, 'App', {
      target: RedshiftTarget.cluster('analytics'), username: 'app_user', vpc, network: RotationNetwork.interfaceEndpoints({ privateDns: true }),
    });

    // THEN
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::EC2::VPCEndpoint', 2);
    template.allResourcesProperties('AWS::EC2::VPCEndpoint', { PrivateDnsEnabled: true });
    template.hasResourceProperties('AWS::EC2::SecurityGroup', {
      GroupDescription: Match.stringLikeRegexp('private DNS'),
      SecurityGroupIngress: [Match.objectLike({ CidrIp: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Vpc'), 'CidrBlock'] }, FromPort: 443, ToPort: 443 })],
    });
    const variables = Object.values(template.findResources('AWS::Lambda::Function'))[0].Properties.Environment.Variables;
    expect(Object.keys(variables).filter((k) => k.startsWith('AWS_ENDPOINT_URL'))).toEqual([]);
    // the policy still admits only rotation actions, but from any principal of the VPC
    const sm = Object.values(template.findResources('AWS::EC2::VPCEndpoint')).find((e) => String(e.Properties.ServiceName).endsWith('secretsmanager'))!;
    expect(sm.Properties.PolicyDocument.Statement[0].Condition).toBeUndefined();
    expect(sm.Properties.PolicyDocument.Statement[0].Action).toContain('secretsmanager:GetSecretValue');
  });

  test('an endpoint for the service already in the VPC: a warning with a stable id', () => {
    // GIVEN a VPC with a Secrets Manager endpoint of the app (private DNS, the CDK default)
    const stack = newStack();
    const vpc = isolatedVpc(stack);
    vpc.addInterfaceEndpoint('Sm', { service: ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER });

    // WHEN
    new RedshiftSecretRotation(stack, 'App', { target: RedshiftTarget.cluster('analytics'), username: 'app_user', vpc });

    // THEN
    const warnings = Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('already has a secretsmanager endpoint'));
    expect(warnings).toHaveLength(1);
    expect(String(warnings[0].entry.data)).toMatch(/\[ack: cdk-redshift-rotation:endpointExists\]/);
    expect(String(warnings[0].entry.data)).toMatch(/\(TestStack\/Vpc\/Sm\)/);
    expect(Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('redshift-data endpoint'))).toHaveLength(0);
  });

  test('a second private-DNS endpoint for the service in the VPC fails synth, naming network', () => {
    // GIVEN
    const stack = newStack();
    const vpc = isolatedVpc(stack);
    vpc.addInterfaceEndpoint('Data', { service: ec2.InterfaceVpcEndpointAwsService.REDSHIFT_DATA });

    // WHEN
    new RedshiftSecretRotation(stack, 'App', {
      target: RedshiftTarget.cluster('analytics'), username: 'app_user', vpc, network: RotationNetwork.interfaceEndpoints({ privateDns: true }),
    });

    // THEN
    expect(() => cdk.App.of(stack)!.synth()).toThrow(/network: the VPC already has a redshift-data endpoint with private DNS \(TestStack\/Vpc\/Data\)/);
  });

  test('NAT gateway: no endpoints, outbound HTTPS only', () => {
    const stack = newStack();
    const vpc = natVpc(stack);
    new RedshiftSecretRotation(stack, 'App', {
      target: RedshiftTarget.cluster('analytics'),
      username: 'app_user',
      vpc,
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      network: RotationNetwork.natGateway(),
    });
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::EC2::VPCEndpoint', 0);
    template.hasResourceProperties('AWS::EC2::SecurityGroup', {
      GroupDescription: Match.stringLikeRegexp('Redshift rotation function'),
      SecurityGroupEgress: [{ CidrIp: '0.0.0.0/0', IpProtocol: 'tcp', FromPort: 443, ToPort: 443, Description: Match.anyValue() }],
    });
    expect(template.toJSON()).toMatchSnapshot();
  });

  test('subnets with egress default to the NAT gateway', () => {
    const stack = newStack();
    new RedshiftSecretRotation(stack, 'App', { target: RedshiftTarget.cluster('analytics'), username: 'app_user', vpc: natVpc(stack) });
    Template.fromStack(stack).resourceCountIs('AWS::EC2::VPCEndpoint', 0);
  });

  test('existing endpoints: the function reaches them on 443, nothing new is created', () => {
    const stack = newStack();
    const vpc = isolatedVpc(stack);
    const sm = vpc.addInterfaceEndpoint('Sm', { service: ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER, open: false });
    const data = vpc.addInterfaceEndpoint('Data', { service: ec2.InterfaceVpcEndpointAwsService.REDSHIFT_DATA, open: false });
    new RedshiftSecretRotation(stack, 'App', {
      target: RedshiftTarget.cluster('analytics'),
      username: 'app_user',
      vpc,
      network: RotationNetwork.existingEndpoints(sm, data),
    });
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::EC2::VPCEndpoint', 2);
    for (const name of ['VpcSm', 'VpcData']) {
      template.hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
        FromPort: 443,
        GroupId: { 'Fn::GetAtt': [Match.stringLikeRegexp(`${name}SecurityGroup`), 'GroupId'] },
        SourceSecurityGroupId: { 'Fn::GetAtt': [Match.stringLikeRegexp('RedshiftRotationFunction'), 'GroupId'] },
      });
    }
  });

  test('given security groups are used, and two placements get two functions but one pair of endpoints', () => {
    const stack = newStack();
    const vpc = isolatedVpc(stack);
    const sg = new ec2.SecurityGroup(stack, 'Sg', { vpc, allowAllOutbound: false });
    new RedshiftSecretRotation(stack, 'A', { target: RedshiftTarget.cluster('analytics'), username: 'a', vpc, securityGroups: [sg] });
    new RedshiftSecretRotation(stack, 'B', { target: RedshiftTarget.cluster('analytics'), username: 'b', vpc });
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::Lambda::Function', 2);
    template.resourceCountIs('AWS::EC2::VPCEndpoint', 2);
    template.hasResourceProperties('AWS::Lambda::Function', {
      VpcConfig: Match.objectLike({ SecurityGroupIds: [{ 'Fn::GetAtt': [Match.stringLikeRegexp('^Sg'), 'GroupId'] }] }),
    });
  });
});

describe('sharing a function', () => {
  test('many secrets share one function, one role, one invoke permission', () => {
    const stack = newStack();
    for (let i = 0; i < 20; i++) {
      new RedshiftSecretRotation(stack, `S${i}`, { target: RedshiftTarget.cluster('analytics'), username: `user_${i}` });
    }
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::Lambda::Function', 1);
    template.resourceCountIs('AWS::Lambda::Permission', 1);
    template.resourceCountIs('AWS::IAM::Role', 1);
    template.resourceCountIs('AWS::IAM::Policy', 1);
    template.resourceCountIs('AWS::SecretsManager::RotationSchedule', 20);
  });

  test('an explicit function is shared across constructs', () => {
    const stack = newStack();
    const fn = new RedshiftRotationFunction(stack, 'Rotator', { passwordLength: 40 });
    new RedshiftSecretRotation(stack, 'A', { target: RedshiftTarget.cluster('analytics'), username: 'a', rotationFunction: fn });
    new RedshiftSecretRotation(stack, 'B', { target: RedshiftTarget.workgroup('wg-one'), username: 'b', rotationFunction: fn });
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::Lambda::Function', 1);
    template.hasResourceProperties('AWS::SecretsManager::Secret', { GenerateSecretString: Match.objectLike({ PasswordLength: 40 }) });
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([Match.objectLike({
          Sid: 'RunStatements',
          Resource: [arn(':redshift:eu-west-1:123456789012:cluster:analytics'), arn(':redshift-serverless:eu-west-1:123456789012:workgroup/*')],
        })]),
      },
    });
  });

  test('an imported function (fromFunctionArn): no Lambda in this stack, the schedule names its ARN', () => {
    const stack = newStack();
    const functionArn = 'arn:aws:lambda:eu-west-1:123456789012:function:redshift-rotation';
    const fn = RedshiftRotationFunction.fromFunctionArn(stack, 'Shared', functionArn);
    const rotation = new RedshiftSecretRotation(stack, 'App', { target: RedshiftTarget.cluster('analytics'), username: 'app_user', rotationFunction: fn });
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::Lambda::Function', 0);
    template.resourceCountIs('AWS::IAM::Policy', 0);
    template.hasResourceProperties('AWS::SecretsManager::RotationSchedule', { RotationLambdaARN: functionArn });
    expect(rotation.rotationFunction).toBe(fn);
    expect(() => rotation.connections).toThrow(/imported/);
  });

  test('test statements reach the function; other settings get their own shared function', () => {
    const stack = newStack();
    new RedshiftSecretRotation(stack, 'Plain', { target: RedshiftTarget.cluster('analytics'), username: 'plain' });
    new RedshiftSecretRotation(stack, 'Checked', {
      target: RedshiftTarget.cluster('analytics'),
      username: 'reporting',
      testStatements: ['SELECT count(*) FROM sales.orders'],
    });
    new RedshiftSecretRotation(stack, 'Checked2', {
      target: RedshiftTarget.cluster('analytics'),
      username: 'reporting2',
      testStatements: ['SELECT count(*) FROM sales.orders'],
    });
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::Lambda::Function', 2);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ TEST_STATEMENTS: '["SELECT count(*) FROM sales.orders"]' }) },
    });
  });
});

describe('options', () => {
  test('a KMS key encrypts the secret; the function may use it only through Secrets Manager', () => {
    const stack = newStack();
    const key = new kms.Key(stack, 'Key', { enableKeyRotation: true });
    new RedshiftSecretRotation(stack, 'App', { target: RedshiftTarget.cluster('analytics'), username: 'app_user', encryptionKey: key });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::SecretsManager::Secret', { KmsKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Key'), 'Arn'] } });
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([Match.objectLike({
          Sid: 'SecretsKeys',
          Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
          Resource: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Key'), 'Arn'] },
          Condition: { StringEquals: { 'kms:ViaService': { 'Fn::Join': ['', ['secretsmanager.eu-west-1.', { Ref: 'AWS::URLSuffix' }]] } } },
        })]),
      },
    });
  });

  test('logGroupEncryptionKey: the log group is encrypted with the key, whose policy lets CloudWatch Logs of this account and region use it', () => {
    // GIVEN
    const stack = newStack();
    const key = new kms.Key(stack, 'LogKey', { enableKeyRotation: true });

    // WHEN (through the shared function options)
    new RedshiftSecretRotation(stack, 'App', { target: RedshiftTarget.cluster('analytics'), username: 'app_user', logGroupEncryptionKey: key });
    new RedshiftSecretRotation(stack, 'Other', { target: RedshiftTarget.cluster('analytics'), username: 'other' });

    // THEN
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::Lambda::Function', 2);
    template.resourceCountIs('AWS::Logs::LogGroup', 2);
    template.hasResourceProperties('AWS::Logs::LogGroup', { KmsKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^LogKey'), 'Arn'] } });
    expect(Object.values(template.findResources('AWS::Logs::LogGroup')).filter((g) => g.Properties.KmsKeyId === undefined)).toHaveLength(1);
    template.hasResourceProperties('AWS::KMS::Key', {
      KeyPolicy: {
        Statement: Match.arrayWith([{
          Sid: 'CloudWatchLogsOfRedshiftRotation',
          Effect: 'Allow',
          Principal: { Service: 'logs.eu-west-1.amazonaws.com' },
          Action: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
          Resource: '*',
          Condition: { ArnLike: { 'kms:EncryptionContext:aws:logs:arn': arn(':logs:eu-west-1:123456789012:log-group:*') } },
        }]),
      },
    });
    Annotations.fromStack(stack).hasNoWarning('*', Match.stringLikeRegexp('logGroupEncryptionKey'));
  });

  test('logGroupEncryptionKey on a RedshiftRotationFunction; an imported key gets a warning with what to add to its policy', () => {
    const stack = newStack();
    const key = kms.Key.fromKeyArn(stack, 'Imported', 'arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555');
    new RedshiftRotationFunction(stack, 'Fn', { logGroupEncryptionKey: key });
    Template.fromStack(stack).hasResourceProperties('AWS::Logs::LogGroup', {
      KmsKeyId: 'arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555',
    });
    const warnings = Annotations.fromStack(stack).findWarning('/TestStack/Fn', Match.stringLikeRegexp('logGroupEncryptionKey'));
    expect(warnings).toHaveLength(1);
    expect(String(warnings[0].entry.data)).toMatch(/logs\.eu-west-1\.amazonaws\.com.*log-group:\*.*\[ack: cdk-redshift-rotation:logKeyPolicy\]/);
  });

  test('permissions boundary: as a function prop, or applied to the stack', () => {
    const stack = newStack();
    const boundary = iam.ManagedPolicy.fromManagedPolicyName(stack, 'Boundary', 'DeveloperBoundary');
    const fn = new RedshiftRotationFunction(stack, 'Rotator', { permissionsBoundary: boundary });
    new RedshiftSecretRotation(stack, 'App', { target: RedshiftTarget.cluster('analytics'), username: 'app_user', rotationFunction: fn });
    Template.fromStack(stack).hasResourceProperties('AWS::IAM::Role', {
      PermissionsBoundary: { 'Fn::Join': ['', Match.arrayWith([Match.stringLikeRegexp(':policy/DeveloperBoundary')])] },
    });

    const other = newStack('Other');
    iam.PermissionsBoundary.of(other).apply(iam.ManagedPolicy.fromManagedPolicyName(other, 'B', 'OrgBoundary'));
    new RedshiftSecretRotation(other, 'App', { target: RedshiftTarget.cluster('analytics'), username: 'app_user' });
    Template.fromStack(other).hasResourceProperties('AWS::IAM::Role', {
      PermissionsBoundary: { 'Fn::Join': ['', Match.arrayWith([Match.stringLikeRegexp(':policy/OrgBoundary')])] },
    });
  });

  test('cron schedule with a rotation window, not rotated on update', () => {
    const stack = newStack();
    new RedshiftSecretRotation(stack, 'App', {
      target: RedshiftTarget.cluster('analytics'),
      username: 'app_user',
      schedule: RotationSchedule.cron({ hour: '3', weekDay: 'SUN' }),
      rotationWindow: cdk.Duration.hours(2),
      rotateImmediatelyOnUpdate: false,
    });
    Template.fromStack(stack).hasResourceProperties('AWS::SecretsManager::RotationSchedule', {
      RotationRules: { ScheduleExpression: 'cron(0 3 ? * SUN *)', Duration: '2h' },
      RotateImmediatelyOnUpdate: false,
    });
  });

  test.each([
    [cdk.Duration.hours(4), 'rate(4 hours)'],
    [cdk.Duration.hours(36), 'rate(36 hours)'],
    [cdk.Duration.days(7), 'rate(7 days)'],
    [cdk.Duration.days(1000), 'rate(1000 days)'],
  ])('automaticallyAfter %s becomes %s', (after, expression) => {
    const stack = newStack();
    new RedshiftSecretRotation(stack, 'App', { target: RedshiftTarget.cluster('analytics'), username: 'app_user', automaticallyAfter: after });
    Template.fromStack(stack).hasResourceProperties('AWS::SecretsManager::RotationSchedule', { RotationRules: { ScheduleExpression: expression } });
  });

  test('rate and expression schedules', () => {
    expect(RotationSchedule.rate(cdk.Duration.hours(12)).expressionString).toBe('rate(12 hours)');
    expect(RotationSchedule.expression('cron(0 */6 * * ? *)').expressionString).toBe('cron(0 */6 * * ? *)');
    expect(RotationSchedule.expression('rate(10 days)').isRate).toBe(true);
  });

  test('password settings reach the secret and the function', () => {
    const stack = newStack();
    new RedshiftSecretRotation(stack, 'App', {
      target: RedshiftTarget.cluster('analytics'),
      username: 'app_user',
      passwordLength: 48,
      excludeCharacters: '%&',
    });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::SecretsManager::Secret', {
      GenerateSecretString: Match.objectLike({ PasswordLength: 48, ExcludeCharacters: '\'"\\/@ %&' }),
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ PASSWORD_LENGTH: '48', EXCLUDE_CHARACTERS: '%&' }) },
    });
  });
});

describe('alerting', () => {
  test('alarmTopic: an EventBridge rule on RotationFailed for the secret and its created master', () => {
    // GIVEN
    const stack = newStack();
    const topic = new sns.Topic(stack, 'Alerts');
    const cluster = newCluster(stack);

    // WHEN
    new RedshiftSecretRotation(stack, 'Etl', {
      target: RedshiftTarget.fromCfnCluster(cluster),
      username: 'etl',
      masterUsername: 'admin',
      alarmTopic: topic,
    });

    // THEN
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        'source': ['aws.secretsmanager'],
        'detail-type': ['AWS Service Event via CloudTrail'],
        'detail': {
          eventSource: ['secretsmanager.amazonaws.com'],
          eventName: ['RotationFailed'],
          additionalEventData: {
            SecretId: [{ Ref: Match.stringLikeRegexp('EtlSecret') }, { Ref: Match.stringLikeRegexp('EtlMasterSecret') }],
          },
        },
      },
      Targets: [Match.objectLike({ Arn: { Ref: Match.stringLikeRegexp('Alerts') } })],
    });
    template.resourceCountIs('AWS::SNS::TopicPolicy', 1);
  });

  test('metricRotationFailures counts the rule\'s matches, and alarms can use it', () => {
    const stack = newStack();
    const secret = secretsmanager.Secret.fromSecretNameV2(stack, 'Imported', 'redshift/app');
    const rotation = new RedshiftSecretRotation(stack, 'App', { target: RedshiftTarget.cluster('analytics'), secret });
    const metric = rotation.metricRotationFailures();
    new cloudwatch.Alarm(stack, 'Alarm', {
      metric,
      threshold: 1,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    expect(metric.namespace).toBe('AWS/Events');
    expect(metric.metricName).toBe('TriggeredRules');
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::Events::Rule', 1);
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: Match.objectLike({
        detail: Match.objectLike({ additionalEventData: { SecretId: [{ prefix: Match.anyValue() }] } }),
      }),
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/Events',
      MetricName: 'TriggeredRules',
      Dimensions: [{ Name: 'RuleName', Value: { Ref: Match.stringLikeRegexp('RotationFailedRule') } }],
      Statistic: 'Sum',
    });
  });
});
