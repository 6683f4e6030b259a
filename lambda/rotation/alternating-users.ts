/**
 * setSecret for ALTERNATING_USERS: prove AWSCURRENT logs in, then as the master user read the catalog and, in one
 * transaction (batches of 40), set the pending user's password (CREATE USER when needed) and bring the clone's
 * attributes, groups, roles and direct grants exactly in line with the original (un-suffixed) user.
 */
import { CATALOG_SQL, catalogParameters, CatalogQuery, CatalogRows, parseCatalog } from './catalog';
import { pendingString, RotationContext } from './context';
import { LoginFailedError, RotationError } from './errors';
import { checkPendingFitsCurrent, CLONE_SUFFIX, originalUsername, parseMasterSecret, parseRedshiftSecret } from './secret';
import { AWSPENDING } from './secrets';
import { alternatingWrites, SELECT_ONE } from './sql';

/** The statements setSecret ran (for tests); the skipped privileges are in ctx.skipped. */
export async function setSecretAlternatingUsers(ctx: RotationContext): Promise<string[]> {
  const pendingValue = (await pendingString(ctx, false))!;
  const pending = parseRedshiftSecret(pendingValue, AWSPENDING);
  checkPendingFitsCurrent(ctx.current, pending, 'ALTERNATING_USERS');

  // the guard against a secret edited to point at another user: AWSCURRENT must log in as itself
  try {
    await ctx.data.execute(ctx.target, ctx.arn, SELECT_ONE);
  } catch (err) {
    if (err instanceof LoginFailedError) {
      throw new RotationError(`AWSCURRENT does not log in as ${JSON.stringify(ctx.current.username)}; refusing to change users for it (${err.message})`);
    }
    throw err;
  }

  const masterArn = ctx.current.masterarn!;
  const master = parseMasterSecret(await ctx.secrets.secretString(masterArn, { stage: 'AWSCURRENT' }, `the master secret ${masterArn}`), `the master secret ${masterArn}`);
  const original = originalUsername(pending.username);
  const clone = original + CLONE_SUFFIX;
  if (master.username === original || master.username === clone) {
    throw new RotationError(`the master secret's user ${JSON.stringify(master.username)} is the rotated user itself; masterarn must name an admin user`);
  }
  for (const [key, expected] of [['dbClusterIdentifier', ctx.current.dbClusterIdentifier], ['workgroupName', ctx.current.workgroupName]] as const) {
    const value = master.fields[key];
    if (value !== undefined && value !== null && value !== '' && value !== expected) {
      throw new RotationError(`the master secret's ${key} is not the one of the rotated secret`);
    }
  }

  const queries = Object.keys(CATALOG_SQL) as CatalogQuery[];
  const results = await Promise.all(queries.map((q) => ctx.data.query(ctx.target, masterArn, CATALOG_SQL[q], catalogParameters(original, clone))));
  const rows = Object.fromEntries(queries.map((q, i) => [q, results[i]])) as unknown as CatalogRows;
  const state = parseCatalog(original, clone, rows);
  ctx.skipped.push(...state.skipped);

  const statements = alternatingWrites({
    pendingUser: pending.username,
    pendingPassword: pending.password,
    originalUser: original,
    cloneUser: clone,
    original: state.original,
    clone: state.clone,
  });
  await ctx.data.batch(ctx.target, masterArn, statements);
  return statements;
}
