import {
  ActiveSessionsExceededException,
  BatchExecuteStatementCommand,
  CancelStatementCommand,
  DatabaseConnectionException,
  DescribeStatementCommand,
  ExecuteStatementCommand,
  ExecuteStatementException,
  GetStatementResultCommand,
  InternalServerException,
  RedshiftDataClient,
  ValidationException,
} from '@aws-sdk/client-redshift-data';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { chunk, DataApi, isLoginFailure, MAX_POLL_MS, rowsFromResults } from '../../lambda/rotation/data-api';
import { LoginFailedError, OutOfTimeError, Redactor, StatementError } from '../../lambda/rotation/errors';
import { backoffDelay, Deadline, isRetryable, Timing, withRetry } from '../../lambda/rotation/retry';

const rsd = mockClient(RedshiftDataClient);
/** The Data API's throttling error has no class of its own in the SDK: it arrives as a named service error. */
const throttling = (message: string) => Object.assign(new Error(message), { name: 'ThrottlingException', $metadata: { httpStatusCode: 400 } });
const target = { ClusterIdentifier: 'c1', Database: 'dev' };
const SECRET = 'arn:aws:secretsmanager:r:1:secret:s';
const VERIFIER = 'md5' + '0123456789abcdef0123456789abcdef';

let clock: number;
let sleeps: number[];
const timing: Timing = {
  sleep: async (ms) => { sleeps.push(ms); clock += ms; },
  now: () => clock,
  random: () => 0.999,
};

function api(options: Partial<{ pollMs: number; timeoutMs: number; redactor: Redactor; deadline: Deadline }> = {}) {
  return new DataApi(new RedshiftDataClient({ region: 'eu-west-1' }), { pollMs: 100, timeoutMs: 5000, timing, redactor: new Redactor(), ...options });
}

beforeEach(() => {
  rsd.reset();
  clock = 0;
  sleeps = [];
  rsd.on(ExecuteStatementCommand).resolves({ Id: 'id-1' });
  rsd.on(BatchExecuteStatementCommand).resolves({ Id: 'b-1' });
});

describe('statement lifecycle', () => {
  test('submits with target, secret, parameters and a client token, asks at once, then polls with doubling delays until FINISHED', async () => {
    rsd.on(DescribeStatementCommand)
      .resolvesOnce({ Id: 'id-1', Status: 'SUBMITTED' })
      .resolvesOnce({ Id: 'id-1', Status: 'PICKED' })
      .resolvesOnce({ Id: 'id-1', Status: 'STARTED' })
      .resolves({ Id: 'id-1', Status: 'FINISHED' });
    const out = await api().execute(target, SECRET, 'SELECT 1', [{ name: 'original', value: 'app' }]);
    expect(out.Status).toBe('FINISHED');
    expect(rsd).toHaveReceivedCommandWith(ExecuteStatementCommand, {
      ClusterIdentifier: 'c1', Database: 'dev', SecretArn: SECRET, Sql: 'SELECT 1', Parameters: [{ name: 'original', value: 'app' }],
    });
    expect(rsd.commandCalls(ExecuteStatementCommand)[0].args[0].input.ClientToken).toMatch(/^[0-9a-f-]{36}$/);
    expect(rsd).toHaveReceivedCommandTimes(DescribeStatementCommand, 4);
    // no sleep before the first DescribeStatement (it waits on the service side), then the doubling delays
    expect(sleeps).toEqual([200, 400, 800]);
  });

  test('the poll delay is capped at 2 s', async () => {
    const describe = rsd.on(DescribeStatementCommand);
    for (let i = 0; i < 8; i++) describe.resolvesOnce({ Status: 'STARTED' });
    describe.resolves({ Status: 'FINISHED' });
    await api({ timeoutMs: 60000 }).execute(target, SECRET, 'SELECT 1');
    expect(Math.max(...sleeps)).toBe(MAX_POLL_MS);
    expect(sleeps.slice(0, 6)).toEqual([200, 400, 800, 1600, 2000, 2000]);
  });

  test('FAILED becomes an error quoting Redshift\'s message, never the SQL, with verifiers redacted', async () => {
    rsd.on(DescribeStatementCommand).resolves({ Status: 'FAILED', Error: `ERROR: syntax error at or near "${VERIFIER}"`, QueryString: `ALTER USER "c" PASSWORD '${VERIFIER}'` });
    const err = await api().execute(target, SECRET, `ALTER USER "c" PASSWORD '${VERIFIER}'`).catch((e) => e);
    expect(err).toBeInstanceOf(StatementError);
    expect(err.status).toBe('FAILED');
    expect(err.message).toMatch(/FAILED: ERROR: syntax error at or near "md5\[REDACTED\]"/);
    expect(err.message.includes(VERIFIER)).toBe(false);
    expect(err.message).not.toContain('ALTER USER');
  });

  test('ABORTED becomes an error', async () => {
    rsd.on(DescribeStatementCommand).resolves({ Status: 'ABORTED', Error: 'cancelled by user' });
    await expect(api().execute(target, SECRET, 'SELECT 1')).rejects.toThrow(/was ABORTED: cancelled by user/);
  });

  test('a statement that never finishes is cancelled and fails at the timeout', async () => {
    rsd.on(DescribeStatementCommand).resolves({ Status: 'STARTED' });
    rsd.on(CancelStatementCommand).resolves({ Status: true });
    const err = await api({ timeoutMs: 1000 }).execute(target, SECRET, 'SELECT pg_sleep(100)').catch((e) => e);
    expect(err).toBeInstanceOf(StatementError);
    expect(err.status).toBe('TIMEOUT');
    expect(err.message).toMatch(/did not finish within 1000 ms \(status STARTED\); it was cancelled/);
    expect(rsd).toHaveReceivedCommandWith(CancelStatementCommand, { Id: 'id-1' });
    expect(clock).toBe(1000);
  });

  test('a failing CancelStatement does not hide the timeout', async () => {
    rsd.on(DescribeStatementCommand).resolves({ Status: 'SUBMITTED' });
    rsd.on(CancelStatementCommand).rejects(new ValidationException({ message: 'no', $metadata: {} }));
    await expect(api({ timeoutMs: 1000 }).execute(target, SECRET, 'SELECT 1')).rejects.toThrow(/did not finish within 1000 ms/);
  });
});

describe('time budget', () => {
  test('DescribeStatement waits on the service side (WaitTimeSeconds) for what fits before the statement timeout', async () => {
    rsd.on(DescribeStatementCommand).resolves({ Status: 'FINISHED' });
    await api({ timeoutMs: 60_000 }).execute(target, SECRET, 'SELECT 1');
    expect(rsd.commandCalls(DescribeStatementCommand)[0].args[0].input.WaitTimeSeconds).toBe(30);
    rsd.resetHistory();
    await api({ timeoutMs: 3_500 }).execute(target, SECRET, 'SELECT 1');
    expect(rsd.commandCalls(DescribeStatementCommand)[0].args[0].input.WaitTimeSeconds).toBe(3);
  });

  test('a statement is not started without the time to run it', async () => {
    const deadline = Deadline.fromRemaining(timing, 2500); // 1250 ms kept for cleanup, 1250 to work
    clock += 500;
    const err = await api({ deadline }).execute(target, SECRET, 'SELECT 1').catch((e) => e);
    expect(err).toBeInstanceOf(OutOfTimeError);
    expect(err.message).toMatch(/^ran out of time: not starting ExecuteStatement with 750 ms left/);
    expect(rsd).toHaveReceivedCommandTimes(ExecuteStatementCommand, 0);
  });

  test('a statement still running at the deadline is cancelled, with the time kept for cleanup left', async () => {
    rsd.on(DescribeStatementCommand).resolves({ Status: 'STARTED' });
    rsd.on(CancelStatementCommand).resolves({ Status: true });
    const deadline = Deadline.fromRemaining(timing, 10_000); // ends 8000 ms from now
    const start = clock;
    const err = await api({ deadline, timeoutMs: 60_000 }).execute(target, SECRET, 'SELECT pg_sleep(100)').catch((e) => e);
    expect(err).toBeInstanceOf(OutOfTimeError);
    expect(err.message).toMatch(/ran out of time: Redshift statement id-1 had not finished \(status STARTED\).*it was cancelled/);
    expect(rsd).toHaveReceivedCommandWith(CancelStatementCommand, { Id: 'id-1' });
    expect(clock - start).toBe(8000);
    for (const call of rsd.commandCalls(DescribeStatementCommand)) {
      expect(call.args[0].input.WaitTimeSeconds ?? 0).toBeLessThanOrEqual(8);
    }
  });

  test('a retry whose backoff does not fit is not made', async () => {
    rsd.on(ExecuteStatementCommand).rejects(throttling('Rate exceeded'));
    const deadline = Deadline.fromRemaining(timing, 2200); // 1100 ms to work: first backoff 99, second 199, third 399, fourth 799
    await expect(api({ deadline }).execute(target, SECRET, 'SELECT 1')).rejects.toThrow(/ThrottlingException/);
    expect(rsd.commandCalls(ExecuteStatementCommand).length).toBeLessThan(5);
  });

  test('without a Lambda context there is no deadline', () => {
    expect(Deadline.fromRemaining(timing, undefined).remainingMs()).toBe(Infinity);
  });
});

describe('login failures', () => {
  test('a FAILED statement with an authentication error is a LoginFailedError', async () => {
    rsd.on(DescribeStatementCommand).resolves({ Status: 'FAILED', Error: 'FATAL: password authentication failed for user "app"' });
    await expect(api().execute(target, SECRET, 'SELECT 1')).rejects.toBeInstanceOf(LoginFailedError);
  });

  test('an ExecuteStatementException quoting Redshift\'s failed login is a LoginFailedError, not retried', async () => {
    const message = 'FATAL: password authentication failed for user "app"';
    rsd.on(ExecuteStatementCommand).rejects(new ExecuteStatementException({ message, Message: message, StatementId: 's1', $metadata: { httpStatusCode: 500 } }));
    const err = await api().execute(target, SECRET, 'SELECT 1').catch((e) => e);
    expect(err).toBeInstanceOf(LoginFailedError);
    expect(err.message).toMatch(/did not log in \(ExecuteStatement: FATAL: password authentication failed for user "app"\)/);
    expect(rsd).toHaveReceivedCommandTimes(ExecuteStatementCommand, 1);
  });

  test('a DatabaseConnectionException is not a failed login: reported with its name and message, not retried', async () => {
    rsd.on(ExecuteStatementCommand).rejects(new DatabaseConnectionException({ message: 'Database connection failed', Message: 'Database connection failed', $metadata: { httpStatusCode: 500 } }));
    const err = await api().execute(target, SECRET, 'SELECT 1').catch((e) => e);
    expect(err).not.toBeInstanceOf(LoginFailedError);
    expect(err.message).toBe('Redshift Data API ExecuteStatement failed: DatabaseConnectionException (HTTP 500): Database connection failed');
    expect(rsd).toHaveReceivedCommandTimes(ExecuteStatementCommand, 1);
  });

  test.each([
    ['a paused cluster', new ValidationException({ message: 'Cluster c1 is not available: it is paused', $metadata: { httpStatusCode: 400 } })],
    ['a network error', Object.assign(new Error('connect ECONNREFUSED 10.0.0.1:443'), { code: 'ECONNREFUSED' })],
  ])('%s is not a failed login', async (_what, error) => {
    rsd.on(ExecuteStatementCommand).rejects(error);
    const err = await api().execute(target, SECRET, 'SELECT 1').catch((e) => e);
    expect(err).not.toBeInstanceOf(LoginFailedError);
    expect(err.message).toContain((error as Error).message);
  });

  test('a FAILED statement about anything else than the password is not a failed login', async () => {
    rsd.on(DescribeStatementCommand).resolves({ Status: 'FAILED', Error: 'FATAL: the database system is starting up' });
    const err = await api().execute(target, SECRET, 'SELECT 1').catch((e) => e);
    expect(err).toBeInstanceOf(StatementError);
    expect(err).not.toBeInstanceOf(LoginFailedError);
  });

  test('isLoginFailure: Redshift\'s message only', () => {
    expect(isLoginFailure('FATAL: password authentication failed for user "x"')).toBe(true);
    expect(isLoginFailure('DatabaseConnectionException')).toBe(false);
    expect(isLoginFailure('Database connection failed')).toBe(false);
    expect(isLoginFailure('Authentication failed')).toBe(false);
    expect(isLoginFailure('ERROR: permission denied for relation t')).toBe(false);
  });
});

describe('retries', () => {
  test('throttling and transient errors are retried with the same client token', async () => {
    rsd.on(ExecuteStatementCommand)
      .rejectsOnce(throttling('Rate exceeded'))
      .rejectsOnce(new ActiveSessionsExceededException({ message: 'sessions', $metadata: { httpStatusCode: 400 } }))
      .rejectsOnce(new InternalServerException({ message: 'oops', Message: 'oops', $metadata: { httpStatusCode: 500 } }))
      .resolves({ Id: 'id-9' });
    rsd.on(DescribeStatementCommand).resolves({ Status: 'FINISHED' });
    await api().execute(target, SECRET, 'SELECT 1');
    const tokens = rsd.commandCalls(ExecuteStatementCommand).map((c) => c.args[0].input.ClientToken);
    expect(tokens).toHaveLength(4);
    expect(new Set(tokens).size).toBe(1);
    expect(rsd).toHaveReceivedCommandWith(DescribeStatementCommand, { Id: 'id-9' });
  });

  test('at most 5 attempts, then the error names the exception', async () => {
    rsd.on(ExecuteStatementCommand).rejects(throttling('Rate exceeded'));
    await expect(api().execute(target, SECRET, 'SELECT 1')).rejects.toThrow(/ExecuteStatement failed: ThrottlingException/);
    expect(rsd).toHaveReceivedCommandTimes(ExecuteStatementCommand, 5);
  });

  test('DescribeStatement throttling is retried too', async () => {
    rsd.on(DescribeStatementCommand)
      .rejectsOnce(throttling('Rate exceeded'))
      .resolves({ Status: 'FINISHED' });
    await api().execute(target, SECRET, 'SELECT 1');
    expect(rsd).toHaveReceivedCommandTimes(DescribeStatementCommand, 2);
  });

  test('other errors are not retried; a submit error carries its message without the SQL it echoes, verifiers redacted', async () => {
    const sql = `ALTER USER "c" PASSWORD '${VERIFIER}'`;
    rsd.on(ExecuteStatementCommand).rejects(new ValidationException({ message: `bad Sql ${sql}; near ${VERIFIER}`, $metadata: { httpStatusCode: 400 } }));
    const err = await api().execute(target, SECRET, sql).catch((e) => e);
    expect(err.message).toBe('Redshift Data API ExecuteStatement failed: ValidationException (HTTP 400): bad Sql <the statement>; near md5[REDACTED]');
    expect(rsd).toHaveReceivedCommandTimes(ExecuteStatementCommand, 1);
  });

  test('a network error the SDK wraps without a code is retried', () => {
    expect(isRetryable(Object.assign(new Error('AWS SDK error wrapper for TimeoutError: socket hang up'), { $metadata: {} }))).toBe(true);
    expect(isRetryable(Object.assign(new Error('socket hang up'), { $metadata: { httpStatusCode: 400 } }))).toBe(false);
  });

  test('isRetryable', () => {
    expect(isRetryable(throttling(''))).toBe(true);
    expect(isRetryable(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }))).toBe(true);
    expect(isRetryable({ name: 'Whatever', $metadata: { httpStatusCode: 503 } })).toBe(true);
    expect(isRetryable({ name: 'DatabaseConnectionException', $metadata: { httpStatusCode: 500 } })).toBe(false);
    expect(isRetryable(new ValidationException({ message: '', $metadata: { httpStatusCode: 400 } }))).toBe(false);
    expect(isRetryable(new Error('plain'))).toBe(false);
  });

  test('full jitter under an exponential ceiling', async () => {
    expect(backoffDelay(1, () => 0.999)).toBe(99);
    expect(backoffDelay(3, () => 0.5)).toBe(200);
    expect(backoffDelay(10, () => 0.999)).toBe(2997);
    expect(backoffDelay(4, () => 0)).toBe(0);
    let n = 0;
    await expect(withRetry(async () => { n++; throw throttling(''); }, timing, 3)).rejects.toThrow();
    expect(n).toBe(3);
    expect(sleeps).toEqual([99, 199]);
  });
});

describe('batches and results', () => {
  test('at most 40 statements a BatchExecuteStatement, in order', async () => {
    rsd.on(DescribeStatementCommand).resolves({ Status: 'FINISHED' });
    const sqls = Array.from({ length: 85 }, (_, i) => `GRANT SELECT ON TABLE "s"."t${i}" TO "c"`);
    await api().batch(target, SECRET, sqls);
    const batches = rsd.commandCalls(BatchExecuteStatementCommand).map((c) => c.args[0].input.Sqls);
    expect(batches.map((b) => b!.length)).toEqual([40, 40, 5]);
    expect(batches.flat()).toEqual(sqls);
    expect(rsd).toHaveReceivedCommandWith(BatchExecuteStatementCommand, { ClusterIdentifier: 'c1', Database: 'dev', SecretArn: SECRET });
    expect(chunk([1, 2, 3], 2)).toEqual([[1, 2], [3]]);
  });

  test('a failing batch stops the following ones', async () => {
    rsd.on(DescribeStatementCommand).resolves({ Status: 'FAILED', Error: 'ERROR: role "r" does not exist' });
    await expect(api().batch(target, SECRET, Array.from({ length: 41 }, () => 'SELECT 1'))).rejects.toThrow(/role "r" does not exist/);
    expect(rsd).toHaveReceivedCommandTimes(BatchExecuteStatementCommand, 1);
  });

  test('query reads every page of the result', async () => {
    rsd.on(DescribeStatementCommand).resolves({ Status: 'FINISHED', HasResultSet: true, Id: 'id-1' });
    rsd.on(GetStatementResultCommand)
      .resolvesOnce({ ColumnMetadata: [{ name: 'usename' }, { name: 'UseSysId' }, { name: 'usesuper' }, { name: 'valuntil' }], Records: [[{ stringValue: 'app' }, { longValue: 100 }, { booleanValue: false }, { isNull: true }]], NextToken: 'n' })
      .resolvesOnce({ Records: [[{ stringValue: 'app_clone' }, { longValue: 101 }, { booleanValue: true }, { stringValue: 'infinity' }]] });
    const rows = await api().query(target, SECRET, 'SELECT …', [{ name: 'original', value: 'app' }]);
    expect(rows).toEqual([
      { usename: 'app', usesysid: 100, usesuper: false, valuntil: null },
      { usename: 'app_clone', usesysid: 101, usesuper: true, valuntil: 'infinity' },
    ]);
    expect(rsd.commandCalls(GetStatementResultCommand).map((c) => c.args[0].input)).toEqual([{ Id: 'id-1' }, { Id: 'id-1', NextToken: 'n' }]);
    expect(rowsFromResults([])).toEqual([]);
  });

  test('queryBatch: one BatchExecuteStatement, one wait, each read\'s rows fetched by its sub-statement Id, every page, in order', async () => {
    rsd.on(DescribeStatementCommand).resolves({
      Id: 'b-1',
      Status: 'FINISHED',
      HasResultSet: true,
      SubStatements: [{ Id: 'b-1:1', HasResultSet: true }, { Id: 'b-1:2', HasResultSet: false }, { Id: 'b-1:3', HasResultSet: true }],
    });
    rsd.on(GetStatementResultCommand, { Id: 'b-1:1' }).resolves({ ColumnMetadata: [{ name: 'a' }], Records: [[{ longValue: 1 }]] });
    rsd.on(GetStatementResultCommand, { Id: 'b-1:3' })
      .resolvesOnce({ ColumnMetadata: [{ name: 'b' }], Records: [[{ stringValue: 'x' }]], NextToken: 't' })
      .resolvesOnce({ Records: [[{ stringValue: 'y' }]] });
    const rows = await api().queryBatch(target, SECRET, ['SELECT 1 AS a', 'SET x TO 1', 'SELECT b FROM t']);
    expect(rows).toEqual([[{ a: 1 }], [], [{ b: 'x' }, { b: 'y' }]]);
    expect(rsd).toHaveReceivedCommandWith(BatchExecuteStatementCommand, { ...target, SecretArn: SECRET, Sqls: ['SELECT 1 AS a', 'SET x TO 1', 'SELECT b FROM t'] });
    expect(rsd).toHaveReceivedCommandTimes(ExecuteStatementCommand, 0);
    expect(rsd).toHaveReceivedCommandTimes(DescribeStatementCommand, 1);
    expect(rsd.commandCalls(GetStatementResultCommand).map((c) => `${c.args[0].input.Id} ${c.args[0].input.NextToken ?? '-'}`).sort())
      .toEqual(['b-1:1 -', 'b-1:3 -', 'b-1:3 t']);
  });

  test('queryBatch: without SubStatements in the description, the Ids are the batch\'s with :n', async () => {
    rsd.on(DescribeStatementCommand).resolves({ Id: 'b-1', Status: 'FINISHED' });
    rsd.on(GetStatementResultCommand).callsFake((input) => ({ ColumnMetadata: [{ name: 'id' }], Records: [[{ stringValue: input.Id }]] }));
    expect(await api().queryBatch(target, SECRET, ['SELECT 1', 'SELECT 2'])).toEqual([[{ id: 'b-1:1' }], [{ id: 'b-1:2' }]]);
  });

  test('queryBatch: a failed read fails the whole batch with Redshift\'s message; nothing is fetched', async () => {
    rsd.on(DescribeStatementCommand).resolves({ Id: 'b-1', Status: 'FAILED', Error: 'ERROR: permission denied for relation svv_user_info' });
    await expect(api().queryBatch(target, SECRET, ['SELECT 1', 'SELECT 2'])).rejects.toThrow(/FAILED: ERROR: permission denied for relation svv_user_info/);
    expect(rsd).toHaveReceivedCommandTimes(GetStatementResultCommand, 0);
  });

  test('queryBatch: 1 to 40 reads', async () => {
    await expect(api().queryBatch(target, SECRET, [])).rejects.toThrow('a batch of reads holds 1 to 40 statements, not 0');
    await expect(api().queryBatch(target, SECRET, Array(41).fill('SELECT 1'))).rejects.toThrow('a batch of reads holds 1 to 40 statements, not 41');
    expect(rsd).toHaveReceivedCommandTimes(BatchExecuteStatementCommand, 0);
  });
});

describe('what the mutation run found unchecked', () => {
  test('chunk: no empty chunk at the end', () => {
    expect(chunk([1, 2], 2)).toEqual([[1, 2]]);
    expect(chunk([], 2)).toEqual([]);
  });

  test('rows: columns named by position when no page names them; a later page without names keeps the first page\'s', () => {
    expect(rowsFromResults([{ Records: [[{ stringValue: 'x' }, { isNull: true }]] }])).toEqual([{ column0: 'x', column1: null }]);
    expect(rowsFromResults([
      { ColumnMetadata: [{ name: 'a' }], Records: [[{ longValue: 1 }]] },
      { ColumnMetadata: [], Records: [[{ longValue: 2 }]] },
    ])).toEqual([{ a: 1 }, { a: 2 }]);
  });

  test('no Parameters are sent for an empty list; a statement without a result set is not fetched', async () => {
    rsd.on(DescribeStatementCommand).resolves({ Id: 'id-1', Status: 'FINISHED', HasResultSet: false });
    expect(await api().query(target, SECRET, 'SELECT 1', [])).toEqual([]);
    expect(rsd.commandCalls(ExecuteStatementCommand)[0].args[0].input.Parameters).toBeUndefined();
    expect(rsd).toHaveReceivedCommandTimes(GetStatementResultCommand, 0);
  });

  test('rows: a column the metadata lists without name or label is named by its position', () => {
    expect(rowsFromResults([{ ColumnMetadata: [{}, { label: 'B' }], Records: [[{ stringValue: 'x' }, { longValue: 2 }]] }])).toEqual([{ column0: 'x', b: 2 }]);
  });

  test('a submission refused without a message, or answered without an Id, says so', async () => {
    rsd.on(ExecuteStatementCommand).rejectsOnce(new ValidationException({ message: '', $metadata: { httpStatusCode: 400 } })).resolvesOnce({});
    await expect(api().execute(target, SECRET, 'SELECT 1')).rejects.toThrow(/^Redshift Data API ExecuteStatement failed: ValidationException \(HTTP 400\)$/);
    await expect(api().execute(target, SECRET, 'SELECT 1')).rejects.toThrow(/^Redshift Data API ExecuteStatement returned no statement Id$/);
  });

  test('queryBatch takes 40 reads', async () => {
    rsd.on(DescribeStatementCommand).resolves({ Id: 'b-1', Status: 'FINISHED', SubStatements: Array.from({ length: 40 }, (_, i) => ({ Id: `b-1:${i + 1}`, HasResultSet: false })) });
    expect(await api().queryBatch(target, SECRET, Array(40).fill('SELECT 1'))).toHaveLength(40);
  });

  test('each failing operation is named in the error', async () => {
    rsd.on(BatchExecuteStatementCommand).rejects(new ValidationException({ message: 'bad batch', $metadata: { httpStatusCode: 400 } }));
    await expect(api().queryBatch(target, SECRET, ['SELECT 1'])).rejects.toThrow(/^Redshift Data API BatchExecuteStatement failed: ValidationException \(HTTP 400\): bad batch$/);
    await expect(api().batch(target, SECRET, ['SELECT 1'])).rejects.toThrow(/^Redshift Data API BatchExecuteStatement failed: ValidationException \(HTTP 400\): bad batch$/);
    rsd.on(DescribeStatementCommand).rejects(new ValidationException({ message: 'no such statement', $metadata: { httpStatusCode: 400 } }));
    await expect(api().execute(target, SECRET, 'SELECT 1')).rejects.toThrow(/^Redshift Data API DescribeStatement failed: ValidationException \(HTTP 400\): no such statement$/);
    rsd.on(DescribeStatementCommand).resolves({ Id: 'id-1', Status: 'FINISHED', HasResultSet: true });
    rsd.on(GetStatementResultCommand).rejects(new ValidationException({ message: 'result gone', $metadata: { httpStatusCode: 400 } }));
    await expect(api().query(target, SECRET, 'SELECT 1')).rejects.toThrow(/^Redshift Data API GetStatementResult failed: ValidationException \(HTTP 400\): result gone$/);
  });

  test('a submit error\'s message is trimmed and cut at 300 characters', async () => {
    rsd.on(ExecuteStatementCommand).rejects(new ValidationException({ message: `  ${'m'.repeat(400)}  `, $metadata: { httpStatusCode: 400 } }));
    const err = await api().execute(target, SECRET, 'SELECT 1').catch((e) => e);
    expect(err.message.endsWith(`: ${'m'.repeat(300)}…`)).toBe(true);
    rsd.on(ExecuteStatementCommand).rejects(new ValidationException({ message: `  ${'m'.repeat(300)}  `, $metadata: { httpStatusCode: 400 } }));
    const exact = await api().execute(target, SECRET, 'SELECT 1').catch((e) => e);
    expect(exact.message.endsWith(`: ${'m'.repeat(300)}`)).toBe(true);
  });

  test('less than a second before the statement timeout: DescribeStatement does not ask the service to wait', async () => {
    rsd.on(DescribeStatementCommand).resolves({ Status: 'FINISHED' });
    await api({ timeoutMs: 900 }).execute(target, SECRET, 'SELECT 1');
    expect(rsd.commandCalls(DescribeStatementCommand)[0].args[0].input.WaitTimeSeconds).toBeUndefined();
    rsd.resetHistory();
    await api({ timeoutMs: 1000 }).execute(target, SECRET, 'SELECT 1');
    expect(rsd.commandCalls(DescribeStatementCommand)[0].args[0].input.WaitTimeSeconds).toBe(1);
  });

  test('a FAILED statement without an error message says so', async () => {
    rsd.on(DescribeStatementCommand).resolves({ Status: 'FAILED' });
    await expect(api().execute(target, SECRET, 'SELECT 1')).rejects.toThrow(/^Redshift statement id-1 FAILED: no error message$/);
  });
});
