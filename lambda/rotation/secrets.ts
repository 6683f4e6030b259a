/**
 * Secrets Manager: the entry checks, reading versions, drawing a password under Redshift's rules, putting the
 * pending version, moving AWSCURRENT, and the probe secrets testSecret (and setSecret's recovery) use.
 */
import { createHash } from 'crypto';
// the SDK is bundled into the handler at build time (esbuild), so it is a devDependency
// eslint-disable-next-line import/no-extraneous-dependencies
import {
  CreateSecretCommand,
  DeleteSecretCommand,
  DescribeSecretCommand,
  DescribeSecretCommandOutput,
  GetRandomPasswordCommand,
  GetSecretValueCommand,
  ListSecretVersionIdsCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import { HandlerConfig } from './config';
import { describeSdkError, errorMessage, errorName, Redactor, RotationError } from './errors';
import { passwordProblems, punctuationAllowed, REDSHIFT_FORBIDDEN_CHARACTERS } from './password';
import { Deadline, REAL_TIMING, Timing } from './retry';

export const AWSCURRENT = 'AWSCURRENT';
export const AWSPENDING = 'AWSPENDING';
export const AWSPREVIOUS = 'AWSPREVIOUS';
/** The tag of a probe secret that names the rotated secret's ARN. */
export const PROBE_TAG = 'RotationProbeFor';
/**
 * The tag of a probe secret that names the function that made it (its name): the role's probe permissions are
 * conditioned on it (`aws:RequestTag` on CreateSecret and TagResource, `aws:ResourceTag` on GetSecretValue and
 * DeleteSecret), so a function can make, read and delete only its own probes.
 */
export const PROBE_FUNCTION_TAG = 'redshift-rotation:probe-for-function';
/**
 * Waits before CreateSecret is tried again on a probe name whose secret was force-deleted a moment ago: "Secrets
 * Manager performs the actual deletion with an asynchronous background process ... If you delete a secret and then
 * immediately create a secret with the same name, use appropriate back off and retry logic" (DeleteSecret).
 */
export const RECREATE_DELAYS_MS = [250, 500, 1000, 2000, 4000];

/**
 * The reference functions' entry checks: rotation enabled, the token a version of the secret, already AWSCURRENT
 * (then `done`: nothing to do), staged AWSPENDING (else an error).
 */
export function entryCheck(description: Pick<DescribeSecretCommandOutput, 'RotationEnabled' | 'VersionIdsToStages'>, token: string): 'proceed' | 'done' {
  if (description.RotationEnabled !== true) throw new RotationError('rotation is not enabled for the secret');
  const stages = description.VersionIdsToStages?.[token];
  if (!stages) throw new RotationError('ClientRequestToken is not a version of the secret');
  if (stages.includes(AWSCURRENT)) return 'done';
  if (!stages.includes(AWSPENDING)) throw new RotationError('ClientRequestToken is not staged AWSPENDING');
  return 'proceed';
}

/** The version that carries `stage`, if any. */
export function versionWithStage(description: Pick<DescribeSecretCommandOutput, 'VersionIdsToStages'>, stage: string): string | undefined {
  return Object.entries(description.VersionIdsToStages ?? {}).find(([, stages]) => stages.includes(stage))?.[0];
}

/** The value of a tag, if the secret has it. */
export function tagValue(description: Pick<DescribeSecretCommandOutput, 'Tags'>, key: string): string | undefined {
  return description.Tags?.find((t) => t.Key === key)?.Value;
}

/**
 * The probe secret name of a rotated secret: `${prefix}${sha256(secretArn) first 16 hex}`, plus `-${purpose}` for a
 * probe of another version than AWSPENDING. One name per secret (and purpose), whatever the token: a probe an earlier
 * attempt left behind is found by this name (CreateSecret answers ResourceExistsException), without ListSecrets.
 */
export function probeName(prefix: string, secretArn: string, purpose?: string): string {
  const secretHash = createHash('sha256').update(secretArn, 'utf8').digest('hex').slice(0, 16);
  return `${prefix}${secretHash}${purpose ? `-${purpose}` : ''}`;
}

/** A probe secret of a rotation. */
export interface ProbeSpec {
  /** the probe's name ({@link probeName}) */
  readonly name: string;
  /**
   * an earlier step of this attempt kept the probe (SINGLE_USER's setSecret, for testSecret): it is read first, so
   * that the single-user window holds one call for it; on any failure the probe is made as usual
   */
  readonly kept?: boolean;
}

export class SecretsApi {
  /** Names of the probes earlier attempts left behind that this invocation deleted (reported in the step's log line). */
  public readonly leftoverProbesDeleted: string[] = [];
  private readonly timing: Timing;
  private readonly deadline: Deadline;
  private readonly functionName?: string;

  /**
   * `functionName` is the function's own name (AWS_LAMBDA_FUNCTION_NAME), the value of the probes'
   * {@link PROBE_FUNCTION_TAG}.
   */
  constructor(
    private readonly client: SecretsManagerClient,
    private readonly redactor: Redactor,
    options: { timing?: Timing; deadline?: Deadline; functionName?: string } = {},
  ) {
    this.timing = options.timing ?? REAL_TIMING;
    this.deadline = options.deadline ?? Deadline.none(this.timing);
    this.functionName = options.functionName;
  }

  private async call<T>(operation: string, withMessage: boolean, send: () => Promise<T>): Promise<T> {
    try {
      return await send();
    } catch (err) {
      throw new RotationError(`Secrets Manager ${operation} failed: ${describeSdkError(err, this.redactor, withMessage)}`);
    }
  }

  public async describe(secretId: string): Promise<DescribeSecretCommandOutput> {
    return this.call('DescribeSecret', true, () => this.client.send(new DescribeSecretCommand({ SecretId: secretId })));
  }

  /**
   * The SecretString of a version, or undefined when it does not exist and `allowMissing` is set. Passwords found
   * in it are remembered by the redactor.
   */
  public async secretString(
    secretId: string, selector: { stage?: string; versionId?: string }, what: string, allowMissing = false,
  ): Promise<string | undefined> {
    return (await this.secretValue(secretId, selector, what, allowMissing))?.secretString;
  }

  /** Like {@link secretString}, with the secret's complete ARN (GetSecretValue's `ARN`, else `secretId`). */
  public async secretValue(
    secretId: string, selector: { stage?: string; versionId?: string }, what: string, allowMissing = false,
  ): Promise<{ arn: string; secretString: string } | undefined> {
    let value: string | undefined;
    let arn = secretId;
    try {
      const output = await this.client.send(new GetSecretValueCommand({
        SecretId: secretId, VersionStage: selector.stage, VersionId: selector.versionId,
      }));
      value = output.SecretString;
      arn = output.ARN ?? secretId;
    } catch (err) {
      if (allowMissing && errorName(err) === 'ResourceNotFoundException') return undefined;
      throw new RotationError(`cannot read ${what}: Secrets Manager GetSecretValue failed: ${describeSdkError(err, this.redactor, true)}`);
    }
    if (typeof value !== 'string') throw new RotationError(`${what} has no SecretString`);
    this.remember(value);
    return { arn, secretString: value };
  }

  /**
   * The versions of a secret that carry no staging label ("deprecated": e.g. the AWSPENDING of a rotation that was
   * abandoned), newest first (ListSecretVersionIds with IncludeDeprecated).
   */
  public async deprecatedVersionIds(secretArn: string): Promise<string[]> {
    const found: Array<{ id: string; created: number }> = [];
    let nextToken: string | undefined;
    do {
      const page = await this.call('ListSecretVersionIds', true, () => this.client.send(new ListSecretVersionIdsCommand({
        SecretId: secretArn, IncludeDeprecated: true, NextToken: nextToken,
      })));
      for (const v of page.Versions ?? []) {
        if (v.VersionId && (v.VersionStages ?? []).length === 0) found.push({ id: v.VersionId, created: v.CreatedDate?.getTime() ?? 0 });
      }
      nextToken = page.NextToken;
    } while (nextToken);
    return found.sort((a, b) => b.created - a.created).map((v) => v.id);
  }

  /** Remembers the password (and the whole string) of a secret string for redaction. */
  public remember(secretString: string): void {
    this.redactor.add(secretString);
    try {
      const parsed = JSON.parse(secretString) as Record<string, unknown>;
      if (parsed && typeof parsed === 'object' && typeof parsed.password === 'string') this.redactor.add(parsed.password);
    } catch {
      // not JSON: the whole string is remembered already
    }
  }

  /** A new password under Redshift's rules and the configured length and exclusions. */
  public async randomPassword(config: HandlerConfig): Promise<string> {
    const output = await this.call('GetRandomPassword', true, () => this.client.send(new GetRandomPasswordCommand({
      PasswordLength: config.passwordLength,
      ExcludeCharacters: REDSHIFT_FORBIDDEN_CHARACTERS + config.excludeCharacters,
      ExcludePunctuation: punctuationAllowed(config.excludeCharacters) ? undefined : true,
      IncludeSpace: false,
      RequireEachIncludedType: true,
    })));
    const password = output.RandomPassword;
    if (typeof password !== 'string') throw new RotationError('Secrets Manager GetRandomPassword returned no password');
    this.redactor.add(password);
    const problems = passwordProblems(password, config.passwordLength, config.excludeCharacters);
    if (problems.length > 0) throw new RotationError(`GetRandomPassword returned a password Redshift would refuse (${problems.join('; ')})`);
    return password;
  }

  /**
   * Puts the pending version. `rotationToken` is the event's RotationToken: Secrets Manager needs it to validate
   * the caller when the function assumes a role or rotates a secret of another account; it is never logged.
   */
  public async putPending(secretArn: string, token: string, secretString: string, rotationToken?: string): Promise<void> {
    this.remember(secretString);
    await this.call('PutSecretValue', false, () => this.client.send(new PutSecretValueCommand({
      SecretId: secretArn,
      ClientRequestToken: token,
      SecretString: secretString,
      VersionStages: [AWSPENDING],
      RotationToken: rotationToken,
    })));
  }

  /** Moves AWSCURRENT to `token`, removing it from `currentVersion` (AWSPREVIOUS follows). */
  public async moveCurrent(secretArn: string, token: string, currentVersion: string | undefined): Promise<void> {
    await this.call('UpdateSecretVersionStage', true, () => this.client.send(new UpdateSecretVersionStageCommand({
      SecretId: secretArn,
      VersionStage: AWSCURRENT,
      MoveToVersionId: token,
      RemoveFromVersionId: currentVersion,
    })));
  }

  /**
   * The probe secret `probe.name` holding `secretString` (same KMS key as the rotated secret, tagged with the rotated
   * secret and this function), created at once. When a probe of that name exists already (CreateSecret answers
   * ResourceExistsException), it is read: holding `secretString`, it is this rotation's (SINGLE_USER's setSecret
   * keeps it for testSecret, or an earlier attempt of the same token made it) and is used; holding anything else, it
   * is a leftover of an earlier rotation: it is force-deleted, recorded in {@link leftoverProbesDeleted}, and the
   * probe is made anew. Returns its ARN. A failure (CreateSecret denied, KMS key unusable, a probe of that name this
   * function may not read) names the call and the probe.
   */
  public async ensureProbe(probe: ProbeSpec, secretArn: string, kmsKeyId: string | undefined, secretString: string): Promise<string> {
    this.remember(secretString);
    if (!this.functionName) {
      throw new RotationError('AWS_LAMBDA_FUNCTION_NAME is not set: the probe secret cannot be tagged with the function that makes it');
    }
    if (probe.kept) {
      // one call when setSecret's probe is there; anything else (not there, not readable, another value) is settled
      // by the CreateSecret path below
      let kept: { ARN?: string; SecretString?: string } | undefined;
      try {
        kept = await this.client.send(new GetSecretValueCommand({ SecretId: probe.name }));
      } catch {
        kept = undefined;
      }
      if (kept?.ARN && kept.SecretString === secretString) return kept.ARN;
      if (typeof kept?.SecretString === 'string') this.remember(kept.SecretString);
    }
    const command = new CreateSecretCommand({
      Name: probe.name,
      Description: 'Temporary copy of a pending Redshift credential, made by the rotation function to test it; deleted at once.',
      SecretString: secretString,
      KmsKeyId: kmsKeyId,
      Tags: [{ Key: PROBE_TAG, Value: secretArn }, { Key: PROBE_FUNCTION_TAG, Value: this.functionName }],
    });
    for (let round = 0; ; round++) {
      let created: { ARN?: string };
      try {
        created = await this.createWithRetry(command);
      } catch (err) {
        if (errorName(err) !== 'ResourceExistsException' || round > 0) {
          throw new RotationError(`Secrets Manager CreateSecret failed for the probe secret ${probe.name}: ${describeSdkError(err, this.redactor, true)}`);
        }
        const existing = await this.readProbe(probe.name);
        if (existing.SecretString === secretString) return existing.ARN;
        await this.deleteProbe(existing.ARN);
        this.leftoverProbesDeleted.push(probe.name);
        continue;
      }
      if (!created.ARN) throw new RotationError('Secrets Manager CreateSecret returned no ARN for the probe secret');
      return created.ARN;
    }
  }

  /** The ARN and value of an existing probe (its value is remembered for redaction). */
  private async readProbe(name: string): Promise<{ ARN: string; SecretString?: string }> {
    let existing: { ARN?: string; SecretString?: string };
    try {
      existing = await this.client.send(new GetSecretValueCommand({ SecretId: name }));
    } catch (err) {
      throw new RotationError(`a secret named like the probe ${name} exists and cannot be read: Secrets Manager GetSecretValue failed: ${describeSdkError(err, this.redactor, true)}`);
    }
    if (typeof existing.SecretString === 'string') this.remember(existing.SecretString);
    if (!existing.ARN) throw new RotationError('Secrets Manager GetSecretValue returned no ARN for the probe secret');
    return { ARN: existing.ARN, SecretString: existing.SecretString };
  }

  /** CreateSecret, tried again while the name still belongs to a secret being deleted (as long as time allows). */
  private async createWithRetry(command: CreateSecretCommand): Promise<{ ARN?: string }> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.client.send(command);
      } catch (err) {
        const beingDeleted = errorName(err) === 'InvalidRequestException' && /scheduled for deletion/i.test(errorMessage(err));
        const delay = RECREATE_DELAYS_MS[attempt];
        if (!beingDeleted || delay === undefined || this.deadline.remainingMs() <= delay) throw err;
        await this.timing.sleep(delay);
      }
    }
  }

  public async deleteProbe(probeArn: string): Promise<void> {
    await this.call('DeleteSecret', true, () => this.client.send(new DeleteSecretCommand({ SecretId: probeArn, ForceDeleteWithoutRecovery: true })));
  }

  /** Deletes a probe; a failure is left to the next attempt's cleanup (the first error is the one to report). */
  public async deleteProbeQuietly(probeArn: string): Promise<void> {
    try {
      await this.deleteProbe(probeArn);
    } catch {
      // the next attempt removes the leftover probe
    }
  }

  /**
   * Runs `fn` with the probe secret `probe.name` holding `secretString`, and force-deletes the probe afterwards, also
   * when `fn` fails.
   */
  public async withProbe<T>(
    probe: ProbeSpec, secretArn: string, kmsKeyId: string | undefined, secretString: string, fn: (probeArn: string) => Promise<T>,
  ): Promise<T> {
    const probeArn = await this.ensureProbe(probe, secretArn, kmsKeyId, secretString);
    let result: T;
    try {
      result = await fn(probeArn);
    } catch (err) {
      await this.deleteProbeQuietly(probeArn);
      throw err;
    }
    await this.deleteProbe(probeArn);
    return result;
  }
}
