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
  ListSecretsCommand,
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
export const PROBE_TAG = 'RotationProbeFor';
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

/** The common name prefix of a secret's probes: `${prefix}${sha256(secretArn) first 16 hex}`. */
export function probeNamePrefix(prefix: string, secretArn: string): string {
  return prefix + createHash('sha256').update(secretArn, 'utf8').digest('hex').slice(0, 16);
}

/**
 * The probe secret name of a rotation: `${prefix}${sha256(secretArn) first 16 hex}-${sha256(token) first 16 hex}`,
 * plus `-${purpose}` for a probe of another version than AWSPENDING. Deterministic, so that testSecret finds the
 * probe setSecret made for the same token.
 */
export function probeName(prefix: string, secretArn: string, token: string, purpose?: string): string {
  const tokenHash = createHash('sha256').update(token, 'utf8').digest('hex').slice(0, 16);
  return `${probeNamePrefix(prefix, secretArn)}-${tokenHash}${purpose ? `-${purpose}` : ''}`;
}

/** A probe secret of a rotation. */
export interface ProbeSpec {
  /** PROBE_SECRET_PREFIX */
  readonly prefix: string;
  /** the probe's name */
  readonly name: string;
  /** the name every probe of this rotation (secret and token) starts with: kept when leftovers are removed */
  readonly rotationName: string;
}

export class SecretsApi {
  private readonly timing: Timing;
  private readonly deadline: Deadline;

  constructor(
    private readonly client: SecretsManagerClient,
    private readonly redactor: Redactor,
    options: { timing?: Timing; deadline?: Deadline } = {},
  ) {
    this.timing = options.timing ?? REAL_TIMING;
    this.deadline = options.deadline ?? Deadline.none(this.timing);
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
   * Force-deletes the probes of `secretArn` an earlier attempt left behind: all whose names do not start with
   * `keepPrefix` (the current rotation's); returns how many.
   */
  public async deleteLeftoverProbes(prefix: string, secretArn: string, keepPrefix?: string): Promise<number> {
    const namePrefix = probeNamePrefix(prefix, secretArn);
    const arns: string[] = [];
    let nextToken: string | undefined;
    do {
      const page = await this.call('ListSecrets', true, () => this.client.send(new ListSecretsCommand({
        Filters: [{ Key: 'name', Values: [namePrefix] }],
        NextToken: nextToken,
      })));
      for (const entry of page.SecretList ?? []) {
        // the name filter matches prefixes; check it and the tag to touch only this secret's probes
        const probeFor = entry.Tags?.find((t) => t.Key === PROBE_TAG)?.Value;
        const tagged = probeFor === undefined || probeFor === secretArn;
        const kept = keepPrefix !== undefined && entry.Name?.startsWith(keepPrefix) === true;
        if (entry.ARN && entry.Name?.startsWith(namePrefix + '-') && !kept && tagged) arns.push(entry.ARN);
      }
      nextToken = page.NextToken;
    } while (nextToken);
    for (const arn of arns) await this.deleteProbe(arn);
    return arns.length;
  }

  /**
   * The probe secret `probe.name` holding `secretString` (same KMS key as the rotated secret). When an earlier step
   * of the rotation made it (SINGLE_USER's setSecret keeps it for testSecret), it is found by name, checked, and
   * given `secretString` if it holds anything else: one call. Otherwise probes of earlier attempts are removed and
   * it is created. Returns its ARN. A failure to create it (CreateSecret denied, KMS key unusable) names the call.
   */
  public async ensureProbe(probe: ProbeSpec, secretArn: string, kmsKeyId: string | undefined, secretString: string): Promise<string> {
    this.remember(secretString);
    const found = await this.existingProbe(probe.name, secretString);
    if (found) return found;
    await this.deleteLeftoverProbes(probe.prefix, secretArn, probe.rotationName);
    let created: { ARN?: string };
    try {
      created = await this.createWithRetry(new CreateSecretCommand({
        Name: probe.name,
        Description: 'Temporary copy of a pending Redshift credential, made by the rotation function to test it; deleted at once.',
        SecretString: secretString,
        KmsKeyId: kmsKeyId,
        Tags: [{ Key: PROBE_TAG, Value: secretArn }],
      }));
    } catch (err) {
      const raced = errorName(err) === 'ResourceExistsException' ? await this.existingProbe(probe.name, secretString) : undefined;
      if (raced) return raced;
      throw new RotationError(`Secrets Manager CreateSecret failed for the probe secret ${probe.name}: ${describeSdkError(err, this.redactor, true)}`);
    }
    if (!created.ARN) throw new RotationError('Secrets Manager CreateSecret returned no ARN for the probe secret');
    return created.ARN;
  }

  /** The ARN of the probe `name` if it exists, holding `secretString` (put there if it held anything else). */
  private async existingProbe(name: string, secretString: string): Promise<string | undefined> {
    let existing: { ARN?: string; SecretString?: string };
    try {
      existing = await this.client.send(new GetSecretValueCommand({ SecretId: name }));
    } catch (err) {
      // not there, or still being deleted
      if (errorName(err) === 'ResourceNotFoundException' || errorName(err) === 'InvalidRequestException') return undefined;
      throw new RotationError(`Secrets Manager GetSecretValue failed for the probe secret ${name}: ${describeSdkError(err, this.redactor, true)}`);
    }
    if (!existing.ARN) throw new RotationError('Secrets Manager GetSecretValue returned no ARN for the probe secret');
    if (existing.SecretString !== secretString) {
      await this.call('PutSecretValue', false, () => this.client.send(new PutSecretValueCommand({
        SecretId: existing.ARN, SecretString: secretString, VersionStages: [AWSCURRENT],
      })));
    }
    return existing.ARN;
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
