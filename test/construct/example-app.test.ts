import { Match, Template } from 'aws-cdk-lib/assertions';
import { buildExampleApp } from '../../examples/app';

const STRATEGY = 'redshift-rotation:strategy';
const CREATE_USER = 'redshift-rotation:create-user';

/** Each secret's strategy tag, create-user tag and username, by logical id. */
function secretsOf(template: Template): Record<string, { strategy?: string; createUser?: string; username?: string }> {
  const out: Record<string, { strategy?: string; createUser?: string; username?: string }> = {};
  for (const [id, r] of Object.entries<any>(template.findResources('AWS::SecretsManager::Secret'))) {
    const tags: Array<{ Key: string; Value: string }> = r.Properties.Tags ?? [];
    const text = JSON.stringify(r.Properties.GenerateSecretString.SecretStringTemplate);
    out[id] = {
      strategy: tags.find((t) => t.Key === STRATEGY)?.Value,
      createUser: tags.find((t) => t.Key === CREATE_USER)?.Value,
      username: /\\"username\\":\\"([^\\]+)\\"/.exec(text)?.[1],
    };
  }
  return out;
}

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
    serverless.hasResourceProperties('AWS::RedshiftServerless::Namespace', {
      AdminUsername: 'admin',
      AdminUserPassword: { 'Fn::Join': ['', ['{{resolve:secretsmanager:', { Ref: Match.stringLikeRegexp('^AppUserMasterSecret') }, ':SecretString:password::}}']] },
    });
  });

  test('first deploy on a fresh target: only the admin secrets are single-user; every other user is alternating with the admin as master and created by its first rotation', () => {
    // GIVEN / WHEN
    const assembly = buildExampleApp().synth();

    // THEN
    const cluster = Template.fromJSON(assembly.getStackByName('RedshiftRotationExampleCluster').template);
    const serverless = Template.fromJSON(assembly.getStackByName('RedshiftRotationExampleServerless').template);
    const summary = (t: Template) => Object.values(secretsOf(t))
      .map((s) => `${s.username}:${s.strategy}:${s.createUser ?? '-'}`).sort();
    expect(summary(cluster)).toEqual(['admin:SINGLE_USER:-', 'etl:ALTERNATING_USERS:true', 'reporting:ALTERNATING_USERS:true']);
    expect(summary(serverless)).toEqual(['admin:SINGLE_USER:-', 'app:ALTERNATING_USERS:true']);

    // each user's JSON names its stack's created admin secret as master (masterarn)
    const masterOf = (t: Template, id: string) => JSON.stringify(t.findResources('AWS::SecretsManager::Secret')[id].Properties.GenerateSecretString.SecretStringTemplate)
      .match(/"masterarn\\":\\"",\{"Ref":"([^"]+)"\}/)?.[1];
    const idOf = (t: Template, prefix: string) => Object.keys(t.findResources('AWS::SecretsManager::Secret')).filter((id) => id.startsWith(prefix));
    expect(idOf(cluster, 'EtlUserSecret').map((id) => masterOf(cluster, id))).toEqual(idOf(cluster, 'EtlUserMasterSecret'));
    expect(idOf(cluster, 'ReportingUserSecret').map((id) => masterOf(cluster, id))).toEqual(idOf(cluster, 'EtlUserMasterSecret'));
    expect(idOf(serverless, 'AppUserSecret').map((id) => masterOf(serverless, id))).toEqual(idOf(serverless, 'AppUserMasterSecret'));
    // no warning that a user must be created by hand
    for (const st of assembly.stacks) {
      expect(st.messages.filter((m) => m.id.includes('createUserManually') || String(m.entry.data).includes('createUserManually'))).toEqual([]);
    }
  });
});
