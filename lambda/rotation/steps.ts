/**
 * The steps both strategies share: createSecret, testSecret and finishSecret.
 */
import { probeFor, RotationContext, pendingString } from './context';
import { errorMessage, RotationError } from './errors';
import { alternateUsername, checkPendingFitsCurrent, parseRedshiftSecret, pendingSecretString } from './secret';
import { AWSCURRENT, AWSPENDING, versionWithStage } from './secrets';
import { alterPasswordSql, SELECT_ONE } from './sql';

/** If AWSPENDING of the token exists, nothing to do; else a copy of AWSCURRENT with a new password (and username). */
export async function createSecret(ctx: RotationContext): Promise<void> {
  if (await pendingString(ctx, true) !== undefined) return;
  const username = ctx.strategy === 'ALTERNATING_USERS' ? alternateUsername(ctx.current.username) : ctx.current.username;
  const password = await ctx.secrets.randomPassword(ctx.config);
  await ctx.secrets.putPending(ctx.arn, ctx.token, pendingSecretString(ctx.current, password, username), ctx.rotationToken);
}

/**
 * `SELECT 1` and each configured test statement as the pending credentials, through the rotation's probe secret
 * (the one SINGLE_USER's setSecret made and kept, found by name and checked: no other call in the single-user
 * window; else a new one, after the probes of earlier attempts are removed); the probe is deleted at the end, also
 * when a test fails.
 *
 * RotateSecret with RotateImmediately=false "tests the rotation configuration by running the testSecret step": the
 * service stages an AWSPENDING version without a value and removes it afterwards. Then there are no new credentials
 * to test, and the configuration is tested instead: the statements run as AWSCURRENT (the secret itself).
 */
export async function testSecret(ctx: RotationContext): Promise<void> {
  const pending = await pendingString(ctx, true);
  if (pending === undefined) {
    for (const sql of [SELECT_ONE, ...ctx.config.testStatements]) await ctx.data.execute(ctx.target, ctx.arn, sql);
    return;
  }
  checkPendingFitsCurrent(ctx.current, parseRedshiftSecret(pending, AWSPENDING), ctx.strategy);
  const probe = { ...probeFor(ctx), kept: ctx.strategy === 'SINGLE_USER' };
  await ctx.secrets.withProbe(probe, ctx.arn, ctx.description.KmsKeyId, pending, async (probeArn) => {
    await ctx.data.execute(ctx.target, probeArn, SELECT_ONE);
    try {
      for (const sql of ctx.config.testStatements) await ctx.data.execute(ctx.target, probeArn, sql);
    } catch (err) {
      if (ctx.strategy === 'SINGLE_USER') await restoreCurrentPassword(ctx, probeArn, err);
      throw err;
    }
  });
}

/**
 * SINGLE_USER: setSecret already gave the user the pending password, and a test statement refused the new
 * credentials. The pending credentials log in (SELECT 1 passed), so they put AWSCURRENT's password back: clients
 * keep working with AWSCURRENT while the rotation waits for its retry (which sets the pending password again).
 */
async function restoreCurrentPassword(ctx: RotationContext, probeArn: string, cause: unknown): Promise<void> {
  try {
    await ctx.data.execute(ctx.target, probeArn, alterPasswordSql(ctx.current.username, ctx.current.password));
  } catch (restoreErr) {
    throw new RotationError(`${errorMessage(cause)}; putting AWSCURRENT's password back failed too (AWSPENDING holds the live password): ${errorMessage(restoreErr)}`);
  }
}

/** Moves AWSCURRENT to the token (AWSPREVIOUS follows). */
export async function finishSecret(ctx: RotationContext): Promise<void> {
  await ctx.secrets.moveCurrent(ctx.arn, ctx.token, versionWithStage(ctx.description, AWSCURRENT));
}
