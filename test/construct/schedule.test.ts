/**
 * RotationSchedule on its own (src/schedule.ts): the expressions it writes, Secrets Manager's limits at their exact
 * bounds (every 4 hours to every 1000 days), and each refusal's message. No stack is synthesized.
 */
import * as cdk from 'aws-cdk-lib';
import { RotationSchedule } from '../../src';

describe('rate', () => {
  test.each([
    [cdk.Duration.hours(4), 'rate(4 hours)'],
    [cdk.Duration.minutes(300), 'rate(5 hours)'],
    [cdk.Duration.hours(24), 'rate(1 days)'],
    [cdk.Duration.hours(36), 'rate(36 hours)'],
    [cdk.Duration.hours(48), 'rate(2 days)'],
    [cdk.Duration.days(1000), 'rate(1000 days)'],
  ])('%s is written %s', (interval, expression) => {
    const schedule = RotationSchedule.rate(interval);
    expect([schedule.expressionString, schedule.isRate]).toEqual([expression, true]);
  });

  test.each([
    [cdk.Duration.minutes(239), 'schedule: Secrets Manager rotates at most every 4 hours, got 3 hours 59 minutes'],
    [cdk.Duration.hours(24001), 'schedule: Secrets Manager rotates at least every 1000 days, got 1000 days 1 hour'],
    [cdk.Duration.minutes(270), 'schedule: the interval must be a whole number of hours, got 4 hours 30 minutes'],
  ])('%s is refused', (interval, message) => {
    expect(() => RotationSchedule.rate(interval)).toThrow(new Error(message));
  });

  test('an interval that is a token is refused: the limits could not be checked', () => {
    const stack = new cdk.Stack();
    const days = new cdk.CfnParameter(stack, 'Days', { type: 'Number' }).valueAsNumber;
    expect(() => RotationSchedule.rate(cdk.Duration.days(days))).toThrow(new Error('schedule: the interval must be a literal duration'));
  });
});

describe('cron', () => {
  test.each([
    [{}, 'cron(0 0 * * ? *)'],
    [{ hour: '3', weekDay: 'SUN' }, 'cron(0 3 ? * SUN *)'],
    [{ day: '1' }, 'cron(0 0 1 * ? *)'],
    [{ minute: '15', hour: '2', day: 'L', month: 'JAN', year: '2027' }, 'cron(15 2 L JAN ? 2027)'],
  ])('%p is written %s', (options, expression) => {
    const schedule = RotationSchedule.cron(options);
    expect([schedule.expressionString, schedule.isRate]).toEqual([expression, false]);
  });

  test('day and weekDay together are refused', () => {
    expect(() => RotationSchedule.cron({ day: '1', weekDay: 'MON' })).toThrow(new Error('schedule: a cron expression takes day or weekDay, not both'));
  });
});

describe('expression', () => {
  test.each([
    'rate(4 hours)', 'rate(1 day)', 'rate(24000 hours)', 'rate(1000 days)',
    'cron(0 */4 * * ? *)', 'cron(0 0/4 * * ? *)', 'cron(0 0,4,8,12,16,20 * * ? *)', 'cron(0 4,10,20 * * ? *)', 'cron(0 20,4,10 * * ? *)', 'cron(0 2,20 * * ? *)',
    'cron( 0 3 * * ? * )', 'cron(0  3 * * ? *)', 'cron(0 3 ? * MON#1 *)',
  ])('%s is taken as it is', (expression) => {
    const schedule = RotationSchedule.expression(expression);
    expect([schedule.expressionString, schedule.isRate]).toEqual([expression, expression.startsWith('rate(')]);
  });

  const outside = (e: string) => `schedule: '${e}' is outside Secrets Manager's limits (every 4 hours to every 1000 days)`;
  const neither = (e: string) => `schedule: '${e}' is neither rate(N hours|days) nor cron(...)`;
  const tooOften = (e: string) => `schedule: '${e}' runs more often than every 4 hours, Secrets Manager's limit`;
  test.each([
    ['rate(3 hours)', outside], ['rate(1 hour)', outside], ['rate(24001 hours)', outside], ['rate(1001 days)', outside],
    ['rate(5 minutes)', neither], ['xrate(4 hours)', neither], ['rate(4 hours)x', neither], ['every day', neither],
    ['xcron(0 3 * * ? *)', neither], ['cron(0 3 * * ? *)x', neither], ['cron()', neither],
    ['cron(0 3 * * ?)', (e: string) => `schedule: '${e}' needs 6 fields (minutes hours day-of-month month day-of-week year)`],
    ['cron(0 3 * * ? * *)', (e: string) => `schedule: '${e}' needs 6 fields (minutes hours day-of-month month day-of-week year)`],
    ['cron(0 * * * ? *)', tooOften], ['cron(0 */3 * * ? *)', tooOften], ['cron(0 1/3 * * ? *)', tooOften], ['cron(0 10/3 * * ? *)', tooOften], ['cron(0 */03 * * ? *)', tooOften],
    ['cron(0 1,22 * * ? *)', tooOften], ['cron(0 22,1 * * ? *)', tooOften], ['cron(0 0,12,15 * * ? *)', tooOften],
    ['cron(0 1-5 * * ? *)', (e: string) => `schedule: '${e}' uses an hour range, which runs more often than every 4 hours`],
  ])('%s is refused', (expression, message) => {
    expect(() => RotationSchedule.expression(expression)).toThrow(new Error(message(expression)));
  });

  test('an expression that is a token is not checked (it is resolved at deploy time)', () => {
    const stack = new cdk.Stack();
    const token = new cdk.CfnParameter(stack, 'Schedule').valueAsString;
    const schedule = RotationSchedule.expression(token);
    expect([schedule.expressionString, schedule.isRate]).toEqual([token, false]);
  });
});
