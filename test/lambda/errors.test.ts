/**
 * The handler's errors and its redaction (lambda/rotation/errors.ts): the names the log lines and Secrets Manager
 * show, which values the Redactor removes (and in which order), and how an SDK error is described.
 * The values redacted here are made-up strings, not credentials of any test world.
 */
import {
  describeSdkError, errorMessage, errorName, httpStatus, LoginFailedError, OutOfTimeError, Redactor, RotationError, StatementError,
} from '../../lambda/rotation/errors';

describe('error classes', () => {
  // made inside each test (not in the table) so that the mutation run sees which tests cover the constructors
  test.each([
    [() => new RotationError('m'), 'RotationError'],
    [() => new LoginFailedError('m'), 'LoginFailedError'],
    [() => new StatementError('m', 'ABORTED'), 'StatementError'],
    [() => new OutOfTimeError('m'), 'OutOfTimeError'],
  ])('%#: the error is named %s (the name the log line and the step error show) and is a RotationError', (make, name) => {
    const err = make();
    expect(err.name).toBe(name);
    expect(errorName(err)).toBe(name);
    expect(err).toBeInstanceOf(RotationError);
    expect(String(err)).toBe(`${name}: m`);
  });
});

describe('Redactor', () => {
  test('empty and missing values are ignored: they would otherwise match between every character', () => {
    const r = new Redactor();
    expect(() => r.add('', undefined)).not.toThrow();
    expect(r.redact('plain text')).toBe('plain text');
  });

  test('a value with a quote or backslash is also removed as it appears inside a JSON document', () => {
    const value = 'ab"c\\d';
    const r = new Redactor();
    r.add(value);
    const json = JSON.stringify({ password: value });
    expect(json.includes('ab\\"c\\\\d')).toBe(true);
    expect(r.redact(json)).toBe('{"password":"[REDACTED]"}');
    expect(r.redact(`raw ${value} end`)).toBe('raw [REDACTED] end');
  });

  test.each([[['abc', 'abcdef']], [['abcdef', 'abc']]])('a value that starts another is replaced after it, whatever the order added (%p)', (values) => {
    const r = new Redactor();
    r.add(...values);
    // replacing 'abc' first would leave 'def' of the longer value in the text
    expect(r.redact('x abcdef y abc z')).toBe('x [REDACTED] y [REDACTED] z');
  });

  test('md5 verifiers are replaced whether or not their password is known', () => {
    const r = new Redactor();
    expect(r.redact(`hash md5${'0123456789abcdef'.repeat(2)} end`)).toBe('hash md5[REDACTED] end');
  });
});

describe('errorName, httpStatus, errorMessage', () => {
  test.each([null, undefined, 'text', 42])('errorName(%p) is "Error", httpStatus undefined', (err) => {
    expect(errorName(err)).toBe('Error');
    expect(httpStatus(err)).toBeUndefined();
  });

  test.each([{ name: 42 }, { name: '' }, {}])('errorName(%p): a name that is no non-empty string gives "Error"', (err) => {
    expect(errorName(err)).toBe('Error');
  });

  test('httpStatus reads $metadata.httpStatusCode only when it is a number', () => {
    expect(httpStatus({ $metadata: { httpStatusCode: 503 } })).toBe(503);
    expect(httpStatus({ $metadata: { httpStatusCode: '503' } })).toBeUndefined();
    expect(httpStatus({ $metadata: null })).toBeUndefined();
  });

  test.each([[null, ''], [undefined, ''], ['as text', 'as text'], [{ message: 7 }, ''], [new Error('boom'), 'boom']])(
    'errorMessage(%p) is %p', (err, expected) => {
      expect(errorMessage(err)).toBe(expected);
    });
});

describe('describeSdkError', () => {
  const sdkError = (message: string, status?: number) =>
    Object.assign(new Error(message), { name: 'ThrottlingException', $metadata: status === undefined ? {} : { httpStatusCode: status } });

  test('name only without a status or a message', () => {
    expect(describeSdkError(sdkError('rate exceeded'), new Redactor(), false)).toBe('ThrottlingException');
  });

  test('name, status and the redacted message when asked', () => {
    const r = new Redactor();
    r.add('s3cr3t-value');
    expect(describeSdkError(sdkError('  refused s3cr3t-value  ', 400), r, true)).toBe('ThrottlingException (HTTP 400): refused [REDACTED]');
  });

  test('a message of blanks adds nothing', () => {
    expect(describeSdkError(sdkError('   ', 400), new Redactor(), true)).toBe('ThrottlingException (HTTP 400)');
  });

  test('a message is cut after 300 characters, not at 300', () => {
    const at300 = 'a'.repeat(300);
    expect(describeSdkError(sdkError(at300), new Redactor(), true)).toBe(`ThrottlingException: ${at300}`);
    expect(describeSdkError(sdkError(at300 + 'bc'), new Redactor(), true)).toBe(`ThrottlingException: ${at300}…`);
  });
});
