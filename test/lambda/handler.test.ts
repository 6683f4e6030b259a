/**
 * The handler's own duties around the steps: the error it throws (name, message, redaction), the log line it writes
 * (fields, duration), and the Lambda deadline it reads from the context.
 */
import { ExecuteStatementCommand } from '@aws-sdk/client-redshift-data';
import { addSingleUserApp, ARN, CURRENT_PASSWORD, md5, secretJson, TOKEN, World } from './world';
import { createHandler } from '../../lambda/rotation/index';

let world: World;
const event = (Step: string) => ({ SecretId: ARN, ClientRequestToken: TOKEN, Step });

const singleUser = (): void => addSingleUserApp(world);

/**
 * A handler on the world whose clock advances 7 ms per reading and whose sleep throws `thrown` (when given; every
 * statement then stays STARTED, so that waiting for the first one sleeps).
 */
function handlerWith(thrown?: unknown, context?: { getRemainingTimeInMillis(): number }) {
  if (thrown !== undefined) world.faults.push({ match: () => true, fault: { kind: 'HANG' } });
  const lines: string[] = [];
  let clock = 1000;
  const handler = createHandler({
    env: { STATEMENT_POLL_MS: '10', AWS_LAMBDA_FUNCTION_NAME: 'redshift-rotation' },
    timing: {
      sleep: async (ms) => {
        if (thrown !== undefined) throw thrown;
        clock += ms;
      },
      now: () => (clock += 7),
      random: () => 0.5,
    },
    write: (line) => { lines.push(line); },
  });
  return { lines, run: (e: Record<string, unknown>) => handler(e as never, context) };
}

beforeEach(() => {
  world = new World();
});

describe('the error the handler throws', () => {
  test.each([
    ['TypeError', 'TypeError'],
    ['RangeError', 'RangeError'],
    ['ResourceNotFoundException', 'RotationError'],
    ['1TypeError', 'RotationError'],
    ['TypeErrorX', 'RotationError'],
    ['Error', 'RotationError'],
  ])('a %s from below is thrown as %s', async (name, expected) => {
    singleUser();
    world.startRotation();
    await world.handler()(event('createSecret'));
    const { run } = handlerWith(Object.assign(new Error('broken'), { name }));
    const err = await run(event('setSecret')).catch((e) => e);
    expect(err instanceof Error).toBe(true);
    expect(err.name).toBe(expected);
    expect(err.message).toBe(`setSecret failed for ${ARN}: broken`);
  });

  test('a thrown value without a message: "unknown error"', async () => {
    singleUser();
    world.startRotation();
    await world.handler()(event('createSecret'));
    const { run, lines } = handlerWith({ nothing: 1 });
    const err = await run(event('setSecret')).catch((e) => e);
    expect(err.name).toBe('RotationError');
    expect(err.message).toBe(`setSecret failed for ${ARN}: unknown error`);
    const line = JSON.parse(lines[0]);
    expect(line.error).toBe(err.message);
    // the duration of a failed step too: a positive multiple of the clock's 7 ms, well below the clock itself
    expect(line.durationMs > 0 && line.durationMs % 7 === 0 && line.durationMs < 1000).toBe(true);
  });

  test('an invalid event: "rotation failed", no ARN, a log line with nulls', async () => {
    const { run, lines } = handlerWith();
    const err = await run({ ClientRequestToken: 't', Step: 'createSecret' }).catch((e) => e);
    expect(err.message).toBe('rotation failed: Invalid rotation event: SecretId must be a non-empty string');
    expect(lines).toHaveLength(1);
    const line = JSON.parse(lines[0]);
    expect([line.secretArn, line.step, line.strategy, line.outcome]).toEqual([null, null, null, 'error']);
  });

  test('an invalid RotationToken: refused before the step or the secret is known', async () => {
    const { run } = handlerWith();
    const err = await run({ SecretId: ARN, ClientRequestToken: 't', Step: 'createSecret', RotationToken: '' }).catch((e) => e);
    expect(err.message).toBe('rotation failed: Invalid rotation event: RotationToken must be a non-empty string when given');
  });
});

describe('the log line', () => {
  test('durationMs is the time from the start of the invocation to its end on the handler\'s clock', async () => {
    singleUser();
    world.startRotation();
    const { run, lines } = handlerWith();
    await run(event('createSecret'));
    const line = JSON.parse(lines[0]);
    expect([line.secretArn, line.step, line.strategy, line.outcome]).toEqual([ARN, 'createSecret', 'SINGLE_USER', 'ok']);
    // each clock reading adds 7 ms: a positive multiple of 7, well below the clock itself
    expect(line.durationMs > 0 && line.durationMs % 7 === 0 && line.durationMs < 1000).toBe(true);
  });

  test('a step for a token already AWSCURRENT logs ok with the strategy of the tag (none without one)', async () => {
    singleUser();
    world.secret(ARN).tags.push({ Key: 'redshift-rotation:strategy', Value: 'ALTERNATING_USERS' });
    const { run, lines } = handlerWith();
    await run({ SecretId: ARN, ClientRequestToken: 'v-current-0000', Step: 'setSecret' });
    world.secret(ARN).tags.length = 0;
    await run({ SecretId: ARN, ClientRequestToken: 'v-current-0000', Step: 'testSecret' });
    expect(lines.map((l) => JSON.parse(l)).map((l) => [l.secretArn, l.step, l.strategy, l.outcome])).toEqual([
      [ARN, 'setSecret', 'ALTERNATING_USERS', 'ok'], [ARN, 'testSecret', null, 'ok'],
    ]);
  });

  test('a step for a token already AWSCURRENT logs the SINGLE_USER tag as well; another tag value is not logged', async () => {
    singleUser();
    const tags = world.secret(ARN).tags;
    tags.push({ Key: 'redshift-rotation:strategy', Value: 'SINGLE_USER' });
    const { run, lines } = handlerWith();
    await run({ SecretId: ARN, ClientRequestToken: 'v-current-0000', Step: 'setSecret' });
    tags[0] = { Key: 'redshift-rotation:strategy', Value: 'BOTH' };
    await run({ SecretId: ARN, ClientRequestToken: 'v-current-0000', Step: 'testSecret' });
    expect(lines.map((l) => JSON.parse(l).strategy)).toEqual(['SINGLE_USER', null]);
  });

  test('a SINGLE_USER secret whose masterarn names itself rotates: only ALTERNATING_USERS uses (and checks) masterarn', async () => {
    world.addSecret({ arn: ARN, current: secretJson({ username: 'app', password: CURRENT_PASSWORD, masterarn: ARN }), tags: { 'redshift-rotation:strategy': 'SINGLE_USER' } });
    world.users.set('app', md5(CURRENT_PASSWORD, 'app'));
    expect(await world.rotate(world.handler())).toBeUndefined();
    expect(world.logsIn(world.stageValue(ARN, 'AWSCURRENT'))).toBe(true);
  });
});

describe('the Lambda deadline', () => {
  test('with little time left, no statement is started', async () => {
    singleUser();
    world.startRotation();
    await world.handler()(event('createSecret'));
    const { run } = handlerWith(undefined, { getRemainingTimeInMillis: () => 50 });
    const err = await run(event('setSecret')).catch((e) => e);
    expect(err.name).toBe('OutOfTimeError');
    expect(err.message).toMatch(/ran out of time: not starting ExecuteStatement/);
    expect(world.rsd).toHaveReceivedCommandTimes(ExecuteStatementCommand, 0);
  });

  test('with plenty of time left, the step runs', async () => {
    singleUser();
    world.startRotation();
    await world.handler()(event('createSecret'));
    const { run } = handlerWith(undefined, { getRemainingTimeInMillis: () => 600_000 });
    await run(event('setSecret'));
    expect(world.logsIn(world.stageValue(ARN, 'AWSPENDING'))).toBe(true);
  });
});
