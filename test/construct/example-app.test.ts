import { Match, Template } from 'aws-cdk-lib/assertions';
import { buildExampleApp } from '../../examples/app';

describe('examples/app.ts', () => {
  test('synthesizes a cluster stack and a Serverless stack, each with one shared rotation function', () => {
    // GIVEN / WHEN
    const app = buildExampleApp();
    const assembly = app.synth();

    // THEN
    const cluster = Template.fromJSON(assembly.getStackByName('RedshiftRotationExampleCluster').template);
    cluster.resourceCountIs('AWS::Lambda::Function', 1);
    cluster.resourceCountIs('AWS::SecretsManager::Secret', 3);
    cluster.resourceCountIs('AWS::SecretsManager::RotationSchedule', 3);
    cluster.hasResourceProperties('AWS::Redshift::Cluster', {
      MasterUserPassword: { 'Fn::Join': ['', ['{{resolve:secretsmanager:', { Ref: Match.stringLikeRegexp('^EtlUserMasterSecret') }, ':SecretString:password::}}']] },
    });

    const serverless = Template.fromJSON(assembly.getStackByName('RedshiftRotationExampleServerless').template);
    serverless.resourceCountIs('AWS::Lambda::Function', 1);
    serverless.resourceCountIs('AWS::SecretsManager::Secret', 2);
    serverless.hasResourceProperties('AWS::RedshiftServerless::Namespace', { AdminUsername: 'admin' });
  });
});
