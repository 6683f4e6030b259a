/**
 * Issue 7, points 6 to 11, end to end on the local stack through RotateSecret:
 * - a paused or unreachable target, throttling and network errors are reported as what they are, never as a failed
 *   login; no probe ever holds AWSPREVIOUS; nothing changes in the database (both strategies);
 * - failed logins in both documented Data API shapes are still recognised;
 * - CreateSecret denied on probe names: SINGLE_USER never runs ALTER USER, AWSCURRENT keeps logging in;
 * - a slow Data API and a short Lambda timeout: the handler stops before the deadline, cancels its statement,
 *   deletes its probe and says it ran out of time; a later rotation with normal latency succeeds;
 * - secrets that carry only `host` (cluster and workgroup endpoints) rotate, and keep their fields;
 * - the RotationToken the service sends reaches PutSecretValue.
 */
import { UpdateSecretVersionStageCommand } from '@aws-sdk/client-secrets-manager';
import { E2e, FAST_ENV, LoginClient, newPassword } from './helpers';
import type { Strategy, Target, UserSecret } from './helpers';
import type { FaultAction } from '../../local-stack/faults';

let e: E2e;
const PROBE_PREFIX = 'redshift-rotation-probe/';

/** The passwords every probe secret was created or updated with (kept in memory only, compared, never printed). */
const probePasswords: string[] = [];

beforeAll(async () => {
  e = await E2e.start({ rotationRetries: 1 });
  // watch what the local Secrets Manager stores in probe secrets
  e.stack.secretsManager.onSecretStringStored = (name, secretString) => {
    if (!name.startsWith(PROBE_PREFIX)) return;
    try {
      probePasswords.push(String(JSON.parse(secretString).password));
    } catch {
      probePasswords.push(secretString);
    }
  };
}, 120_000);

afterAll(async () => {
  await e?.stop();
});

afterEach(() => {
  e.stack.faults.clear();
  e.stack.redshiftData.statementLatencyMs = 0;
  e.stack.redshiftData.loginFailure = 'failed-statement';
});

/** A user, rotated once so that it has an AWSPREVIOUS. */
async function rotatedUser(strategy: Strategy, target: Target = 'cluster'): Promise<UserSecret> {
  const user = await e.newUser(strategy, target);
  await e.rotateOk(user.arn);
  return user;
}

/** The lifecycle errors of a rotation (every attempt and the final failure). */
function rotationErrors(token: string): string[] {
  return e.eventsOf(token).filter((x) => x.type === 'RotationAttemptFailed' || x.type === 'RotationFailed').map((x) => x.error ?? '');
}

describe('failures that are not a failed login are reported as what they are', () => {
  const causes: Array<{ name: string; action: FaultAction; message: RegExp }> = [
    {
      name: 'a paused cluster',
      action: { type: 'targetUnavailable', state: 'paused' },
      message: /ValidationException \(HTTP 400\): Cluster local-cluster is not available to run statements: it is paused/,
    },
    {
      name: 'an unreachable cluster (DatabaseConnectionException)',
      action: { type: 'targetUnavailable', state: 'unreachable' },
      message: /DatabaseConnectionException \(HTTP 500\): Connection to the database failed: Cluster local-cluster could not be reached/,
    },
    {
      name: 'throttling',
      action: { type: 'error', code: 'ThrottlingException', message: 'Rate exceeded', httpStatus: 400 },
      message: /ThrottlingException \(HTTP 400\): Rate exceeded/,
    },
    {
      name: 'a network error',
      action: { type: 'networkError' },
      message: /socket hang up|ECONNRESET/,
    },
  ];
  const strategies: Strategy[] = ['SINGLE_USER', 'ALTERNATING_USERS'];
  const matrix = strategies.flatMap((strategy) => causes.map((cause) => [strategy, cause.name, cause] as const));

  test.each(matrix)('%s, %s: the rotation fails with the true cause, no probe holds AWSCURRENT (nor, for a single user, AWSPREVIOUS), nothing changed', async (strategy, _name, cause) => {
    const user = await rotatedUser(strategy);
    const previous = (await e.value(user.arn, 'AWSPREVIOUS'))!;
    const current = (await e.value(user.arn))!;
    const before = await e.dbSnapshot();
    const probesBefore = probePasswords.length;
    const fault = e.stack.faults.inject({
      service: 'redshift-data', operation: ['ExecuteStatement', 'BatchExecuteStatement'], fromLambda: true, secretId: user.arn, times: 10_000, action: cause.action,
    });
    const r = await e.rotate(user.arn);
    fault.remove();

    expect({ type: r.event.type, step: r.event.step }).toEqual({ type: 'RotationFailed', step: 'setSecret' });
    expect(fault.fired).toBeGreaterThan(0);
    const errors = rotationErrors(r.token);
    expect(errors.length).toBe(3); // two attempts and the final failure
    if (cause.name === 'throttling') {
      // each of the two setSecret invocations submits its first statement 5 times (the handler's own retries,
      // MAX_ATTEMPTS), ALTERNATING_USERS also the ownership proof's beside it, and stops: the SDK client the handler
      // makes for itself retries nothing (maxAttempts 1), or every count would be three times as high
      expect(fault.fired).toBe(2 * 5 * (strategy === 'SINGLE_USER' ? 1 : 2));
    }
    for (const error of errors) {
      expect(e.redact(error)).toMatch(cause.message);
      expect(e.redact(error)).not.toMatch(/none of AWSCURRENT|does not log in|did not log in/);
    }
    // no probe ever held AWSPREVIOUS (or AWSCURRENT); none is left
    const made = probePasswords.slice(probesBefore);
    // SINGLE_USER made its AWSPENDING probe before ALTER USER in each attempt; ALTERNATING_USERS made, in each attempt,
    // the probe that proves AWSPREVIOUS owns the pending user (run beside the reads) and stopped before testSecret
    expect(made.length).toBe(2);
    expect(made.every((p) => p === previous.password)).toBe(strategy === 'ALTERNATING_USERS');
    expect(made.some((p) => p === previous.password)).toBe(strategy === 'ALTERNATING_USERS');
    expect(made.some((p) => p === current.password)).toBe(false);
    expect(await e.probeSecrets()).toEqual([]);
    // nothing changed in the database; AWSCURRENT still logs in
    expect(await e.dbSnapshot()).toEqual(before);
    expect((await e.value(user.arn))!.versionId).toBe(current.versionId);
    expect(await e.versionLogsIn(user.arn)).toBe(true);
  });
});

describe('failed logins in the Data API\'s documented shapes are recognised', () => {
  test.each(['failed-statement', 'exception'] as const)('%s: SINGLE_USER finds the pending password live after a crash right after ALTER USER', async (shape) => {
    e.stack.redshiftData.loginFailure = shape;
    const user = await rotatedUser('SINGLE_USER');
    e.stack.faults.inject({
      service: 'redshift-data', operation: 'ExecuteStatement', step: 'setSecret', secretId: user.arn, sql: /^ALTER USER/, action: { type: 'crash', when: 'after' },
    });
    const r = await e.rotate(user.arn);
    expect(r.event.type).toBe('RotationSucceeded');
    expect(e.eventsOf(r.token).filter((x) => x.type === 'RotationAttemptFailed').length).toBe(1);
    expect(await e.versionLogsIn(user.arn)).toBe(true);
    expect(await e.probeSecrets()).toEqual([]);
  });

  test.each(['failed-statement', 'exception'] as const)('%s: ALTERNATING_USERS refuses a secret whose AWSCURRENT does not log in, as a failed login', async (shape) => {
    e.stack.redshiftData.loginFailure = shape;
    const user = await e.newUser('ALTERNATING_USERS', 'cluster');
    const other = newPassword();
    e.passwords.add(other);
    await e.stack.adminQuery(`ALTER USER "${user.username}" PASSWORD '${other}'`);
    const before = await e.dbSnapshot();
    const r = await e.rotate(user.arn);
    expect({ type: r.event.type, step: r.event.step }).toEqual({ type: 'RotationFailed', step: 'setSecret' });
    expect(e.redact(r.event.error)).toMatch(new RegExp(`AWSCURRENT does not log in as "${user.username}"; refusing to change users for it .*password authentication failed for user "${user.username}"`));
    expect(await e.dbSnapshot()).toEqual(before);
  });
});

describe('no lockout when probes cannot be made', () => {
  test('SINGLE_USER, CreateSecret denied on probe names: the rotation fails before ALTER USER, AWSCURRENT logs in throughout and after every retry', async () => {
    const user = await rotatedUser('SINGLE_USER');
    const current = (await e.value(user.arn))!;
    const before = await e.dbSnapshot();
    const since = e.lastSeq();
    const lift = e.stack.secretsManager.denyCreateSecret(PROBE_PREFIX);
    const client = new LoginClient(e, user.arn, 5);
    let r;
    try {
      r = await e.rotate(user.arn);
    } finally {
      lift();
    }
    const attempts = await client.stop();
    expect({ type: r.event.type, step: r.event.step }).toEqual({ type: 'RotationFailed', step: 'setSecret' });
    const errors = rotationErrors(r.token);
    expect(errors.length).toBe(3);
    for (const error of errors) {
      expect(e.redact(error)).toMatch(/the password was not changed: the new one could not be tested or recovered without a probe secret \(Secrets Manager CreateSecret failed for the probe secret redshift-rotation-probe\/[0-9a-f/]+: AccessDeniedException \(HTTP 400\): User: .* is not authorized to perform: secretsmanager:CreateSecret/);
    }
    // no ALTER USER was ever sent; every attempt tried to make its probe
    const calls = e.lambdaCalls(user.arn, since);
    expect(calls.filter((c) => (c.statementKinds ?? []).includes('ALTER USER')).length).toBe(0);
    expect(calls.filter((c) => c.operation === 'CreateSecret').length).toBe(2);
    // the client never failed, AWSCURRENT is unchanged and logs in, nothing changed in the database
    expect(attempts.length).toBeGreaterThan(0);
    expect(attempts.filter((a) => !a.ok).length).toBe(0);
    expect((await e.value(user.arn))!.versionId).toBe(current.versionId);
    expect(await e.versionLogsIn(user.arn)).toBe(true);
    expect(await e.dbSnapshot()).toEqual(before);
    expect(await e.probeSecrets()).toEqual([]);
  });
});

describe('probe names are reused per rotation token', () => {
  test('SINGLE_USER: the retry makes its probe again while the service still deletes the previous one in the background', async () => {
    const user = await rotatedUser('SINGLE_USER');
    e.stack.secretsManager.forceDeletePurgeMs = 600;
    const since = e.lastSeq();
    try {
      // the first ALTER USER fails: setSecret deletes its probe, and the service's retry (20 ms later) needs the same name
      e.stack.faults.inject({
        service: 'redshift-data',
        operation: 'ExecuteStatement',
        step: 'setSecret',
        secretId: user.arn,
        sql: /^ALTER USER/,
        action: { type: 'statementFailed', error: 'ERROR: could not serialize access due to concurrent update' },
      });
      const r = await e.rotate(user.arn);
      expect(r.event.type).toBe('RotationSucceeded');
      expect(e.eventsOf(r.token).filter((x) => x.type === 'RotationAttemptFailed').map((x) => x.step)).toEqual(['setSecret']);
      const creates = e.lambdaCalls(user.arn, since).filter((c) => c.operation === 'CreateSecret');
      expect(creates.length).toBeGreaterThanOrEqual(3); // the first attempt's, then at least one refused and one made
      expect(await e.versionLogsIn(user.arn)).toBe(true);
    } finally {
      e.stack.secretsManager.forceDeletePurgeMs = 0;
    }
    await new Promise((resolve) => setTimeout(resolve, 700));
    expect(await e.probeSecrets()).toEqual([]);
  });
});

describe('time budgets', () => {
  test('a slow Data API and a 5 s Lambda timeout: the handler stops in time, cancels, deletes its probe; a later rotation succeeds', async () => {
    const fn = e.stack.functionArn('short-timeout');
    e.stack.registerFunction(fn, { env: FAST_ENV, timeoutMs: 5000 });
    const user = await rotatedUser('SINGLE_USER');
    const current = (await e.value(user.arn))!;
    const before = await e.dbSnapshot();
    const since = e.lastSeq();
    e.stack.redshiftData.statementLatencyMs = 8000;
    const r = await e.rotate(user.arn, { functionArn: fn, timeoutMs: 120_000 });
    e.stack.redshiftData.statementLatencyMs = 0;
    await e.stack.redshiftData.idle();

    expect({ type: r.event.type, step: r.event.step }).toEqual({ type: 'RotationFailed', step: 'setSecret' });
    const failed = e.stack.invocations.filter((i) => i.secretId === user.arn && i.start >= r.started && i.ok === false);
    expect(failed.length).toBe(2);
    for (const i of failed) {
      // the handler ended the invocation itself, before Lambda would have killed it
      expect(i.errorType).toBe('OutOfTimeError');
      expect(e.redact(i.errorMessage)).toMatch(/ran out of time: Redshift statement .* had not finished .*it was cancelled/);
      expect(i.end! - i.start).toBeLessThan(5000);
    }
    const calls = e.lambdaCalls(user.arn, since);
    expect(calls.filter((c) => c.operation === 'CancelStatement').length).toBe(2);
    expect(calls.filter((c) => c.operation === 'CreateSecret').length).toBe(calls.filter((c) => c.operation === 'DeleteSecret').length);
    expect(await e.probeSecrets()).toEqual([]);
    expect(await e.versionLogsIn(user.arn)).toBe(true);
    expect((await e.value(user.arn))!.versionId).toBe(current.versionId);
    expect(await e.dbSnapshot()).toEqual(before);

    // the rotation left pending is abandoned, and the next one, with normal latency, succeeds with the same function
    await e.sm.send(new UpdateSecretVersionStageCommand({ SecretId: user.arn, VersionStage: 'AWSPENDING', RemoveFromVersionId: r.token }));
    await e.rotateOk(user.arn, { functionArn: fn });
    expect(await e.versionLogsIn(user.arn)).toBe(true);
    expect(await e.versionLogsIn(user.arn, 'AWSPREVIOUS')).toBe(false);
    expect(await e.probeSecrets()).toEqual([]);
  });
});

describe('secrets people already have: only a host', () => {
  const hosts: Record<Target, () => string> = {
    cluster: () => `${e.stack.clusterIdentifier}.abc123xyz789.${e.stack.region}.redshift.amazonaws.com`,
    workgroup: () => `${e.stack.workgroupName}.${e.stack.account}.${e.stack.region}.redshift-serverless.amazonaws.com`,
  };
  const cases: Array<[Strategy, Target]> = [['SINGLE_USER', 'cluster'], ['SINGLE_USER', 'workgroup'], ['ALTERNATING_USERS', 'cluster'], ['ALTERNATING_USERS', 'workgroup']];

  test.each(cases)('%s on a %s: the target comes from the endpoint host; the new version keeps the same fields', async (strategy, target) => {
    const username = e.uniqueName('host');
    const password = newPassword();
    e.passwords.add(password);
    await e.stack.createUser(username, password);
    // the structure of the Secrets Manager user guide (and of AWS's rotation templates): no cluster or workgroup field
    const fields: Record<string, unknown> = {
      engine: 'redshift', host: hosts[target](), port: 5439, username, password, dbname: e.stack.postgres.database,
    };
    if (strategy === 'ALTERNATING_USERS') fields.masterarn = await e.masterArn(target);
    const arn = await e.rawSecret(`app/${username}`, JSON.stringify(fields), { 'redshift-rotation:strategy': strategy });
    await e.rotateOk(arn);
    const after = (await e.value(arn))!;
    const { versionId, ...rest } = after;
    expect(versionId).toBeTruthy();
    expect(Object.keys(rest).sort()).toEqual(Object.keys(fields).sort());
    expect(rest.host).toBe(fields.host);
    expect(await e.versionLogsIn(arn)).toBe(true);
    // the Data API calls went to the cluster or workgroup the host names (the local Data API refuses any other)
    const statementCalls = e.lambdaCalls(arn).filter((c) => c.operation === 'ExecuteStatement' || c.operation === 'BatchExecuteStatement');
    expect(statementCalls.length).toBeGreaterThan(0);
    await e.rotateOk(arn);
    expect(await e.versionLogsIn(arn)).toBe(true);
  });
});

describe('RotationToken', () => {
  test('PutSecretValue of the rotation carries the RotationToken the service sent, which is never logged', async () => {
    const user = await e.newUser('SINGLE_USER', 'cluster');
    const r = await e.rotateOk(user.arn);
    const records = e.stack.secretsManager.rotationTokens.filter((x) => x.secretArn === user.arn && x.versionId === r.token);
    expect(records.map((x) => [x.rotationToken, x.fromLambda])).toEqual([['issued', true]]);
    const issued = (e.stack.secretsManager as unknown as { issuedRotationTokens: Map<string, Set<string>> }).issuedRotationTokens.get(user.arn)!;
    expect(issued.size).toBe(4);
    const logs = e.stack.lambdaLogs.map((l) => l.message).join('\n');
    expect([...issued].some((t) => logs.includes(t))).toBe(false);
  });
});
