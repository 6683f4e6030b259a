/**
 * Redshift Data API calls: submit, wait until the statement ends (DescribeStatement with WaitTimeSeconds), map
 * FAILED / ABORTED / timeout to errors that quote Redshift's message (never the SQL), retry throttling and transient
 * errors, batch in transactions of at most 40 statements, read the rows of a batch of reads.
 */
import { randomUUID } from 'crypto';
// the SDK is bundled into the handler at build time (esbuild), so it is a devDependency
// eslint-disable-next-line import/no-extraneous-dependencies
import {
  BatchExecuteStatementCommand,
  CancelStatementCommand,
  DescribeStatementCommand,
  DescribeStatementCommandOutput,
  ExecuteStatementCommand,
  Field,
  GetStatementResultCommand,
  GetStatementResultCommandOutput,
  RedshiftDataClient,
} from '@aws-sdk/client-redshift-data';
import { Row } from './catalog';
import { describeSdkError, errorMessage, LoginFailedError, OutOfTimeError, Redactor, RotationError, StatementError } from './errors';
import { Deadline, Timing, withRetry } from './retry';
import { DataApiTarget } from './secret';

/** Most statements in one BatchExecuteStatement call. */
export const MAX_BATCH_STATEMENTS = 40;
/** Longest delay between two DescribeStatement calls. */
export const MAX_POLL_MS = 2000;

/** Least time left before the deadline to start a statement. */
export const MIN_STATEMENT_MS = 1000;
/** Longest DescribeStatement WaitTimeSeconds the service allows. */
export const MAX_WAIT_SECONDS = 30;

/** Redshift's message for a failed login (PostgreSQL's `auth_failed`): `password authentication failed for user "u"`. */
const LOGIN_FAILURE = /password authentication failed for user/i;

export interface DataApiOptions {
  /** first delay between DescribeStatement calls (doubles, capped at 2 s) */
  readonly pollMs: number;
  /** how long one statement may run before it is cancelled */
  readonly timeoutMs: number;
  readonly timing: Timing;
  readonly redactor: Redactor;
  /** the invocation's time budget; none when not given */
  readonly deadline?: Deadline;
}

/** Splits `items` into arrays of at most `size`. */
export function chunk<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/**
 * True when a Data API message says the credentials did not log in: Redshift's `password authentication failed for
 * user` in a FAILED statement's Error or in the message of an ExecuteStatement/BatchExecuteStatement exception.
 * Nothing else is a failed login (a DatabaseConnectionException, a paused or unreachable cluster, throttling, a
 * network error): those are reported as what they are.
 */
export function isLoginFailure(message: string): boolean {
  return LOGIN_FAILURE.test(message);
}

function fieldValue(field: Field): string | number | boolean | null {
  const f = field as unknown as Record<string, unknown>;
  if (f.isNull === true) return null;
  if (typeof f.booleanValue === 'boolean') return f.booleanValue;
  if (typeof f.longValue === 'number') return f.longValue;
  if (typeof f.doubleValue === 'number') return f.doubleValue;
  if (typeof f.stringValue === 'string') return f.stringValue;
  return null;
}

/** GetStatementResult pages as rows keyed by lower-case column name. */
export function rowsFromResults(pages: ReadonlyArray<Pick<GetStatementResultCommandOutput, 'ColumnMetadata' | 'Records'>>): Row[] {
  const rows: Row[] = [];
  let names: string[] = [];
  for (const page of pages) {
    if (page.ColumnMetadata && page.ColumnMetadata.length > 0) {
      names = page.ColumnMetadata.map((c, i) => (c.name ?? c.label ?? `column${i}`).toLowerCase());
    }
    for (const record of page.Records ?? []) {
      const row: Record<string, string | number | boolean | null> = {};
      record.forEach((field, i) => { row[names[i] ?? `column${i}`] = fieldValue(field); });
      rows.push(row);
    }
  }
  return rows;
}

export class DataApi {
  private readonly deadline: Deadline;

  constructor(private readonly client: RedshiftDataClient, private readonly options: DataApiOptions) {
    this.deadline = options.deadline ?? Deadline.none(options.timing);
  }

  /** Runs one statement as the AWSCURRENT of `secretArn` and waits for it to finish. */
  public async execute(
    target: DataApiTarget, secretArn: string, sql: string, parameters?: Array<{ name: string; value: string }>,
  ): Promise<DescribeStatementCommandOutput> {
    const clientToken = randomUUID();
    const id = await this.submit('ExecuteStatement', secretArn, [sql], () => this.client.send(new ExecuteStatementCommand({
      ...target,
      SecretArn: secretArn,
      Sql: sql,
      Parameters: parameters && parameters.length > 0 ? parameters : undefined,
      ClientToken: clientToken,
    })));
    return this.wait(id, secretArn);
  }

  /** Runs one read and returns its rows. */
  public async query(target: DataApiTarget, secretArn: string, sql: string, parameters?: Array<{ name: string; value: string }>): Promise<Row[]> {
    const description = await this.execute(target, secretArn, sql, parameters);
    if (description.HasResultSet === false) return [];
    return this.rows(description.Id!);
  }

  /**
   * Runs at most 40 reads as one BatchExecuteStatement (one round trip, one transaction) and returns each read's
   * rows, in order. Each sub-statement's result is fetched by its own Id, the batch's Id with the suffix `:n`
   * (https://docs.aws.amazon.com/redshift-data/latest/APIReference/API_GetStatementResult.html), all at once.
   */
  public async queryBatch(target: DataApiTarget, secretArn: string, sqls: readonly string[]): Promise<Row[][]> {
    if (sqls.length === 0 || sqls.length > MAX_BATCH_STATEMENTS) {
      throw new RotationError(`a batch of reads holds 1 to ${MAX_BATCH_STATEMENTS} statements, not ${sqls.length}`);
    }
    const id = await this.submitBatch(target, secretArn, sqls);
    const description = await this.wait(id, secretArn);
    const subs = description.SubStatements ?? [];
    return Promise.all(sqls.map((_, i) => (subs[i]?.HasResultSet === false ? Promise.resolve([]) : this.rows(subs[i]?.Id ?? `${id}:${i + 1}`))));
  }

  /** All pages of a statement's result, as rows. */
  private async rows(id: string): Promise<Row[]> {
    const pages: GetStatementResultCommandOutput[] = [];
    let nextToken: string | undefined;
    do {
      const page = await this.call('GetStatementResult', true, () => this.client.send(new GetStatementResultCommand({ Id: id, NextToken: nextToken })));
      pages.push(page);
      nextToken = page.NextToken;
    } while (nextToken);
    return rowsFromResults(pages);
  }

  /** Runs `sqls` in transactions of at most 40 statements (one BatchExecuteStatement each), in order. */
  public async batch(target: DataApiTarget, secretArn: string, sqls: readonly string[]): Promise<void> {
    for (const part of chunk(sqls, MAX_BATCH_STATEMENTS)) {
      await this.wait(await this.submitBatch(target, secretArn, part), secretArn);
    }
  }

  /** Submits `sqls` as one BatchExecuteStatement (one transaction, one client token for its retries); its Id. */
  private async submitBatch(target: DataApiTarget, secretArn: string, sqls: readonly string[]): Promise<string> {
    const clientToken = randomUUID();
    return this.submit('BatchExecuteStatement', secretArn, sqls, () => this.client.send(new BatchExecuteStatementCommand({
      ...target,
      SecretArn: secretArn,
      Sqls: [...sqls],
      ClientToken: clientToken,
    })));
  }

  private async submit(operation: string, secretArn: string, sqls: readonly string[], send: () => Promise<{ Id?: string }>): Promise<string> {
    this.deadline.require(operation, MIN_STATEMENT_MS);
    let output: { Id?: string };
    try {
      output = await withRetry(send, this.options.timing, undefined, this.deadline);
    } catch (err) {
      const message = this.safeMessage(err, sqls);
      if (isLoginFailure(message)) {
        throw new LoginFailedError(`the credentials of ${secretArn} did not log in (${operation}: ${message})`);
      }
      throw new RotationError(`Redshift Data API ${operation} failed: ${describeSdkError(err, this.options.redactor, false)}${message ? `: ${message}` : ''}`);
    }
    if (!output.Id) throw new RotationError(`Redshift Data API ${operation} returned no statement Id`);
    return output.Id;
  }

  /** The error's message, redacted, without the SQL it may echo, at most 300 characters. */
  private safeMessage(err: unknown, sqls: readonly string[]): string {
    let message = errorMessage(err).trim();
    for (const sql of sqls) if (sql.length > 0) message = message.split(sql).join('<the statement>');
    message = this.options.redactor.redact(message);
    return message.length > 300 ? message.slice(0, 300) + '…' : message;
  }

  private async call<T>(operation: string, withMessage: boolean, send: () => Promise<T>): Promise<T> {
    try {
      return await withRetry(send, this.options.timing, undefined, this.deadline);
    } catch (err) {
      throw new RotationError(`Redshift Data API ${operation} failed: ${describeSdkError(err, this.options.redactor, withMessage)}`);
    }
  }

  private async cancel(id: string): Promise<void> {
    try {
      await this.client.send(new CancelStatementCommand({ Id: id }));
    } catch {
      // best effort: the step fails either way
    }
  }

  /**
   * Polls DescribeStatement until the statement ends: each call waits on the service side (WaitTimeSeconds, whole
   * seconds that fit before the statement's own deadline). The first call goes out at once; a call that returned
   * early (before `pollMs`, doubling up to 2 s) is followed by a sleep for the rest of that delay.
   * A statement that does not end before the statement timeout or the invocation's deadline is cancelled.
   */
  private async wait(id: string, secretArn: string): Promise<DescribeStatementCommandOutput> {
    const { timing, pollMs, timeoutMs, redactor } = this.options;
    const statementDeadline = timing.now() + timeoutMs;
    const deadline = Math.min(statementDeadline, this.deadline.endsAt);
    let delay = pollMs;
    // the first DescribeStatement goes out at once: it waits on the service side for the statement to end
    let sinceCall = delay;
    for (;;) {
      const pause = Math.min(delay - sinceCall, deadline - timing.now());
      if (pause > 0) await timing.sleep(pause);
      delay = Math.min(delay * 2, MAX_POLL_MS);
      const waitSeconds = Math.min(MAX_WAIT_SECONDS, Math.floor((deadline - timing.now()) / 1000));
      const called = timing.now();
      const description = await this.call('DescribeStatement', true, () => this.client.send(new DescribeStatementCommand({
        Id: id, WaitTimeSeconds: waitSeconds >= 1 ? waitSeconds : undefined,
      })));
      sinceCall = timing.now() - called;
      const error = redactor.redact(description.Error ?? 'no error message');
      switch (description.Status) {
        case 'FINISHED':
          return description;
        case 'FAILED':
          if (isLoginFailure(error)) throw new LoginFailedError(`the credentials of ${secretArn} did not log in: ${error}`);
          throw new StatementError(`Redshift statement ${id} FAILED: ${error}`, 'FAILED');
        case 'ABORTED':
          throw new StatementError(`Redshift statement ${id} was ABORTED: ${error}`, 'ABORTED');
        default:
          break;
      }
      if (timing.now() >= deadline) {
        await this.cancel(id);
        const status = description.Status ?? 'unknown';
        if (deadline < statementDeadline) {
          throw new OutOfTimeError(`ran out of time: Redshift statement ${id} had not finished (status ${status}) when the Lambda's deadline came near (${this.deadline.reserveMs} ms kept for cleanup); it was cancelled`);
        }
        throw new StatementError(`Redshift statement ${id} did not finish within ${timeoutMs} ms (status ${status}); it was cancelled`, 'TIMEOUT');
      }
    }
  }
}
