/**
 * Errors the handler throws, and the redaction that keeps secret material out of every message.
 */

/** An error whose message is safe to log and to return to Secrets Manager. */
export class RotationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RotationError';
  }
}

/** The credentials given to the Data API did not log in. */
export class LoginFailedError extends RotationError {
  constructor(message: string) {
    super(message);
    this.name = 'LoginFailedError';
  }
}

/** A Data API statement ended FAILED or ABORTED, or did not finish in time (then it was cancelled). */
export class StatementError extends RotationError {
  constructor(message: string, readonly status: 'FAILED' | 'ABORTED' | 'TIMEOUT') {
    super(message);
    this.name = 'StatementError';
  }
}

/**
 * The invocation is about to run out of the Lambda's time: nothing more is started, statements it started are
 * cancelled, and its probe secret is deleted in the time kept back for that.
 */
export class OutOfTimeError extends RotationError {
  constructor(message: string) {
    super(message);
    this.name = 'OutOfTimeError';
  }
}

const MD5_VERIFIER = /md5[0-9a-f]{32}/gi;
const REDACTED = '[REDACTED]';

/**
 * Collects every secret value the invocation has seen (old, new and master passwords) and removes them, and any md5
 * verifier, from text before it is logged or thrown.
 */
export class Redactor {
  private readonly values = new Set<string>();

  /** Remembers secret values (empty and missing ones are ignored). */
  public add(...values: Array<string | undefined>): void {
    for (const value of values) {
      if (typeof value !== 'string' || value.length === 0) continue;
      this.values.add(value);
      // the same value as it appears inside a JSON document
      const escaped = JSON.stringify(value).slice(1, -1);
      if (escaped !== value) this.values.add(escaped);
    }
  }

  /** The text with every known secret value and every md5 verifier replaced. */
  public redact(text: string): string {
    let out = text.replace(MD5_VERIFIER, 'md5' + REDACTED);
    const longestFirst = [...this.values].sort((a, b) => b.length - a.length);
    for (const value of longestFirst) out = out.split(value).join(REDACTED);
    return out;
  }
}

/** `name` of an SDK (or any) error, without its message. */
export function errorName(err: unknown): string {
  if (err && typeof err === 'object') {
    const name = (err as { name?: unknown }).name;
    if (typeof name === 'string' && name.length > 0) return name;
  }
  return 'Error';
}

/** HTTP status code of an SDK error, when it has one. */
export function httpStatus(err: unknown): number | undefined {
  if (err && typeof err === 'object') {
    const meta = (err as { $metadata?: { httpStatusCode?: unknown } }).$metadata;
    if (meta && typeof meta.httpStatusCode === 'number') return meta.httpStatusCode;
  }
  return undefined;
}

/** `message` of an error, or '' when there is none. */
export function errorMessage(err: unknown): string {
  if (err && typeof err === 'object') {
    const message = (err as { message?: unknown }).message;
    if (typeof message === 'string') return message;
  }
  return typeof err === 'string' ? err : '';
}

/**
 * A short description of an SDK error for a message: its name, HTTP status and, only when `withMessage` is set (calls
 * that carried no secret material), its message, redacted and cut to 300 characters.
 */
export function describeSdkError(err: unknown, redactor: Redactor, withMessage: boolean): string {
  const status = httpStatus(err);
  let text = errorName(err) + (status !== undefined ? ` (HTTP ${status})` : '');
  const message = withMessage ? errorMessage(err).trim() : '';
  if (message.length > 0) {
    const safe = redactor.redact(message);
    text += ': ' + (safe.length > 300 ? safe.slice(0, 300) + '…' : safe);
  }
  return text;
}
