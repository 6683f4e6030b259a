/**
 * The rotation role's Secrets Manager and KMS statements, read from the synthesized template: every
 * `secretsmanager:*` statement is scoped by a condition or by explicit ARNs, probes are tied to the function by
 * their tag, and a given secret's and a given master secret's KMS keys are granted through Secrets Manager only.
 */
import * as cdk from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { newStack } from './helpers';
import { RedshiftRotationFunction, RedshiftSecretRotation, RedshiftTarget } from '../../src';

const ACCOUNT = '123456789012';
const SECRET_ARN = `arn:aws:secretsmanager:eu-west-1:${ACCOUNT}:secret:app/etl-AbCdEf`;
const MASTER_ARN = `arn:aws:secretsmanager:eu-west-1:${ACCOUNT}:secret:redshift/admin-XyZ123`;
const SECRET_KEY = `arn:aws:kms:eu-west-1:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
const MASTER_KEY = `arn:aws:kms:eu-west-1:${ACCOUNT}:key/feedface-12ab-34cd-56ef-1234567890ab`;

interface Statement {
  Sid?: string;
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: Record<string, Record<string, unknown>>;
}

const actions = (s: Statement) => (Array.isArray(s.Action) ? s.Action : [s.Action]);
const resources = (s: Statement) => (Array.isArray(s.Resource) ? s.Resource : [s.Resource]);

/** Every statement of every policy attached to the rotation role (inline and AWS::IAM::Policy). */
function roleStatements(stack: cdk.Stack): { statements: Statement[]; functionId: string } {
  const template = Template.fromStack(stack).toJSON();
  const resourcesOf = Object.entries<any>(template.Resources);
  const [roleId] = resourcesOf.find(([, r]) => r.Type === 'AWS::IAM::Role' && JSON.stringify(r.Properties.AssumeRolePolicyDocument).includes('lambda.amazonaws.com'))!;
  const [functionId] = resourcesOf.find(([, r]) => r.Type === 'AWS::Lambda::Function' && r.Properties.Role?.['Fn::GetAtt']?.[0] === roleId)!;
  const statements: Statement[] = [];
  for (const p of template.Resources[roleId].Properties.Policies ?? []) statements.push(...p.PolicyDocument.Statement);
  for (const [, r] of resourcesOf) {
    if (r.Type === 'AWS::IAM::Policy' && r.Properties.Roles.some((x: any) => x.Ref === roleId)) statements.push(...r.Properties.PolicyDocument.Statement);
  }
  return { statements, functionId };
}

function scenario(stack: cdk.Stack): void {
  new RedshiftSecretRotation(stack, 'Etl', {
    target: RedshiftTarget.cluster('analytics'),
    secret: secretsmanager.Secret.fromSecretAttributes(stack, 'EtlSecret', {
      secretCompleteArn: SECRET_ARN, encryptionKey: kms.Key.fromKeyArn(stack, 'EtlKey', SECRET_KEY),
    }),
    masterSecret: secretsmanager.Secret.fromSecretAttributes(stack, 'Master', {
      secretCompleteArn: MASTER_ARN, encryptionKey: kms.Key.fromKeyArn(stack, 'MasterKey', MASTER_KEY),
    }),
  });
}

describe('the role\'s Secrets Manager statements', () => {
  test('each is scoped: rotated secrets by their rotation function, probes by the function\'s tag, masters by ARN; nothing else', () => {
    const stack = newStack();
    scenario(stack);
    const { statements, functionId } = roleStatements(stack);
    const secretStatements = statements.filter((s) => actions(s).some((a) => a.startsWith('secretsmanager:')));
    expect(secretStatements.map((s) => s.Sid).sort()).toEqual(['CreateProbeSecrets', 'MasterSecrets', 'RotatedSecrets', 'Unscoped', 'UseProbeSecrets']);
    for (const s of secretStatements) expect(s.Effect).toBe('Allow');
    const bySid = Object.fromEntries(secretStatements.map((s) => [s.Sid!, s]));

    expect(bySid.RotatedSecrets.Condition).toEqual({
      StringEquals: { 'secretsmanager:resource/AllowRotationLambdaArn': { 'Fn::GetAtt': [functionId, 'Arn'] } },
    });
    expect(actions(bySid.CreateProbeSecrets)).toEqual(['secretsmanager:CreateSecret', 'secretsmanager:TagResource']);
    expect(bySid.CreateProbeSecrets.Condition).toEqual({
      'StringEquals': { 'aws:RequestTag/redshift-rotation:probe-for-function': { Ref: functionId } },
      'ForAllValues:StringEquals': { 'aws:TagKeys': ['RotationProbeFor', 'redshift-rotation:probe-for-function'] },
    });
    expect(actions(bySid.UseProbeSecrets)).toEqual(['secretsmanager:GetSecretValue', 'secretsmanager:DeleteSecret']);
    expect(bySid.UseProbeSecrets.Condition).toEqual({
      StringEquals: { 'aws:ResourceTag/redshift-rotation:probe-for-function': { Ref: functionId } },
    });
    // the probe statements name only the function's own prefix
    const prefix = JSON.stringify(resources(bySid.CreateProbeSecrets));
    expect(prefix).toMatch(/secret:redshift-rotation-probe\/[0-9a-f]{16}\/\*"/);
    expect(JSON.stringify(resources(bySid.UseProbeSecrets))).toBe(prefix);
    // masters: read-only, the given ARN only, no condition needed
    expect(actions(bySid.MasterSecrets)).toEqual(['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue']);
    expect(resources(bySid.MasterSecrets)).toEqual([MASTER_ARN]);
    expect(bySid.MasterSecrets.Condition).toBeUndefined();
    // the only unscoped action: GetRandomPassword supports no resource
    expect(actions(bySid.Unscoped)).toEqual(['secretsmanager:GetRandomPassword']);
    expect(resources(bySid.Unscoped)).toEqual(['*']);
  });

  test('no statement grants ListSecrets or DescribeSecret on probes, nor any action the handler never calls on them', () => {
    const stack = newStack();
    scenario(stack);
    const all = roleStatements(stack).statements.flatMap(actions);
    expect(all.filter((a) => a.startsWith('secretsmanager:')).sort()).toEqual([
      'secretsmanager:CreateSecret', 'secretsmanager:DeleteSecret', 'secretsmanager:DescribeSecret', 'secretsmanager:DescribeSecret',
      'secretsmanager:GetRandomPassword', 'secretsmanager:GetSecretValue', 'secretsmanager:GetSecretValue', 'secretsmanager:GetSecretValue',
      // the ownership proof by an abandoned rotation's version (rotated secrets only)
      'secretsmanager:ListSecretVersionIds',
      'secretsmanager:PutSecretValue', 'secretsmanager:TagResource', 'secretsmanager:UpdateSecretVersionStage',
    ]);
  });

  test('the default probe prefix is unique per function and stable for the same construct path; a given prefix is kept', () => {
    const prefixOf = (build: (stack: cdk.Stack) => void) => {
      const stack = newStack();
      build(stack);
      return Object.values<any>(Template.fromStack(stack).findResources('AWS::Lambda::Function'))
        .map((f) => f.Properties.Environment.Variables.PROBE_SECRET_PREFIX as string);
    };
    const [a, b] = prefixOf((stack) => {
      new RedshiftRotationFunction(stack, 'A');
      new RedshiftRotationFunction(stack, 'B');
    });
    expect(a).toMatch(/^redshift-rotation-probe\/[0-9a-f]{16}\/$/);
    expect(b).toMatch(/^redshift-rotation-probe\/[0-9a-f]{16}\/$/);
    expect(a).not.toBe(b);
    expect(prefixOf((stack) => { new RedshiftRotationFunction(stack, 'A'); })).toEqual([a]);
    expect(prefixOf((stack) => { new RedshiftRotationFunction(stack, 'A', { probeSecretPrefix: 'team/probes/' }); })).toEqual(['team/probes/']);
  });
});

describe('the role\'s KMS statements', () => {
  test('a given secret\'s key and a given master secret\'s key: Decrypt and GenerateDataKey through Secrets Manager only', () => {
    const stack = newStack();
    scenario(stack);
    const kmsStatements = roleStatements(stack).statements.filter((s) => actions(s).some((a) => a.startsWith('kms:')));
    expect(kmsStatements).toHaveLength(1);
    const [statement] = kmsStatements;
    expect(actions(statement)).toEqual(['kms:Decrypt', 'kms:GenerateDataKey']);
    expect([...resources(statement)].sort()).toEqual([SECRET_KEY, MASTER_KEY].sort());
    expect(statement.Condition).toEqual({
      StringEquals: { 'kms:ViaService': { 'Fn::Join': ['', ['secretsmanager.eu-west-1.', { Ref: 'AWS::URLSuffix' }]] } },
    });
  });

  test('without keys on the secrets, no KMS statement at all', () => {
    const stack = newStack();
    new RedshiftSecretRotation(stack, 'Etl', {
      target: RedshiftTarget.cluster('analytics'),
      secret: secretsmanager.Secret.fromSecretCompleteArn(stack, 'EtlSecret', SECRET_ARN),
      masterSecret: secretsmanager.Secret.fromSecretCompleteArn(stack, 'Master', MASTER_ARN),
    });
    expect(roleStatements(stack).statements.filter((s) => actions(s).some((a) => a.startsWith('kms:')))).toEqual([]);
  });
});
