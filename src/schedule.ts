import { Duration, Token } from 'aws-cdk-lib';

/**
 * Fields of a cron expression for a rotation schedule, in UTC. Unset fields mean "every" (`*`), except that
 * `minute` and `hour` default to 0 and one of `day` and `weekDay` is `?`.
 */
export interface RotationCronOptions {
  /**
   * Minute of the hour. Secrets Manager takes only 0: its rotation windows open on the hour.
   *
   * @default '0'
   */
  readonly minute?: string;

  /**
   * Hour of the day (0-23), UTC, with `,` `-` `*` `/`. Secrets Manager rotates at most every 4 hours; on a
   * schedule of every day that includes the gap from the last hour of a day to the first of the next.
   *
   * @default '0'
   */
  readonly hour?: string;

  /**
   * Day of the month (1-31, L, W).
   *
   * @default - every day, or `?` when `weekDay` is set
   */
  readonly day?: string;

  /**
   * Month (1-12 or JAN-DEC).
   *
   * @default '*'
   */
  readonly month?: string;

  /**
   * Day of the week (1-7 or SUN-SAT, `#` for the nth weekday of the month).
   *
   * @default '?'
   */
  readonly weekDay?: string;

  /**
   * Year. Secrets Manager takes only `*` (no schedule more than a year apart).
   *
   * @default '*'
   */
  readonly year?: string;
}

const MIN_INTERVAL_HOURS = 4;
const MAX_INTERVAL_DAYS = 1000;

/**
 * When Secrets Manager starts a rotation: a rate (every N hours or days) or a cron expression (UTC).
 */
export class RotationSchedule {
  /**
   * Rotate at a fixed rate, from 4 hours to 1000 days. A whole number of days becomes `rate(N days)`,
   * anything else a whole number of hours, `rate(N hours)`.
   */
  public static rate(interval: Duration): RotationSchedule {
    return new RotationSchedule(rateExpression(interval, 'schedule'), true);
  }

  /**
   * Rotate on a cron schedule (UTC), e.g. `{ hour: '3', weekDay: 'SUN' }` for Sundays at 03:00.
   */
  public static cron(options: RotationCronOptions): RotationSchedule {
    if (options.day !== undefined && options.weekDay !== undefined) {
      throw new Error('schedule: a cron expression takes day or weekDay, not both');
    }
    const fields = [
      options.minute ?? '0',
      options.hour ?? '0',
      options.day ?? (options.weekDay !== undefined ? '?' : '*'),
      options.month ?? '*',
      options.weekDay ?? '?',
      options.year ?? '*',
    ];
    return RotationSchedule.expression(`cron(${fields.join(' ')})`);
  }

  /**
   * A schedule expression written out, `rate(...)` or `cron(...)` as Secrets Manager takes it.
   */
  public static expression(expression: string): RotationSchedule {
    if (!Token.isUnresolved(expression)) {
      validateExpression(expression);
    }
    return new RotationSchedule(expression, expression.startsWith('rate('));
  }

  /**
   * The expression given to Secrets Manager (`ScheduleExpression`).
   */
  public readonly expressionString: string;

  /**
   * Whether the schedule is a rate expression.
   */
  public readonly isRate: boolean;

  private constructor(expressionString: string, isRate: boolean) {
    this.expressionString = expressionString;
    this.isRate = isRate;
  }
}

/**
 * `rate(N days)` or `rate(N hours)` for a duration of 4 hours to 1000 days.
 *
 * @internal
 */
export function rateExpression(interval: Duration, prop: string): string {
  if (interval.isUnresolved()) {
    throw new Error(`${prop}: the interval must be a literal duration`);
  }
  const hours = interval.toHours({ integral: false });
  if (hours < MIN_INTERVAL_HOURS) {
    throw new Error(`${prop}: Secrets Manager rotates at most every 4 hours, got ${interval.toHumanString()}`);
  }
  if (hours > MAX_INTERVAL_DAYS * 24) {
    throw new Error(`${prop}: Secrets Manager rotates at least every 1000 days, got ${interval.toHumanString()}`);
  }
  if (!Number.isInteger(hours)) {
    throw new Error(`${prop}: the interval must be a whole number of hours, got ${interval.toHumanString()}`);
  }
  return hours % 24 === 0 ? `rate(${hours / 24} days)` : `rate(${hours} hours)`;
}

function validateExpression(expression: string): void {
  const rate = /^rate\((\d+) (hour|hours|day|days)\)$/.exec(expression);
  if (rate) {
    const value = Number(rate[1]);
    const hours = rate[2].startsWith('hour') ? value : value * 24;
    if (hours < MIN_INTERVAL_HOURS || hours > MAX_INTERVAL_DAYS * 24) {
      throw new Error(`schedule: '${expression}' is outside Secrets Manager's limits (every 4 hours to every 1000 days)`);
    }
    return;
  }
  const cron = /^cron\((.+)\)$/.exec(expression);
  if (!cron) {
    throw new Error(`schedule: '${expression}' is neither rate(N hours|days) nor cron(...)`);
  }
  const fields = cron[1].trim().split(/\s+/);
  if (fields.length !== 6) {
    throw new Error(`schedule: '${expression}' needs 6 fields (minutes hours day-of-month month day-of-week year)`);
  }
  const [minute, hour, day, , weekDay, year] = fields;
  if ((day === '?') === (weekDay === '?')) {
    throw new Error(`schedule: '${expression}' needs ? in exactly one of day-of-month and day-of-week: a schedule takes one of them, not both`);
  }
  if (!/^0+$/.test(minute)) {
    throw new Error(`schedule: '${expression}' must have 0 in the minutes field: Secrets Manager's rotation windows open on the hour`);
  }
  if (year !== '*') {
    throw new Error(`schedule: '${expression}' must have * in the year field: Secrets Manager takes no schedule more than a year apart`);
  }
  const hours = hoursOf(hour);
  if (!hours) {
    throw new Error(`schedule: '${expression}' has an hour field Secrets Manager does not take ('${hour}'): hours 0-23 with , - * /`);
  }
  // increments of hours restart each day: on a schedule of every day, the last hour is followed by the first
  const daily = (day === '*' && weekDay === '?') || (day === '?' && weekDay === '*');
  const gaps = hours.slice(1).map((h, i) => h - hours[i]);
  if (daily) {
    gaps.push(hours[0] + 24 - hours[hours.length - 1]);
  }
  if (Math.min(...gaps) < MIN_INTERVAL_HOURS) {
    throw new Error(`schedule: '${expression}' runs more often than every 4 hours, Secrets Manager's limit`);
  }
}

/**
 * The hours of the day a cron hour field names, in order (`*`, `N`, `N-M`, each with an optional `/STEP`, joined by
 * commas), or `undefined` when the field is not one Secrets Manager takes.
 */
function hoursOf(field: string): number[] | undefined {
  const hours = new Set<number>();
  for (const element of field.split(',')) {
    const match = /^(?:(\*)|(\d{1,2})(?:-(\d{1,2}))?)(?:\/(\d{1,2}))?$/.exec(element);
    if (!match) {
      return undefined;
    }
    const [, all, from, to, step] = match;
    const first = all ? 0 : Number(from);
    const last = all || (step && !to) ? 23 : Number(to ?? from);
    const increment = step ? Number(step) : 1;
    if (first > 23 || last > 23 || increment === 0) {
      return undefined;
    }
    // a range such as 22-2 runs past midnight
    const end = last < first ? last + 24 : last;
    for (let h = first; h <= end; h += increment) {
      hours.add(h % 24);
    }
  }
  return [...hours].sort((a, b) => a - b);
}
