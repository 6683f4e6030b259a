/**
 * The function may use the KMS key of every secret it reads or writes: the rotated secret's (given or created) and
 * the master secret's, through Secrets Manager only. Read from the synthesized policies.
 */
import { Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { newStack } from './helpers';
import { RedshiftSecretRotation, RedshiftTarget } from '../../src';

/** The key resources of the function's SecretsKeys statement(s), as logical ids of the keys (`Fn::GetAtt`). */
function grantedKeys(template: Template): string[] {
  const statements = Object.values(template.findResources('AWS::IAM::Policy'))
    .flatMap((p) => p.Properties.PolicyDocument.Statement as Array<Record<string, any>>)
    .filter((s) => s.Sid === 'SecretsKeys');
  const resources = statements.flatMap((s) => (Array.isArray(s.Resource) ? s.Resource : [s.Resource]));
  return resources.map((r) => (r['Fn::GetAtt'] ? String(r['Fn::GetAtt'][0]).replace(/[0-9A-F]{8}$/, '') : JSON.stringify(r))).sort();
}

describe('KMS keys the function is granted', () => {
  test('a given secret encrypted with its own key: that key, with no encryptionKey prop', () => {
    const stack = newStack();
    const secret = new secretsmanager.Secret(stack, 'Given', { encryptionKey: new kms.Key(stack, 'SecretKey', { enableKeyRotation: true }) });
    new RedshiftSecretRotation(stack, 'App', { target: RedshiftTarget.cluster('analytics'), secret });
    expect(grantedKeys(Template.fromStack(stack))).toEqual(['SecretKey']);
  });

  test('a given master secret encrypted with its own key: that key, next to the rotated secret\'s', () => {
    const stack = newStack();
    const master = new secretsmanager.Secret(stack, 'Admin', { encryptionKey: new kms.Key(stack, 'MasterKey', { enableKeyRotation: true }) });
    const key = new kms.Key(stack, 'AppKey', { enableKeyRotation: true });
    new RedshiftSecretRotation(stack, 'App', { target: RedshiftTarget.cluster('analytics'), username: 'etl', masterSecret: master, encryptionKey: key });
    expect(grantedKeys(Template.fromStack(stack))).toEqual(['AppKey', 'MasterKey']);
  });

  test('a given master secret with its own key and a created secret with the default key: the master\'s key only', () => {
    const stack = newStack();
    const master = new secretsmanager.Secret(stack, 'Admin', { encryptionKey: new kms.Key(stack, 'MasterKey', { enableKeyRotation: true }) });
    new RedshiftSecretRotation(stack, 'App', { target: RedshiftTarget.cluster('analytics'), username: 'etl', masterSecret: master });
    expect(grantedKeys(Template.fromStack(stack))).toEqual(['MasterKey']);
  });

  test('no key anywhere (the AWS managed key): no SecretsKeys statement', () => {
    const stack = newStack();
    new RedshiftSecretRotation(stack, 'App', { target: RedshiftTarget.cluster('analytics'), username: 'app' });
    expect(grantedKeys(Template.fromStack(stack))).toEqual([]);
  });
});
