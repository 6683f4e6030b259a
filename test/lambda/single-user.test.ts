import { ExecuteStatementCommand } from '@aws-sdk/client-redshift-data';
import { CreateSecretCommand, DeleteSecretCommand, GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import {
  ARN, CURRENT_PASSWORD, expectNothingLeaked, md5, NEW_PASSWORDS, PREVIOUS_PASSWORD, PREVIOUS_VERSION, secretJson, TOKEN, World,
} from './world';

let world: World;
const event = (Step: string, token = TOKEN) => ({ SecretId: ARN, ClientRequestToken: token, Step });
const NEW = NEW_PASSWORDS[0];

function singleUser(fields: Record<string, unknown> = {}): void {
  world.addSecret({
    arn: ARN,
    current: secretJson({ username: 'app', password: CURRENT_PASSWORD, ...fields }),
    previous: secretJson({ username: 'app', password: PREVIOUS_PASSWORD, ...fields }),
  });
  world.users.set('app', md5(CURRENT_PASSWORD, 'app'));
}

async function createPending(): Promise<void> {
  world.startRotation();
  await world.handler()(event('createSecret'));
  world.calls.length = 0;
}

const nonPolling = () => world.calls.filter((c) => c !== 'rsd:DescribeStatement');

beforeEach(() => {
  world = new World();
});

describe('SINGLE_USER setSecret', () => {
  test('the probe first (AWSPENDING, kept for testSecret), then ALTER USER as the user itself, carrying only the md5 verifier', async () => {
    singleUser();
    await createPending();
    await world.handler()(event('setSecret'));
    expect(nonPolling()).toEqual([
      'sm:DescribeSecret', 'sm:GetSecretValue', 'sm:GetSecretValue',
      'sm:CreateSecret', // the probe, made at once: no ListSecrets, no lookup first
      'rsd:ExecuteStatement',
    ]);
    expect(world.rsd).toHaveReceivedCommandWith(ExecuteStatementCommand, {
      ClusterIdentifier: 'my-cluster', Database: 'dev', SecretArn: ARN, Sql: `ALTER USER "app" PASSWORD '${md5(NEW, 'app')}'`,
    });
    expect(world.users.get('app')).toBe(md5(NEW, 'app'));
    const probes = world.liveProbes();
    expect(probes.length).toBe(1);
    expect(JSON.parse([...probes[0].versions.values()][0].value!).password === NEW).toBe(true);
    expectNothingLeaked(world);
  });

  test('CreateSecret denied on the probe: no ALTER USER, AWSCURRENT still logs in, the error says why', async () => {
    singleUser();
    await createPending();
    world.sm.on(CreateSecretCommand).rejects(Object.assign(new Error('User: arn:aws:sts::111122223333:assumed-role/r/f is not authorized to perform: secretsmanager:CreateSecret'), {
      name: 'AccessDeniedException', $metadata: { httpStatusCode: 400 },
    }));
    const err = await world.handler()(event('setSecret')).catch((e) => e);
    expect(err.message).toMatch(/the password was not changed: the new one could not be tested or recovered without a probe secret \(Secrets Manager CreateSecret failed for the probe secret .*AccessDeniedException/);
    expect(world.rsd).toHaveReceivedCommandTimes(ExecuteStatementCommand, 0);
    expect(world.users.get('app')).toBe(md5(CURRENT_PASSWORD, 'app'));
    expectNothingLeaked(world, err);
  });

  test('a probe name still being deleted (a force-deleted probe of the same token) is created again after a back-off', async () => {
    singleUser();
    await createPending();
    world.createSecretFailures.push(Object.assign(new Error('You can\'t create this secret because a secret with this name is already scheduled for deletion.'), {
      name: 'InvalidRequestException', $metadata: { httpStatusCode: 400 },
    }));
    await world.handler()(event('setSecret'));
    expect(world.sm).toHaveReceivedCommandTimes(CreateSecretCommand, 2);
    expect(world.sleeps).toContain(250);
    expect(world.users.get('app')).toBe(md5(NEW, 'app'));
    expect(world.liveProbes().length).toBe(1);
  });

  test('a failing ALTER USER deletes the probe it made', async () => {
    singleUser();
    await createPending();
    world.faults.push({ match: (sql) => sql.startsWith('ALTER USER'), fault: { kind: 'FAILED', error: 'ERROR: something else' } });
    await expect(world.handler()(event('setSecret'))).rejects.toThrow(/something else/);
    expect(world.sm).toHaveReceivedCommandTimes(CreateSecretCommand, 1);
    expect(world.liveProbes()).toEqual([]);
  });

  test('the probe name is the same for the same token: setSecret twice reuses it, testSecret finds it and deletes it', async () => {
    singleUser();
    await createPending();
    await world.handler()(event('setSecret'));
    const first = world.liveProbes().map((p) => p.name);
    await world.handler()(event('setSecret'));
    expect(world.liveProbes().map((p) => p.name)).toEqual(first);
    await world.handler()(event('testSecret'));
    expect(world.liveProbes()).toEqual([]);
  });

  test('a probe of that name holding anything else (a leftover) is deleted, reported, and made anew with the pending value', async () => {
    singleUser();
    await createPending();
    await world.handler()(event('setSecret'));
    const probe = world.liveProbes()[0];
    [...probe.versions.values()][0].value = secretJson({ username: 'app', password: 'Tampered1' });
    world.calls.length = 0;
    world.logLines.length = 0;
    await world.handler()(event('testSecret'));
    // read first (kept by setSecret), another value: the CreateSecret path finds it taken, reads it, deletes it, makes it anew
    expect(nonPolling().slice(3, 8)).toEqual(['sm:GetSecretValue', 'sm:CreateSecret', 'sm:GetSecretValue', 'sm:DeleteSecret', 'sm:CreateSecret']);
    expect(nonPolling()).not.toContain('sm:PutSecretValue');
    const made = world.sm.commandCalls(CreateSecretCommand).at(-1)!.args[0].input;
    expect(made.SecretString === world.stageValue(ARN, 'AWSPENDING')).toBe(true);
    expect(world.liveProbes()).toEqual([]);
    expect(JSON.parse(world.logLines.at(-1)!).leftoverProbesDeleted).toEqual([probe.name]);
  });

  test('Redshift Serverless: the workgroup is the target', async () => {
    singleUser({ dbClusterIdentifier: undefined, workgroupName: 'wg1', dbname: 'analytics' });
    await createPending();
    await world.handler()(event('setSecret'));
    const input = world.rsd.commandCalls(ExecuteStatementCommand)[0].args[0].input;
    expect(input).toMatchObject({ WorkgroupName: 'wg1', Database: 'analytics', SecretArn: ARN });
    expect(input.ClusterIdentifier).toBeUndefined();
  });

  test('run twice: AWSCURRENT no longer logs in, the pending password is found live through a probe, nothing else happens', async () => {
    singleUser();
    await createPending();
    await world.handler()(event('setSecret'));
    world.calls.length = 0;
    await world.handler()(event('setSecret'));
    expect(nonPolling()).toEqual([
      'sm:DescribeSecret', 'sm:GetSecretValue', 'sm:GetSecretValue',
      'sm:CreateSecret', 'sm:GetSecretValue', // the probe of the first run exists and holds AWSPENDING
      'rsd:ExecuteStatement', // ALTER as AWSCURRENT: login fails
      'rsd:ExecuteStatement', // SELECT 1 through the probe: works
    ]);
    expect(world.statements.at(-1)!.sqls).toEqual(['SELECT 1']);
    expect(world.users.get('app')).toBe(md5(NEW, 'app'));
    expect(world.liveProbes().length).toBe(1);
    expectNothingLeaked(world);
  });

  test('the same when a failed login comes as an ExecuteStatementException quoting Redshift', async () => {
    singleUser();
    await createPending();
    world.loginFailureAs = 'ExecuteStatementException';
    world.users.set('app', md5(NEW, 'app'));
    await world.handler()(event('setSecret'));
    expect(world.users.get('app')).toBe(md5(NEW, 'app'));
    expect(world.sm).toHaveReceivedCommandTimes(CreateSecretCommand, 1);
    expect(world.liveProbes().length).toBe(1);
  });

  test('a DatabaseConnectionException is not a failed login: reported as it is, no AWSPREVIOUS probe, nothing changed', async () => {
    singleUser();
    await createPending();
    world.loginFailureAs = 'DatabaseConnectionException';
    world.users.set('app', md5('SomethingElse1', 'app'));
    const err = await world.handler()(event('setSecret')).catch((e) => e);
    expect(err.message).toMatch(/ExecuteStatement failed: DatabaseConnectionException \(HTTP 500\): Database connection failed/);
    expect(err.message).not.toMatch(/none of/);
    const probes = world.sm.commandCalls(CreateSecretCommand).map((c) => JSON.parse(c.args[0].input.SecretString!).password);
    expect(probes.length).toBe(1);
    expect(probes.includes(PREVIOUS_PASSWORD)).toBe(false);
    expect(world.users.get('app')).toBe(md5('SomethingElse1', 'app'));
    expect(world.liveProbes()).toEqual([]);
    expectNothingLeaked(world, err);
  });

  test('current fails, pending fails, previous works: ALTER USER through a probe of AWSPREVIOUS', async () => {
    singleUser();
    await createPending();
    world.users.set('app', md5(PREVIOUS_PASSWORD, 'app'));
    await world.handler()(event('setSecret'));
    expect(nonPolling()).toEqual([
      'sm:DescribeSecret', 'sm:GetSecretValue', 'sm:GetSecretValue',
      'sm:CreateSecret', // the AWSPENDING probe
      'rsd:ExecuteStatement', // ALTER as AWSCURRENT: login fails
      'rsd:ExecuteStatement', // SELECT 1 as AWSPENDING: login fails
      'sm:GetSecretValue', // AWSPREVIOUS
      'sm:CreateSecret', 'rsd:ExecuteStatement', 'sm:DeleteSecret', // ALTER through a probe of AWSPREVIOUS
    ]);
    expect(world.sm).toHaveReceivedCommandWith(GetSecretValueCommand, { SecretId: ARN, VersionId: PREVIOUS_VERSION });
    const probes = world.sm.commandCalls(CreateSecretCommand).map((c) => JSON.parse(c.args[0].input.SecretString!).password);
    expect(probes).toEqual([NEW, PREVIOUS_PASSWORD]);
    const last = world.statements.at(-1)!;
    expect(last.sqls).toEqual([`ALTER USER "app" PASSWORD '${md5(NEW, 'app')}'`]);
    expect(last.secretArn).not.toBe(ARN);
    expect(world.users.get('app')).toBe(md5(NEW, 'app'));
    expect(world.sm).toHaveReceivedCommandTimes(DeleteSecretCommand, 1);
    expect(world.liveProbes().length).toBe(1); // the AWSPENDING probe, for testSecret
    expectNothingLeaked(world);
  });

  test('without an AWSPREVIOUS, no version logs in: the error names the two versions tried, no probe of a version that does not exist', async () => {
    world.addSecret({ arn: ARN, current: secretJson({ username: 'app', password: CURRENT_PASSWORD }) });
    world.users.set('app', md5('SomethingElse1', 'app'));
    await createPending();
    const err = await world.handler()(event('setSecret')).catch((e) => e);
    expect(err.message).toBe(`setSecret failed for ${ARN}: none of AWSCURRENT, AWSPENDING logs in as "app"; nothing was changed (set the password of the user and AWSCURRENT by hand)`);
    expect(world.sm).toHaveReceivedCommandTimes(CreateSecretCommand, 1); // the AWSPENDING probe only
    expect(world.liveProbes()).toEqual([]);
  });

  test('setSecret without an AWSPENDING version fails saying so, and makes no probe', async () => {
    singleUser();
    world.startRotation();
    const err = await world.handler()(event('setSecret')).catch((e) => e);
    expect(err.message).toMatch(/: cannot read AWSPENDING: Secrets Manager GetSecretValue failed: ResourceNotFoundException/);
    expect(world.sm).toHaveReceivedCommandTimes(CreateSecretCommand, 0);
  });

  test('no version logs in: a clear error, the password unchanged, no probe left', async () => {
    singleUser();
    await createPending();
    world.users.set('app', md5('SomethingElse1', 'app'));
    const err = await world.handler()(event('setSecret')).catch((e) => e);
    expect(err.message).toMatch(/none of AWSCURRENT, AWSPENDING, AWSPREVIOUS logs in as "app"; nothing was changed/);
    expect(world.users.get('app')).toBe(md5('SomethingElse1', 'app'));
    expect(world.liveProbes()).toEqual([]);
    expectNothingLeaked(world, err);
  });

  test('a pending username that is not the current one is refused before any SQL', async () => {
    singleUser();
    world.startRotation();
    world.secret(ARN).versions.get(TOKEN)!.value = secretJson({ username: 'other', password: NEW });
    const err = await world.handler()(event('setSecret')).catch((e) => e);
    expect(err.message).toMatch(/AWSPENDING: username "other" does not fit SINGLE_USER: expected "app"/);
    expect(world.rsd).toHaveReceivedCommandTimes(ExecuteStatementCommand, 0);
    expectNothingLeaked(world, err);
  });

  test('a pending secret pointing at another cluster is refused before any SQL', async () => {
    singleUser();
    world.startRotation();
    world.secret(ARN).versions.get(TOKEN)!.value = secretJson({ username: 'app', password: NEW, dbClusterIdentifier: 'other-cluster' });
    await expect(world.handler()(event('setSecret'))).rejects.toThrow(/must be the same as in AWSCURRENT/);
    expect(world.rsd).toHaveReceivedCommandTimes(ExecuteStatementCommand, 0);
  });

  test('a FAILED ALTER USER fails the step with Redshift\'s message, redacted', async () => {
    singleUser();
    await createPending();
    world.faults.push({ match: (sql) => sql.startsWith('ALTER USER'), fault: { kind: 'FAILED', error: `ERROR: cannot reuse "${md5(NEW, 'app')}"` } });
    const err = await world.handler()(event('setSecret')).catch((e) => e);
    expect(err.message).toMatch(/FAILED: ERROR: cannot reuse "md5\[REDACTED\]"/);
    expectNothingLeaked(world, err);
  });

  test('an ABORTED ALTER USER fails the step', async () => {
    singleUser();
    await createPending();
    world.faults.push({ match: (sql) => sql.startsWith('ALTER USER'), fault: { kind: 'ABORTED' } });
    await expect(world.handler()(event('setSecret'))).rejects.toThrow(/was ABORTED/);
  });

  test('an ALTER USER that never finishes is cancelled at STATEMENT_TIMEOUT_MS', async () => {
    singleUser();
    await createPending();
    world.faults.push({ match: (sql) => sql.startsWith('ALTER USER'), fault: { kind: 'HANG' } });
    await expect(world.handler({ STATEMENT_TIMEOUT_MS: '1000' })(event('setSecret'))).rejects.toThrow(/did not finish within 1000 ms/);
    expect(world.calls).toContain('rsd:CancelStatement');
    expect(world.users.get('app')).toBe(md5(CURRENT_PASSWORD, 'app'));
  });

  test('an ALTER USER still running near the Lambda\'s deadline is cancelled, the probe deleted, the error says it ran out of time', async () => {
    singleUser();
    await createPending();
    world.faults.push({ match: (sql) => sql.startsWith('ALTER USER'), fault: { kind: 'HANG' } });
    const start = world.clock;
    const err = await world.handler()(event('setSecret'), { getRemainingTimeInMillis: () => 10_000 }).catch((e) => e);
    expect(err.name).toBe('OutOfTimeError');
    expect(err.message).toMatch(/setSecret failed for .*: ran out of time: Redshift statement .* had not finished .*it was cancelled/);
    expect(world.clock - start).toBeLessThanOrEqual(8_000);
    expect(world.calls).toContain('rsd:CancelStatement');
    expect(world.calls.at(-1)).toBe('sm:DeleteSecret');
    expect(world.liveProbes()).toEqual([]);
    expect(world.users.get('app')).toBe(md5(CURRENT_PASSWORD, 'app'));
  });

  test('no statement is started without the time to finish it', async () => {
    singleUser();
    await createPending();
    const err = await world.handler()(event('setSecret'), { getRemainingTimeInMillis: () => 1_500 }).catch((e) => e);
    expect(err.message).toMatch(/ran out of time: not starting ExecuteStatement/);
    expect(world.rsd).toHaveReceivedCommandTimes(ExecuteStatementCommand, 0);
    expect(world.liveProbes()).toEqual([]);
  });

  test('throttling is retried', async () => {
    singleUser();
    await createPending();
    world.faults.push({ match: (sql) => sql.startsWith('ALTER USER'), fault: { kind: 'THROTTLE', times: 3 } });
    await world.handler()(event('setSecret'));
    expect(world.rsd).toHaveReceivedCommandTimes(ExecuteStatementCommand, 4);
    expect(world.users.get('app')).toBe(md5(NEW, 'app'));
  });
});

describe('SINGLE_USER rotation end to end', () => {
  test('AWSCURRENT logs in afterwards, the old password is refused, nothing leaks', async () => {
    singleUser();
    expect(await world.rotate(world.handler({ TEST_STATEMENTS: '["SELECT 2"]' }))).toBeUndefined();
    expect(world.versionOf(ARN, 'AWSCURRENT')).toBe(TOKEN);
    expect(world.logsIn(world.stageValue(ARN, 'AWSCURRENT'))).toBe(true);
    expect(world.logsIn(world.stageValue(ARN, 'AWSPREVIOUS'))).toBe(false);
    expect(world.logLines.map((l) => JSON.parse(l).outcome)).toEqual(['ok', 'ok', 'ok', 'ok']);
    expectNothingLeaked(world);
  });

  test('a failure at setSecret, then the service\'s retry of the whole rotation, completes', async () => {
    singleUser();
    world.faults.push({ match: (sql) => sql.startsWith('ALTER USER'), fault: { kind: 'THROTTLE', times: 5 } });
    const err = await world.rotate(world.handler());
    // five throttled attempts (the Data API wrapper's limit): the step fails naming the throttling error
    expect(String(err)).toMatch(/^RotationError: setSecret failed for \S+: Redshift Data API ExecuteStatement failed: ActiveStatementsExceededException \(HTTP 400\)/);
    expect(world.versionOf(ARN, 'AWSCURRENT')).not.toBe(TOKEN);
    expect(world.logsIn(world.stageValue(ARN, 'AWSCURRENT'))).toBe(true);
    expect(await world.rotate(world.handler())).toBeUndefined();
    expect(world.logsIn(world.stageValue(ARN, 'AWSCURRENT'))).toBe(true);
    expectNothingLeaked(world);
  });

  test('a crash between setSecret and finishSecret, then the retry, completes (recovery through the pending probe)', async () => {
    singleUser();
    world.startRotation();
    await world.handler()(event('createSecret'));
    await world.handler()(event('setSecret'));
    // the function dies here; the service retries every step with the same token
    expect(await world.rotate(world.handler())).toBeUndefined();
    expect(world.logsIn(world.stageValue(ARN, 'AWSCURRENT'))).toBe(true);
    expect(world.liveProbes()).toEqual([]);
  });
});
