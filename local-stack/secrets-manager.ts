/**
 * A local AWS Secrets Manager: secrets, versions and staging labels kept in memory by the service's rules, served
 * over AWS JSON 1.1 (`X-Amz-Target: secretsmanager.<Operation>`), and a RotateSecret that runs a rotation Lambda's
 * four steps the way the service does.
 *
 * Operations: CreateSecret, DescribeSecret, GetSecretValue, PutSecretValue, UpdateSecret, UpdateSecretVersionStage,
 * GetRandomPassword, ListSecrets, ListSecretVersionIds, DeleteSecret, RestoreSecret, RotateSecret, CancelRotateSecret,
 * TagResource, UntagResource. Any credentials are accepted (no SigV4 check); KMS is not emulated (KmsKeyId is stored and
 * returned only).
 */
import { randomBytes, randomInt, randomUUID } from 'crypto';
import { AwsError, startAwsJsonServer } from './aws-json';
import type { AwsJsonServer, LambdaHost, Operation } from './aws-json';
import type { FaultInjector } from './faults';
import { authorizeAll, secretsManagerRequests } from './iam';
import type { PolicyAuthorizer, SecretFacts } from './iam';

export const AWSCURRENT = 'AWSCURRENT';
export const AWSPENDING = 'AWSPENDING';
export const AWSPREVIOUS = 'AWSPREVIOUS';
export const ROTATION_STEPS = ['createSecret', 'setSecret', 'testSecret', 'finishSecret'] as const;

/** The event the service sends to a rotation function. */
export interface RotationEvent {
  readonly Step: string;
  readonly SecretId: string;
  readonly ClientRequestToken: string;
  readonly RotationToken?: string;
}

/** Invokes a rotation Lambda; rejects when the invocation fails (an error thrown by the handler or a crash). */
export type RotationInvoker = (functionArn: string, event: RotationEvent) => Promise<void>;

/** A rotation lifecycle event, as the service records them (CloudTrail / EventBridge). */
export interface RotationLifecycleEvent {
  readonly type: 'RotationStarted' | 'RotationAttemptFailed' | 'RotationSucceeded' | 'RotationFailed'
  | 'TestRotationStarted' | 'TestRotationSucceeded' | 'TestRotationFailed';
  readonly time: number;
  readonly secretArn: string;
  readonly secretName: string;
  /** The ClientRequestToken (version id) of the rotation. */
  readonly token: string;
  readonly functionArn: string;
  /** 0 for the first attempt, then 1, 2, … for the service's retries. */
  readonly attempt?: number;
  /** The step that failed. */
  readonly step?: string;
  /** The failed invocation's error message. */
  readonly error?: string;
}

export interface SecretsManagerOptions {
  readonly region: string;
  readonly account: string;
  readonly faults: FaultInjector;
  /** How many times a failed rotation is retried (the service's count is undocumented). @default 2 */
  readonly rotationRetries?: number;
  /** Delay before each retry in ms. @default 200 */
  readonly rotationRetryDelayMs?: number;
  /** How long a force-deleted secret's name stays taken, ms. @default 0 */
  readonly forceDeletePurgeMs?: number;
  readonly lambdaHost?: () => LambdaHost | undefined;
}

/** What a PutSecretValue call carried as RotationToken (the token itself is never kept or logged). */
export interface RotationTokenRecord {
  readonly time: number;
  readonly secretArn: string;
  readonly versionId: string;
  /**
   * `issued`: the RotationToken of an invocation this service made for a rotation of the secret; `unknown`: some
   * other string; `absent`: none.
   */
  readonly rotationToken: 'issued' | 'unknown' | 'absent';
  /** Whether the caller was a rotation Lambda invocation run by the local stack. */
  readonly fromLambda: boolean;
}

interface Version {
  readonly id: string;
  value?: { SecretString?: string; SecretBinary?: string };
  readonly stages: Set<string>;
  readonly created: number;
}

interface Secret {
  readonly arn: string;
  readonly name: string;
  readonly seq: number;
  description?: string;
  kmsKeyId?: string;
  tags: { Key: string; Value: string }[];
  versions: Map<string, Version>;
  created: number;
  lastChanged: number;
  lastAccessed?: number;
  lastRotated?: number;
  deleted?: number;
  deletionDate?: number;
  rotationEnabled: boolean;
  rotationLambdaArn?: string;
  rotationRules?: Record<string, unknown>;
  rotating?: string;
}

const NAME_RE = /^[A-Za-z0-9/_+=.@-]{1,512}$/;
const PUNCTUATION = '!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const epoch = (ms: number | undefined) => (ms === undefined ? undefined : ms / 1000);

/** The local Secrets Manager. Start it with {@link LocalSecretsManager.start}. */
export class LocalSecretsManager {
  /** Rotation lifecycle events, oldest first. */
  readonly events: RotationLifecycleEvent[] = [];
  /** Every PutSecretValue call and whether it carried the RotationToken the service gave the rotation function. */
  readonly rotationTokens: RotationTokenRecord[] = [];
  /**
   * How long a force-deleted secret stays "scheduled for deletion" (its name taken, reads refused) before it is
   * purged, ms: "Secrets Manager performs the actual deletion with an asynchronous background process, so there
   * might be a short delay before the secret is permanently deleted" (DeleteSecret). 0: at once.
   */
  forceDeletePurgeMs: number;
  /** RotationTokens issued to rotation invocations, per secret ARN (kept in memory only, never logged). */
  private readonly issuedRotationTokens = new Map<string, Set<string>>();
  /**
   * Test hook: called with the secret's name and the SecretString of every new version CreateSecret or
   * PutSecretValue stores (e.g. to check what probe secrets held). Unset by default; a test must never print it.
   */
  onSecretStringStored?: (secretName: string, secretString: string) => void;
  /** Name prefixes on which CreateSecret is denied (an IAM policy without the permission). */
  private readonly createDenied = new Set<string>();
  private readonly secrets = new Map<string, Secret>();
  private server?: AwsJsonServer;
  private invoker?: RotationInvoker;
  private seq = 0;
  private readonly rotations = new Set<Promise<void>>();
  private readonly eventWaiters = new Set<() => void>();
  private stopping = false;

  constructor(private readonly options: SecretsManagerOptions) {
    this.forceDeletePurgeMs = options.forceDeletePurgeMs ?? 0;
  }

  /** The endpoint URL (after start). */
  get url(): string {
    if (!this.server) throw new Error('the local Secrets Manager is not started');
    return this.server.url;
  }

  /**
   * Denies CreateSecret on names starting with `namePrefix`, as the service answers a caller whose IAM policy lacks
   * `secretsmanager:CreateSecret` there (AccessDeniedException). Returns a function that lifts the denial.
   */
  denyCreateSecret(namePrefix: string): () => void {
    this.createDenied.add(namePrefix);
    return () => { this.createDenied.delete(namePrefix); };
  }

  /** Sets the function that runs rotation Lambdas. */
  setInvoker(invoker: RotationInvoker): void {
    this.invoker = invoker;
  }

  async start(): Promise<string> {
    const ops: Record<string, Operation> = {
      CreateSecret: (i, call) => this.createSecret(i, call.caller?.functionArn),
      DescribeSecret: (i) => this.describeSecret(i),
      GetSecretValue: (i) => this.getSecretValue(i),
      PutSecretValue: (i, call) => this.putSecretValueCall(i, call.caller !== undefined),
      UpdateSecret: (i) => this.updateSecret(i),
      UpdateSecretVersionStage: (i) => this.updateSecretVersionStage(i),
      GetRandomPassword: (i) => ({ RandomPassword: generatePassword(i) }),
      ListSecrets: (i) => this.listSecrets(i),
      ListSecretVersionIds: (i) => this.listSecretVersionIds(i),
      DeleteSecret: (i) => this.deleteSecret(i),
      RestoreSecret: (i) => this.restoreSecret(i),
      RotateSecret: (i) => this.rotateSecret(i),
      CancelRotateSecret: (i) => this.cancelRotateSecret(i),
      TagResource: (i) => this.tagResource(i),
      UntagResource: (i) => this.untagResource(i),
    };
    this.server = await startAwsJsonServer({
      service: 'secretsmanager',
      targetPrefix: 'secretsmanager',
      operations: ops,
      faults: this.options.faults,
      lambdaHost: this.options.lambdaHost,
      authorize: (op, input, caller) => this.authorize(op, input, caller.authorizer),
      describe: (_op, input) => ({ secretId: typeof input?.SecretId === 'string' ? input.SecretId : (typeof input?.Name === 'string' ? input.Name : undefined) }),
    });
    return this.server.url;
  }

  /** Stops the endpoint and waits for rotations in progress to end. */
  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.allSettled([...this.rotations]);
    await this.server?.close();
  }

  /** Waits until every rotation started so far has ended. */
  async idle(): Promise<void> {
    while (this.rotations.size > 0) await Promise.allSettled([...this.rotations]);
  }

  /** Full ARN of a secret given its name, ARN or partial ARN; undefined if there is none (deleted ones included). */
  resolveArn(id: string): string | undefined {
    return this.lookup(id)?.arn;
  }

  /**
   * What IAM sees of a secret (ARN, tags, rotation function, KMS key), by name, ARN or partial ARN. For a secret that
   * does not exist: the ARN the id names (or one made of the name), without tags.
   */
  iamFacts(id: string): SecretFacts {
    const s = this.lookup(id);
    if (s) return { arn: s.arn, tags: s.tags, rotationLambdaArn: s.rotationLambdaArn, kmsKeyId: s.kmsKeyId };
    return { arn: id.startsWith('arn:') ? id : `arn:aws:secretsmanager:${this.options.region}:${this.options.account}:secret:${id}`, tags: [] };
  }

  /**
   * IAM for a caller with a role policy: the action on the secret (its tags, `AllowRotationLambdaArn`), TagResource
   * for tags given to CreateSecret, and the KMS calls made for a customer managed key, as the service evaluates
   * them. A secret that does not exist is evaluated without tags, so a tag-conditioned permission is denied before
   * the service could say it is not there.
   */
  private async authorize(operation: string, input: any, authorizer: PolicyAuthorizer): Promise<void> {
    const pseudo = { partition: 'aws', region: this.options.region, account: this.options.account };
    const named = !['CreateSecret', 'GetRandomPassword', 'ListSecrets'].includes(operation);
    const facts = named && typeof input?.SecretId === 'string' && input.SecretId.length > 0 ? this.iamFacts(input.SecretId) : undefined;
    await authorizeAll(authorizer, secretsManagerRequests(operation, input ?? {}, facts, pseudo), (message) => new AwsError('AccessDeniedException', message));
  }

  /**
   * The AWSCURRENT SecretString of a secret, read directly (as the Redshift Data API reads the secret it is given).
   * Throws AwsError like GetSecretValue would.
   */
  currentSecretString(id: string): string | undefined {
    const s = this.find(id);
    this.notDeleted(s);
    return this.versionByStage(s, AWSCURRENT)?.value?.SecretString;
  }

  /** Resolves after the next lifecycle event is recorded (or the timeout). */
  async waitForEvent<T extends RotationLifecycleEvent>(predicate: (e: RotationLifecycleEvent) => e is T, timeoutMs?: number): Promise<T>;
  async waitForEvent(predicate: (e: RotationLifecycleEvent) => boolean, timeoutMs?: number): Promise<RotationLifecycleEvent>;
  async waitForEvent(predicate: (e: RotationLifecycleEvent) => boolean, timeoutMs = 60_000): Promise<RotationLifecycleEvent> {
    const deadline = Date.now() + timeoutMs;
    let seen = 0;
    for (;;) {
      for (; seen < this.events.length; seen++) if (predicate(this.events[seen])) return this.events[seen];
      const left = deadline - Date.now();
      if (left <= 0) throw new Error('timed out waiting for a rotation event');
      await new Promise<void>((resolve) => {
        const t = setTimeout(done, left);
        function done() { clearTimeout(t); resolve(); }
        this.eventWaiters.add(done);
      });
    }
  }

  // -------------------------------------------------------------------------------------------------------------

  private lookup(id: unknown): Secret | undefined {
    if (typeof id !== 'string' || id.length === 0) return undefined;
    const direct = this.secrets.get(id);
    if (direct) return direct;
    for (const s of this.secrets.values()) {
      if (s.name === id) return s;
    }
    // partial ARN: the ARN without the 6-character suffix
    for (const s of this.secrets.values()) {
      if (id.startsWith('arn:') && s.arn.slice(0, s.arn.length - 7) === id) return s;
    }
    return undefined;
  }

  private find(id: unknown): Secret {
    if (typeof id !== 'string' || id.length === 0) throw new AwsError('InvalidParameterException', 'You must provide a value for SecretId.');
    const s = this.lookup(id);
    if (!s) throw new AwsError('ResourceNotFoundException', 'Secrets Manager can\'t find the specified secret.');
    return s;
  }

  private notDeleted(s: Secret): void {
    if (s.deleted !== undefined) {
      throw new AwsError('InvalidRequestException', 'You can\'t perform this operation on the secret because it was marked for deletion.');
    }
  }

  private versionByStage(s: Secret, stage: string): Version | undefined {
    for (const v of s.versions.values()) if (v.stages.has(stage)) return v;
    return undefined;
  }

  private stagesMap(s: Secret): Record<string, string[]> {
    const out: Record<string, string[]> = {};
    for (const v of s.versions.values()) if (v.stages.size > 0) out[v.id] = [...v.stages];
    return out;
  }

  /** Attaches a label to a version, taking it from whichever version has it; AWSCURRENT drags AWSPREVIOUS along. */
  private attachStage(s: Secret, v: Version, stage: string): void {
    const holder = this.versionByStage(s, stage);
    if (holder === v) return;
    if (holder) holder.stages.delete(stage);
    v.stages.add(stage);
    if (stage === AWSCURRENT && holder) {
      const prev = this.versionByStage(s, AWSPREVIOUS);
      if (prev) prev.stages.delete(AWSPREVIOUS);
      holder.stages.add(AWSPREVIOUS);
    }
    // Versions without labels are deprecated; keep at most 100 versions like the service.
    if (s.versions.size > 100) {
      for (const [id, old] of s.versions) if (old.stages.size === 0) { s.versions.delete(id); break; }
    }
  }

  private secretValue(input: any): { SecretString?: string; SecretBinary?: string } | undefined {
    const hasString = input.SecretString !== undefined;
    const hasBinary = input.SecretBinary !== undefined;
    if (hasString && hasBinary) throw new AwsError('InvalidParameterException', 'You can\'t specify both a binary secret value and a string secret value in the same secret.');
    if (hasString) {
      if (typeof input.SecretString !== 'string') throw new AwsError('InvalidParameterException', 'SecretString must be a string.');
      if (Buffer.byteLength(input.SecretString) > 65536) throw new AwsError('InvalidParameterException', 'SecretString is too long (max 65536 bytes).');
      return { SecretString: input.SecretString };
    }
    if (hasBinary) return { SecretBinary: String(input.SecretBinary) };
    return undefined;
  }

  private validateToken(token: unknown): string | undefined {
    if (token === undefined) return undefined;
    if (typeof token !== 'string' || token.length < 32 || token.length > 64) {
      throw new AwsError('InvalidParameterException', 'ClientRequestToken must be 32 to 64 characters long.');
    }
    return token;
  }

  private validateTags(tags: unknown): { Key: string; Value: string }[] {
    if (tags === undefined) return [];
    if (!Array.isArray(tags)) throw new AwsError('InvalidParameterException', 'Tags must be a list.');
    for (const t of tags) {
      if (typeof t?.Key !== 'string' || t.Key.length === 0 || t.Key.length > 128) throw new AwsError('InvalidParameterException', 'Invalid tag key.');
      if (t.Value !== undefined && (typeof t.Value !== 'string' || t.Value.length > 256)) throw new AwsError('InvalidParameterException', 'Invalid tag value.');
    }
    return tags.map((t) => ({ Key: t.Key, Value: t.Value ?? '' }));
  }

  private event(e: Omit<RotationLifecycleEvent, 'time'>): void {
    this.events.push({ ...e, time: Date.now() });
    for (const w of [...this.eventWaiters]) { this.eventWaiters.delete(w); w(); }
  }

  // ---- operations ---------------------------------------------------------------------------------------------

  private createSecret(input: any, callerFunctionArn?: string) {
    const name = input.Name;
    if (typeof name !== 'string' || !NAME_RE.test(name)) {
      throw new AwsError('InvalidParameterException', 'Invalid name. Must be a valid name containing alphanumeric characters, or any of the following: -/_+=.@!');
    }
    if ([...this.createDenied].some((prefix) => name.startsWith(prefix))) {
      const fn = callerFunctionArn?.split(':')[6] ?? 'caller';
      const resource = `arn:aws:secretsmanager:${this.options.region}:${this.options.account}:secret:${name}`;
      throw new AwsError('AccessDeniedException', `User: arn:aws:sts::${this.options.account}:assumed-role/${fn}-role/${fn} is not authorized to perform: `
        + `secretsmanager:CreateSecret on resource: ${resource} because no identity-based policy allows the secretsmanager:CreateSecret action`);
    }
    const token = this.validateToken(input.ClientRequestToken) ?? randomUUID();
    const value = this.secretValue(input);
    const existing = [...this.secrets.values()].find((s) => s.name === name);
    if (existing) {
      if (existing.deleted !== undefined) {
        throw new AwsError('InvalidRequestException', 'You can\'t create this secret because a secret with this name is already scheduled for deletion.');
      }
      const v = existing.versions.get(token);
      if (v && JSON.stringify(v.value) === JSON.stringify(value)) return { ARN: existing.arn, Name: name, VersionId: token };
      throw new AwsError('ResourceExistsException', `The operation failed because the secret ${name} already exists.`);
    }
    const suffix = randomSuffix();
    const now = Date.now();
    const secret: Secret = {
      arn: `arn:aws:secretsmanager:${this.options.region}:${this.options.account}:secret:${name}-${suffix}`,
      name,
      seq: ++this.seq,
      description: input.Description,
      kmsKeyId: input.KmsKeyId,
      tags: this.validateTags(input.Tags),
      versions: new Map(),
      created: now,
      lastChanged: now,
      rotationEnabled: false,
    };
    if (value) secret.versions.set(token, { id: token, value, stages: new Set([AWSCURRENT]), created: now });
    this.secrets.set(secret.arn, secret);
    if (value?.SecretString !== undefined) this.onSecretStringStored?.(name, value.SecretString);
    return { ARN: secret.arn, Name: name, VersionId: value ? token : undefined };
  }

  private describeSecret(input: any) {
    const s = this.find(input.SecretId);
    return {
      ARN: s.arn,
      Name: s.name,
      Description: s.description,
      KmsKeyId: s.kmsKeyId,
      RotationEnabled: s.rotationEnabled,
      RotationLambdaARN: s.rotationLambdaArn,
      RotationRules: s.rotationRules,
      LastRotatedDate: epoch(s.lastRotated),
      LastChangedDate: epoch(s.lastChanged),
      LastAccessedDate: epoch(s.lastAccessed),
      DeletedDate: epoch(s.deletionDate),
      Tags: s.tags.length ? s.tags : undefined,
      VersionIdsToStages: this.stagesMap(s),
      CreatedDate: epoch(s.created),
    };
  }

  /** Versions with labels; with IncludeDeprecated also those without ("deprecated"), as the service lists them. */
  private listSecretVersionIds(input: any) {
    const s = this.find(input.SecretId);
    this.notDeleted(s);
    const versions = [...s.versions.values()]
      .filter((v) => input.IncludeDeprecated === true || v.stages.size > 0)
      .map((v) => ({ VersionId: v.id, VersionStages: v.stages.size ? [...v.stages] : undefined, CreatedDate: epoch(v.created) }));
    return { ARN: s.arn, Name: s.name, Versions: versions };
  }

  private getSecretValue(input: any) {
    const s = this.find(input.SecretId);
    this.notDeleted(s);
    const { VersionId: versionId, VersionStage: stage } = input;
    let v: Version | undefined;
    if (versionId !== undefined) {
      v = s.versions.get(versionId);
      if (v && stage !== undefined && !v.stages.has(stage)) v = undefined;
    } else {
      v = this.versionByStage(s, stage ?? AWSCURRENT);
    }
    if (!v || !v.value) {
      const what = [versionId !== undefined ? `VersionId: ${versionId}` : undefined, stage !== undefined || versionId === undefined ? `staging label: ${stage ?? AWSCURRENT}` : undefined]
        .filter(Boolean).join(' and ');
      throw new AwsError('ResourceNotFoundException', `Secrets Manager can't find the specified secret value for ${what}`);
    }
    s.lastAccessed = Date.now();
    return { ARN: s.arn, Name: s.name, VersionId: v.id, ...v.value, VersionStages: [...v.stages], CreatedDate: epoch(v.created) };
  }

  private putSecretValue(input: any) {
    const s = this.find(input.SecretId);
    this.notDeleted(s);
    const token = this.validateToken(input.ClientRequestToken) ?? randomUUID();
    const value = this.secretValue(input);
    if (!value) throw new AwsError('InvalidRequestException', 'You must provide either SecretString or SecretBinary.');
    const stages: string[] = input.VersionStages ?? [AWSCURRENT];
    if (!Array.isArray(stages) || stages.length > 20 || stages.some((x) => typeof x !== 'string' || x.length === 0 || x.length > 256)) {
      throw new AwsError('InvalidParameterException', 'Invalid VersionStages.');
    }
    const existing = s.versions.get(token);
    if (existing?.value) {
      if (JSON.stringify(existing.value) === JSON.stringify(value)) {
        return { ARN: s.arn, Name: s.name, VersionId: token, VersionStages: [...existing.stages] };
      }
      throw new AwsError('ResourceExistsException', 'You can\'t modify an existing version, you can only create a new version.');
    }
    const v: Version = existing ?? { id: token, stages: new Set(), created: Date.now() };
    v.value = value;
    s.versions.set(token, v);
    if (value.SecretString !== undefined) this.onSecretStringStored?.(s.name, value.SecretString);
    for (const stage of stages) this.attachStage(s, v, stage);
    s.lastChanged = Date.now();
    return { ARN: s.arn, Name: s.name, VersionId: token, VersionStages: [...v.stages] };
  }

  private putSecretValueCall(input: any, fromLambda: boolean) {
    const out = this.putSecretValue(input);
    const token = input.RotationToken;
    const issued = typeof token === 'string' && (this.issuedRotationTokens.get(out.ARN)?.has(token) ?? false);
    this.rotationTokens.push({
      time: Date.now(),
      secretArn: out.ARN,
      versionId: out.VersionId,
      fromLambda,
      rotationToken: token === undefined ? 'absent' : issued ? 'issued' : 'unknown',
    });
    return out;
  }

  /** A RotationToken for one invocation of the rotation function for `secretArn`. */
  private issueRotationToken(secretArn: string): string {
    const token = randomUUID();
    let set = this.issuedRotationTokens.get(secretArn);
    if (!set) { set = new Set(); this.issuedRotationTokens.set(secretArn, set); }
    set.add(token);
    return token;
  }

  private updateSecret(input: any) {
    const s = this.find(input.SecretId);
    this.notDeleted(s);
    if (input.Description !== undefined) s.description = input.Description;
    if (input.KmsKeyId !== undefined) s.kmsKeyId = input.KmsKeyId;
    s.lastChanged = Date.now();
    const value = this.secretValue(input);
    if (!value) return { ARN: s.arn, Name: s.name };
    const out = this.putSecretValue({ SecretId: s.arn, ClientRequestToken: input.ClientRequestToken, ...value });
    return { ARN: s.arn, Name: s.name, VersionId: out.VersionId };
  }

  private updateSecretVersionStage(input: any) {
    const s = this.find(input.SecretId);
    this.notDeleted(s);
    const stage = input.VersionStage;
    if (typeof stage !== 'string' || stage.length === 0) throw new AwsError('InvalidParameterException', 'You must provide a value for VersionStage.');
    const moveTo: string | undefined = input.MoveToVersionId;
    const removeFrom: string | undefined = input.RemoveFromVersionId;
    const holder = this.versionByStage(s, stage);
    if (removeFrom !== undefined && holder?.id !== removeFrom) {
      throw new AwsError('InvalidParameterException', `The staging label ${stage} isn't attached to the version ${removeFrom}.`);
    }
    if (moveTo === undefined) {
      if (removeFrom === undefined) throw new AwsError('InvalidParameterException', 'You must specify MoveToVersionId or RemoveFromVersionId.');
      if (stage === AWSCURRENT) {
        throw new AwsError('InvalidParameterException', 'You can\'t remove the staging label AWSCURRENT; move it to another version instead.');
      }
      holder!.stages.delete(stage);
    } else {
      const target = s.versions.get(moveTo);
      if (!target) throw new AwsError('ResourceNotFoundException', `Secrets Manager can't find the specified secret version ${moveTo}.`);
      if (holder && holder !== target && removeFrom === undefined) {
        throw new AwsError('InvalidParameterException',
          `The parameter RemoveFromVersionId can't be empty. Staging label ${stage} is currently attached to version ${holder.id}, so you must explicitly reference that version in RemoveFromVersionId.`);
      }
      this.attachStage(s, target, stage);
    }
    s.lastChanged = Date.now();
    return { ARN: s.arn, Name: s.name };
  }

  private listSecrets(input: any) {
    const max = input.MaxResults ?? 100;
    if (!Number.isInteger(max) || max < 1 || max > 100) throw new AwsError('InvalidParameterException', 'MaxResults must be between 1 and 100.');
    const filters: { Key: string; Values: string[] }[] = input.Filters ?? [];
    const valid = ['description', 'name', 'tag-key', 'tag-value', 'primary-region', 'owning-service', 'all'];
    for (const f of filters) {
      if (!valid.includes(f?.Key) || !Array.isArray(f.Values) || f.Values.length === 0) {
        throw new AwsError('InvalidParameterException', `Invalid filter key ${f?.Key}.`);
      }
    }
    const matchOne = (s: Secret, key: string, raw: string): boolean => {
      const negate = raw.startsWith('!');
      const v = negate ? raw.slice(1) : raw;
      const pre = (x: string | undefined, ci = false) => x !== undefined && (ci ? x.toLowerCase().startsWith(v.toLowerCase()) : x.startsWith(v));
      let hit: boolean;
      switch (key) {
        case 'name': hit = pre(s.name); break;
        case 'description': hit = pre(s.description, true); break;
        case 'tag-key': hit = s.tags.some((t) => pre(t.Key)); break;
        case 'tag-value': hit = s.tags.some((t) => pre(t.Value)); break;
        case 'primary-region': case 'owning-service': hit = false; break;
        default: {
          const words = [s.name, s.description ?? '', ...s.tags.flatMap((t) => [t.Key, t.Value])].flatMap((w) => w.split(/[\s/_+=.@-]+/));
          hit = words.some((w) => w.toLowerCase().startsWith(v.toLowerCase()));
        }
      }
      return negate ? !hit : hit;
    };
    let list = [...this.secrets.values()]
      .filter((s) => input.IncludePlannedDeletion || s.deleted === undefined)
      .filter((s) => filters.every((f) => f.Values.some((v) => matchOne(s, f.Key, v))));
    list.sort((a, b) => (input.SortOrder === 'asc' ? a.seq - b.seq : b.seq - a.seq));
    const start = input.NextToken ? Number(Buffer.from(String(input.NextToken), 'base64').toString('utf-8')) : 0;
    if (!Number.isInteger(start) || start < 0) throw new AwsError('InvalidNextTokenException', 'The NextToken value is invalid.');
    const page = list.slice(start, start + max);
    const next = start + max < list.length ? Buffer.from(String(start + max)).toString('base64') : undefined;
    list = page;
    return {
      SecretList: list.map((s) => {
        const d = this.describeSecret({ SecretId: s.arn });
        const { VersionIdsToStages, ...rest } = d;
        return { ...rest, SecretVersionsToStages: VersionIdsToStages };
      }),
      NextToken: next,
    };
  }

  private deleteSecret(input: any) {
    const s = this.find(input.SecretId);
    const force = input.ForceDeleteWithoutRecovery === true;
    if (force && input.RecoveryWindowInDays !== undefined) {
      throw new AwsError('InvalidParameterException', 'You can\'t use ForceDeleteWithoutRecovery in conjunction with RecoveryWindowInDays.');
    }
    const days = input.RecoveryWindowInDays ?? 30;
    if (!force && (!Number.isInteger(days) || days < 7 || days > 30)) {
      throw new AwsError('InvalidParameterException', 'The RecoveryWindowInDays value must be between 7 and 30 days (inclusive).');
    }
    const now = Date.now();
    if (force) {
      if (this.forceDeletePurgeMs > 0) {
        s.deleted ??= now;
        s.deletionDate = now + this.forceDeletePurgeMs;
        setTimeout(() => { if (this.secrets.get(s.arn) === s) this.secrets.delete(s.arn); }, this.forceDeletePurgeMs).unref();
      } else {
        this.secrets.delete(s.arn);
      }
      return { ARN: s.arn, Name: s.name, DeletionDate: epoch(now) };
    }
    if (s.deleted !== undefined) {
      throw new AwsError('InvalidRequestException', 'You can\'t perform this operation on the secret because it was already scheduled for deletion.');
    }
    s.deleted = now;
    s.deletionDate = now + days * 86_400_000;
    return { ARN: s.arn, Name: s.name, DeletionDate: epoch(s.deletionDate) };
  }

  private restoreSecret(input: any) {
    const s = this.find(input.SecretId);
    s.deleted = undefined;
    s.deletionDate = undefined;
    return { ARN: s.arn, Name: s.name };
  }

  private tagResource(input: any) {
    const s = this.find(input.SecretId);
    for (const t of this.validateTags(input.Tags)) {
      s.tags = s.tags.filter((x) => x.Key !== t.Key).concat([t]);
    }
    return {};
  }

  private untagResource(input: any) {
    const s = this.find(input.SecretId);
    const keys: string[] = input.TagKeys ?? [];
    s.tags = s.tags.filter((t) => !keys.includes(t.Key));
    return {};
  }

  private cancelRotateSecret(input: any) {
    const s = this.find(input.SecretId);
    this.notDeleted(s);
    s.rotationEnabled = false;
    const pending = this.versionByStage(s, AWSPENDING);
    return { ARN: s.arn, Name: s.name, VersionId: pending?.id };
  }

  private rotateSecret(input: any) {
    const s = this.find(input.SecretId);
    this.notDeleted(s);
    const lambdaArn: string | undefined = input.RotationLambdaARN ?? s.rotationLambdaArn;
    if (!lambdaArn) throw new AwsError('InvalidRequestException', 'No Lambda rotation function ARN is associated with this secret.');
    const m = /^arn:aws:lambda:([a-z0-9-]+):(\d{12}):function:([A-Za-z0-9_-]{1,64})(:[A-Za-z0-9_$-]+)?$/.exec(lambdaArn);
    if (!m) throw new AwsError('InvalidParameterException', 'RotationLambdaARN is not a valid Lambda function ARN.');
    if (m[1] !== this.options.region || m[2] !== this.options.account) {
      throw new AwsError('AccessDeniedException', 'Secrets Manager cannot invoke the specified Lambda function. Ensure that the function policy grants access to the principal secretsmanager.amazonaws.com.');
    }
    const rules = input.RotationRules;
    if (rules !== undefined) validateRotationRules(rules);
    if (s.rotating) throw new AwsError('InvalidRequestException', 'A previous rotation isn\'t complete. That rotation will be reattempted.');
    const token = this.validateToken(input.ClientRequestToken) ?? randomUUID();
    const immediately = input.RotateImmediately !== false;
    if (!this.versionByStage(s, AWSCURRENT)) throw new AwsError('InvalidRequestException', 'The secret has no AWSCURRENT version to rotate.');
    const pending = this.versionByStage(s, AWSPENDING);
    // "If the AWSPENDING staging label is present but not attached to the same version as AWSCURRENT, then any later
    // invocation of RotateSecret assumes that a previous rotation request is still in progress and returns an error."
    if (pending && !pending.stages.has(AWSCURRENT)) {
      throw new AwsError('InvalidRequestException', 'A previous rotation isn\'t complete. That rotation will be reattempted.');
    }
    s.rotationEnabled = true;
    s.rotationLambdaArn = lambdaArn;
    if (rules !== undefined) s.rotationRules = rules;
    s.lastChanged = Date.now();
    const existing = s.versions.get(token);
    if (!immediately) {
      // "Secrets Manager tests the rotation configuration by running the testSecret step of the Lambda rotation
      // function. The test creates an AWSPENDING version of the secret and then removes it."
      if (existing) throw new AwsError('InvalidRequestException', 'A version with this ClientRequestToken already exists.');
      s.versions.set(token, { id: token, stages: new Set(), created: Date.now() });
      this.attachStage(s, s.versions.get(token)!, AWSPENDING);
      s.rotating = token;
      this.track(this.runTestRotation(s, lambdaArn, token));
      return { ARN: s.arn, Name: s.name };
    }
    if (existing?.stages.has(AWSCURRENT)) return { ARN: s.arn, Name: s.name, VersionId: token };
    if (!existing) s.versions.set(token, { id: token, stages: new Set(), created: Date.now() });
    this.attachStage(s, s.versions.get(token)!, AWSPENDING);
    s.rotating = token;
    this.track(this.runRotation(s, lambdaArn, token));
    return { ARN: s.arn, Name: s.name, VersionId: token };
  }

  private track(p: Promise<void>): void {
    this.rotations.add(p);
    void p.finally(() => this.rotations.delete(p));
  }

  private async invoke(functionArn: string, event: RotationEvent): Promise<void> {
    if (!this.invoker) throw new Error('no Lambda runner is attached to the local Secrets Manager');
    await this.invoker(functionArn, event);
  }

  private async runRotation(s: Secret, functionArn: string, token: string): Promise<void> {
    const base = { secretArn: s.arn, secretName: s.name, token, functionArn };
    const retries = this.options.rotationRetries ?? 2;
    this.event({ type: 'RotationStarted', ...base });
    await new Promise((r) => setImmediate(r));
    let failure: { step: string; error: string } | undefined;
    try {
      for (let attempt = 0; attempt <= retries; attempt++) {
        failure = undefined;
        for (const step of ROTATION_STEPS) {
          try {
            await this.invoke(functionArn, { Step: step, SecretId: s.arn, ClientRequestToken: token, RotationToken: this.issueRotationToken(s.arn) });
          } catch (e) {
            failure = { step, error: (e as Error).message };
            break;
          }
        }
        if (!failure) break;
        this.event({ type: 'RotationAttemptFailed', ...base, attempt, ...failure });
        if (attempt < retries && !this.stopping) await sleep(this.options.rotationRetryDelayMs ?? 200);
        if (this.stopping) break;
      }
    } finally {
      s.rotating = undefined;
    }
    if (failure) {
      this.event({ type: 'RotationFailed', ...base, ...failure });
      return;
    }
    const v = s.versions.get(token);
    if (v?.stages.has(AWSCURRENT)) v.stages.delete(AWSPENDING);
    s.lastRotated = Date.now();
    this.event({ type: 'RotationSucceeded', ...base });
  }

  private async runTestRotation(s: Secret, functionArn: string, token: string): Promise<void> {
    const base = { secretArn: s.arn, secretName: s.name, token, functionArn };
    this.event({ type: 'TestRotationStarted', ...base });
    try {
      await this.invoke(functionArn, { Step: 'testSecret', SecretId: s.arn, ClientRequestToken: token, RotationToken: this.issueRotationToken(s.arn) });
      this.event({ type: 'TestRotationSucceeded', ...base });
    } catch (e) {
      this.event({ type: 'TestRotationFailed', ...base, step: 'testSecret', error: (e as Error).message });
    } finally {
      s.versions.delete(token);
      s.rotating = undefined;
    }
  }
}

function validateRotationRules(rules: any): void {
  if (typeof rules !== 'object' || rules === null) throw new AwsError('InvalidParameterException', 'RotationRules must be an object.');
  const { AutomaticallyAfterDays: days, Duration: duration, ScheduleExpression: expr } = rules;
  if (days !== undefined && expr !== undefined) {
    throw new AwsError('InvalidParameterException', 'You can\'t specify both AutomaticallyAfterDays and ScheduleExpression.');
  }
  if (days !== undefined && (!Number.isInteger(days) || days < 1 || days > 1000)) {
    throw new AwsError('InvalidParameterException', 'AutomaticallyAfterDays must be between 1 and 1000.');
  }
  if (duration !== undefined && !/^[0-9]{1,2}h$/.test(duration)) {
    throw new AwsError('InvalidParameterException', 'Duration must be a number of hours, such as 3h.');
  }
  if (expr !== undefined && !/^(rate\(\d+ (hours|days)\)|cron\(.+\))$/.test(expr)) {
    throw new AwsError('InvalidParameterException', 'ScheduleExpression must be a rate() or cron() expression.');
  }
}

function randomSuffix(): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  let out = '';
  for (const b of randomBytes(6)) out += alphabet[b % alphabet.length];
  return out;
}

/**
 * GetRandomPassword by the service's rules: PasswordLength 1-4096 (default 32), the Exclude* switches,
 * IncludeSpace (default false), RequireEachIncludedType (default true): at least one character of each included
 * type that still has characters after ExcludeCharacters. Uses crypto.randomInt.
 */
export function generatePassword(input: any = {}): string {
  const length = input.PasswordLength ?? 32;
  if (!Number.isInteger(length) || length < 1 || length > 4096) {
    throw new AwsError('InvalidParameterException', 'Password length must be between 1 and 4096.');
  }
  const exclude: string = input.ExcludeCharacters ?? '';
  if (typeof exclude !== 'string' || exclude.length > 4096) throw new AwsError('InvalidParameterException', 'ExcludeCharacters is too long.');
  const classes: string[] = [];
  if (!input.ExcludeUppercase) classes.push('ABCDEFGHIJKLMNOPQRSTUVWXYZ');
  if (!input.ExcludeLowercase) classes.push('abcdefghijklmnopqrstuvwxyz');
  if (!input.ExcludeNumbers) classes.push('0123456789');
  if (!input.ExcludePunctuation) classes.push(PUNCTUATION);
  if (input.IncludeSpace) classes.push(' ');
  const included = classes.map((c) => [...c].filter((ch) => !exclude.includes(ch)).join('')).filter((c) => c.length > 0);
  const all = included.join('');
  if (all.length === 0) throw new AwsError('InvalidParameterException', 'The password can\'t be generated: every character is excluded.');
  const requireEach = input.RequireEachIncludedType !== false;
  if (requireEach && length < included.length) {
    throw new AwsError('InvalidParameterException', 'The password length is too short to include a character of each required type.');
  }
  for (;;) {
    const chars = Array.from({ length }, () => all[randomInt(all.length)]);
    if (!requireEach || included.every((c) => chars.some((ch) => c.includes(ch)))) return chars.join('');
  }
}
