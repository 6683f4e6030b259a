/**
 * Secrets Manager rotation function for Amazon Redshift (provisioned clusters and Serverless), both strategies, all
 * SQL through the Redshift Data API. See docs/architecture.md for the contract.
 */
import { RedshiftDataClient } from '@aws-sdk/client-redshift-data'; // eslint-disable-line import/no-extraneous-dependencies
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager'; // eslint-disable-line import/no-extraneous-dependencies
import { setSecretAlternatingUsers } from './alternating-users';
import { parseConfig } from './config';
import { enter, RotationContext } from './context';
import { DataApi } from './data-api';
import { errorMessage, Redactor } from './errors';
import { RotationEvent, validateEvent } from './event';
import { formatStepLog, LineWriter, STDOUT_WRITER } from './log';
import { Deadline, REAL_TIMING, Timing } from './retry';
import { SecretsApi } from './secrets';
import { setSecretSingleUser } from './single-user';
import { createSecret, finishSecret, testSecret } from './steps';

export type { RotationEvent } from './event';

/** The part of the Lambda context the handler uses. */
export interface LambdaContextLike {
  /** Milliseconds left before Lambda stops the invocation. */
  getRemainingTimeInMillis(): number;
}

/** What a handler is made of; every part has a default, tests replace some. */
export interface HandlerDeps {
  readonly secretsManager?: SecretsManagerClient;
  readonly redshiftData?: RedshiftDataClient;
  readonly env?: Record<string, string | undefined>;
  readonly timing?: Partial<Timing>;
  readonly write?: LineWriter;
}

let defaultSecretsManager: SecretsManagerClient | undefined;
let defaultRedshiftData: RedshiftDataClient | undefined;

/**
 * Default clients, made on first use. The default configuration honours AWS_ENDPOINT_URL_SECRETS_MANAGER and
 * AWS_ENDPOINT_URL_REDSHIFT_DATA. The Data API client makes one attempt per call: DataApi retries throttling and
 * transient errors itself (full jitter, at most 5 attempts), so the bound is exact.
 */
function clients(deps: HandlerDeps): { sm: SecretsManagerClient; rsd: RedshiftDataClient } {
  const sm = deps.secretsManager ?? (defaultSecretsManager ??= new SecretsManagerClient({}));
  const rsd = deps.redshiftData ?? (defaultRedshiftData ??= new RedshiftDataClient({ maxAttempts: 1 }));
  return { sm, rsd };
}

async function runStep(ctx: RotationContext): Promise<void> {
  switch (ctx.step) {
    case 'createSecret': return createSecret(ctx);
    case 'setSecret':
      if (ctx.strategy === 'SINGLE_USER') await setSecretSingleUser(ctx);
      else await setSecretAlternatingUsers(ctx);
      return;
    case 'testSecret': return testSecret(ctx);
    case 'finishSecret': return finishSecret(ctx);
  }
}

/**
 * A rotation handler with the given dependencies. With a Lambda context, nothing is started that cannot end
 * before the invocation's deadline (less a reserve for cancelling statements and deleting the probe).
 */
export function createHandler(deps: HandlerDeps = {}): (event: RotationEvent, context?: LambdaContextLike) => Promise<void> {
  const timing: Timing = { ...REAL_TIMING, ...deps.timing };
  const write = deps.write ?? STDOUT_WRITER;
  return async (event: RotationEvent, context?: LambdaContextLike): Promise<void> => {
    const started = timing.now();
    const remaining = typeof context?.getRemainingTimeInMillis === 'function' ? context.getRemainingTimeInMillis() : undefined;
    const deadline = Deadline.fromRemaining(timing, remaining);
    const redactor = new Redactor();
    let secretArn: string | null = null;
    let step: string | null = null;
    let strategy: string | null = null;
    let skipped: string[] = [];
    let secrets: SecretsApi | undefined;
    const leftovers = () => secrets?.leftoverProbesDeleted ?? [];
    try {
      const valid = validateEvent(event);
      secretArn = valid.SecretId;
      step = valid.Step;
      const env = deps.env ?? process.env;
      const config = parseConfig(env);
      const { sm, rsd } = clients(deps);
      secrets = new SecretsApi(sm, redactor, { timing, deadline, functionName: env.AWS_LAMBDA_FUNCTION_NAME });
      const data = new DataApi(rsd, { pollMs: config.statementPollMs, timeoutMs: config.statementTimeoutMs, timing, redactor, deadline });
      const entry = await enter({
        secretId: valid.SecretId, token: valid.ClientRequestToken, rotationToken: valid.RotationToken, step: valid.Step, config, secrets, data,
      });
      if (entry.done) {
        secretArn = entry.arn;
        strategy = entry.strategy ?? null;
      } else {
        secretArn = entry.context.arn;
        strategy = entry.context.strategy;
        skipped = entry.context.skipped;
        await runStep(entry.context);
      }
      write(formatStepLog({ secretArn, step, strategy, durationMs: timing.now() - started, outcome: 'ok', skipped, leftoverProbesDeleted: leftovers() }));
    } catch (err) {
      const message = redactor.redact(`${step ?? 'rotation'} failed${secretArn ? ` for ${secretArn}` : ''}: ${errorMessage(err) || 'unknown error'}`);
      write(formatStepLog({ secretArn, step, strategy, durationMs: timing.now() - started, outcome: 'error', error: message, skipped, leftoverProbesDeleted: leftovers() }));
      const error = new Error(message);
      error.name = err instanceof Error && /^[A-Za-z]+Error$/.test(err.name) ? err.name : 'RotationError';
      throw error;
    }
  };
}

/** The Lambda entry point. */
export const handler: (event: RotationEvent, context?: LambdaContextLike) => Promise<void> = createHandler();
