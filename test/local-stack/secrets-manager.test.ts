import {
  CreateSecretCommand, DeleteSecretCommand, DescribeSecretCommand, GetRandomPasswordCommand, GetSecretValueCommand,
  InvalidParameterException, InvalidRequestException, ListSecretsCommand, PutSecretValueCommand, ResourceExistsException,
  ResourceNotFoundException, RestoreSecretCommand, SecretsManagerClient, UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import type { GetRandomPasswordCommandInput } from '@aws-sdk/client-secrets-manager';
import { startLocalStack } from '../../local-stack/local-stack';
import type { LocalStack } from '../../local-stack/local-stack';

let stack: LocalStack;
let sm: SecretsManagerClient;
const token = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;

beforeAll(async () => {
  stack = await startLocalStack();
  sm = stack.secretsManagerClient();
});
afterAll(async () => {
  sm?.destroy();
  await stack?.stop();
});

async function stages(id: string): Promise<Record<string, string[]>> {
  return (await sm.send(new DescribeSecretCommand({ SecretId: id }))).VersionIdsToStages ?? {};
}

describe('CreateSecret / DescribeSecret / GetSecretValue', () => {
  test('creates a secret with ARN, KmsKeyId, Tags and an AWSCURRENT version', async () => {
    const out = await sm.send(new CreateSecretCommand({
      Name: 'app/one', SecretString: '{"a":1}', KmsKeyId: 'alias/my-key', Tags: [{ Key: 'team', Value: 'data' }], ClientRequestToken: token(1),
    }));
    expect(out.ARN).toMatch(/^arn:aws:secretsmanager:us-east-1:123456789012:secret:app\/one-[A-Za-z0-9]{6}$/);
    expect(out.VersionId).toBe(token(1));
    const d = await sm.send(new DescribeSecretCommand({ SecretId: 'app/one' }));
    expect(d).toMatchObject({ ARN: out.ARN, Name: 'app/one', KmsKeyId: 'alias/my-key', RotationEnabled: false, Tags: [{ Key: 'team', Value: 'data' }] });
    expect(d.VersionIdsToStages).toEqual({ [token(1)]: ['AWSCURRENT'] });
    expect(d.CreatedDate).toBeInstanceOf(Date);
    const v = await sm.send(new GetSecretValueCommand({ SecretId: out.ARN }));
    expect(v).toMatchObject({ SecretString: '{"a":1}', VersionId: token(1), VersionStages: ['AWSCURRENT'], Name: 'app/one' });
  });

  test('the same token and data is idempotent; an existing name is ResourceExistsException', async () => {
    const again = await sm.send(new CreateSecretCommand({ Name: 'app/one', SecretString: '{"a":1}', ClientRequestToken: token(1) }));
    expect(again.VersionId).toBe(token(1));
    await expect(sm.send(new CreateSecretCommand({ Name: 'app/one', SecretString: '{"a":2}' }))).rejects.toBeInstanceOf(ResourceExistsException);
  });

  test('unknown ids are ResourceNotFoundException; a partial ARN finds the secret', async () => {
    await expect(sm.send(new DescribeSecretCommand({ SecretId: 'nope' }))).rejects.toBeInstanceOf(ResourceNotFoundException);
    await expect(sm.send(new GetSecretValueCommand({ SecretId: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:nope-AbCdEf' })))
      .rejects.toThrow('Secrets Manager can\'t find the specified secret.');
    const arn = (await sm.send(new DescribeSecretCommand({ SecretId: 'app/one' }))).ARN!;
    expect((await sm.send(new DescribeSecretCommand({ SecretId: arn.slice(0, -7) }))).ARN).toBe(arn);
  });

  test('GetSecretValue by VersionId and/or VersionStage', async () => {
    await expect(sm.send(new GetSecretValueCommand({ SecretId: 'app/one', VersionStage: 'AWSPENDING' }))).rejects.toBeInstanceOf(ResourceNotFoundException);
    await expect(sm.send(new GetSecretValueCommand({ SecretId: 'app/one', VersionId: token(1), VersionStage: 'AWSPREVIOUS' }))).rejects.toBeInstanceOf(ResourceNotFoundException);
    expect((await sm.send(new GetSecretValueCommand({ SecretId: 'app/one', VersionId: token(1) }))).SecretString).toBe('{"a":1}');
  });

  test('a bad name or a short ClientRequestToken is InvalidParameterException', async () => {
    await expect(sm.send(new CreateSecretCommand({ Name: 'bad name!', SecretString: 'x' }))).rejects.toBeInstanceOf(InvalidParameterException);
    await expect(sm.send(new CreateSecretCommand({ Name: 'short-token', SecretString: 'x', ClientRequestToken: 'abc' }))).rejects.toBeInstanceOf(InvalidParameterException);
  });
});

describe('PutSecretValue and staging labels', () => {
  let arn: string;
  beforeAll(async () => {
    arn = (await sm.send(new CreateSecretCommand({ Name: 'labels', SecretString: 'v1', ClientRequestToken: token(11) }))).ARN!;
  });

  test('AWSPENDING version, then idempotent retry, then conflicting data refused', async () => {
    const put = { SecretId: arn, ClientRequestToken: token(12), SecretString: 'v2', VersionStages: ['AWSPENDING'] };
    expect((await sm.send(new PutSecretValueCommand(put))).VersionStages).toEqual(['AWSPENDING']);
    expect((await sm.send(new PutSecretValueCommand(put))).VersionId).toBe(token(12));
    await expect(sm.send(new PutSecretValueCommand({ ...put, SecretString: 'other' }))).rejects.toBeInstanceOf(ResourceExistsException);
    expect(await stages(arn)).toEqual({ [token(11)]: ['AWSCURRENT'], [token(12)]: ['AWSPENDING'] });
  });

  test('UpdateSecretVersionStage needs the matching RemoveFromVersionId to move a label', async () => {
    const move = { SecretId: arn, VersionStage: 'AWSCURRENT', MoveToVersionId: token(12) };
    await expect(sm.send(new UpdateSecretVersionStageCommand(move))).rejects.toBeInstanceOf(InvalidParameterException);
    await expect(sm.send(new UpdateSecretVersionStageCommand({ ...move, RemoveFromVersionId: token(12) })))
      .rejects.toBeInstanceOf(InvalidParameterException);
    await sm.send(new UpdateSecretVersionStageCommand({ ...move, RemoveFromVersionId: token(11) }));
    // moving AWSCURRENT moved AWSPREVIOUS to the old current; AWSPENDING stays until removed
    expect(await stages(arn)).toEqual({ [token(11)]: ['AWSPREVIOUS'], [token(12)]: ['AWSPENDING', 'AWSCURRENT'] });
    await sm.send(new UpdateSecretVersionStageCommand({ SecretId: arn, VersionStage: 'AWSPENDING', RemoveFromVersionId: token(12) }));
    expect(await stages(arn)).toEqual({ [token(11)]: ['AWSPREVIOUS'], [token(12)]: ['AWSCURRENT'] });
  });

  test('PutSecretValue with AWSCURRENT (the default) moves AWSCURRENT and AWSPREVIOUS', async () => {
    await sm.send(new PutSecretValueCommand({ SecretId: arn, ClientRequestToken: token(13), SecretString: 'v3' }));
    expect(await stages(arn)).toEqual({ [token(12)]: ['AWSPREVIOUS'], [token(13)]: ['AWSCURRENT'] });
    expect((await sm.send(new GetSecretValueCommand({ SecretId: arn, VersionStage: 'AWSPREVIOUS' }))).SecretString).toBe('v2');
  });

  test('AWSCURRENT cannot be removed without moving it; unknown target version is refused', async () => {
    await expect(sm.send(new UpdateSecretVersionStageCommand({ SecretId: arn, VersionStage: 'AWSCURRENT', RemoveFromVersionId: token(13) })))
      .rejects.toBeInstanceOf(InvalidParameterException);
    await expect(sm.send(new UpdateSecretVersionStageCommand({ SecretId: arn, VersionStage: 'X', MoveToVersionId: token(99) })))
      .rejects.toBeInstanceOf(ResourceNotFoundException);
  });

  test('custom labels move between versions without RemoveFromVersionId only when unattached', async () => {
    await sm.send(new UpdateSecretVersionStageCommand({ SecretId: arn, VersionStage: 'MINE', MoveToVersionId: token(12) }));
    expect((await stages(arn))[token(12)]).toEqual(['AWSPREVIOUS', 'MINE']);
  });
});

describe('GetRandomPassword', () => {
  const gen = async (input: GetRandomPasswordCommandInput) =>
    (await sm.send(new GetRandomPasswordCommand(input))).RandomPassword!;

  test('default: 32 characters with each type', async () => {
    const p = await gen({});
    expect(p).toHaveLength(32);
    expect(p).toMatch(/[A-Z]/);
    expect(p).toMatch(/[a-z]/);
    expect(p).toMatch(/[0-9]/);
    expect(p).toMatch(/[^A-Za-z0-9]/);
    expect(p).not.toMatch(/ /);
  });

  test('exclusions and Redshift\'s rules', async () => {
    for (let i = 0; i < 20; i++) {
      const p = await gen({ PasswordLength: 8, ExcludeCharacters: '\'"\\/@ ', RequireEachIncludedType: true });
      expect(p).toHaveLength(8);
      expect(p).not.toMatch(/['"\\/@ ]/);
      expect(p).toMatch(/[A-Z]/);
      expect(p).toMatch(/[a-z]/);
      expect(p).toMatch(/[0-9]/);
    }
    expect(await gen({ PasswordLength: 50, ExcludePunctuation: true, ExcludeNumbers: true, ExcludeUppercase: true })).toMatch(/^[a-z]{50}$/);
    const onlySpace = { ExcludePunctuation: true, ExcludeNumbers: true, ExcludeUppercase: true, ExcludeLowercase: true, IncludeSpace: true };
    expect(await gen({ PasswordLength: 40, ...onlySpace }))
      .toBe(' '.repeat(40));
    expect(await gen({ PasswordLength: 4096 })).toHaveLength(4096);
  });

  test('random: two passwords differ', async () => {
    expect(await gen({})).not.toBe(await gen({}));
  });

  test('invalid lengths and impossible rules are InvalidParameterException', async () => {
    await expect(gen({ PasswordLength: 0 })).rejects.toBeInstanceOf(InvalidParameterException);
    await expect(gen({ PasswordLength: 4097 })).rejects.toBeInstanceOf(InvalidParameterException);
    await expect(gen({ PasswordLength: 3, RequireEachIncludedType: true })).rejects.toBeInstanceOf(InvalidParameterException);
    await expect(gen({ ExcludeNumbers: true, ExcludePunctuation: true, ExcludeUppercase: true, ExcludeLowercase: true }))
      .rejects.toBeInstanceOf(InvalidParameterException);
  });
});

describe('ListSecrets and DeleteSecret', () => {
  beforeAll(async () => {
    for (let i = 0; i < 5; i++) {
      await sm.send(new CreateSecretCommand({ Name: `probe/abc-${i}`, SecretString: 'x', Tags: [{ Key: 'RotationProbeFor', Value: `arn-${i}` }] }));
    }
  });

  test('name prefix filter with pagination', async () => {
    const names: string[] = [];
    let NextToken: string | undefined;
    let pages = 0;
    do {
      const out = await sm.send(new ListSecretsCommand({ Filters: [{ Key: 'name', Values: ['probe/abc'] }], MaxResults: 2, NextToken }));
      names.push(...out.SecretList!.map((s) => s.Name!));
      NextToken = out.NextToken;
      pages++;
    } while (NextToken);
    expect(pages).toBe(3);
    expect(names.sort()).toEqual([0, 1, 2, 3, 4].map((i) => `probe/abc-${i}`));
  });

  test('tag-key, tag-value and negated filters', async () => {
    const byKey = await sm.send(new ListSecretsCommand({ Filters: [{ Key: 'tag-key', Values: ['RotationProbeFor'] }] }));
    expect(byKey.SecretList).toHaveLength(5);
    const byValue = await sm.send(new ListSecretsCommand({ Filters: [{ Key: 'tag-value', Values: ['arn-3'] }] }));
    expect(byValue.SecretList!.map((s) => s.Name)).toEqual(['probe/abc-3']);
    const not = await sm.send(new ListSecretsCommand({ Filters: [{ Key: 'name', Values: ['!probe/'] }] }));
    expect(not.SecretList!.some((s) => s.Name!.startsWith('probe/'))).toBe(false);
  });

  test('ForceDeleteWithoutRecovery removes the secret at once; the name can be reused', async () => {
    await sm.send(new DeleteSecretCommand({ SecretId: 'probe/abc-0', ForceDeleteWithoutRecovery: true }));
    await expect(sm.send(new DescribeSecretCommand({ SecretId: 'probe/abc-0' }))).rejects.toBeInstanceOf(ResourceNotFoundException);
    await sm.send(new CreateSecretCommand({ Name: 'probe/abc-0', SecretString: 'again' }));
  });

  test('a recovery window marks the secret deleted: reads are InvalidRequestException, listing hides it, restore works', async () => {
    const out = await sm.send(new DeleteSecretCommand({ SecretId: 'probe/abc-1', RecoveryWindowInDays: 7 }));
    expect(out.DeletionDate!.getTime()).toBeGreaterThan(Date.now() + 6 * 86_400_000);
    await expect(sm.send(new GetSecretValueCommand({ SecretId: 'probe/abc-1' }))).rejects.toBeInstanceOf(InvalidRequestException);
    await expect(sm.send(new PutSecretValueCommand({ SecretId: 'probe/abc-1', SecretString: 'y' }))).rejects.toBeInstanceOf(InvalidRequestException);
    expect((await sm.send(new DescribeSecretCommand({ SecretId: 'probe/abc-1' }))).DeletedDate).toBeInstanceOf(Date);
    await expect(sm.send(new CreateSecretCommand({ Name: 'probe/abc-1', SecretString: 'z' }))).rejects.toBeInstanceOf(InvalidRequestException);
    const listed = await sm.send(new ListSecretsCommand({ Filters: [{ Key: 'name', Values: ['probe/abc-1'] }] }));
    expect(listed.SecretList).toHaveLength(0);
    await sm.send(new RestoreSecretCommand({ SecretId: 'probe/abc-1' }));
    expect((await sm.send(new GetSecretValueCommand({ SecretId: 'probe/abc-1' }))).SecretString).toBe('x');
  });

  test('invalid deletion parameters', async () => {
    await expect(sm.send(new DeleteSecretCommand({ SecretId: 'probe/abc-2', RecoveryWindowInDays: 3 }))).rejects.toBeInstanceOf(InvalidParameterException);
    await expect(sm.send(new DeleteSecretCommand({ SecretId: 'probe/abc-2', RecoveryWindowInDays: 7, ForceDeleteWithoutRecovery: true })))
      .rejects.toBeInstanceOf(InvalidParameterException);
  });
});

describe('CreateSecret denied on a name prefix (a policy without secretsmanager:CreateSecret there)', () => {
  test('AccessDeniedException as the service answers; other names and the lifted denial work', async () => {
    const lift = stack.secretsManager.denyCreateSecret('denied-probe/');
    try {
      const err = await sm.send(new CreateSecretCommand({ Name: 'denied-probe/abc', SecretString: '{}' })).catch((e) => e);
      expect(err.name).toBe('AccessDeniedException');
      expect(err.message).toMatch(/^User: arn:aws:sts::123456789012:assumed-role\/.* is not authorized to perform: secretsmanager:CreateSecret on resource: arn:aws:secretsmanager:us-east-1:123456789012:secret:denied-probe\/abc because no identity-based policy allows the secretsmanager:CreateSecret action$/);
      await expect(sm.send(new DescribeSecretCommand({ SecretId: 'denied-probe/abc' }))).rejects.toBeInstanceOf(ResourceNotFoundException);
      await sm.send(new CreateSecretCommand({ Name: 'allowed/abc', SecretString: '{}' }));
    } finally {
      lift();
    }
    await sm.send(new CreateSecretCommand({ Name: 'denied-probe/abc', SecretString: '{}' }));
  });
});

describe('RotationToken', () => {
  test('PutSecretValue records whether it carried a RotationToken, and whether the service issued it; never the token', async () => {
    const { ARN } = await sm.send(new CreateSecretCommand({ Name: 'rt-secret', SecretString: '{"a":1}' }));
    await sm.send(new PutSecretValueCommand({ SecretId: ARN, SecretString: '{"a":2}', ClientRequestToken: token(901) }));
    await sm.send(new PutSecretValueCommand({ SecretId: ARN, SecretString: '{"a":3}', ClientRequestToken: token(902), RotationToken: 'made-up-token' }));
    const records = stack.secretsManager.rotationTokens.filter((r) => r.secretArn === ARN);
    expect(records.map((r) => [r.versionId, r.rotationToken, r.fromLambda])).toEqual([[token(901), 'absent', false], [token(902), 'unknown', false]]);
    expect(JSON.stringify(stack.secretsManager.rotationTokens).includes('made-up-token')).toBe(false);
  });
});

describe('force deletion in the background (forceDeletePurgeMs)', () => {
  test('the name stays "scheduled for deletion" for a while, then can be used again', async () => {
    stack.secretsManager.forceDeletePurgeMs = 300;
    try {
      const { ARN } = await sm.send(new CreateSecretCommand({ Name: 'purge-later', SecretString: '{}' }));
      await sm.send(new DeleteSecretCommand({ SecretId: ARN, ForceDeleteWithoutRecovery: true }));
      const err = await sm.send(new CreateSecretCommand({ Name: 'purge-later', SecretString: '{}' })).catch((x) => x);
      expect(err).toBeInstanceOf(InvalidRequestException);
      expect(err.message).toMatch(/already scheduled for deletion/);
      // a second force delete while it is being purged is accepted, as the service does
      await sm.send(new DeleteSecretCommand({ SecretId: ARN, ForceDeleteWithoutRecovery: true }));
      await new Promise((r) => setTimeout(r, 400));
      await sm.send(new CreateSecretCommand({ Name: 'purge-later', SecretString: '{}' }));
    } finally {
      stack.secretsManager.forceDeletePurgeMs = 0;
    }
  });
});
