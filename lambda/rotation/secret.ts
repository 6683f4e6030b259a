/**
 * The secret JSON: parsing, validation, usernames, the `_clone` toggle, the Data API target and the strategy.
 * Pure functions; no message ever quotes a password or a secret string.
 */
import { RotationError } from './errors';

export type Strategy = 'SINGLE_USER' | 'ALTERNATING_USERS';
export const STRATEGY_TAG = 'redshift-rotation:strategy';
export const CLONE_SUFFIX = '_clone';
/** Longest Redshift identifier, in bytes. */
export const MAX_USERNAME_BYTES = 127;
/** A user name that needs no quoting: lower-case ASCII letters, digits, `_` and `$`, not starting with a digit or `$`. */
export const USERNAME = /^[a-z_][a-z0-9_$]*$/;

/** A validated Redshift secret; `fields` is the whole JSON object, kept so that a copy keeps unknown keys. */
export interface RedshiftSecret {
  readonly username: string;
  readonly password: string;
  readonly dbname: string;
  readonly dbClusterIdentifier?: string;
  readonly workgroupName?: string;
  readonly masterarn?: string;
  readonly fields: Readonly<Record<string, unknown>>;
}

/** Where Data API statements go. */
export interface DataApiTarget {
  readonly ClusterIdentifier?: string;
  readonly WorkgroupName?: string;
  readonly Database: string;
}

/** The JSON object in a secret string. `what` names the secret version in messages (e.g. `AWSCURRENT`). */
export function parseSecretJson(secretString: string | undefined, what: string): Record<string, unknown> {
  if (typeof secretString !== 'string') throw new Error(`${what} has no SecretString`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(secretString);
  } catch {
    // JSON.parse's message quotes the input, which holds the password: never pass it on
    throw new Error(`${what} is not valid JSON`);
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error(`${what} is not a JSON object`);
  return parsed as Record<string, unknown>;
}

function optionalString(fields: Record<string, unknown>, key: string, what: string): string | undefined {
  const value = fields[key];
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string') throw new Error(`${what}: ${key} must be a string`);
  return value;
}

/**
 * A provisioned cluster's endpoint: `<cluster>.<unique id>.<region>.redshift.amazonaws.com` (China Regions:
 * `.amazonaws.com.cn`), https://docs.aws.amazon.com/redshift/latest/mgmt/jdbc20-obtain-url.html
 */
const CLUSTER_HOST = /^([a-z][a-z0-9-]{0,62})\.[a-z0-9]+\.[a-z]{2}(?:-[a-z]+)+-[0-9]+\.redshift\.amazonaws\.com(?:\.cn)?$/;
/**
 * A Redshift Serverless workgroup's endpoint: `<workgroup>.<account>.<region>.redshift-serverless.amazonaws.com`,
 * https://docs.aws.amazon.com/redshift/latest/mgmt/serverless-connecting.html
 */
const WORKGROUP_HOST = /^([a-z0-9-]{3,128})\.[0-9]{12}\.[a-z]{2}(?:-[a-z]+)+-[0-9]+\.redshift-serverless\.amazonaws\.com(?:\.cn)?$/;

/**
 * The cluster or workgroup an endpoint host names, for secrets that carry only `host` (the Secrets Manager user
 * guide's Redshift and Redshift Serverless structures, and the secrets of AWS's rotation templates). Undefined for
 * any other host (a custom domain name, a VPC endpoint, an IP address).
 */
export function targetFromHost(host: string): { dbClusterIdentifier?: string; workgroupName?: string } | undefined {
  const h = host.trim().toLowerCase().replace(/\.$/, '').replace(/:[0-9]+$/, '');
  const cluster = CLUSTER_HOST.exec(h);
  if (cluster) return { dbClusterIdentifier: cluster[1] };
  const workgroup = WORKGROUP_HOST.exec(h);
  if (workgroup) return { workgroupName: workgroup[1] };
  return undefined;
}

/**
 * Parses and validates a rotated secret: engine, username, password, exactly one target, dbname. The target is
 * `dbClusterIdentifier` or `workgroupName`, else derived from `host` when it is a Redshift endpoint.
 */
export function parseRedshiftSecret(secretString: string | undefined, what: string): RedshiftSecret {
  const fields = parseSecretJson(secretString, what);
  if (fields.engine !== 'redshift') throw new Error(`${what}: engine must be "redshift"`);
  if (typeof fields.username !== 'string' || fields.username.length === 0) {
    throw new Error(`${what}: username is missing or not a non-empty string`);
  }
  if (typeof fields.password !== 'string' || fields.password.length === 0) {
    throw new Error(`${what}: password is missing or not a non-empty string`);
  }
  let dbClusterIdentifier = optionalString(fields, 'dbClusterIdentifier', what);
  let workgroupName = optionalString(fields, 'workgroupName', what);
  const host = optionalString(fields, 'host', what);
  if (dbClusterIdentifier !== undefined && workgroupName !== undefined) {
    throw new Error(`${what}: exactly one of dbClusterIdentifier and workgroupName must be set (found both)`);
  }
  if (dbClusterIdentifier === undefined && workgroupName === undefined) {
    const derived = host !== undefined ? targetFromHost(host) : undefined;
    if (!derived) {
      throw new Error(`${what}: the secret names no cluster or workgroup: add dbClusterIdentifier (a provisioned cluster) or workgroupName `
        + `(Redshift Serverless)${host !== undefined ? `; its host ${JSON.stringify(host)} is not a Redshift cluster or workgroup endpoint `
        + '(<cluster>.<id>.<region>.redshift.amazonaws.com or <workgroup>.<account>.<region>.redshift-serverless.amazonaws.com) '
        + 'that the name could be read from' : ''}`);
    }
    ({ dbClusterIdentifier, workgroupName } = derived);
  }
  const port = fields.port;
  if (port !== undefined && port !== null && port !== '' && !(typeof port === 'number' || (typeof port === 'string' && /^[0-9]+$/.test(port.trim())))) {
    throw new Error(`${what}: port must be a number`);
  }
  const dbname = optionalString(fields, 'dbname', what) ?? 'dev';
  const masterarn = optionalString(fields, 'masterarn', what);
  checkUsername(fields.username, what);
  return { username: fields.username, password: fields.password, dbname, dbClusterIdentifier, workgroupName, masterarn, fields };
}

export interface MasterSecret {
  readonly username: string;
  readonly password: string;
  readonly fields: Readonly<Record<string, unknown>>;
}

/** The master secret: a username and a password. */
export function parseMasterSecret(secretString: string | undefined, what: string): MasterSecret {
  const fields = parseSecretJson(secretString, what);
  if (typeof fields.username !== 'string' || fields.username.length === 0) {
    throw new Error(`${what}: username is missing or not a non-empty string`);
  }
  if (typeof fields.password !== 'string' || fields.password.length === 0) {
    throw new Error(`${what}: password is missing or not a non-empty string`);
  }
  return { username: fields.username, password: fields.password, fields };
}

function bytes(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

/**
 * Throws unless `username` is a plain Redshift identifier that needs no quoting, at most 127 bytes. Upper case is
 * refused with its own message: Redshift folds user names to lower case (CREATE USER App makes the user `app`),
 * and the md5 verifier the function writes is computed from the exact stored name, so a rotation of "App" would
 * set a password no login could use (https://docs.aws.amazon.com/redshift/latest/dg/r_names.html,
 * https://docs.aws.amazon.com/redshift/latest/dg/r_CREATE_USER.html).
 */
export function checkUsername(username: string, what: string): void {
  if (/[A-Z]/.test(username) && USERNAME.test(username.toLowerCase())) {
    throw new Error(`${what}: username ${JSON.stringify(username)} has upper-case letters; Redshift folds user names to lower case `
      + `(the user is ${JSON.stringify(username.toLowerCase())}) and the md5 password verifier depends on the exact stored name, `
      + `so rotating ${JSON.stringify(username)} would set a password nobody can log in with: write ${JSON.stringify(username.toLowerCase())} in the secret instead`);
  }
  if (!USERNAME.test(username)) {
    throw new Error(`${what}: username ${JSON.stringify(username)} must match ${USERNAME.source} (lower-case ASCII letters, digits, _ and $; no quoting)`);
  }
  if (bytes(username) > MAX_USERNAME_BYTES) {
    throw new Error(`${what}: username is ${bytes(username)} bytes, Redshift allows at most ${MAX_USERNAME_BYTES}`);
  }
}

/** The original (un-suffixed) username: `u` for both `u` and `u_clone`. */
export function originalUsername(username: string): string {
  return username.endsWith(CLONE_SUFFIX) ? username.slice(0, -CLONE_SUFFIX.length) : username;
}

/** The other user of an alternating pair: toggles the `_clone` suffix; fails past Redshift's 127 bytes. */
export function alternateUsername(username: string): string {
  const other = username.endsWith(CLONE_SUFFIX) ? username.slice(0, -CLONE_SUFFIX.length) : username + CLONE_SUFFIX;
  if (other.length === 0) throw new Error(`username ${JSON.stringify(username)} has nothing before ${CLONE_SUFFIX}`);
  if (bytes(other) > MAX_USERNAME_BYTES) {
    throw new Error(`username ${JSON.stringify(username)} is too long for the ${CLONE_SUFFIX} suffix: ${JSON.stringify(CLONE_SUFFIX)} would make it ${bytes(other)} bytes, Redshift allows at most ${MAX_USERNAME_BYTES}`);
  }
  return other;
}

/** Throws unless `username` fits the strategy (for ALTERNATING_USERS: an original of at most 121 bytes, or its clone). */
export function checkUsernameForStrategy(username: string, strategy: Strategy, what: string): void {
  checkUsername(username, what);
  if (strategy === 'ALTERNATING_USERS') {
    const original = originalUsername(username);
    if (original.length === 0) throw new Error(`${what}: username ${JSON.stringify(username)} has nothing before ${CLONE_SUFFIX}`);
    checkUsername(original, what);
    const limit = MAX_USERNAME_BYTES - CLONE_SUFFIX.length;
    if (bytes(original) > limit) {
      throw new Error(`${what}: username is too long for alternating users: at most ${limit} bytes so that ${CLONE_SUFFIX} fits in Redshift's ${MAX_USERNAME_BYTES}`);
    }
  }
}

/** The strategy: the `redshift-rotation:strategy` tag, else ALTERNATING_USERS when the secret has `masterarn`. */
export function resolveStrategy(tagValue: string | undefined, secret: RedshiftSecret): Strategy {
  let strategy: Strategy;
  if (tagValue === undefined) {
    strategy = secret.masterarn !== undefined ? 'ALTERNATING_USERS' : 'SINGLE_USER';
  } else if (tagValue === 'SINGLE_USER' || tagValue === 'ALTERNATING_USERS') {
    strategy = tagValue;
  } else {
    throw new Error(`tag ${STRATEGY_TAG} must be SINGLE_USER or ALTERNATING_USERS, got ${JSON.stringify(tagValue)}`);
  }
  if (strategy === 'ALTERNATING_USERS' && secret.masterarn === undefined) {
    throw new Error('ALTERNATING_USERS needs masterarn in the secret (the ARN of a secret of a user that may create and alter users)');
  }
  return strategy;
}

/** The Data API target of a secret: its cluster or workgroup, and its database. */
export function dataApiTarget(secret: RedshiftSecret): DataApiTarget {
  return secret.dbClusterIdentifier !== undefined
    ? { ClusterIdentifier: secret.dbClusterIdentifier, Database: secret.dbname }
    : { WorkgroupName: secret.workgroupName, Database: secret.dbname };
}

/** Throws unless `pending` is a valid successor of `current` under the strategy: same target, expected username. */
export function checkPendingFitsCurrent(current: RedshiftSecret, pending: RedshiftSecret, strategy: Strategy, what = 'AWSPENDING'): void {
  checkUsernameForStrategy(pending.username, strategy, what);
  const expected = strategy === 'SINGLE_USER' ? current.username : alternateUsername(current.username);
  if (pending.username !== expected) {
    throw new Error(`${what}: username ${JSON.stringify(pending.username)} does not fit ${strategy}: expected ${JSON.stringify(expected)} (AWSCURRENT is ${JSON.stringify(current.username)})`);
  }
  if (pending.dbClusterIdentifier !== current.dbClusterIdentifier
    || pending.workgroupName !== current.workgroupName
    || pending.dbname !== current.dbname) {
    throw new Error(`${what}: dbClusterIdentifier, workgroupName and dbname must be the same as in AWSCURRENT`);
  }
}

/** The secret string of the next version: a copy of `current` with a new password (and, if given, username). */
export function pendingSecretString(current: RedshiftSecret, password: string, username: string): string {
  return JSON.stringify({ ...current.fields, username, password });
}

/**
 * The tag that asks the function to create the users of a secret that do not exist yet (ALTERNATING_USERS: the
 * AWSCURRENT user, with AWSCURRENT's password, then the alternate user). The construct sets it on the secrets it
 * creates. It never makes the function alter a user that exists.
 */
export const CREATE_USER_TAG = 'redshift-rotation:create-user';

/** The cluster or workgroup a master secret's JSON names (`dbClusterIdentifier`, `workgroupName`, or a Redshift `host`). */
export function masterJsonTarget(fields: Readonly<Record<string, unknown>>): { dbClusterIdentifier?: string; workgroupName?: string } | undefined {
  const text = (key: string) => (typeof fields[key] === 'string' && fields[key] !== '' ? fields[key] as string : undefined);
  const cluster = text('dbClusterIdentifier');
  const workgroup = text('workgroupName');
  if (cluster !== undefined || workgroup !== undefined) return { dbClusterIdentifier: cluster, workgroupName: workgroup };
  const host = text('host');
  return host !== undefined ? targetFromHost(host) : undefined;
}

/** Whether a complete secret ARN is the one a pairing names (a partial one: the prefix, `-`, 6 characters, as IAM's `-??????`). */
export function pairingMatches(pairing: { readonly arn: string; readonly partial: boolean }, completeArn: string): boolean {
  if (!pairing.partial) return pairing.arn === completeArn;
  return completeArn.startsWith(pairing.arn + '-') && /^[A-Za-z0-9]{6}$/.test(completeArn.slice(pairing.arn.length + 1));
}

/**
 * Throws unless the master secret may be used against the rotated secret's cluster or workgroup: a master whose
 * JSON names a target is used only there; one that names none (a Redshift-managed admin secret) only against the
 * targets the deployer paired it with (MASTER_TARGETS, written by the construct). Both must agree when both exist.
 * `masterArn` is the master's complete ARN, as GetSecretValue returns it.
 */
export function checkMasterTarget(args: {
  readonly masterArn: string;
  readonly masterFields: Readonly<Record<string, unknown>>;
  readonly current: RedshiftSecret;
  readonly pairings: ReadonlyArray<{
    readonly arn: string;
    readonly partial: boolean;
    readonly targets: ReadonlyArray<{ readonly kind: string; readonly name: string }>;
  }>;
}): void {
  const cluster = args.current.dbClusterIdentifier?.toLowerCase();
  const workgroup = args.current.workgroupName;
  const here = cluster !== undefined ? `cluster ${JSON.stringify(cluster)}` : `workgroup ${JSON.stringify(workgroup)}`;
  const named = masterJsonTarget(args.masterFields);
  if (named) {
    for (const [key, value, expected] of [
      ['dbClusterIdentifier', named.dbClusterIdentifier?.toLowerCase(), cluster],
      ['workgroupName', named.workgroupName, workgroup],
    ] as const) {
      if (value !== undefined && value !== expected) {
        throw new RotationError(`the master secret's ${key} is not the one of the rotated secret (${here}); a master secret that names a target is used only there; nothing was changed`);
      }
    }
  }
  const pairing = args.pairings.find((p) => pairingMatches(p, args.masterArn));
  if (pairing) {
    const paired = pairing.targets.some((t) => (cluster !== undefined ? t.kind === 'cluster' && t.name === cluster : t.kind === 'workgroup' && t.name === workgroup));
    if (!paired) {
      throw new RotationError(`the master secret ${args.masterArn} is paired with other targets in the rotation function's MASTER_TARGETS, not with the ${here} of the rotated secret; `
        + 'pass it as masterSecret of a RedshiftSecretRotation for this target (the construct pairs it with the function); nothing was changed');
    }
    return;
  }
  if (!named) {
    throw new RotationError(`the master secret ${args.masterArn} names no cluster or workgroup, and the deployer did not pair it with the ${here} of the rotated secret `
      + '(the rotation function\'s MASTER_TARGETS); a master secret is used only against its own target: pass it as masterSecret of a RedshiftSecretRotation for this target, '
      + 'or add dbClusterIdentifier or workgroupName to the master secret; nothing was changed');
  }
}
