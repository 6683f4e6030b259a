import { ExecuteStatementCommand } from '@aws-sdk/client-redshift-data';
import { CreateSecretCommand, DeleteSecretCommand, GetRandomPasswordCommand, GetSecretValueCommand, PutSecretValueCommand, UpdateSecretVersionStageCommand } from '@aws-sdk/client-secrets-manager';
import {
  ARN, CURRENT_PASSWORD, CURRENT_VERSION, expectNothingLeaked, expectNoSecrets, MASTER_ARN, MASTER_PASSWORD, md5, NEW_PASSWORDS, PREVIOUS_PASSWORD,
  PREVIOUS_VERSION, secretJson, TOKEN, World,
} from './world';
import { createHandler } from '../../lambda/rotation/index';
import { probeName } from '../../lambda/rotation/secrets';

let world: World;
const event = (Step: string, token = TOKEN) => ({ SecretId: ARN, ClientRequestToken: token, Step });
const WRITES = ['sm:PutSecretValue', 'sm:UpdateSecretVersionStage', 'sm:CreateSecret', 'rsd:ExecuteStatement', 'rsd:BatchExecuteStatement'];

function singleUser(fields: Record<string, unknown> = {}, options: { tags?: Record<string, string>; rotationEnabled?: boolean } = {}): void {
  world.addSecret({
    arn: ARN,
    current: secretJson({ username: 'app', password: CURRENT_PASSWORD, ...fields }),
    previous: secretJson({ username: 'app', password: PREVIOUS_PASSWORD }),
    kmsKeyId: 'alias/app-key',
    ...options,
  });
  world.users.set('app', md5(CURRENT_PASSWORD, 'app'));
}

function alternating(username = 'app'): void {
  world.addSecret({
    arn: ARN,
    current: secretJson({ username, password: CURRENT_PASSWORD, masterarn: MASTER_ARN }),
    tags: { 'redshift-rotation:strategy': 'ALTERNATING_USERS' },
  });
  world.addSecret({ arn: MASTER_ARN, current: JSON.stringify({ username: 'admin', password: MASTER_PASSWORD }) });
  world.users.set(username, md5(CURRENT_PASSWORD, username));
  world.users.set('admin', md5(MASTER_PASSWORD, 'admin'));
}

beforeEach(() => {
  world = new World();
});

describe('entry checks', () => {
  test('rotation not enabled: error, nothing read or changed', async () => {
    singleUser({}, { rotationEnabled: false });
    world.startRotation();
    await expect(world.handler()(event('createSecret'))).rejects.toThrow(/rotation is not enabled/);
    expect(world.calls).toEqual(['sm:DescribeSecret']);
  });

  test('token not a version of the secret: error', async () => {
    singleUser();
    await expect(world.handler()(event('setSecret', 'unknown-token'))).rejects.toThrow(/ClientRequestToken is not a version of the secret/);
    expect(world.calls).toEqual(['sm:DescribeSecret']);
  });

  test('token already AWSCURRENT: nothing to do, for every step', async () => {
    singleUser();
    for (const step of ['createSecret', 'setSecret', 'testSecret', 'finishSecret']) {
      await world.handler()(event(step, CURRENT_VERSION));
    }
    expect(world.calls).toEqual(Array(4).fill('sm:DescribeSecret'));
    expect(JSON.parse(world.logLines[0])).toMatchObject({ secretArn: ARN, step: 'createSecret', outcome: 'ok' });
  });

  test('token not AWSPENDING: error', async () => {
    singleUser();
    await expect(world.handler()(event('setSecret', PREVIOUS_VERSION))).rejects.toThrow(/not staged AWSPENDING/);
    expect(world.calls).toEqual(['sm:DescribeSecret']);
  });

  test('invalid configuration fails before any AWS call, naming the variable', async () => {
    singleUser();
    world.startRotation();
    await expect(world.handler({ PASSWORD_LENGTH: '65' })(event('createSecret'))).rejects.toThrow(/PASSWORD_LENGTH/);
    await expect(world.handler({ EXCLUDE_CHARACTERS: '0123456789' })(event('createSecret'))).rejects.toThrow(/EXCLUDE_CHARACTERS leaves no valid Redshift password: no digit/);
    await expect(world.handler({ TEST_STATEMENTS: '"x"' })(event('testSecret'))).rejects.toThrow(/TEST_STATEMENTS/);
    expect(world.calls).toEqual([]);
  });

  test('a malformed event fails before any AWS call', async () => {
    await expect(world.handler()({ SecretId: ARN, ClientRequestToken: '', Step: 'createSecret' } as any)).rejects.toThrow(/ClientRequestToken/);
    expect(world.calls).toEqual([]);
    expect(JSON.parse(world.logLines[0])).toEqual({ secretArn: null, step: null, strategy: null, durationMs: 0, outcome: 'error', error: expect.stringMatching(/ClientRequestToken/) });
  });
});

describe('bad secrets: a clear error and nothing changed', () => {
  const cases: Array<[string, () => void, RegExp]> = [
    ['not JSON', () => world.addSecret({ arn: ARN, current: `{"password":"${CURRENT_PASSWORD}"` }), /AWSCURRENT is not valid JSON/],
    ['missing username', () => world.addSecret({ arn: ARN, current: secretJson({ password: CURRENT_PASSWORD }) }), /username is missing/],
    ['missing password', () => world.addSecret({ arn: ARN, current: secretJson({ username: 'app' }) }), /password is missing/],
    ['engine not redshift', () => world.addSecret({ arn: ARN, current: secretJson({ engine: 'postgres', username: 'app', password: CURRENT_PASSWORD }) }), /engine must be "redshift"/],
    ['neither target', () => world.addSecret({ arn: ARN, current: secretJson({ username: 'app', password: CURRENT_PASSWORD, dbClusterIdentifier: undefined }) }), /the secret names no cluster or workgroup: add dbClusterIdentifier \(a provisioned cluster\) or workgroupName/],
    ['both targets', () => world.addSecret({ arn: ARN, current: secretJson({ username: 'app', password: CURRENT_PASSWORD, workgroupName: 'wg' }) }), /found both/],
    ['alternating without masterarn', () => world.addSecret({
      arn: ARN, current: secretJson({ username: 'app', password: CURRENT_PASSWORD }), tags: { 'redshift-rotation:strategy': 'ALTERNATING_USERS' },
    }), /needs masterarn/],
    ['unknown strategy tag', () => world.addSecret({
      arn: ARN, current: secretJson({ username: 'app', password: CURRENT_PASSWORD }), tags: { 'redshift-rotation:strategy': 'BOTH' },
    }), /must be SINGLE_USER or ALTERNATING_USERS/],
    ['username with a quote', () => world.addSecret({ arn: ARN, current: secretJson({ username: 'a"b', password: CURRENT_PASSWORD }) }), /username "a\\"b" must match/],
    ['username with SQL', () => world.addSecret({ arn: ARN, current: secretJson({ username: 'x; drop user y', password: CURRENT_PASSWORD }) }), /username "x; drop user y" must match/],
    ['mixed-case username', () => world.addSecret({ arn: ARN, current: secretJson({ username: 'App', password: CURRENT_PASSWORD }) }), /username "App" has upper-case letters; Redshift folds user names to lower case .*write "app" in the secret instead/],
    ['non-ASCII username', () => world.addSecret({ arn: ARN, current: secretJson({ username: 'ålice', password: CURRENT_PASSWORD }) }), /username "ålice" must match/],
    ['username too long for _clone', () => world.addSecret({
      arn: ARN, current: secretJson({ username: 'a'.repeat(122), password: CURRENT_PASSWORD, masterarn: MASTER_ARN }),
    }), /too long for alternating users/],
  ];

  test.each(cases)('%s', async (_name, setup, expected) => {
    setup();
    for (const step of ['createSecret', 'setSecret', 'testSecret', 'finishSecret']) {
      world.startRotation();
      const err = await world.handler()(event(step)).catch((e) => e);
      expect(err).toBeInstanceOf(Error);
      expect(err.message).toMatch(expected);
      expect(err.message).toMatch(new RegExp(`^${step} failed for ${ARN.replace(/[/-]/g, '\\$&')}: `));
      expectNothingLeaked(world, err);
    }
    expect(world.calls.filter((c) => WRITES.includes(c))).toEqual([]);
    expect(world.calls.filter((c) => c === 'sm:GetRandomPassword')).toEqual([]);
  });
});

describe('createSecret', () => {
  test('copies AWSCURRENT with a new password under Redshift\'s rules and stages it AWSPENDING', async () => {
    singleUser({ host: 'h.example', port: 5439, extra: 'kept' });
    world.startRotation();
    await world.handler({ PASSWORD_LENGTH: '32', EXCLUDE_CHARACTERS: '%' })(event('createSecret'));
    expect(world.calls).toEqual(['sm:DescribeSecret', 'sm:GetSecretValue', 'sm:GetSecretValue', 'sm:GetRandomPassword', 'sm:PutSecretValue']);
    expect(world.sm).toHaveReceivedNthCommandWith(2, GetSecretValueCommand, { SecretId: ARN, VersionStage: 'AWSCURRENT' });
    expect(world.sm).toHaveReceivedNthCommandWith(3, GetSecretValueCommand, { SecretId: ARN, VersionId: TOKEN, VersionStage: 'AWSPENDING' });
    expect(world.sm).toHaveReceivedCommandWith(GetRandomPasswordCommand, {
      PasswordLength: 32, ExcludeCharacters: '\'"\\/@%', IncludeSpace: false, RequireEachIncludedType: true,
    });
    expect(world.sm).toHaveReceivedCommandWith(PutSecretValueCommand, { SecretId: ARN, ClientRequestToken: TOKEN, VersionStages: ['AWSPENDING'] });
    const { password, ...fields } = JSON.parse(world.stageValue(ARN, 'AWSPENDING')!);
    expect(password === NEW_PASSWORDS[0]).toBe(true);
    expect(fields).toEqual(JSON.parse(secretJson({ username: 'app', host: 'h.example', port: 5439, extra: 'kept' })));
    expectNothingLeaked(world);
  });

  test('the event\'s RotationToken goes to PutSecretValue and into no log line or error', async () => {
    singleUser();
    world.startRotation();
    const rotationToken = 'rt-0123456789-secret-token';
    await world.handler()({ ...event('createSecret'), RotationToken: rotationToken });
    expect(world.sm).toHaveReceivedCommandWith(PutSecretValueCommand, { SecretId: ARN, ClientRequestToken: TOKEN, RotationToken: rotationToken });
    expect(world.logLines.join('\n').includes(rotationToken)).toBe(false);
    // and never in an error either
    world.sm.on(PutSecretValueCommand).rejects(Object.assign(new Error(`token ${rotationToken} is not valid`), { name: 'AccessDeniedException', $metadata: { httpStatusCode: 400 } }));
    const other = 'token-3333-4444';
    world.startRotation(ARN, other);
    const err = await world.handler()({ ...event('createSecret', other), RotationToken: rotationToken }).catch((e) => e);
    expect(err.message).toMatch(/PutSecretValue failed: AccessDeniedException/);
    expect(String(err.message).includes(rotationToken)).toBe(false);
    expect(world.logLines.join('\n').includes(rotationToken)).toBe(false);
  });

  test('running it twice changes nothing the second time', async () => {
    singleUser();
    world.startRotation();
    await world.handler()(event('createSecret'));
    const pending = world.stageValue(ARN, 'AWSPENDING');
    await world.handler()(event('createSecret'));
    expect(world.stageValue(ARN, 'AWSPENDING') === pending).toBe(true);
    expect(world.sm).toHaveReceivedCommandTimes(GetRandomPasswordCommand, 1);
    expect(world.sm).toHaveReceivedCommandTimes(PutSecretValueCommand, 1);
  });

  test('alternating users toggle the _clone suffix both ways', async () => {
    alternating('app');
    world.startRotation();
    await world.handler()(event('createSecret'));
    const pending = JSON.parse(world.stageValue(ARN, 'AWSPENDING')!);
    expect({ username: pending.username, masterarn: pending.masterarn }).toEqual({ username: 'app_clone', masterarn: MASTER_ARN });
    expect(pending.password === NEW_PASSWORDS[0]).toBe(true);

    world = new World();
    alternating('app_clone');
    world.startRotation();
    await world.handler()(event('createSecret'));
    expect(JSON.parse(world.stageValue(ARN, 'AWSPENDING')!).username).toBe('app');
  });

  test('excludes punctuation when EXCLUDE_CHARACTERS removes all of it', async () => {
    singleUser();
    world.startRotation();
    world.sm.on(GetRandomPasswordCommand).resolves({ RandomPassword: 'Abcdefgh12345678Abcdefgh12345678' });
    await world.handler({ EXCLUDE_CHARACTERS: '!#$%&()*+,-.:;<=>?[]^_`{|}~' })(event('createSecret'));
    expect(world.sm).toHaveReceivedCommandWith(GetRandomPasswordCommand, { ExcludePunctuation: true });
  });

  test('a generated password that breaks the rules is refused without being quoted', async () => {
    singleUser();
    world.startRotation();
    world.sm.on(GetRandomPasswordCommand).resolves({ RandomPassword: NEW_PASSWORDS[0].slice(0, 30) + '@x' });
    const err = await world.handler()(event('createSecret')).catch((e) => e);
    expect(err.message).toMatch(/password Redshift would refuse \(contains a character that is forbidden or excluded\)/);
    expect(String(err.message).includes(NEW_PASSWORDS[0].slice(0, 30))).toBe(false);
    expect(world.sm).toHaveReceivedCommandTimes(PutSecretValueCommand, 0);
  });
});

describe('testSecret', () => {
  async function prepared(): Promise<void> {
    singleUser();
    world.startRotation();
    await world.handler()(event('createSecret'));
    await world.handler()(event('setSecret'));
    world.calls.length = 0;
  }

  test('runs SELECT 1 and each test statement as the pending credentials through a probe, then force-deletes it', async () => {
    await prepared();
    await world.handler({ TEST_STATEMENTS: '["SELECT count(*) FROM orders","SELECT 2"]' })(event('testSecret'));
    expect(world.calls.filter((c) => !c.endsWith('DescribeStatement'))).toEqual([
      'sm:DescribeSecret', 'sm:GetSecretValue', 'sm:GetSecretValue',
      'sm:GetSecretValue', // setSecret's probe, read first (SINGLE_USER) and holding AWSPENDING: nothing else before the tests
      'rsd:ExecuteStatement', 'rsd:ExecuteStatement', 'rsd:ExecuteStatement',
      'sm:DeleteSecret',
    ]);
    const create = world.sm.commandCalls(CreateSecretCommand)[0].args[0].input;
    expect(create.Name).toMatch(/^redshift-rotation-probe\/[0-9a-f]{16}$/);
    expect(create.Name).toBe(probeName('redshift-rotation-probe/', ARN));
    expect(create.SecretString === world.stageValue(ARN, 'AWSPENDING')).toBe(true);
    expect(create.KmsKeyId).toBe('alias/app-key');
    expect(create.Tags).toEqual([{ Key: 'RotationProbeFor', Value: ARN }, { Key: 'redshift-rotation:probe-for-function', Value: 'redshift-rotation' }]);
    const probeArns = world.rsd.commandCalls(ExecuteStatementCommand).slice(-3).map((c) => c.args[0].input);
    expect(probeArns.map((i) => i.Sql)).toEqual(['SELECT 1', 'SELECT count(*) FROM orders', 'SELECT 2']);
    expect(new Set(probeArns.map((i) => i.SecretArn))).toEqual(new Set([world.statements.at(-1)!.secretArn]));
    expect(probeArns[0].SecretArn).not.toBe(ARN);
    expect(world.sm).toHaveReceivedCommandWith(DeleteSecretCommand, { SecretId: probeArns[0].SecretArn, ForceDeleteWithoutRecovery: true });
    expect(world.liveProbes()).toEqual([]);
  });

  test('a probe an earlier rotation left (another token) is found by its name without ListSecrets, deleted and reported; other secrets\' probes are left alone', async () => {
    singleUser();
    world.startRotation();
    await world.handler()(event('createSecret'));
    const leftover = probeName('redshift-rotation-probe/', ARN);
    world.addSecret({ arn: `arn:aws:secretsmanager:eu-west-1:111122223333:secret:${leftover}-AAAAAA`, name: leftover, current: '{"password":"OldPendingPassw0rd"}', tags: { RotationProbeFor: ARN } });
    const other = probeName('redshift-rotation-probe/', 'arn:other');
    world.addSecret({ arn: `arn:aws:secretsmanager:eu-west-1:111122223333:secret:${other}-BBBBBB`, name: other, current: '{}', tags: { RotationProbeFor: 'arn:other' } });
    world.logLines.length = 0;
    await world.handler()(event('setSecret'));
    expect(world.calls).not.toContain('sm:ListSecrets');
    expect(world.liveProbes().map((s) => s.name).sort()).toEqual([other, leftover].sort());
    expect(world.sm).toHaveReceivedCommandTimes(DeleteSecretCommand, 1);
    const line = JSON.parse(world.logLines.at(-1)!);
    expect(line.leftoverProbesDeleted).toEqual([leftover]);
    expect(JSON.stringify(line).includes('OldPendingPassw0rd')).toBe(false);
    await world.handler()(event('testSecret'));
    expect(world.liveProbes().map((s) => s.name)).toEqual([other]);
    expect(world.sm).toHaveReceivedCommandTimes(DeleteSecretCommand, 2);
    expect(JSON.parse(world.logLines.at(-1)!).leftoverProbesDeleted).toBeUndefined();
  });

  test('a failing test statement fails the step, and the probe is still deleted', async () => {
    await prepared();
    world.faults.push({ match: (sql) => sql === 'SELECT * FROM forbidden', fault: { kind: 'FAILED', error: 'ERROR: permission denied for relation forbidden' } });
    const err = await world.handler({ TEST_STATEMENTS: '["SELECT * FROM forbidden"]' })(event('testSecret')).catch((e) => e);
    expect(err.message).toMatch(/FAILED: ERROR: permission denied for relation forbidden/);
    expect(world.liveProbes()).toEqual([]);
    expectNothingLeaked(world, err);
  });

  test('RotateImmediately=false (AWSPENDING staged without a value): the configuration is tested as AWSCURRENT, no probe', async () => {
    singleUser();
    world.startRotation();
    await world.handler({ TEST_STATEMENTS: '["SELECT 2"]' })(event('testSecret'));
    const statements = world.rsd.commandCalls(ExecuteStatementCommand).map((c) => c.args[0].input);
    expect(statements.map((i) => [i.Sql, i.SecretArn])).toEqual([['SELECT 1', ARN], ['SELECT 2', ARN]]);
    expect(world.sm).toHaveReceivedCommandTimes(CreateSecretCommand, 0);
    expect(world.versionOf(ARN, 'AWSCURRENT')).toBe(CURRENT_VERSION);
  });

  test('RotateImmediately=false: a failing test statement fails the step', async () => {
    singleUser();
    world.startRotation();
    world.faults.push({ match: (sql) => sql === 'SELECT * FROM forbidden', fault: { kind: 'FAILED', error: 'ERROR: permission denied for relation forbidden' } });
    const err = await world.handler({ TEST_STATEMENTS: '["SELECT * FROM forbidden"]' })(event('testSecret')).catch((e) => e);
    expect(err.message).toMatch(/permission denied for relation forbidden/);
    expectNothingLeaked(world, err);
  });

  test('SINGLE_USER: a failing test statement puts AWSCURRENT\'s password back (through the still live pending credentials)', async () => {
    await prepared();
    expect(world.users.get('app')).not.toBe(md5(CURRENT_PASSWORD, 'app'));
    world.faults.push({ match: (sql) => sql === 'SELECT * FROM forbidden', fault: { kind: 'FAILED', error: 'ERROR: permission denied for relation forbidden' } });
    const err = await world.handler({ TEST_STATEMENTS: '["SELECT * FROM forbidden"]' })(event('testSecret')).catch((e) => e);
    expect(err.message).toMatch(/permission denied for relation forbidden/);
    expect(world.users.get('app')).toBe(md5(CURRENT_PASSWORD, 'app'));
    expect(world.liveProbes()).toEqual([]);
    expectNothingLeaked(world, err);
  });

  test('pending credentials that do not log in fail the step', async () => {
    singleUser();
    world.startRotation();
    await world.handler()(event('createSecret'));
    const err = await world.handler()(event('testSecret')).catch((e) => e);
    expect(err.message).toMatch(/did not log in/);
    expect(world.liveProbes()).toEqual([]);
    expectNothingLeaked(world, err);
  });
});

describe('finishSecret', () => {
  test('moves AWSCURRENT to the token, removing it from the current version; AWSPREVIOUS follows', async () => {
    singleUser();
    world.startRotation();
    await world.handler()(event('createSecret'));
    await world.handler()(event('finishSecret'));
    expect(world.sm).toHaveReceivedCommandWith(UpdateSecretVersionStageCommand, {
      SecretId: ARN, VersionStage: 'AWSCURRENT', MoveToVersionId: TOKEN, RemoveFromVersionId: CURRENT_VERSION,
    });
    expect(world.versionOf(ARN, 'AWSCURRENT')).toBe(TOKEN);
    expect(world.versionOf(ARN, 'AWSPREVIOUS')).toBe(CURRENT_VERSION);
    // twice: the token is AWSCURRENT now, nothing to do
    await world.handler()(event('finishSecret'));
    expect(world.sm).toHaveReceivedCommandTimes(UpdateSecretVersionStageCommand, 1);
  });
});

describe('logging', () => {
  test('one JSON line per step on stdout, without secrets', async () => {
    singleUser();
    world.startRotation();
    const lines: string[] = [];
    const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: any) => { lines.push(String(chunk)); return true; });
    const consoleSpies = (['log', 'info', 'warn', 'error', 'debug'] as const).map((m) => jest.spyOn(console, m).mockImplementation(() => undefined));
    try {
      const handler = createHandler({ env: { STATEMENT_POLL_MS: '10', AWS_LAMBDA_FUNCTION_NAME: 'redshift-rotation' }, timing: { sleep: async () => undefined } });
      for (const step of ['createSecret', 'setSecret', 'testSecret', 'finishSecret']) await handler(event(step));
      await handler(event('setSecret', 'nope')).catch(() => undefined);
    } finally {
      spy.mockRestore();
    }
    for (const s of consoleSpies) {
      expect(s).not.toHaveBeenCalled();
      s.mockRestore();
    }
    expect(lines).toHaveLength(5);
    const parsed = lines.map((l) => {
      expect(l.endsWith('\n')).toBe(true);
      expect(l.trim()).not.toContain('\n');
      expectNoSecrets(l);
      return JSON.parse(l);
    });
    expect(parsed.map((p) => [p.step, p.outcome])).toEqual([
      ['createSecret', 'ok'], ['setSecret', 'ok'], ['testSecret', 'ok'], ['finishSecret', 'ok'], ['setSecret', 'error'],
    ]);
    for (const p of parsed.slice(0, 4)) {
      expect(Object.keys(p)).toEqual(['secretArn', 'step', 'strategy', 'durationMs', 'outcome']);
      expect(p).toMatchObject({ secretArn: ARN, strategy: 'SINGLE_USER' });
      expect(typeof p.durationMs).toBe('number');
    }
    expect(parsed[4].error).toMatch(/not a version of the secret/);
  });

  test('errors from Secrets Manager calls that carry secrets are reduced to their name', async () => {
    singleUser();
    world.startRotation();
    world.sm.on(PutSecretValueCommand).rejects(Object.assign(new Error(`bad value ${NEW_PASSWORDS[0]}`), { name: 'InvalidParameterException', $metadata: { httpStatusCode: 400 } }));
    const err = await world.handler()(event('createSecret')).catch((e) => e);
    expect(err.message).toMatch(/PutSecretValue failed: InvalidParameterException \(HTTP 400\)$/);
    expectNothingLeaked(world, err);
  });

  test('any other error text is redacted of every secret value seen', async () => {
    alternating();
    world.startRotation();
    world.sm.on(GetRandomPasswordCommand).rejects(Object.assign(new Error(`echo ${CURRENT_PASSWORD} and {\"password\":\"${CURRENT_PASSWORD}\"} md5${'a'.repeat(32)}`), { name: 'InternalServiceError' }));
    const err = await world.handler()(event('createSecret')).catch((e) => e);
    expect(err.message).toMatch(/echo \[REDACTED\] and/);
    expect(err.message).toMatch(/md5\[REDACTED\]/);
    expectNothingLeaked(world, err);
  });
});
