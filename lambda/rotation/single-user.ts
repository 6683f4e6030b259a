/**
 * setSecret for SINGLE_USER: the user changes its own password through the Data API, authenticated by AWSCURRENT.
 * When AWSCURRENT no longer logs in, the pending or the previous password may be the live one: each is tried
 * through a probe secret, and the one that works is used.
 */
import { pendingString, RotationContext } from './context';
import { LoginFailedError, RotationError } from './errors';
import { checkPendingFitsCurrent, parseRedshiftSecret } from './secret';
import { AWSPENDING, AWSPREVIOUS, versionWithStage } from './secrets';
import { alterPasswordSql, SELECT_ONE } from './sql';

/** How setSecret ended, for tests and logs. */
export type SingleUserOutcome = 'altered' | 'pending-already-live' | 'altered-with-previous';

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
  const alter = alterPasswordSql(pending.username, pending.password);

  if (!await loginFails(() => ctx.data.execute(ctx.target, ctx.arn, alter))) return 'altered';

  // AWSCURRENT no longer logs in: maybe an earlier attempt already set the pending password
  const pendingLive = !await ctx.secrets.withProbe(ctx.config, ctx.arn, ctx.description.KmsKeyId, pendingValue,
    (probeArn) => loginFails(() => ctx.data.execute(ctx.target, probeArn, SELECT_ONE)));
  if (pendingLive) return 'pending-already-live';

  // or the previous password is still the live one
  const previousVersion = versionWithStage(ctx.description, AWSPREVIOUS);
  if (previousVersion !== undefined && previousVersion !== ctx.token) {
    const previousValue = (await ctx.secrets.secretString(ctx.arn, { versionId: previousVersion }, AWSPREVIOUS))!;
    checkPendingFitsCurrent(ctx.current, parseRedshiftSecret(previousValue, AWSPREVIOUS), 'SINGLE_USER', AWSPREVIOUS);
    const altered = !await ctx.secrets.withProbe(ctx.config, ctx.arn, ctx.description.KmsKeyId, previousValue,
      (probeArn) => loginFails(() => ctx.data.execute(ctx.target, probeArn, alter)));
    if (altered) return 'altered-with-previous';
  }
  throw new RotationError(`none of AWSCURRENT, AWSPENDING${previousVersion ? ', AWSPREVIOUS' : ''} logs in as ${JSON.stringify(pending.username)}; nothing was changed (set the password of the user and AWSCURRENT by hand)`);
}
