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
    [{ minute: '0', hour: '2', day: 'L', month: 'JAN', year: '*' }, 'cron(0 2 L JAN ? *)'],
  ])('%p is written %s', (options, expression) => {
    const schedule = RotationSchedule.cron(options);
    expect([schedule.expressionString, schedule.isRate]).toEqual([expression, false]);
  });

  test('day and weekDay together are refused', () => {
    expect(() => RotationSchedule.cron({ day: '1', weekDay: 'MON' })).toThrow(new Error('schedule: a cron expression takes day or weekDay, not both'));
  });

  test.each([
    [{ minute: '15', hour: '2' }, "schedule: 'cron(15 2 * * ? *)' must have 0 in the minutes field: Secrets Manager's rotation windows open on the hour"],
    [{ hour: '2', year: '2027' }, "schedule: 'cron(0 2 * * ? 2027)' must have * in the year field: Secrets Manager takes no schedule more than a year apart"],
    [{ hour: '2/3' }, "schedule: 'cron(0 2/3 * * ? *)' runs more often than every 4 hours, Secrets Manager's limit"],
  ])('%p is refused: the expression it writes is checked', (options, message) => {
    expect(() => RotationSchedule.cron(options)).toThrow(new Error(message));
  });
});

describe('expression', () => {
  test.each([
    'rate(4 hours)', 'rate(1 day)', 'rate(24000 hours)', 'rate(1000 days)',
    'cron(0 */4 * * ? *)', 'cron(0 0/4 * * ? *)', 'cron(0 0,4,8,12,16,20 * * ? *)', 'cron(0 4,10,20 * * ? *)', 'cron(0 20,4,10 * * ? *)', 'cron(0 2,20 * * ? *)',
    'cron( 0 3 * * ? * )', 'cron(0  3 * * ? *)', 'cron(0 3 ? * MON#1 *)', 'cron(00 3 * * ? *)',
    // every 10 hours from 0: 20:00 to the next day's 00:00 is 4 hours
    'cron(0 */10 * * ? *)', 'cron(0 2/10 * * ? *)', 'cron(0 0-12/6 * * ? *)', 'cron(0 4-20/8 ? * * *)',
    // not every day: only the gaps within a day count
    'cron(0 */7 ? * MON *)', 'cron(0 1,20 ? * MON,WED *)', 'cron(0 1,23 1 * ? *)',
    // a range past midnight: 22:00 and 02:00
    'cron(0 22-2/4 * * ? *)', 'cron(0 23-1/2,12 1 * ? *)',
    // a range with a step ends at its own end: 02:00, 06:00 and 16:00
    'cron(0 2-6/4,16 * * ? *)',
  ])('%s is taken as it is', (expression) => {
    const schedule = RotationSchedule.expression(expression);
    expect([schedule.expressionString, schedule.isRate]).toEqual([expression, expression.startsWith('rate(')]);
  });

  const outside = (e: string) => `schedule: '${e}' is outside Secrets Manager's limits (every 4 hours to every 1000 days)`;
  const neither = (e: string) => `schedule: '${e}' is neither rate(N hours|days) nor cron(...)`;
  const tooOften = (e: string) => `schedule: '${e}' runs more often than every 4 hours, Secrets Manager's limit`;
  const minutes = (e: string) => `schedule: '${e}' must have 0 in the minutes field: Secrets Manager's rotation windows open on the hour`;
  const year = (e: string) => `schedule: '${e}' must have * in the year field: Secrets Manager takes no schedule more than a year apart`;
  const days = (e: string) => `schedule: '${e}' needs ? in exactly one of day-of-month and day-of-week: a schedule takes one of them, not both`;
  const hourField = (h: string) => (e: string) => `schedule: '${e}' has an hour field Secrets Manager does not take ('${h}'): hours 0-23 with , - * /`;
  test.each<readonly [string, (e: string) => string]>([
    ['rate(3 hours)', outside], ['rate(1 hour)', outside], ['rate(24001 hours)', outside], ['rate(1001 days)', outside],
    ['rate(5 minutes)', neither], ['xrate(4 hours)', neither], ['rate(4 hours)x', neither], ['every day', neither],
    ['xcron(0 3 * * ? *)', neither], ['cron(0 3 * * ? *)x', neither], ['cron()', neither],
    ['cron(0 3 * * ?)', (e: string) => `schedule: '${e}' needs 6 fields (minutes hours day-of-month month day-of-week year)`],
    ['cron(0 3 * * ? * *)', (e: string) => `schedule: '${e}' needs 6 fields (minutes hours day-of-month month day-of-week year)`],
    ['cron(0 * * * ? *)', tooOften], ['cron(0 */3 * * ? *)', tooOften], ['cron(0 1/3 * * ? *)', tooOften], ['cron(0 10/3 * * ? *)', tooOften], ['cron(0 */03 * * ? *)', tooOften],
    ['cron(0 1,22 * * ? *)', tooOften], ['cron(0 22,1 * * ? *)', tooOften], ['cron(0 0,12,15 * * ? *)', tooOften],
    // a step inside a list, a range, a range past midnight, a step whose last hour is 3 hours before midnight
    ['cron(0 0/3,12 * * ? *)', tooOften], ['cron(0 12,1/3 * * ? *)', tooOften], ['cron(0 1-5 * * ? *)', tooOften], ['cron(0 22-1 * * ? *)', tooOften],
    ['cron(0 */7 * * ? *)', tooOften], ['cron(0 */7 ? * * *)', tooOften], ['cron(0 1,23 * * ? *)', tooOften],
    // not every day, but too close within the day
    ['cron(0 1,3 ? * MON *)', tooOften], ['cron(0 */3 1 * ? *)', tooOften],
    ...['15', '10', '05', 'x0', '*', '0/15'].map((m) => [`cron(${m} 3 * * ? *)`, minutes] as const),
    // Secrets Manager takes the day of the month or the day of the week, the other one ?
    ...['* *', '1 MON', '* MON', '1 *', '? ?', 'L 2'].map((d) => [`cron(0 3 ${d.replace(' ', ' * ')} *)`, days] as const),
    ['cron(0 3 * * ? 2027)', year], ['cron(0 3 * * ? x*)', year], ['cron(0 3 * * ? *x)', year],
    ...['x*/4', '*/4x', '24', '0-24', '24-1', '*/0', 'L', '3,', ',3', '*-3', '3-', '-3', '123', '1/123', 'a'].map((h) => [`cron(0 ${h} * * ? *)`, hourField(h)] as const),
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
