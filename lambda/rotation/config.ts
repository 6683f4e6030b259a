/**
 * Handler configuration from the environment variables the construct sets (docs/architecture.md), validated before
 * any AWS call. Every error names the variable.
 */
import { checkExcludeCharacters, MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH } from './password';

/** A Data API target a master secret is paired with: a cluster (lower case) or a workgroup. */
export interface PairedTarget {
  readonly kind: 'cluster' | 'workgroup';
  readonly name: string;
}

/**
 * A master secret and the targets the deployer paired it with (MASTER_TARGETS). `arn` is a complete ARN, or with
 * `partial` the ARN without Secrets Manager's `-` and 6 random characters (a secret known by name or partial ARN).
 */
export interface MasterPairing {
  readonly arn: string;
  readonly partial: boolean;
  readonly targets: readonly PairedTarget[];
}

export interface HandlerConfig {
  readonly passwordLength: number;
  readonly excludeCharacters: string;
  readonly probeSecretPrefix: string;
  readonly testStatements: readonly string[];
  readonly statementPollMs: number;
  readonly statementTimeoutMs: number;
  /** ALLOW_SUPERUSER_CLONE: whether the alternate user may be given superuser (CREATEUSER) */
  readonly allowSuperuserClone: boolean;
  /** MASTER_TARGETS: master secrets without target fields and the targets they may be used against */
  readonly masterTargets: readonly MasterPairing[];
}

export const DEFAULT_CONFIG: HandlerConfig = {
  passwordLength: 32,
  excludeCharacters: '',
  probeSecretPrefix: 'redshift-rotation-probe/',
  testStatements: [],
  statementPollMs: 100,
  statementTimeoutMs: 60_000,
  allowSuperuserClone: false,
  masterTargets: [],
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

function flag(env: Record<string, string | undefined>, name: string): boolean {
  const raw = (env[name] ?? '').trim();
  if (raw === '' || raw === 'false') return false;
  if (raw === 'true') return true;
  throw new Error(`${name} must be true or false`);
}

/** The suffix Secrets Manager appends to a secret's name in its ARN: `-` and 6 random characters. */
export const PARTIAL_ARN_SUFFIX = '-??????';
const MASTER_TARGETS_FORMAT = 'MASTER_TARGETS must be a JSON array of [master secret ARN, "cluster:<id>" | "workgroup:<name>", …] entries';

/**
 * MASTER_TARGETS: `[["arn:…:secret:admin-AbCdEf", "cluster:c1", "workgroup:w1"], ["arn:…:secret:imported-??????", …]]`.
 * An ARN that ends in `-??????` is partial (matched as IAM matches it: the prefix, `-`, 6 characters).
 */
export function parseMasterTargets(raw: string | undefined): MasterPairing[] {
  if (raw === undefined || raw.trim() === '') return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new Error(`${MASTER_TARGETS_FORMAT} (it is not valid JSON)`);
  }
  if (!Array.isArray(parsed)) throw new Error(MASTER_TARGETS_FORMAT);
  return parsed.map((entry, i) => {
    if (!Array.isArray(entry) || entry.length < 2 || entry.some((x) => typeof x !== 'string')) {
      throw new Error(`${MASTER_TARGETS_FORMAT}; entry ${i} is not`);
    }
    const [arn, ...targets] = entry as string[];
    if (!/^arn:[a-z-]+:secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:.+$/.test(arn)) {
      throw new Error(`${MASTER_TARGETS_FORMAT}; entry ${i} does not start with a secret ARN`);
    }
    const partial = arn.endsWith(PARTIAL_ARN_SUFFIX);
    return {
      arn: partial ? arn.slice(0, -PARTIAL_ARN_SUFFIX.length) : arn,
      partial,
      targets: targets.map((t) => {
        const m = /^(cluster|workgroup):(.+)$/.exec(t);
        if (!m) throw new Error(`${MASTER_TARGETS_FORMAT}; entry ${i} has the target ${JSON.stringify(t)}`);
        return { kind: m[1] as 'cluster' | 'workgroup', name: m[1] === 'cluster' ? m[2].toLowerCase() : m[2] };
      }),
    };
  });
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
    allowSuperuserClone: flag(env, 'ALLOW_SUPERUSER_CLONE'),
    masterTargets: parseMasterTargets(env.MASTER_TARGETS),
  };
}
