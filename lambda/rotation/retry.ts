/**
 * Retries of throttling and transient errors: full jitter, bounded number of attempts. Time is injectable.
 */
import { errorName, httpStatus } from './errors';

export interface Timing {
  /** waits `ms` milliseconds */
  readonly sleep: (ms: number) => Promise<void>;
  /** the current time in milliseconds */
  readonly now: () => number;
  /** a number in [0, 1) */
  readonly random: () => number;
}

export const REAL_TIMING: Timing = {
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  now: () => Date.now(),
  random: () => Math.random(),
};

export const MAX_ATTEMPTS = 5;
export const RETRY_BASE_MS = 100;
export const RETRY_CAP_MS = 3000;

const RETRYABLE_NAMES = new Set([
  'ThrottlingException',
  'Throttling',
  'TooManyRequestsException',
  'ActiveStatementsExceededException',
  'ActiveSessionsExceededException',
  'InternalServerException',
  'InternalServiceError',
  'ServiceUnavailable',
  'TimeoutError',
  'RequestTimeout',
]);
const NETWORK_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN', 'ENOTFOUND', 'ECONNABORTED', 'EHOSTUNREACH', 'ENETUNREACH']);

/** Errors that retrying cannot fix, whatever their HTTP status (a failed login comes back as a server fault). */
const NEVER_RETRIED = new Set([
  'DatabaseConnectionException',
  'ValidationException',
  'ResourceNotFoundException',
  'ExecuteStatementException',
  'BatchExecuteStatementException',
  'QueryTimeoutException',
  'AccessDeniedException',
]);

/** Throttling, the Data API's capacity errors, internal errors, HTTP 5xx and network errors. */
export function isRetryable(err: unknown): boolean {
  if (NEVER_RETRIED.has(errorName(err))) return false;
  if (RETRYABLE_NAMES.has(errorName(err))) return true;
  const status = httpStatus(err);
  if (status !== undefined && (status >= 500 || status === 429)) return true;
  const code = err && typeof err === 'object' ? (err as { code?: unknown }).code : undefined;
  return typeof code === 'string' && NETWORK_CODES.has(code);
}

/** The delay before attempt `attempt + 1` (attempt counts from 1): full jitter over an exponential ceiling. */
export function backoffDelay(attempt: number, random: () => number, baseMs = RETRY_BASE_MS, capMs = RETRY_CAP_MS): number {
  const ceiling = Math.min(capMs, baseMs * 2 ** (attempt - 1));
  return Math.floor(random() * ceiling);
}

/** Runs `fn`, retrying retryable errors at most `maxAttempts` attempts in all; the last error is thrown. */
export async function withRetry<T>(fn: () => Promise<T>, timing: Timing, maxAttempts = MAX_ATTEMPTS): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (attempt >= maxAttempts || !isRetryable(err)) throw err;
      await timing.sleep(backoffDelay(attempt, timing.random));
    }
  }
}
