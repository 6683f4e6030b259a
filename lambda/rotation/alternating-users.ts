/**
 * setSecret for ALTERNATING_USERS: prove AWSCURRENT logs in, then as the master user read the catalog, refuse a
 * master that is not a superuser, a master used against another target than its own, a superuser AWSCURRENT user
 * without the deployer's opt-in, and an existing pending user this secret has not proven it owns; then in as few
 * transactions as possible (batches of 40) set the pending user's password (CREATE USER when needed) and make the
 * pending user equal to the AWSCURRENT user: attributes, settings, groups, roles, explicit grants and
 * owner-equivalent grants on what the AWSCURRENT user owns. Only the pending user is written to (and, with the
 * create-user tag, a missing AWSCURRENT user is created); an existing AWSCURRENT user is never altered.
 */
import { CATALOG_SQL, CatalogQuery, catalogStatement, CatalogRows, parseCatalog, Row } from './catalog';
import { pendingString, probeFor, RotationContext } from './context';
import { errorMessage, LoginFailedError, RotationError, StatementError } from './errors';
import {
  checkMasterTarget, checkPendingFitsCurrent, CLONE_SUFFIX, CREATE_USER_TAG, originalUsername, parseMasterSecret, parseRedshiftSecret,
} from './secret';
import { AWSPENDING, AWSPREVIOUS, tagValue, versionWithStage } from './secrets';
import { alternatingWrites, SELECT_ONE } from './sql';

/** Whether a version of the secret holds working credentials of the pending user, and if not, why (no secret in it). */
export type OwnershipProof = { readonly ok: true; readonly by: ProofVersion } | { readonly ok: false; readonly why: string };
/** The version that proves ownership: AWSPREVIOUS, AWSPENDING, or an abandoned rotation's (no label). */
export type ProofVersion = 'AWSPREVIOUS' | 'AWSPENDING' | 'ABANDONED';

/**
 * After a failed catalog read: throws the error that says the master is no superuser when its own row says so;
 * returns when it is one, or when its row could not be read either (the read's own error is then the one to report).
 */
async function checkMasterAlone(ctx: RotationContext, masterArn: string, masterUser: string): Promise<void> {
  let rows: Row[];
  try {
    rows = await ctx.data.query(ctx.target, masterArn, CATALOG_SQL.master);
  } catch {
    return;
  }
  checkMasterIsSuperuser(masterUser, rows);
}

/** The statements setSecret ran (for tests); the skipped privileges are in ctx.skipped. */
export async function setSecretAlternatingUsers(ctx: RotationContext): Promise<string[]> {
  const pendingValue = (await pendingString(ctx, false))!;
  const pending = parseRedshiftSecret(pendingValue, AWSPENDING);
  checkPendingFitsCurrent(ctx.current, pending, 'ALTERNATING_USERS');
  const createUsers = tagValue(ctx.description, CREATE_USER_TAG) === 'true';

  // the proof that the secret owns the pending user runs beside the reads (it is needed only when that user exists);
  // it never rejects, and it is awaited before the step ends so that its probe secret is gone
  const previousProof = proveByVersion(ctx, pending.username, AWSPREVIOUS);
  try {
    return await setSecretChecked(ctx, pendingValue, pending.username, pending.password, createUsers, previousProof);
  } finally {
    await previousProof;
  }
}

async function setSecretChecked(ctx: RotationContext, pendingValue: string, pendingUser: string, pendingPassword: string,
  createUsers: boolean, previousProof: Promise<OwnershipProof>): Promise<string[]> {
  // the guard against a secret edited to point at another user: AWSCURRENT must log in as itself (with the
  // create-user tag, a user that does not exist yet may be created instead, never one that exists)
  let currentLoginError: RotationError | undefined;
  try {
    await ctx.data.execute(ctx.target, ctx.arn, SELECT_ONE);
  } catch (err) {
    // with the tag, a FAILED statement counts too: what Redshift answers for a user that does not exist is not
    // documented (PostgreSQL says "password authentication failed"); the catalog decides whether it exists
    const failedLogin = err instanceof LoginFailedError || (createUsers && err instanceof StatementError && err.status === 'FAILED');
    if (!failedLogin) throw err;
    if (!createUsers) throw currentDoesNotLogIn(ctx, err as RotationError);
    currentLoginError = err as RotationError;
  }

  const masterArn = ctx.current.masterarn!;
  const masterValue = (await ctx.secrets.secretValue(masterArn, { stage: 'AWSCURRENT' }, `the master secret ${masterArn}`))!;
  const master = parseMasterSecret(masterValue.secretString, `the master secret ${masterArn}`);
  const original = originalUsername(pendingUser);
  const clone = original + CLONE_SUFFIX;
  if (master.username === original || master.username === clone) {
    throw new RotationError(`the master secret's user ${JSON.stringify(master.username)} is the rotated user itself; masterarn must name an admin user`);
  }
  // a master is used only against its own target (its JSON's, or the ones the deployer paired it with)
  checkMasterTarget({ masterArn: masterValue.arn, masterFields: master.fields, current: ctx.current, pairings: ctx.config.masterTargets });

  // every read in one BatchExecuteStatement (one round trip; each read's rows are fetched by its sub-statement Id)
  const queries = Object.keys(CATALOG_SQL) as CatalogQuery[];
  let results: Row[][];
  try {
    results = await ctx.data.queryBatch(ctx.target, masterArn, queries.map((q) => catalogStatement(q, original, clone)));
  } catch (err) {
    // a master that may not read other users' rows gets the error that says so: its own row, read alone
    if (err instanceof StatementError && err.status === 'FAILED') await checkMasterAlone(ctx, masterArn, master.username);
    throw err;
  }
  checkMasterIsSuperuser(master.username, results[queries.indexOf('master')]);
  const rows = Object.fromEntries(queries.map((q, i) => [q, results[i]])) as unknown as CatalogRows;
  const catalog = parseCatalog(original, clone, rows);

  const currentUser = ctx.current.username;
  const currentState = currentUser === original ? catalog.original : catalog.clone;
  const pendingState = pendingUser === original ? catalog.original : catalog.clone;
  if (currentLoginError && currentState) {
    // the tag creates users that do not exist; it never makes the function alter one that does
    throw currentDoesNotLogIn(ctx, currentLoginError, ` (the user exists, so the ${CREATE_USER_TAG} tag does not apply)`);
  }
  if (!currentState && !currentLoginError) {
    throw new RotationError(`the AWSCURRENT user ${JSON.stringify(currentUser)} is not in pg_user / svv_user_info as the master user reads them; `
      + `it is the source of truth for ${JSON.stringify(pendingUser)}, so nothing was changed`);
  }
  if (currentState?.attributes.superuser && !ctx.config.allowSuperuserClone) {
    throw new RotationError(`the AWSCURRENT user ${JSON.stringify(currentUser)} is a superuser (CREATEUSER), and the rotation function does not give superuser `
      + `to the alternate user ${JSON.stringify(pendingUser)} unless the deployer opted in (allowSuperuserClone on the rotation function, ALLOW_SUPERUSER_CLONE=true); `
      + 'rotate a superuser with SINGLE_USER, or opt in; nothing was changed');
  }
  if (pendingState) {
    // an existing alternate user is altered only when this secret has proven it owns it
    await checkOwnership(ctx, pendingUser, pendingValue, previousProof);
  }
  ctx.skipped.push(...catalog.skipped);

  const writes = alternatingWrites({
    pendingUser,
    pendingPassword,
    currentUser,
    current: currentState,
    pending: pendingState,
    currentPassword: currentLoginError ? ctx.current.password : undefined,
  });
  ctx.skipped.push(...writes.skipped);
  await ctx.data.batch(ctx.target, masterArn, writes.statements);
  return writes.statements;
}

function currentDoesNotLogIn(ctx: RotationContext, err: RotationError, why = ''): RotationError {
  return new RotationError(`AWSCURRENT does not log in as ${JSON.stringify(ctx.current.username)}; refusing to change users for it${why} (${err.message})`);
}

/**
 * The pending user exists: AWSPREVIOUS (the proof started beside the reads) or AWSPENDING (an earlier attempt of
 * this rotation created the user or set its password, then failed) must log in as it. Otherwise the user belongs to
 * someone else (a pre-existing `app_clone`, or a real user `etl` named through a secret for `etl_clone`).
 */
async function checkOwnership(ctx: RotationContext, pendingUser: string, pendingValue: string,
  previousProof: Promise<OwnershipProof>): Promise<void> {
  const previous = await previousProof;
  if (previous.ok) return;
  const pending = await proveByVersion(ctx, pendingUser, AWSPENDING, pendingValue);
  if (pending.ok) return;
  const abandoned = await proveByAbandonedVersion(ctx, pendingUser);
  if (abandoned.ok) return;
  throw new RotationError(`the alternate user ${JSON.stringify(pendingUser)} already exists, and this secret has not proven it owns it `
    + `(${previous.why}; ${pending.why}; ${abandoned.why}); the rotation function alters an existing alternate user only when a version of the secret `
    + '(AWSPREVIOUS, AWSPENDING after an interrupted attempt, or the pending version of an abandoned rotation) logs in as it. '
    + 'Drop or rename that user, or store its credentials as AWSPREVIOUS; nothing was changed');
}

/** How many unlabelled versions (newest first) are tried: an abandoned rotation leaves one each. */
export const ABANDONED_VERSIONS_TRIED = 3;

/**
 * An abandoned rotation (its AWSPENDING label removed, as the README's recovery says) may have created the alternate
 * user or set its password: its version, now without labels, logs in as it. Tried only when AWSPREVIOUS and
 * AWSPENDING did not prove ownership; versions of another user are skipped without a probe.
 */
async function proveByAbandonedVersion(ctx: RotationContext, username: string): Promise<OwnershipProof> {
  let ids: string[];
  try {
    ids = (await ctx.secrets.deprecatedVersionIds(ctx.arn)).filter((id) => id !== ctx.token);
  } catch (err) {
    return { ok: false, why: `the versions without labels could not be listed (${errorMessage(err)})` };
  }
  let tried = 0;
  for (const id of ids.slice(0, ABANDONED_VERSIONS_TRIED)) {
    let value: string;
    try {
      value = (await ctx.secrets.secretString(ctx.arn, { versionId: id }, 'a version without labels'))!;
      if (parseRedshiftSecret(value, 'a version without labels').username !== username) continue;
    } catch {
      continue;
    }
    tried++;
    const proof = await proveByVersion(ctx, username, 'ABANDONED', value, `abandoned${tried}`);
    if (proof.ok) return proof;
  }
  return {
    ok: false,
    why: tried === 0 ? `no version without labels holds user ${JSON.stringify(username)}` : `no version without labels logs in as ${JSON.stringify(username)}`,
  };
}

/**
 * Whether a version of the secret logs in as `username`, through a probe secret (the Data API takes only a secret's
 * AWSCURRENT). Never rejects: anything that prevents the proof is its `why`.
 */
export async function proveByVersion(ctx: RotationContext, username: string, stage: ProofVersion, value?: string,
  purpose = stage === AWSPREVIOUS ? 'previous' : stage === AWSPENDING ? 'pending' : 'abandoned'): Promise<OwnershipProof> {
  try {
    let secretString = value;
    if (secretString === undefined) {
      const version = versionWithStage(ctx.description, stage);
      if (version === undefined || version === ctx.token) return { ok: false, why: `the secret has no ${stage}` };
      secretString = (await ctx.secrets.secretString(ctx.arn, { versionId: version }, stage))!;
    }
    const secret = parseRedshiftSecret(secretString, stage);
    if (secret.username !== username) return { ok: false, why: `${stage} holds user ${JSON.stringify(secret.username)}` };
    const logsIn = await ctx.secrets.withProbe(probeFor(ctx, purpose), ctx.arn, ctx.description.KmsKeyId,
      secretString, async (probeArn) => {
        try {
          await ctx.data.execute(ctx.target, probeArn, SELECT_ONE);
          return true;
        } catch (err) {
          if (err instanceof LoginFailedError) return false;
          throw err;
        }
      });
    return logsIn ? { ok: true, by: stage } : { ok: false, why: `${stage} does not log in as ${JSON.stringify(username)}` };
  } catch (err) {
    return { ok: false, why: `${stage} could not be tried (${errorMessage(err)})` };
  }
}

/**
 * Refuses a master user that is not a superuser (docs/architecture.md, "The master user"), before anything is
 * written: it could not see the other users' rows, create and alter users, or grant on objects it does not own.
 */
export function checkMasterIsSuperuser(masterUser: string, rows: readonly Row[]): void {
  const row = rows[0];
  const superuser = row !== undefined && (row.usesuper === true || (typeof row.usesuper === 'string' && /^(t|true)$/i.test(row.usesuper)));
  if (!superuser) {
    throw new RotationError(`the master user ${JSON.stringify(masterUser)} is not a superuser; ALTERNATING_USERS needs a superuser master `
      + '(it reads the other users\' rows in svv_user_info and the privilege views, creates and alters users, and grants on objects it does not own); nothing was changed');
  }
}
