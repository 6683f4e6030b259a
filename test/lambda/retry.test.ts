/**
 * What the handler retries (lambda/rotation/retry.ts): by error name first, then by HTTP status, then by network
 * error code or message; and a retry whose wait does not fit in the deadline is not made.
 */
import { Deadline, isRetryable, Timing, withRetry } from '../../lambda/rotation/retry';

const named = (name: string, status?: number) => Object.assign(new Error('x'), { name, $metadata: status === undefined ? {} : { httpStatusCode: status } });

describe('isRetryable', () => {
  test.each([
    'ThrottlingException', 'Throttling', 'TooManyRequestsException', 'ActiveStatementsExceededException', 'ActiveSessionsExceededException',
    'ActiveWaitingRequestsExceededException', 'InternalServerException', 'InternalServiceError', 'ServiceUnavailable', 'TimeoutError', 'RequestTimeout',
  ])('%s is retried, whatever its status', (name) => {
    expect(isRetryable(named(name, 400))).toBe(true);
    expect(isRetryable(named(name))).toBe(true);
  });

  test.each([
    'DatabaseConnectionException', 'ValidationException', 'ResourceNotFoundException', 'ExecuteStatementException',
    'BatchExecuteStatementException', 'QueryTimeoutException', 'AccessDeniedException',
  ])('%s is never retried, even as a server fault', (name) => {
    expect(isRetryable(named(name, 500))).toBe(false);
    expect(isRetryable(named(name, 429))).toBe(false);
  });

  test.each([[500, true], [503, true], [429, true], [499, false], [400, false], [404, false]])('another error with HTTP %p: retried %p', (status, expected) => {
    expect(isRetryable(named('SomethingElse', status))).toBe(expected);
  });

  test.each(['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN', 'ENOTFOUND', 'ECONNABORTED', 'EHOSTUNREACH', 'ENETUNREACH'])(
    'a network error with code %s is retried', (code) => {
      expect(isRetryable(Object.assign(new Error('network'), { code }))).toBe(true);
      expect(isRetryable(Object.assign(new Error('network'), { code: `${code}X` }))).toBe(false);
    });

  test('values that are not errors are not retried, and do not break the check', () => {
    for (const value of [null, undefined, 'ECONNRESET', 42, { message: 'socket hang up', $metadata: { httpStatusCode: 400 } }]) {
      expect(isRetryable(value)).toBe(false);
    }
    expect(isRetryable({ message: 'socket hang up' })).toBe(true);
  });
});

describe('withRetry and the deadline', () => {
  test('a retry whose wait takes exactly the time left is not made; one that leaves a millisecond is', async () => {
    let clock = 0;
    const sleeps: number[] = [];
    // random 0.5: the first backoff is floor(0.5 x 100) = 50 ms
    const timing: Timing = { now: () => clock, sleep: async (ms) => { sleeps.push(ms); clock += ms; }, random: () => 0.5 };
    const run = async (remainingMs: number) => {
      let calls = 0;
      const fn = async () => { calls++; if (calls === 1) throw named('ThrottlingException', 400); return 'ok'; };
      // a deadline of 2 x remainingMs keeps half back for cleanup: remainingMs left for work
      const result = await withRetry(fn, timing, 5, Deadline.fromRemaining(timing, 2 * remainingMs)).catch((e) => e.name);
      return { result, calls };
    };
    expect(await run(50)).toEqual({ result: 'ThrottlingException', calls: 1 });
    expect(await run(51)).toEqual({ result: 'ok', calls: 2 });
    expect(sleeps).toEqual([50]);
  });
});

describe('Deadline.require', () => {
  test('exactly the time needed is enough; a millisecond less is not', () => {
    const timing: Timing = { now: () => 0, sleep: async () => undefined, random: () => 0 };
    // 2,000 ms from now keeps 1,000 back: 1,000 left for work
    expect(() => Deadline.fromRemaining(timing, 2000).require('ExecuteStatement', 1000)).not.toThrow();
    expect(() => Deadline.fromRemaining(timing, 1998).require('ExecuteStatement', 1000))
      .toThrow(/^ran out of time: not starting ExecuteStatement with 999 ms left before the Lambda's deadline \(999 ms kept for cleanup\)$/);
  });
});
