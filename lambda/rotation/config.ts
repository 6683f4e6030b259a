/**
 * Handler configuration from the environment variables the construct sets (docs/architecture.md), validated before
 * any AWS call. Every error names the variable.
 */
import { checkExcludeCharacters, MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH } from './password';

export interface HandlerConfig {
  readonly passwordLength: number;
  readonly excludeCharacters: string;
  readonly probeSecretPrefix: string;
  readonly testStatements: readonly string[];
  readonly statementPollMs: number;
  readonly statementTimeoutMs: number;
}

export const DEFAULT_CONFIG: HandlerConfig = {
  passwordLength: 32,
  excludeCharacters: '',
  probeSecretPrefix: 'redshift-rotation-probe/',
  testStatements: [],
  statementPollMs: 100,
  statementTimeoutMs: 60_000,
};

function integer(env: Record<string, string | undefined>, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  if (!/^[0-9]+$/.test(raw.trim())) throw new Error(`${name} must be an integer from ${min} to ${max}`);
  const value = Number(raw.trim());
  if (value < min || value > max) throw new Error(`${name} must be an integer from ${min} to ${max}, got ${value}`);
  return value;
}

function testStatements(raw: string | undefined): string[] {
  if (raw === undefined || raw.trim() === '') return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    // the parser's message quotes the input: never pass it on
    throw new Error('TEST_STATEMENTS must be a JSON array of non-empty SQL strings (it is not valid JSON)');
  }
  if (!Array.isArray(parsed) || parsed.some((s) => typeof s !== 'string' || s.trim().length === 0)) {
    throw new Error('TEST_STATEMENTS must be a JSON array of non-empty SQL strings');
  }
  return parsed as string[];
}

/** The configuration, or an error naming the first invalid variable. */
export function parseConfig(env: Record<string, string | undefined> = process.env): HandlerConfig {
  const passwordLength = integer(env, 'PASSWORD_LENGTH', DEFAULT_CONFIG.passwordLength, MIN_PASSWORD_LENGTH, MAX_PASSWORD_LENGTH);
  const excludeCharacters = env.EXCLUDE_CHARACTERS ?? '';
  checkExcludeCharacters(excludeCharacters);
  const probeSecretPrefix = env.PROBE_SECRET_PREFIX === undefined || env.PROBE_SECRET_PREFIX === ''
    ? DEFAULT_CONFIG.probeSecretPrefix : env.PROBE_SECRET_PREFIX;
  if (!/^[A-Za-z0-9/_+=.@-]{1,200}$/.test(probeSecretPrefix)) {
    throw new Error('PROBE_SECRET_PREFIX must be 1 to 200 characters of A-Z a-z 0-9 / _ + = . @ -');
  }
  return {
    passwordLength,
    excludeCharacters,
    probeSecretPrefix,
    testStatements: testStatements(env.TEST_STATEMENTS),
    statementPollMs: integer(env, 'STATEMENT_POLL_MS', DEFAULT_CONFIG.statementPollMs, 10, 10_000),
    statementTimeoutMs: integer(env, 'STATEMENT_TIMEOUT_MS', DEFAULT_CONFIG.statementTimeoutMs, 1000, 840_000),
  };
}
