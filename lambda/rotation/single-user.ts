/**
 * setSecret for SINGLE_USER: the user changes its own password through the Data API, authenticated by AWSCURRENT.
 *
 * ALTER USER cannot be undone without a working login, so the rotation's probe secret (the pending credentials) is
 * made first: if CreateSecret is denied or the KMS key is unusable, nothing is changed. The probe is kept for
 * testSecret (same name for the same token), so that the single-user window holds no probe preparation; it is
 * deleted when setSecret fails. When AWSCURRENT no longer logs in (a failed login, and only that), the pending or
 * the previous password may be the live one: each is tried through a probe, and the one that works is used.
 */
import { pendingString, probeFor, RotationContext } from './context';
import { LoginFailedError, RotationError } from './errors';
import { checkPendingFitsCurrent, parseRedshiftSecret } from './secret';
import { AWSPENDING, AWSPREVIOUS, versionWithStage } from './secrets';
import { alterPasswordSql, SELECT_ONE } from './sql';

/** How setSecret ended, for tests and logs. */
export type SingleUserOutcome = 'altered' | 'pending-already-live' | 'altered-with-previous';

/** True when `run` fails because the credentials did not log in; any other error is thrown as it is. */
async function loginFails<T>(run: () => Promise<T>): Promise<boolean> {
  try {
    await run();
    return false;
  } catch (err) {
    if (err instanceof LoginFailedError) return true;
    throw err;
  }
}

export async function setSecretSingleUser(ctx: RotationContext): Promise<SingleUserOutcome> {
  const pendingValue = (await pendingString(ctx, false))!;
  const pending = parseRedshiftSecret(pendingValue, AWSPENDING);
  checkPendingFitsCurrent(ctx.current, pending, 'SINGLE_USER');

  let probeArn: string;
  try {
    probeArn = await ctx.secrets.ensureProbe(probeFor(ctx), ctx.arn, ctx.description.KmsKeyId, pendingValue);
  } catch (err) {
    throw new RotationError(`the password was not changed: the new one could not be tested or recovered without a probe secret (${err instanceof Error ? err.message : String(err)})`);
  }
  let keep = false;
  try {
    const outcome = await alterOrRecover(ctx, probeArn, pendingValue, pending.username);
    keep = true;
    return outcome;
  } finally {
    if (!keep) await ctx.secrets.deleteProbeQuietly(probeArn);
  }
}

async function alterOrRecover(ctx: RotationContext, probeArn: string, pendingValue: string, username: string): Promise<SingleUserOutcome> {
  const pending = parseRedshiftSecret(pendingValue, AWSPENDING);
  const alter = alterPasswordSql(pending.username, pending.password);
  if (!await loginFails(() => ctx.data.execute(ctx.target, ctx.arn, alter))) return 'altered';

  // AWSCURRENT does not log in: maybe an earlier attempt already set the pending password (the probe holds it)
  if (!await loginFails(() => ctx.data.execute(ctx.target, probeArn, SELECT_ONE))) return 'pending-already-live';

  // or the previous password is still the live one
  const previousVersion = versionWithStage(ctx.description, AWSPREVIOUS);
  if (previousVersion !== undefined && previousVersion !== ctx.token) {
    const previousValue = (await ctx.secrets.secretString(ctx.arn, { versionId: previousVersion }, AWSPREVIOUS))!;
    checkPendingFitsCurrent(ctx.current, parseRedshiftSecret(previousValue, AWSPREVIOUS), 'SINGLE_USER', AWSPREVIOUS);
    const altered = !await ctx.secrets.withProbe(probeFor(ctx, 'previous'), ctx.arn, ctx.description.KmsKeyId, previousValue,
      (previousProbe) => loginFails(() => ctx.data.execute(ctx.target, previousProbe, alter)));
    if (altered) return 'altered-with-previous';
  }
  throw new RotationError(`none of AWSCURRENT, AWSPENDING${previousVersion ? ', AWSPREVIOUS' : ''} logs in as ${JSON.stringify(username)}; nothing was changed (set the password of the user and AWSCURRENT by hand)`);
}
