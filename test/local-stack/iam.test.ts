/**
 * The local stack's IAM: the role policy synthesized from the construct, resolved and evaluated by
 * @cloud-copilot/iam-simulate, allows exactly what the rotation function needs and nothing next to it.
 */
import * as cdk from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { dataApiRequests, localReferences, PolicyAuthorizer, Pseudo, resolveIntrinsics, rolePolicies, secretsManagerRequests } from '../../local-stack/iam';
import { RedshiftSecretRotation, RedshiftTarget } from '../../src';

const PSEUDO: Pseudo = { partition: 'aws', region: 'us-east-1', account: '123456789012' };
const ACCOUNT = PSEUDO.account;
const MASTER_ARN = `arn:aws:secretsmanager:us-east-1:${ACCOUNT}:secret:admin-AbCdEf`;
const KEY_ARN = `arn:aws:kms:us-east-1:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
const MASTER_KEY_ARN = `arn:aws:kms:us-east-1:${ACCOUNT}:key/feedface-12ab-34cd-56ef-1234567890ab`;
const WORKGROUP_ARN = `arn:aws:redshift-serverless:us-east-1:${ACCOUNT}:workgroup/0a1b2c3d`;

function authorizerFor(): { auth: PolicyAuthorizer; functionArn: string; probePrefix: string } {
  const app = new cdk.App();
  const stack = new cdk.Stack(app, 'S', { env: { account: ACCOUNT, region: PSEUDO.region } });
  new RedshiftSecretRotation(stack, 'App', { target: RedshiftTarget.cluster('analytics'), username: 'app' });
  new RedshiftSecretRotation(stack, 'Etl', {
    target: RedshiftTarget.workgroup('etl-wg', { workgroupArn: WORKGROUP_ARN }),
    secret: secretsmanager.Secret.fromSecretAttributes(stack, 'EtlSecret', {
      secretCompleteArn: `arn:aws:secretsmanager:us-east-1:${ACCOUNT}:secret:etl-AbCdEf`,
      encryptionKey: kms.Key.fromKeyArn(stack, 'Key', KEY_ARN),
    }),
    masterSecret: secretsmanager.Secret.fromSecretAttributes(stack, 'Master', {
      secretCompleteArn: MASTER_ARN,
      encryptionKey: kms.Key.fromKeyArn(stack, 'MasterKey', MASTER_KEY_ARN),
    }),
  });
  const template = Template.fromStack(stack).toJSON();
  const roleId = Object.entries<any>(template.Resources).find(([, r]) => r.Type === 'AWS::IAM::Role')![0];
  const fnId = Object.entries<any>(template.Resources).find(([, r]) => r.Type === 'AWS::Lambda::Function')![0];
  const refs = localReferences(template, PSEUDO, { [fnId]: 'rotation', [roleId]: 'rotation-role' });
  const { policies, boundary } = rolePolicies(template, roleId, refs, PSEUDO);
  return {
    auth: new PolicyAuthorizer({ account: ACCOUNT, roleName: 'rotation-role', sessionName: 'rotation' }, policies, boundary),
    functionArn: refs(fnId, 'Arn')!,
    probePrefix: template.Resources[fnId].Properties.Environment.Variables.PROBE_SECRET_PREFIX,
  };
}

const { auth, functionArn, probePrefix } = authorizerFor();
const FUNCTION_TAG = 'redshift-rotation:probe-for-function';
const secretArn = (name: string) => `arn:aws:secretsmanager:us-east-1:${ACCOUNT}:secret:${name}-AbCdEf`;
const allowed = async (action: string, resource: string, context?: Record<string, string | string[]>) =>
  (await auth.authorize({ action, resource, context })).allowed;

describe('intrinsics', () => {
  test('Ref, GetAtt, Join, Sub, Select and Split resolve; an unknown reference is an error that names it', () => {
    const refs = (id: string, attr?: string) => (id === 'Fn' ? (attr ? 'arn:fn' : 'fn') : undefined);
    expect(resolveIntrinsics({ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':x:', { Ref: 'Fn' }]] }, refs, PSEUDO)).toBe('arn:aws:x:fn');
    expect(resolveIntrinsics({ 'Fn::Sub': '${AWS::Region}/${Fn.Arn}/${Fn}' }, refs, PSEUDO)).toBe('us-east-1/arn:fn/fn');
    expect(resolveIntrinsics({ 'Fn::Select': [1, { 'Fn::Split': [':', 'a:b:c'] }] }, refs, PSEUDO)).toBe('b');
    expect(() => resolveIntrinsics({ Ref: 'Nope' }, refs, PSEUDO)).toThrow(/Nope/);
  });
});

describe('the synthesized role policy', () => {
  test('rotated secrets: only those whose rotation function is this one', async () => {
    const ctx = (lambda: string) => ({ 'secretsmanager:resource/AllowRotationLambdaArn': lambda });
    for (const action of ['DescribeSecret', 'GetSecretValue', 'PutSecretValue', 'UpdateSecretVersionStage']) {
      expect(await allowed(`secretsmanager:${action}`, secretArn('app'), ctx(functionArn))).toBe(true);
      expect(await allowed(`secretsmanager:${action}`, secretArn('app'), ctx(`arn:aws:lambda:us-east-1:${ACCOUNT}:function:other`))).toBe(false);
    }
    expect(await allowed('secretsmanager:DeleteSecret', secretArn('app'), ctx(functionArn))).toBe(false);
  });

  test('probe secrets: only under the function\'s prefix, made with its tag, read and deleted only with it', async () => {
    const probe = secretArn(`${probePrefix}0123abcd`);
    const made = (fn: string, keys = ['RotationProbeFor', FUNCTION_TAG]) => ({ [`aws:RequestTag/${FUNCTION_TAG}`]: fn, 'aws:TagKeys': keys });
    const tagged = (fn: string) => ({ [`aws:ResourceTag/${FUNCTION_TAG}`]: fn });
    expect(probePrefix).toMatch(/^redshift-rotation-probe\/[0-9a-f]{16}\/$/);
    expect(await allowed('secretsmanager:CreateSecret', probe, made('rotation'))).toBe(true);
    expect(await allowed('secretsmanager:TagResource', probe, made('rotation'))).toBe(true);
    expect(await allowed('secretsmanager:CreateSecret', probe)).toBe(false);
    expect(await allowed('secretsmanager:CreateSecret', probe, made('another-function'))).toBe(false);
    expect(await allowed('secretsmanager:CreateSecret', probe, made('rotation', [FUNCTION_TAG, 'Owner']))).toBe(false);
    expect(await allowed('secretsmanager:CreateSecret', secretArn('redshift-rotation-probe/0123abcd'), made('rotation'))).toBe(false);
    expect(await allowed('secretsmanager:CreateSecret', secretArn('elsewhere/0123abcd'), made('rotation'))).toBe(false);
    for (const action of ['GetSecretValue', 'DeleteSecret']) {
      expect(await allowed(`secretsmanager:${action}`, probe, tagged('rotation'))).toBe(true);
      expect(await allowed(`secretsmanager:${action}`, probe, tagged('another-function'))).toBe(false);
      expect(await allowed(`secretsmanager:${action}`, probe)).toBe(false);
    }
    for (const action of ['PutSecretValue', 'DescribeSecret', 'ListSecrets']) {
      expect(await allowed(`secretsmanager:${action}`, action === 'ListSecrets' ? '*' : probe, tagged('rotation'))).toBe(false);
    }
    expect(await allowed('secretsmanager:DeleteSecret', secretArn('other-secret'))).toBe(false);
  });

  test('the master secret it was given, read-only', async () => {
    expect(await allowed('secretsmanager:GetSecretValue', MASTER_ARN)).toBe(true);
    expect(await allowed('secretsmanager:PutSecretValue', MASTER_ARN)).toBe(false);
    expect(await allowed('secretsmanager:GetSecretValue', secretArn('another-admin'))).toBe(false);
  });

  test('statements on its targets only, and only its own statements afterwards', async () => {
    expect(await allowed('redshift-data:ExecuteStatement', `arn:aws:redshift:us-east-1:${ACCOUNT}:cluster:analytics`)).toBe(true);
    expect(await allowed('redshift-data:BatchExecuteStatement', WORKGROUP_ARN)).toBe(true);
    expect(await allowed('redshift-data:ExecuteStatement', `arn:aws:redshift:us-east-1:${ACCOUNT}:cluster:other`)).toBe(false);
    const owner = (id: string) => ({ 'redshift-data:statement-owner-iam-userid': id });
    expect(await allowed('redshift-data:DescribeStatement', '*', owner(auth.userId))).toBe(true);
    expect(await allowed('redshift-data:DescribeStatement', '*', owner('AROAOTHER:someone'))).toBe(false);
  });

  test('the KMS keys of a given secret and of a given master secret: through Secrets Manager only', async () => {
    const via = (service: string) => ({ 'kms:ViaService': service });
    expect(await allowed('kms:Decrypt', MASTER_KEY_ARN, via('secretsmanager.us-east-1.amazonaws.com'))).toBe(true);
    expect(await allowed('kms:Decrypt', KEY_ARN, via('secretsmanager.us-east-1.amazonaws.com'))).toBe(true);
    expect(await allowed('kms:GenerateDataKey', KEY_ARN, via('secretsmanager.us-east-1.amazonaws.com'))).toBe(true);
    expect(await allowed('kms:Decrypt', KEY_ARN, via('s3.us-east-1.amazonaws.com'))).toBe(false);
    expect(await allowed('kms:Decrypt', `arn:aws:kms:us-east-1:${ACCOUNT}:key/other`, via('secretsmanager.us-east-1.amazonaws.com'))).toBe(false);
  });

  test('a denied request gets the message AWS sends', async () => {
    const request = { action: 'secretsmanager:DeleteSecret', resource: secretArn('x') };
    const decision = await auth.authorize(request);
    expect(decision.allowed).toBe(false);
    expect(auth.deniedMessage(request, decision)).toBe(
      `User: arn:aws:sts::${ACCOUNT}:assumed-role/rotation-role/rotation is not authorized to perform: secretsmanager:DeleteSecret on resource: ${secretArn('x')} because no identity-based policy allows the secretsmanager:DeleteSecret action`);
  });
});

describe('the requests a call makes', () => {
  test('a probe made with tags and a key: CreateSecret, TagResource and GenerateDataKey, all allowed for the function', async () => {
    const probeName = `${probePrefix}0123abcd`;
    const tags = [{ Key: 'RotationProbeFor', Value: secretArn('etl') }, { Key: FUNCTION_TAG, Value: 'rotation' }];
    const requests = secretsManagerRequests('CreateSecret', { Name: probeName, SecretString: '{}', KmsKeyId: KEY_ARN, Tags: tags }, undefined, PSEUDO);
    expect(requests.map((r) => r.action)).toEqual(['secretsmanager:CreateSecret', 'secretsmanager:TagResource', 'kms:GenerateDataKey']);
    for (const r of requests) expect((await auth.authorize(r)).allowed).toBe(true);
  });

  test('reading a rotated secret encrypted with a key nobody granted is denied at the key', async () => {
    const facts = { arn: secretArn('app'), tags: [], rotationLambdaArn: functionArn, kmsKeyId: `arn:aws:kms:us-east-1:${ACCOUNT}:key/not-granted` };
    const decisions = await Promise.all(secretsManagerRequests('GetSecretValue', {}, facts, PSEUDO).map((r) => auth.authorize(r)));
    expect(decisions.map((d) => d.allowed)).toEqual([true, false]);
  });

  test('the Data API reads the secret as the caller; statements of another session are not the function\'s', async () => {
    const facts = { arn: MASTER_ARN, tags: [], kmsKeyId: MASTER_KEY_ARN };
    const submit = dataApiRequests('ExecuteStatement', { workgroupArn: WORKGROUP_ARN }, facts, undefined, PSEUDO);
    expect(submit.map((r) => r.action)).toEqual(['redshift-data:ExecuteStatement', 'secretsmanager:GetSecretValue', 'kms:Decrypt']);
    for (const r of submit) expect((await auth.authorize(r)).allowed).toBe(true);
    const [other] = dataApiRequests('GetStatementResult', {}, undefined, 'AROAOTHER:x', PSEUDO);
    expect((await auth.authorize(other)).allowed).toBe(false);
  });
});
