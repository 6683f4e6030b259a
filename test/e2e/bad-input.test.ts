/**
 * Invariant 5, end to end: each bad input of the rotation-function issue, through RotateSecret (or a direct
 * invocation where the service would never send it), gets a clear error naming the problem (in the invocation
 * record, the RotationFailed event and the handler's log line) and changes neither the database (users, passwords,
 * attributes, memberships, grants) nor the staging labels (beyond the AWSPENDING RotateSecret itself attaches).
 * Also: a failing custom test statement fails testSecret and leaves AWSCURRENT as it was.
 */
import { CancelStatementCommand, ListStatementsCommand } from '@aws-sdk/client-redshift-data';
import { PutSecretValueCommand, UpdateSecretVersionStageCommand } from '@aws-sdk/client-secrets-manager';
import { E2e, FAST_ENV, newPassword, newToken, sleep } from './helpers';
import type { Rotation } from './helpers';

let e: E2e;

beforeAll(async () => {
  // one retry by the service: a bad input fails the same way every time, and the retry must not change anything either
  // the handler's own checks of events and secrets: without IAM, so that each bad input reaches the handler (under
  // the construct's policy AWS refuses several of them earlier, e.g. a master the construct was not given, or a
  // secret not enrolled with the function: test/e2e/iam.test.ts covers those)
  e = await E2e.start({ rotationRetries: 1, iam: false });
});

afterAll(async () => {
  await e?.stop();
});

/** A secret string as the construct writes it, with overrides (undefined removes a field). */
function secretJson(fields: Record<string, unknown>): string {
  const base: Record<string, unknown> = {
    engine: 'redshift', username: 'nobody', password: newPassword(), dbname: e.stack.postgres.database, dbClusterIdentifier: e.stack.clusterIdentifier,
  };
  const out = { ...base, ...fields };
  for (const k of Object.keys(out)) if (out[k] === undefined) delete out[k];
  e.passwords.add(String(out.password ?? ''));
  return JSON.stringify(out);
}

interface Before {
  db: unknown;
  stages: Record<string, Record<string, string[]>>;
  values: Record<string, string | undefined>;
}

async function snapshot(arns: readonly string[]): Promise<Before> {
  const stages: Before['stages'] = {};
  const values: Before['values'] = {};
  for (const arn of arns) {
    stages[arn] = await e.stages(arn);
    values[arn] = (await e.value(arn))?.versionId;
  }
  return { db: await e.dbSnapshot(), stages, values };
}

/** Nothing changed: the database, AWSCURRENT, and the labels apart from AWSPENDING on the rotation's own token. */
async function expectUnchanged(before: Before, token?: string): Promise<void> {
  expect(await e.dbSnapshot()).toEqual(before.db);
  for (const [arn, stages] of Object.entries(before.stages)) {
    const now = await e.stages(arn);
    if (token && now[token] && !stages[token]) {
      expect(now[token]).toEqual(['AWSPENDING']);
      delete now[token];
    }
    expect(now).toEqual(stages);
    expect((await e.value(arn))?.versionId).toBe(before.values[arn]);
  }
}

/** The handler's error log line for a secret, if any, matches. */
function expectLoggedError(arn: string, message: RegExp): void {
  const lines = e.stepLogs().filter((l) => l.outcome === 'error' && (l.secretArn === arn || l.secretArn === null));
  expect(lines.some((l) => message.test(l.error ?? ''))).toBe(true);
}

/** RotateSecret, expecting the rotation to fail at `step` with an error matching `message`, changing nothing. */
async function expectRotationRefused(
  arn: string, step: string, message: RegExp, options: { functionArn?: string; others?: string[]; token?: string } = {},
): Promise<Rotation> {
  const before = await snapshot([arn, ...(options.others ?? [])]);
  const r = await e.rotate(arn, { functionArn: options.functionArn, token: options.token });
  expect({ type: r.event.type, step: r.event.step }).toEqual({ type: 'RotationFailed', step });
  expect(e.redact(r.event.error)).toMatch(message);
  // the invocation record says the same; the error never quotes the secret string
  const failed = e.stack.invocations.filter((i) => i.secretId === arn && i.start >= r.started && i.ok === false);
  expect(failed.length).toBeGreaterThan(0);
  expect(failed.every((i) => message.test(i.errorMessage ?? ''))).toBe(true);
  expectLoggedError(arn, message);
  await expectUnchanged(before, r.token);
  return r;
}

/** Invokes the function directly with an event, expecting a failure matching `message` and no change. */
async function expectInvokeRefused(
  arns: string[], event: Record<string, unknown>, message: RegExp, functionArn = e.stack.functionArn(),
): Promise<string> {
  const before = await snapshot(arns);
  const inv = await e.stack.lambda.invoke(functionArn, event as never);
  expect(inv.ok).toBe(false);
  expect(e.redact(inv.errorMessage)).toMatch(message);
  await expectUnchanged(before);
  return inv.invocationId;
}

describe('the event and the secret\'s rotation state (direct invocation)', () => {
  test.each([
    [{ Step: 'createSecret', ClientRequestToken: 't'.repeat(36) }, /SecretId must be a non-empty string/],
    [{ Step: 'bogus', SecretId: 'x', ClientRequestToken: 't'.repeat(36) }, /Step must be one of createSecret, setSecret, testSecret, finishSecret/],
    [{ Step: 'setSecret', SecretId: 'x' }, /ClientRequestToken must be a non-empty string/],
  ])('a malformed event %j is refused before any AWS call', async (event, message) => {
    const id = await expectInvokeRefused([], event, message);
    expect(e.stack.faults.calls({ fromLambda: true }).filter((c) => c.lambda?.invocationId === id)).toEqual([]);
  });

  test('a secret not enabled for rotation', async () => {
    const user = await e.newUser('SINGLE_USER', 'cluster', 'notenabled');
    const current = (await e.value(user.arn))!;
    await expectInvokeRefused([user.arn], { Step: 'createSecret', SecretId: user.arn, ClientRequestToken: current.versionId }, /rotation is not enabled/);
  });

  test('a token that is not a version of the secret, and one that is not AWSPENDING', async () => {
    const user = await e.newUser('SINGLE_USER', 'cluster', 'token');
    await e.rotateOk(user.arn); // rotation enabled
    for (const step of ['createSecret', 'setSecret', 'testSecret', 'finishSecret']) {
      await expectInvokeRefused([user.arn], { Step: step, SecretId: user.arn, ClientRequestToken: newToken() }, /ClientRequestToken is not a version of the secret/);
    }
    const previous = (await e.value(user.arn, 'AWSPREVIOUS'))!;
    for (const step of ['createSecret', 'setSecret', 'testSecret', 'finishSecret']) {
      await expectInvokeRefused([user.arn], { Step: step, SecretId: user.arn, ClientRequestToken: previous.versionId }, /ClientRequestToken is not staged AWSPENDING/);
    }
    // and the secret still rotates afterwards
    await e.rotateOk(user.arn);
  });
});

describe('the secret string (through RotateSecret)', () => {
  const cases: Array<[string, () => Record<string, unknown> | string, RegExp]> = [
    ['not JSON', () => 'username=app;password=Secret1234567', /AWSCURRENT is not valid JSON/],
    ['a JSON array', () => '["redshift"]', /AWSCURRENT is not a JSON object/],
    ['no username', () => ({ username: undefined }), /AWSCURRENT: username is missing/],
    ['no password', () => ({ password: undefined }), /AWSCURRENT: password is missing/],
    ['engine postgres', () => ({ engine: 'postgres' }), /AWSCURRENT: engine must be "redshift"/],
    ['neither dbClusterIdentifier nor workgroupName', () => ({ dbClusterIdentifier: undefined }),
      /AWSCURRENT: the secret names no cluster or workgroup: add dbClusterIdentifier \(a provisioned cluster\) or workgroupName \(Redshift Serverless\)$/],
    ['only a host that is no Redshift endpoint (a custom domain)', () => ({ dbClusterIdentifier: undefined, host: 'warehouse.example.com', port: 5439 }),
      /AWSCURRENT: the secret names no cluster or workgroup: add dbClusterIdentifier \(a provisioned cluster\) or workgroupName \(Redshift Serverless\); its host "warehouse.example.com" is not a Redshift cluster or workgroup endpoint/],
    ['both dbClusterIdentifier and workgroupName', () => ({ workgroupName: e.stack.workgroupName }), /exactly one of dbClusterIdentifier and workgroupName must be set \(found both\)/],
    ['a username with a double quote', () => ({ username: 'a"b' }), /username "a\\"b" must match/],
    ['a username with a statement in it', () => ({ username: 'x; drop user y' }), /username "x; drop user y" must match/],
    ['a mixed-case username', () => ({ username: 'MixedCase' }),
      /username "MixedCase" has upper-case letters; Redshift folds user names to lower case \(the user is "mixedcase"\) and the md5 password verifier depends on the exact stored name, so rotating "MixedCase" would set a password nobody can log in with: write "mixedcase" in the secret instead/],
    ['a non-ASCII username', () => ({ username: 'üser' }), /username "üser" must match/],
    ['a username longer than 127 bytes', () => ({ username: 'u'.repeat(128) }), /username is 128 bytes, Redshift allows at most 127/],
  ];
  test.each(cases)('SINGLE_USER: %s', async (_name, fields, message) => {
    const value = fields();
    const arn = await e.rawSecret(e.uniqueName('bad'), typeof value === 'string' ? value : secretJson(value), { 'redshift-rotation:strategy': 'SINGLE_USER' });
    if (typeof value === 'string') e.passwords.add(value);
    await expectRotationRefused(arn, 'createSecret', message);
  });

  test.each(['SINGLE_USER', 'ALTERNATING_USERS'] as const)('%s: the secret of an existing user written with upper case is refused, the user keeps its password', async (strategy) => {
    // CREATE USER App_Owner makes the user app_owner (Redshift folds names): the secret says "App_Owner"
    const user = await e.newUser(strategy, 'cluster', 'case');
    const current = (await e.value(user.arn))!;
    const fields = { ...current, username: user.username.replace(/^case/, 'Case') } as Record<string, unknown>;
    delete fields.versionId;
    await e.sm.send(new PutSecretValueCommand({ SecretId: user.arn, SecretString: JSON.stringify(fields) }));
    const others = strategy === 'ALTERNATING_USERS' ? [await e.masterArn('cluster')] : [];
    await expectRotationRefused(user.arn, 'createSecret', new RegExp(`username "${user.username.replace(/^case/, 'Case')}" has upper-case letters; Redshift folds user names to lower case \\(the user is "${user.username}"\\)`), { others });
    expect(await e.stack.canLogin(user.username, current.password)).toBe(true);
  });

  test('a strategy tag that is neither SINGLE_USER nor ALTERNATING_USERS', async () => {
    const arn = await e.rawSecret(e.uniqueName('bad'), secretJson({}), { 'redshift-rotation:strategy': 'MULTI_USER' });
    await expectRotationRefused(arn, 'createSecret', /redshift-rotation:strategy must be SINGLE_USER or ALTERNATING_USERS, got "MULTI_USER"/);
  });

  test('ALTERNATING_USERS without masterarn', async () => {
    const arn = await e.rawSecret(e.uniqueName('bad'), secretJson({ username: 'app' }), { 'redshift-rotation:strategy': 'ALTERNATING_USERS' });
    await expectRotationRefused(arn, 'createSecret', /ALTERNATING_USERS needs masterarn/);
  });

  test('ALTERNATING_USERS: a username too long for the _clone suffix, and one that is only the suffix', async () => {
    const master = await e.masterArn('cluster');
    for (const [username, message] of [
      ['a'.repeat(122), /too long for alternating users: at most 121 bytes/],
      ['_clone', /has nothing before _clone/],
    ] as const) {
      const arn = await e.rawSecret(e.uniqueName('bad'), secretJson({ username, masterarn: master }), { 'redshift-rotation:strategy': 'ALTERNATING_USERS' });
      await expectRotationRefused(arn, 'createSecret', message, { others: [master] });
    }
  });
});

describe('the master secret (ALTERNATING_USERS)', () => {
  test('masterarn names a secret that does not exist', async () => {
    const user = await e.newUser('SINGLE_USER', 'cluster', 'nomaster');
    const missing = `arn:aws:secretsmanager:${e.stack.region}:${e.stack.account}:secret:no-such-master-AbCdEf`;
    const current = (await e.value(user.arn))!;
    const arn = await e.rawSecret(e.uniqueName('bad'), JSON.stringify({ ...current, versionId: undefined, masterarn: missing }), { 'redshift-rotation:strategy': 'ALTERNATING_USERS' });
    await expectRotationRefused(arn, 'setSecret', /cannot read the master secret .*ResourceNotFoundException/);
  });

  test('the master secret lacks a password', async () => {
    const user = await e.newUser('SINGLE_USER', 'cluster', 'badmaster');
    const master = await e.rawSecret(e.uniqueName('master'), JSON.stringify({ username: e.stack.postgres.adminUser }));
    const current = (await e.value(user.arn))!;
    const arn = await e.rawSecret(e.uniqueName('bad'), JSON.stringify({ ...current, versionId: undefined, masterarn: master }), { 'redshift-rotation:strategy': 'ALTERNATING_USERS' });
    await expectRotationRefused(arn, 'setSecret', /master secret .*password is missing/, { others: [master] });
  });

  test('the master secret is not JSON', async () => {
    const user = await e.newUser('SINGLE_USER', 'cluster', 'badmaster');
    const master = await e.rawSecret(e.uniqueName('master'), 'admin:hunter2hunter2');
    e.passwords.add('hunter2hunter2');
    const current = (await e.value(user.arn))!;
    const arn = await e.rawSecret(e.uniqueName('bad'), JSON.stringify({ ...current, versionId: undefined, masterarn: master }), { 'redshift-rotation:strategy': 'ALTERNATING_USERS' });
    await expectRotationRefused(arn, 'setSecret', /master secret .*is not valid JSON/, { others: [master] });
  });
});

describe('a pending version that does not fit the strategy', () => {
  test.each([
    ['SINGLE_USER', (u: string) => `${u}_other`, /AWSPENDING: username .* does not fit SINGLE_USER/],
    ['ALTERNATING_USERS', (u: string) => u, /AWSPENDING: username .* does not fit ALTERNATING_USERS: expected ".*_clone"/],
  ] as const)('%s (setSecret refuses it)', async (strategy, pendingUsername, message) => {
    const user = await e.newUser(strategy, 'cluster', 'pend');
    await e.rotateOk(user.arn); // rotation enabled
    const current = (await e.value(user.arn))!;
    const token = newToken();
    const { versionId: _v, ...fields } = current;
    await e.sm.send(new PutSecretValueCommand({
      SecretId: user.arn,
      ClientRequestToken: token,
      VersionStages: ['AWSPENDING'],
      SecretString: secretJson({ ...fields, username: pendingUsername(String(current.username)) }),
    }));
    await expectInvokeRefused([user.arn], { Step: 'setSecret', SecretId: user.arn, ClientRequestToken: token }, message);
    await expectInvokeRefused([user.arn], { Step: 'testSecret', SecretId: user.arn, ClientRequestToken: token }, message);
    expectLoggedError(user.arn, message);
  });
});

describe('the function\'s configuration', () => {
  test.each([
    ['PASSWORD_LENGTH=7', { PASSWORD_LENGTH: '7' }, /PASSWORD_LENGTH must be an integer from 8 to 64/],
    ['PASSWORD_LENGTH=65', { PASSWORD_LENGTH: '65' }, /PASSWORD_LENGTH must be an integer from 8 to 64/],
    ['EXCLUDE_CHARACTERS without digits', { EXCLUDE_CHARACTERS: '0123456789' }, /EXCLUDE_CHARACTERS leaves no valid Redshift password: no digit remains/],
    ['TEST_STATEMENTS not JSON', { TEST_STATEMENTS: 'SELECT 1' }, /TEST_STATEMENTS must be a JSON array/],
  ])('%s', async (name, env, message) => {
    const fn = e.stack.functionArn(`bad-config-${name.replace(/[^A-Za-z0-9]/g, '')}`);
    e.stack.registerFunction(fn, { env: { ...FAST_ENV, ...env } });
    const user = await e.newUser('SINGLE_USER', 'cluster', 'conf');
    await expectRotationRefused(user.arn, 'createSecret', message, { functionArn: fn });
  });
});

describe('Data API statements that fail, are aborted or never finish', () => {
  test('a statement that FAILS: the error quotes Redshift\'s message', async () => {
    const user = await e.newUser('SINGLE_USER', 'cluster', 'stfail');
    const fault = e.stack.faults.inject({
      secretId: user.arn,
      operation: ['ExecuteStatement', 'BatchExecuteStatement'],
      times: 1000,
      action: { type: 'statementFailed', error: 'ERROR: disk full (injected)' },
    });
    try {
      await expectRotationRefused(user.arn, 'setSecret', /FAILED: ERROR: disk full \(injected\)/);
    } finally {
      fault.remove();
    }
  });

  test('a statement that is ABORTED (cancelled while it waits)', async () => {
    const user = await e.newUser('ALTERNATING_USERS', 'cluster', 'staborted');
    const fault = e.stack.faults.inject({
      secretId: user.arn, step: 'setSecret', operation: 'ExecuteStatement', times: 1000, action: { type: 'latency', ms: 800 },
    });
    let done = false;
    const canceller = (async () => {
      while (!done) {
        const list = await e.data.send(new ListStatementsCommand({ Status: 'SUBMITTED', MaxResults: 100 }));
        for (const s of list.Statements ?? []) {
          await e.data.send(new CancelStatementCommand({ Id: s.Id })).catch(() => undefined);
        }
        await sleep(20);
      }
    })();
    try {
      await expectRotationRefused(user.arn, 'setSecret', /was ABORTED: Query cancelled/, { others: [await e.masterArn('cluster')] });
    } finally {
      done = true;
      await canceller;
      fault.remove();
    }
  });

  test('a statement that never finishes is cancelled after STATEMENT_TIMEOUT_MS', async () => {
    const fn = e.stack.functionArn('short-timeout');
    e.stack.registerFunction(fn, { env: { ...FAST_ENV, STATEMENT_TIMEOUT_MS: '1000' } });
    const user = await e.newUser('SINGLE_USER', 'cluster', 'sttimeout');
    const fault = e.stack.faults.inject({
      secretId: user.arn, step: 'setSecret', operation: 'ExecuteStatement', times: 1000, action: { type: 'latency', ms: 1100 },
    });
    try {
      await expectRotationRefused(user.arn, 'setSecret', /did not finish within 1000 ms .*it was cancelled/, { functionArn: fn });
    } finally {
      fault.remove();
    }
  });
});

describe('custom test statements (TEST_STATEMENTS)', () => {
  const fn = () => e.stack.functionArn('with-test-statements');
  beforeAll(async () => {
    await e.redshift('CREATE SCHEMA "restricted"');
    await e.redshift('CREATE TABLE "restricted"."data" (id int)');
    e.stack.registerFunction(fn(), { env: { ...FAST_ENV, TEST_STATEMENTS: JSON.stringify(['SELECT count(*) FROM "restricted"."data"']) } });
  });

  test('ALTERNATING_USERS: a failing test statement fails testSecret, AWSCURRENT stays and still logs in; once it can pass, the rotation completes', async () => {
    const user = await e.newUser('ALTERNATING_USERS', 'cluster', 'tst');
    await e.rotateOk(user.arn); // the clone exists from here on
    const current = (await e.value(user.arn))!;
    const previous = (await e.value(user.arn, 'AWSPREVIOUS'))!;
    const r = await e.rotate(user.arn, { functionArn: fn() });
    expect({ type: r.event.type, step: r.event.step }).toEqual({ type: 'RotationFailed', step: 'testSecret' });
    expect(e.redact(r.event.error)).toMatch(/FAILED: .*permission denied/);
    expect(e.stack.events.filter((ev) => ev.token === r.token && ev.type === 'RotationFailed')).toHaveLength(1);
    expect((await e.value(user.arn))!.versionId).toBe(current.versionId);
    expect((await e.value(user.arn, 'AWSPREVIOUS'))!.versionId).toBe(previous.versionId);
    expect(await e.versionLogsIn(user.arn, 'AWSCURRENT')).toBe(true);
    expect(await e.probeSecrets()).toEqual([]);
    // grant what the statement needs to the AWSCURRENT user (setSecret makes the pending user equal to it); the
    // service would retry the pending rotation: here it is abandoned (AWSPENDING removed) and a new one started
    await e.redshift(`GRANT USAGE ON SCHEMA "restricted" TO "${current.username}"`);
    await e.redshift(`GRANT SELECT ON TABLE "restricted"."data" TO "${current.username}"`);
    await e.sm.send(new UpdateSecretVersionStageCommand({ SecretId: user.arn, VersionStage: 'AWSPENDING', RemoveFromVersionId: r.token }));
    const again = await e.rotate(user.arn, { functionArn: fn() });
    expect(again.event.type).toBe('RotationSucceeded');
    expect(await e.versionLogsIn(user.arn, 'AWSCURRENT')).toBe(true);
    expect(await e.versionLogsIn(user.arn, 'AWSPREVIOUS')).toBe(true);
  });

  test('SINGLE_USER: a failing test statement fails testSecret, AWSCURRENT stays on the old version and logs in again', async () => {
    const user = await e.newUser('SINGLE_USER', 'cluster', 'tsts');
    const current = (await e.value(user.arn))!;
    const r = await e.rotate(user.arn, { functionArn: fn() });
    expect({ type: r.event.type, step: r.event.step }).toEqual({ type: 'RotationFailed', step: 'testSecret' });
    expect(e.redact(r.event.error)).toMatch(/FAILED: .*permission denied/);
    expect((await e.value(user.arn))!.versionId).toBe(current.versionId);
    expect((await e.stages(user.arn))[current.versionId]).toEqual(['AWSCURRENT']);
    expect(await e.probeSecrets()).toEqual([]);
    // setSecret changed the password before testSecret failed; the handler put AWSCURRENT's password back
    expect(await e.versionLogsIn(user.arn, 'AWSCURRENT')).toBe(true);
    expect(await e.versionLogsIn(user.arn, 'AWSPENDING')).toBe(false);
  });
});

test('nothing the handler logged, and no SQL, carries a password', async () => {
  await e.expectNoPasswordLeaked();
});
