/**
 * Issue 7, point 5, end to end on a cluster and on a workgroup: ALTERNATING_USERS with a master user that is not a
 * superuser fails in setSecret with an error that says the master user is not a superuser (never "the user does not
 * exist"), before any write: the database is unchanged, no clone user appears, AWSCURRENT still logs in.
 */
import { E2e, newPassword } from './helpers';
import type { Target } from './helpers';

let e: E2e;

beforeAll(async () => {
  e = await E2e.start();
});

afterAll(async () => {
  await e?.stop();
});

describe.each(['cluster', 'workgroup'] as Target[])('a master user that is not a superuser, on a %s', (target) => {
  test('setSecret fails saying so, before any write; nothing changes and AWSCURRENT keeps working', async () => {
    const masterName = e.uniqueName('weak_master');
    const masterPassword = newPassword();
    e.passwords.add(masterPassword);
    await e.stack.createUser(masterName, masterPassword);
    // it may create databases, but it is not a superuser
    await e.redshift(`ALTER USER "${masterName}" CREATEDB`);
    const master = await e.stack.createSecret({ name: `master/${masterName}`, username: masterName, password: masterPassword, target });

    const username = e.uniqueName('weak');
    const password = newPassword();
    e.passwords.add(password);
    await e.stack.createUser(username, password);
    const secret = await e.stack.createSecret({ name: `app/${username}`, username, password, target, strategy: 'ALTERNATING_USERS', masterArn: master.arn });

    const before = await e.dbSnapshot();
    // the construct told of this master (its read is granted): the refusal below is the handler's
    await e.useConstruct({ also: [{ arn: secret.arn, target, strategy: 'ALTERNATING_USERS', masterArn: master.arn }] });
    const r = await e.rotate(secret.arn);
    expect(r.event.type).toBe('RotationFailed');
    expect(r.event.step).toBe('setSecret');
    expect(e.redact(r.event.error)).toMatch(new RegExp(`the master user "${masterName}" is not a superuser; ALTERNATING_USERS needs a superuser master`));
    expect(e.redact(r.event.error)).not.toMatch(/does not exist/);
    expect(await e.dbSnapshot()).toEqual(before);
    const clones = await e.stack.adminQuery('SELECT rolname FROM pg_catalog.pg_roles WHERE rolname = $1', [`${username}_clone`]);
    expect(clones).toEqual([]);
    expect(await e.versionLogsIn(secret.arn, 'AWSCURRENT')).toBe(true);
    // nothing of the rotation was written: no write batch in setSecret; the batches it sent (one per attempt of the
    // service) were the catalog reads
    expect(e.writeBatches(secret.arn)).toEqual([]);
    expect(e.lambdaCalls(secret.arn).filter((c) => c.operation === 'BatchExecuteStatement').length).toBeGreaterThan(0);
  });
});

test('nothing the handler logged, and no SQL, carries a password', async () => {
  // a superuser master's rotation first, so that the leak check also covers PASSWORD clauses
  const user = await e.newUser('ALTERNATING_USERS', 'cluster', 'ok');
  await e.rotateOk(user.arn);
  await e.expectNoPasswordLeaked();
});
