/**
 * Retries of throttling and transient errors: full jitter, bounded number of attempts. Time is injectable. The
 * invocation's time budget (the Lambda's remaining time less a reserve for cleanup).
 */
import { errorName, httpStatus, OutOfTimeError } from './errors';

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
  'ActiveWaitingRequestsExceededException',
  'InternalServerException',
  'InternalServiceError',
  'ServiceUnavailable',
  'TimeoutError',
  'RequestTimeout',
]);
const NETWORK_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN', 'ENOTFOUND', 'ECONNABORTED', 'EHOSTUNREACH', 'ENETUNREACH']);
/** A network error the SDK wrapped without a code or status ("AWS SDK error wrapper for TimeoutError: socket hang up"). */
const NETWORK_MESSAGE = /\b(socket hang up|ECONNRESET|ECONNREFUSED|ETIMEDOUT|EPIPE|EAI_AGAIN)\b/;

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
  if (typeof code === 'string' && NETWORK_CODES.has(code)) return true;
  const message = err && typeof err === 'object' ? (err as { message?: unknown }).message : undefined;
  return status === undefined && typeof message === 'string' && NETWORK_MESSAGE.test(message);
}

/** The delay before attempt `attempt + 1` (attempt counts from 1): full jitter over an exponential ceiling. */
export function backoffDelay(attempt: number, random: () => number, baseMs = RETRY_BASE_MS, capMs = RETRY_CAP_MS): number {
  const ceiling = Math.min(capMs, baseMs * 2 ** (attempt - 1));
  return Math.floor(random() * ceiling);
}

/**
 * Runs `fn`, retrying retryable errors at most `maxAttempts` attempts in all; the last error is thrown. A retry
 * whose wait does not fit in the deadline is not made (the last error is thrown).
 */
export async function withRetry<T>(fn: () => Promise<T>, timing: Timing, maxAttempts = MAX_ATTEMPTS, deadline?: Deadline): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (attempt >= maxAttempts || !isRetryable(err)) throw err;
      const delay = backoffDelay(attempt, timing.random);
      if (deadline && deadline.remainingMs() <= delay) throw err;
      await timing.sleep(delay);
    }
  }
}

/** Time kept back from the Lambda's deadline to cancel a statement and delete a probe secret (at most half). */
export const DEADLINE_RESERVE_MS = 2000;

/**
 * The time an invocation may spend on work: the Lambda's remaining time (`context.getRemainingTimeInMillis()`)
 * less {@link DEADLINE_RESERVE_MS}, kept for cleanup. Without a Lambda context there is no deadline.
 */
export class Deadline {
  /** A deadline `remainingMs` from now (less the reserve); none when `remainingMs` is undefined. */
  public static fromRemaining(timing: Timing, remainingMs: number | undefined): Deadline {
    if (remainingMs === undefined || !Number.isFinite(remainingMs)) return new Deadline(timing, Infinity, 0);
    const reserve = Math.min(DEADLINE_RESERVE_MS, Math.max(0, remainingMs) / 2);
    return new Deadline(timing, timing.now() + remainingMs - reserve, reserve);
  }

  /** No deadline. */
  public static none(timing: Timing): Deadline {
    return new Deadline(timing, Infinity, 0);
  }

  private constructor(private readonly timing: Timing, readonly endsAt: number, readonly reserveMs: number) {}

  /** Milliseconds left for work (may be negative); Infinity without a deadline. */
  public remainingMs(): number {
    return this.endsAt - this.timing.now();
  }

  /** Throws an {@link OutOfTimeError} unless at least `needMs` are left before starting `what`. */
  public require(what: string, needMs: number): void {
    const left = this.remainingMs();
    if (left < needMs) {
      throw new OutOfTimeError(`ran out of time: not starting ${what} with ${Math.max(0, Math.round(left))} ms left before the Lambda's deadline (${this.reserveMs} ms kept for cleanup)`);
    }
  }
}
