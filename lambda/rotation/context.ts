/**
 * What every step shares: the clients, the configuration, the secret's description and AWSCURRENT, the strategy.
 */
import { DescribeSecretCommandOutput } from '@aws-sdk/client-secrets-manager'; // eslint-disable-line import/no-extraneous-dependencies
import { HandlerConfig } from './config';
import { DataApi } from './data-api';
import { RotationError } from './errors';
import { Step } from './event';
import { checkUsernameForStrategy, DataApiTarget, dataApiTarget, parseRedshiftSecret, RedshiftSecret, resolveStrategy, Strategy, STRATEGY_TAG } from './secret';
import { AWSCURRENT, AWSPENDING, entryCheck, probeName, ProbeSpec, SecretsApi, tagValue } from './secrets';

export interface RotationContext {
  readonly step: Step;
  readonly token: string;
  /** the event's RotationToken, passed to PutSecretValue; never logged */
  readonly rotationToken?: string;
  readonly config: HandlerConfig;
  readonly secrets: SecretsApi;
  readonly data: DataApi;
  /** the secret's ARN (from DescribeSecret) */
  readonly arn: string;
  readonly description: DescribeSecretCommandOutput;
  readonly current: RedshiftSecret;
  readonly strategy: Strategy;
  readonly target: DataApiTarget;
  /** things skipped on purpose, reported in the step's log line */
  readonly skipped: string[];
}

/** What the entry checks found out before the step runs. */
export type Entry =
  | { readonly done: true; readonly arn: string; readonly strategy?: Strategy }
  | { readonly done: false; readonly context: RotationContext };

/** DescribeSecret, the entry checks, then AWSCURRENT parsed and validated for its strategy. */
export async function enter(args: {
  readonly secretId: string;
  readonly token: string;
  readonly rotationToken?: string;
  readonly step: Step;
  readonly config: HandlerConfig;
  readonly secrets: SecretsApi;
  readonly data: DataApi;
}): Promise<Entry> {
  const description = await args.secrets.describe(args.secretId);
  const arn = description.ARN ?? args.secretId;
  const tag = tagValue(description, STRATEGY_TAG);
  if (entryCheck(description, args.token) === 'done') {
    const strategy = tag === 'SINGLE_USER' || tag === 'ALTERNATING_USERS' ? tag : undefined;
    return { done: true, arn, strategy };
  }
  const current = parseRedshiftSecret(await args.secrets.secretString(arn, { stage: AWSCURRENT }, AWSCURRENT), AWSCURRENT);
  const strategy = resolveStrategy(tag, current);
  checkUsernameForStrategy(current.username, strategy, AWSCURRENT);
  if (strategy === 'ALTERNATING_USERS' && current.masterarn === arn) {
    throw new RotationError('masterarn must name another secret than the rotated one');
  }
  return {
    done: false,
    context: { ...args, arn, description, current, strategy, target: dataApiTarget(current), skipped: [] },
  };
}

/** The AWSPENDING version of the token, or undefined when it has no value yet. */
export async function pendingString(ctx: RotationContext, allowMissing: boolean): Promise<string | undefined> {
  return ctx.secrets.secretString(ctx.arn, { versionId: ctx.token, stage: AWSPENDING }, AWSPENDING, allowMissing);
}

/** This rotation's probe secret (`purpose` for another version than AWSPENDING). */
export function probeFor(ctx: RotationContext, purpose?: string): ProbeSpec {
  return { name: probeName(ctx.config.probeSecretPrefix, ctx.arn, purpose) };
}
