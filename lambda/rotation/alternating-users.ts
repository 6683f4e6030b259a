/**
 * setSecret for ALTERNATING_USERS: prove AWSCURRENT logs in, then as the master user read the catalog, refuse a
 * master that is not a superuser, and in as few transactions as possible (batches of 40) set the pending user's
 * password (CREATE USER when needed) and make the pending user equal to the AWSCURRENT user: attributes, settings,
 * groups, roles, explicit grants and owner-equivalent grants on what the AWSCURRENT user owns. Only the pending user
 * is written to; the AWSCURRENT user, which clients are using, is never altered.
 */
import { CATALOG_SQL, catalogParameters, CatalogQuery, CatalogRows, parseCatalog, Row } from './catalog';
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
  // all reads at once; the master's own row is looked at first, so that a master that may not read other users'
  // rows gets the error that says so, whatever the other reads did
  const settled = await Promise.allSettled(queries.map((q) =>
    ctx.data.query(ctx.target, masterArn, CATALOG_SQL[q], catalogParameters(CATALOG_SQL[q], original, clone))));
  const masterRead = settled[queries.indexOf('master')];
  if (masterRead.status === 'fulfilled') checkMasterIsSuperuser(master.username, masterRead.value);
  const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
  const rows = Object.fromEntries(queries.map((q, i) => [q, (settled[i] as PromiseFulfilledResult<Row[]>).value])) as unknown as CatalogRows;
  const catalog = parseCatalog(original, clone, rows);
  ctx.skipped.push(...catalog.skipped);

  const currentUser = ctx.current.username;
  const writes = alternatingWrites({
    pendingUser: pending.username,
    pendingPassword: pending.password,
    currentUser,
    current: currentUser === original ? catalog.original : catalog.clone,
    pending: pending.username === original ? catalog.original : catalog.clone,
  });
  ctx.skipped.push(...writes.skipped);
  await ctx.data.batch(ctx.target, masterArn, writes.statements);
  return writes.statements;
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
