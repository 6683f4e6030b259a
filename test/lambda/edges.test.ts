/**
 * Edges the mutation run (docs/mutation-testing.md) found untested: each test kills a mutant that survived.
 */
import { ExecuteStatementCommand } from '@aws-sdk/client-redshift-data';
import { addSingleUserApp, ARN, CURRENT_PASSWORD, MASTER_ARN, MASTER_PASSWORD, md5, secretJson, TOKEN, World } from './world';
import { validateEvent } from '../../lambda/rotation/event';
import { checkExcludeCharacters } from '../../lambda/rotation/password';
import { tagValue } from '../../lambda/rotation/secrets';

const event = (Step: string, SecretId = ARN, token = TOKEN) => ({ SecretId, ClientRequestToken: token, Step });
const UPPER = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
const LOWER = 'abcdefghijklmnopqrstuvwxyz';
const DIGITS = '0123456789';

describe('the event', () => {
  test('an unknown step is refused naming the four steps', () => {
    expect(() => validateEvent({ SecretId: 's', ClientRequestToken: 't', Step: 'x' }))
      .toThrow(/^Invalid rotation event: Step must be one of createSecret, setSecret, testSecret, finishSecret$/);
  });

  test('an empty RotationToken is refused', () => {
    expect(() => validateEvent({ SecretId: 's', ClientRequestToken: 't', Step: 'setSecret', RotationToken: '' })).toThrow(/RotationToken must be a non-empty string/);
  });
});

describe('EXCLUDE_CHARACTERS at the ends of each range', () => {
  test.each([
    ['A', UPPER], ['Z', UPPER], ['a', LOWER], ['z', LOWER], ['0', DIGITS], ['9', DIGITS],
  ])('leaving only %s of its kind is still a valid password alphabet', (kept, range) => {
    expect(() => checkExcludeCharacters(range.replace(kept, ''))).not.toThrow();
  });

  test('the message names each kind that is gone', () => {
    expect(() => checkExcludeCharacters(UPPER)).toThrow(/^EXCLUDE_CHARACTERS leaves no valid Redshift password: no upper-case letter remains$/);
    expect(() => checkExcludeCharacters(UPPER + LOWER + DIGITS, 'X')).toThrow(/^X leaves no valid Redshift password: no upper-case letter, no lower-case letter, no digit remains$/);
  });
});

describe('secrets', () => {
  test('tagValue finds the tag by its key, not the first tag', () => {
    expect(tagValue({ Tags: [{ Key: 'team', Value: 'data' }, { Key: 'k', Value: 'v' }] }, 'k')).toBe('v');
    expect(tagValue({ Tags: [{ Key: 'team', Value: 'data' }] }, 'k')).toBeUndefined();
  });
});

describe('the handler with the world', () => {
  let world: World;
  beforeEach(() => {
    world = new World();
  });

  const singleUser = (): void => addSingleUserApp(world);

  test('a secret given by name: the log line names its ARN', async () => {
    singleUser();
    await world.handler()(event('setSecret', 'app/redshift-AbCdEf', 'v-current-0000'));
    expect(JSON.parse(world.logLines[0]).secretArn).toBe(ARN);
  });

  test('SINGLE_USER: when putting AWSCURRENT\'s password back fails too, the error says both', async () => {
    singleUser();
    world.startRotation();
    await world.handler()(event('createSecret'));
    await world.handler()(event('setSecret'));
    world.faults.push({ match: (sql) => sql === 'SELECT 2', fault: { kind: 'FAILED', error: 'ERROR: no (injected)' } });
    world.faults.push({ match: (sql) => sql.startsWith('ALTER USER'), fault: { kind: 'FAILED', error: 'ERROR: also no (injected)' } });
    const err = await world.handler({ TEST_STATEMENTS: '["SELECT 2"]' })(event('testSecret')).catch((e) => e);
    expect(String(err?.message)).toMatch(/FAILED: ERROR: no \(injected\); putting AWSCURRENT's password back failed too \(AWSPENDING holds the live password\): .*FAILED: ERROR: also no \(injected\)/);
  });

  test('ALTERNATING_USERS: a failing test statement changes no password (AWSCURRENT\'s user was never touched)', async () => {
    world.addSecret({ arn: ARN, current: secretJson({ username: 'app', password: CURRENT_PASSWORD, masterarn: MASTER_ARN }), tags: { 'redshift-rotation:strategy': 'ALTERNATING_USERS' } });
    world.addSecret({ arn: MASTER_ARN, current: JSON.stringify({ username: 'admin', password: MASTER_PASSWORD, dbClusterIdentifier: 'my-cluster' }) });
    world.users.set('app', md5(CURRENT_PASSWORD, 'app'));
    world.users.set('admin', md5(MASTER_PASSWORD, 'admin'));
    world.startRotation();
    await world.handler()(event('createSecret'));
    await world.handler()(event('setSecret'));
    const before = world.rsd.commandCalls(ExecuteStatementCommand).length;
    world.faults.push({ match: (sql) => sql === 'SELECT 2', fault: { kind: 'FAILED', error: 'ERROR: no (injected)' } });
    const err = await world.handler({ TEST_STATEMENTS: '["SELECT 2"]' })(event('testSecret')).catch((e) => e);
    expect(String(err?.message)).toMatch(/FAILED: ERROR: no \(injected\)/);
    const sqls = world.rsd.commandCalls(ExecuteStatementCommand).slice(before).map((c) => String(c.args[0].input.Sql));
    expect(sqls).toEqual(['SELECT 1', 'SELECT 2']);
  });
});
