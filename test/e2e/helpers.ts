/**
 * Shared helpers of the end-to-end suites: a local stack tuned for fast rotations, users and secrets, rotations
 * through RotateSecret, a client that keeps logging in with AWSCURRENT, database snapshots, and the checks that no
 * password ever left the secrets (Lambda logs, invocation errors, lifecycle events, Data API SQL, PostgreSQL's log).
 *
 * Nothing here ever prints a password: failures report counts and names only.
 */
import { randomBytes, randomUUID } from 'crypto';
import { ListStatementsCommand, RedshiftDataClient } from '@aws-sdk/client-redshift-data';
import {
  CreateSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  ListSecretsCommand,
  RotateSecretCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import * as cdk from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { functionFromTemplate } from '../../local-stack/iam';
import type { FunctionIam } from '../../local-stack/iam';
import { startLocalStack } from '../../local-stack/local-stack';
import type { CallRecord, LocalStack, LocalStackOptions, RotationLifecycleEvent } from '../../local-stack/local-stack';
import { rewriteStatement } from '../../local-stack/shim';
import { RedshiftRotationFunction, RedshiftRotationFunctionProps, RedshiftSecretRotation, RedshiftTarget, RotationStrategy } from '../../src';

export type Strategy = 'SINGLE_USER' | 'ALTERNATING_USERS';
export type Target = 'cluster' | 'workgroup';

/** Handler settings that keep rotations fast on the local stack (no latency to wait for). */
export const FAST_ENV: Record<string, string> = { STATEMENT_POLL_MS: '10' };

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** A password Redshift accepts: upper, lower, digit, punctuation; 24 characters. Never printed. */
export function newPassword(): string {
  const alphabet = 'ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz23456789!#%+-=';
  let out = 'Aa1!';
  for (const b of randomBytes(20)) out += alphabet[b % alphabet.length];
  return out;
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return 0;
  const s = [...values].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : Math.round((s[m - 1] + s[m]) / 2);
}

export interface UserSecret {
  readonly arn: string;
  readonly name: string;
  readonly username: string;
  readonly strategy: Strategy;
  readonly target: Target;
}

export interface SecretValue {
  readonly versionId: string;
  readonly username: string;
  readonly password: string;
  readonly [key: string]: unknown;
}

/** A secret of a construct scenario: what the construct is told about it (its target, key, master and master's key). */
export interface ScenarioSecret {
  readonly arn: string;
  readonly target: Target;
  readonly strategy: Strategy;
  /** the secret's customer managed KMS key (ARN), given to the construct as the secret's `encryptionKey` */
  readonly kmsKeyId?: string;
  /** ALTERNATING_USERS: the master secret given to the construct */
  readonly masterArn?: string;
  /** the master secret's customer managed KMS key (ARN), given as the master's `encryptionKey` */
  readonly masterKmsKeyId?: string;
}

/** The construct a suite tests: its rotations (one `RedshiftSecretRotation` per secret) and the function's props. */
export interface ConstructScenario {
  /** @default one ALTERNATING_USERS rotation per target, with the suite's master secrets (rotated secrets need no ARN: the role's grant is conditioned on their rotation function) */
  readonly secrets?: readonly ScenarioSecret[];
  /** rotations added to `secrets` (or to the default scenario) */
  readonly also?: readonly ScenarioSecret[];
  readonly functionProps?: RedshiftRotationFunctionProps;
  /** the local function to configure. @default the stack's default function */
  readonly functionArn?: string;
  /** variables added to the construct's environment (after it). @default FAST_ENV */
  readonly env?: Record<string, string>;
}

/** One end-to-end environment: the local stack, an SDK client, master secrets for both targets. */
export class E2e {
  /**
   * Starts a local stack: no statement latency, small rotation retry delay, handler polling every 10 ms, and
   * every statement PostgreSQL runs written to its log (checked by {@link E2e.expectNoPasswordLeaked}).
   * Unless `iam` is false, the default function runs as the construct would deploy it ({@link E2e.useConstruct}
   * with the default scenario): its environment and its role policy, every call authorized against it.
   */
  static async start(options: LocalStackOptions & { readonly iam?: boolean } = {}): Promise<E2e> {
    const pgLog: string[] = [];
    const stack = await startLocalStack({
      rotationRetryDelayMs: 20,
      statementLatencyMs: 0,
      defaultFunction: { env: FAST_ENV },
      onPostgresLog: (line) => pgLog.push(line),
      ...options,
    });
    const e = new E2e(stack, pgLog);
    await stack.adminQuery('ALTER SYSTEM SET log_statement = \'all\'');
    await stack.adminQuery('SELECT pg_reload_conf()');
    if (options.iam !== false) await e.useConstruct();
    return e;
  }

  /** Every PostgreSQL server log line (statements are logged: log_statement = all). */
  readonly pgLog: string[];
  /** Every password the suite created or saw (for the leak checks); never printed. */
  readonly passwords = new Set<string>();
  readonly sm: SecretsManagerClient;
  readonly data: RedshiftDataClient;
  private readonly masters = new Map<Target, string>();
  private names = 0;

  private constructor(readonly stack: LocalStack, pgLog: string[]) {
    this.pgLog = pgLog;
    // the suite's own clients retry (a keep-alive socket closed by the endpoint under load is not a finding)
    this.sm = stack.secretsManagerClient({ maxAttempts: 4 });
    this.data = stack.redshiftDataClient({ maxAttempts: 4 });
    this.passwords.add(stack.postgres.adminPassword);
  }

  /**
   * Synthesizes the construct of a scenario (a `RedshiftRotationFunction` with `functionProps`, a
   * `RedshiftSecretRotation` per secret, told its target, KMS key, master and master's key) and runs the local
   * function as deployed: the function's environment from the template (plus `env`), and its role's policies,
   * against which the local Secrets Manager and Data API authorize each of its calls. Returns both.
   */
  async useConstruct(scenario: ConstructScenario = {}): Promise<{ env: Record<string, string>; iam: FunctionIam }> {
    const { account, region } = this.stack;
    const secrets: ScenarioSecret[] = [...scenario.secrets ?? await Promise.all((['cluster', 'workgroup'] as const).map(async (target) => ({
      arn: `arn:aws:secretsmanager:${region}:${account}:secret:app/scenario-${target}-AbCdEf`,
      target,
      strategy: 'ALTERNATING_USERS' as const,
      masterArn: await this.masterArn(target),
    }))), ...scenario.also ?? []];
    const app = new cdk.App();
    const stack = new cdk.Stack(app, 'E2eScenario', { env: { account, region } });
    const fn = new RedshiftRotationFunction(stack, 'RedshiftRotationFunction', scenario.functionProps);
    const key = (id: string, arn: string | undefined) => (arn ? kms.Key.fromKeyArn(stack, id, arn) : undefined);
    secrets.forEach((s, i) => {
      new RedshiftSecretRotation(stack, `Rotation${i}`, {
        rotationFunction: fn,
        target: s.target === 'cluster'
          ? RedshiftTarget.cluster(this.stack.clusterIdentifier)
          : RedshiftTarget.workgroup(this.stack.workgroupName, { workgroupArn: this.stack.workgroupArn }),
        strategy: s.strategy === 'SINGLE_USER' ? RotationStrategy.SINGLE_USER : RotationStrategy.ALTERNATING_USERS,
        secret: secretsmanager.Secret.fromSecretAttributes(stack, `Secret${i}`, { secretCompleteArn: s.arn, encryptionKey: key(`Key${i}`, s.kmsKeyId) }),
        masterSecret: s.masterArn
          ? secretsmanager.Secret.fromSecretAttributes(stack, `Master${i}`, { secretCompleteArn: s.masterArn, encryptionKey: key(`MasterKey${i}`, s.masterKmsKeyId) })
          : undefined,
      });
    });
    const template = Template.fromStack(stack).toJSON();
    const functionArn = scenario.functionArn ?? this.stack.functionArn();
    const fnId = stack.getLogicalId(fn.lambdaFunction.node.defaultChild as cdk.CfnElement);
    const deployed = functionFromTemplate(template, functionArn, { partition: 'aws', region, account }, {}, fnId);
    const env = { ...deployed.env, ...(scenario.env ?? FAST_ENV) };
    this.stack.registerFunction(functionArn, { env, iam: deployed.iam });
    return { env, iam: deployed.iam };
  }

  async stop(): Promise<void> {
    this.sm.destroy();
    this.data.destroy();
    await this.stack.stop();
  }

  /** A unique lower-case name with a prefix. */
  uniqueName(prefix: string): string {
    return `${prefix}_${++this.names}_${randomBytes(3).toString('hex')}`;
  }

  /** Runs a Redshift statement as the admin, through the shim's rewriter (CREATE ROLE, GRANT ROLE, …). */
  async redshift(sql: string): Promise<void> {
    for (const s of rewriteStatement(sql)) await this.stack.adminQuery(s);
  }

  /** The master secret (the admin user) for a target. */
  async masterArn(target: Target): Promise<string> {
    let arn = this.masters.get(target);
    if (!arn) {
      const { adminUser, adminPassword } = this.stack.postgres;
      arn = (await this.stack.createSecret({ name: `master-${target}`, username: adminUser, password: adminPassword, target })).arn;
      this.masters.set(target, arn);
    }
    return arn;
  }

  /** Creates a database user and its secret for a strategy and a target. */
  async newUser(strategy: Strategy, target: Target, prefix = strategy === 'SINGLE_USER' ? 'su' : 'au'): Promise<UserSecret> {
    const username = this.uniqueName(prefix);
    const password = newPassword();
    this.passwords.add(password);
    await this.stack.createUser(username, password);
    const masterArn = strategy === 'ALTERNATING_USERS' ? await this.masterArn(target) : undefined;
    const s = await this.stack.createSecret({ name: `app/${username}`, username, password, target, strategy, masterArn });
    return { arn: s.arn, name: s.name, username, strategy, target };
  }

  /** Creates a secret with any SecretString (for bad input); returns its ARN. */
  async rawSecret(name: string, secretString: string, tags?: Record<string, string>): Promise<string> {
    const out = await this.sm.send(new CreateSecretCommand({
      Name: name, SecretString: secretString, Tags: tags ? Object.entries(tags).map(([Key, Value]) => ({ Key, Value })) : undefined,
    }));
    return out.ARN!;
  }

  /** The value of a version (by stage), or undefined. Remembers the password. */
  async value(arn: string, stage = 'AWSCURRENT'): Promise<SecretValue | undefined> {
    try {
      const out = await this.sm.send(new GetSecretValueCommand({ SecretId: arn, VersionStage: stage }));
      let parsed: Record<string, unknown>;
      try {
        parsed = JSON.parse(out.SecretString!);
      } catch {
        // a bad-input secret: its whole text counts as a password for the leak checks
        this.passwords.add(out.SecretString ?? '');
        parsed = {};
      }
      if (typeof parsed?.password === 'string') this.passwords.add(parsed.password);
      return { username: '', password: '', ...parsed, versionId: out.VersionId! };
    } catch (e) {
      if ((e as Error).name === 'ResourceNotFoundException') return undefined;
      throw e;
    }
  }

  /** Staging labels: version id → labels. */
  async stages(arn: string): Promise<Record<string, string[]>> {
    const d = await this.sm.send(new DescribeSecretCommand({ SecretId: arn }));
    const out: Record<string, string[]> = {};
    for (const [v, labels] of Object.entries(d.VersionIdsToStages ?? {})) out[v] = [...labels].sort();
    return out;
  }

  /** Whether the credentials of a version log in to the database. */
  async versionLogsIn(arn: string, stage = 'AWSCURRENT'): Promise<boolean> {
    const v = await this.value(arn, stage);
    if (!v) throw new Error(`${arn} has no ${stage}`);
    return this.stack.canLogin(v.username, v.password);
  }

  /**
   * RotateSecret and wait for the rotation's outcome. `functionArn` defaults to the stack's default function.
   * Returns the outcome event, the token and the wall time from the request to the outcome.
   */
  async rotate(arn: string, options: { functionArn?: string; timeoutMs?: number; token?: string } = {}): Promise<Rotation> {
    const t0 = Date.now();
    const out = await this.sm.send(new RotateSecretCommand({
      SecretId: arn, RotationLambdaARN: options.functionArn ?? this.stack.functionArn(), ClientRequestToken: options.token,
    }));
    const token = out.VersionId!;
    const event = await this.stack.waitForRotation(arn, { token, timeoutMs: options.timeoutMs ?? 60_000, after: t0 });
    return { token, event, ms: Date.now() - t0, started: t0 };
  }

  /** Like {@link rotate}, and fails (with the step and error, which carry no password) unless it succeeded. */
  async rotateOk(arn: string, options: { functionArn?: string; timeoutMs?: number } = {}): Promise<Rotation> {
    const r = await this.rotate(arn, options);
    if (r.event.type !== 'RotationSucceeded') {
      throw new Error(`rotation of ${arn} ended ${r.event.type} at ${r.event.step}: ${this.redact(r.event.error)}`);
    }
    return r;
  }

  /** Lifecycle events of a rotation (by token). */
  eventsOf(token: string): RotationLifecycleEvent[] {
    return this.stack.events.filter((e) => e.token === token);
  }

  /** Calls made by the Lambda while rotating a secret, from `sinceSeq` on (oldest first). */
  lambdaCalls(arn: string, sinceSeq = 0): CallRecord[] {
    return this.stack.faults.calls({ fromLambda: true }).filter((c) => c.lambda?.rotatedSecretArn === arn && c.seq > sinceSeq);
  }

  /**
   * The write batches the Lambda sent while rotating a secret: every BatchExecuteStatement but the catalog reads
   * (a batch of SELECTs only).
   */
  writeBatches(arn: string, sinceSeq = 0): CallRecord[] {
    return this.lambdaCalls(arn, sinceSeq).filter((c) => c.operation === 'BatchExecuteStatement'
      && !(c.statementKinds ?? []).every((kind) => kind === 'SELECT'));
  }

  /** The highest call sequence number so far. */
  lastSeq(): number {
    const all = this.stack.faults.calls();
    return all.length ? all[all.length - 1].seq : 0;
  }

  /**
   * The single-user window of a rotation: from the first `ALTER USER` statement submitted in setSecret to the last
   * UpdateSecretVersionStage of finishSecret (the one that moved AWSCURRENT).
   */
  singleUserWindow(arn: string, sinceSeq: number): { start: number; end: number; ms: number } {
    const calls = this.lambdaCalls(arn, sinceSeq);
    const alter = calls.find((c) => c.lambda?.step === 'setSecret' && c.operation === 'ExecuteStatement'
      && (c.statementKinds ?? []).includes('ALTER USER'));
    const finish = calls.filter((c) => c.lambda?.step === 'finishSecret' && c.operation === 'UpdateSecretVersionStage').pop();
    if (!alter || !finish) throw new Error(`no ALTER USER or no finishSecret UpdateSecretVersionStage for ${arn} in the call log`);
    return { start: alter.time, end: finish.time, ms: finish.time - alter.time };
  }

  /** The probe secrets that still exist (there must be none after a rotation). */
  async probeSecrets(): Promise<string[]> {
    const out = await this.sm.send(new ListSecretsCommand({ Filters: [{ Key: 'name', Values: ['redshift-rotation-probe/'] }], MaxResults: 100 }));
    return (out.SecretList ?? []).map((s) => s.Name!);
  }

  /**
   * Every password ever stored in the local Secrets Manager (all versions of all secrets, probes included, while
   * they exist) plus the ones this suite saw: the leak checks look for each of them.
   */
  allPasswords(): string[] {
    type Store = Map<string, { versions: Map<string, { value?: { SecretString?: string } }> }>;
    const store = (this.stack.secretsManager as unknown as { secrets?: Store }).secrets;
    if (!(store instanceof Map)) throw new Error('the local Secrets Manager no longer keeps its secrets in `secrets`; update allPasswords()');
    for (const s of store.values()) {
      for (const v of s.versions.values()) {
        const text = v.value?.SecretString;
        if (!text) continue;
        try {
          const p = JSON.parse(text)?.password;
          if (typeof p === 'string' && p.length > 0) this.passwords.add(p);
        } catch {
          // not JSON: a bad-input secret; its whole text stands for the password
          this.passwords.add(text);
        }
      }
    }
    return [...this.passwords].filter((p) => p.length >= 6);
  }

  /** The text with every known password replaced: what the suite may print (a leak must not reach test output). */
  redact(text: string | undefined): string {
    let out = text ?? '';
    for (const p of this.allPasswords().sort((a, b) => b.length - a.length)) out = out.split(p).join('[PASSWORD]');
    return out;
  }

  /** All SQL texts the local Data API received, via ListStatements (batches: each statement). */
  async dataApiSql(): Promise<string[]> {
    const out = await this.data.send(new ListStatementsCommand({ MaxResults: 1_000_000, Status: 'ALL', RoleLevel: false }));
    const sqls: string[] = [];
    for (const s of out.Statements ?? []) {
      if (s.QueryString) sqls.push(s.QueryString);
      for (const q of s.QueryStrings ?? []) sqls.push(q);
    }
    return sqls;
  }

  /**
   * Fails when any password (old or new, the master's included) appears in what the handler logged, in an
   * invocation error, in a lifecycle event, in the SQL the Data API received or in PostgreSQL's statement log; and
   * when a PASSWORD clause carries anything but an md5 verifier. Returns what was checked (counts).
   */
  async expectNoPasswordLeaked(): Promise<{ passwords: number; logLines: number; sql: number; pgLines: number }> {
    const passwords = this.allPasswords();
    const sql = await this.dataApiSql();
    const haystacks: Array<[string, string]> = [
      ...this.stack.lambdaLogs.map((l) => ['lambda log', l.message] as [string, string]),
      ...this.stack.invocations.map((i) => ['invocation error', `${i.errorType ?? ''} ${i.errorMessage ?? ''}`] as [string, string]),
      ...this.stack.events.map((e) => ['lifecycle event', JSON.stringify(e)] as [string, string]),
      ...sql.map((s) => ['Data API SQL', s] as [string, string]),
      ...this.pgLog.map((l) => ['PostgreSQL log', l] as [string, string]),
    ];
    const leaks: string[] = [];
    for (const [where, text] of haystacks) {
      for (const p of passwords) {
        // JSON-escaped form too (a password inside a logged JSON document)
        if (text.includes(p) || text.includes(JSON.stringify(p).slice(1, -1))) leaks.push(where);
      }
    }
    expect({ leaks: [...new Set(leaks)], count: leaks.length }).toEqual({ leaks: [], count: 0 });
    // every PASSWORD clause with a literal carries an md5 verifier, never a password
    const passwordClauses = [...sql, ...this.pgLog].flatMap((s) => s.match(/\bPASSWORD\s+(E?'[^']*'|\$[A-Za-z_]*\$)/gi) ?? []);
    const notMd5 = passwordClauses.filter((c) => !/^PASSWORD\s+'md5[0-9a-f]{32}'$/i.test(c));
    expect({ passwordClauses: passwordClauses.length > 0, notMd5: notMd5.length }).toEqual({ passwordClauses: true, notMd5: 0 });
    // the checks looked at something: the handler logged, statements ran, PostgreSQL logged them
    expect(this.stack.lambdaLogs.length).toBeGreaterThan(0);
    expect(sql.length).toBeGreaterThan(0);
    expect(this.pgLog.some((l) => /statement:/.test(l))).toBe(true);
    return { passwords: passwords.length, logLines: this.stack.lambdaLogs.length, sql: sql.length, pgLines: this.pgLog.length };
  }

  /** The handler's structured step log lines (JSON on stdout). */
  stepLogs(): Array<{ secretArn: string | null; step: string | null; strategy: string | null; durationMs: number; outcome: string; error?: string }> {
    const out = [];
    for (const l of this.stack.lambdaLogs) {
      if (l.stream !== 'stdout') continue;
      try {
        const j = JSON.parse(l.message);
        if (j && typeof j === 'object' && 'outcome' in j && 'step' in j) out.push(j);
      } catch {
        // not a step line
      }
    }
    return out;
  }

  /** A snapshot of users, passwords (verifiers), attributes, memberships and grants, to prove nothing changed. */
  async dbSnapshot(): Promise<unknown> {
    const q = (sql: string) => this.stack.adminQuery(sql);
    return {
      users: await q(`SELECT rolname, rolpassword, rolcanlogin, rolcreatedb, rolsuper, rolconnlimit, rolvaliduntil::text AS valid
        FROM pg_authid WHERE rolname !~ '^pg_' ORDER BY rolname`),
      attributes: await q('SELECT r.rolname, a.syslog_access, a.session_timeout FROM redshift_shim.user_attributes a JOIN pg_roles r ON r.oid = a.usesysid ORDER BY 1'),
      members: await q(`SELECT r.rolname AS role, m.rolname AS member FROM pg_auth_members x
        JOIN pg_roles r ON r.oid = x.roleid JOIN pg_roles m ON m.oid = x.member ORDER BY 1, 2`),
      relations: await q(`SELECT n.nspname, c.relname, c.relacl::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'redshift_shim') AND n.nspname !~ '^pg_' ORDER BY 1, 2`),
      schemas: await q('SELECT nspname, nspacl::text FROM pg_namespace ORDER BY 1'),
      databases: await q('SELECT datname, datacl::text FROM pg_database ORDER BY 1'),
    };
  }
}

export interface Rotation {
  readonly token: string;
  readonly event: RotationLifecycleEvent;
  readonly ms: number;
  readonly started: number;
}

export interface LoginAttempt {
  /** When the client asked for AWSCURRENT. */
  readonly readAt: number;
  /** When the login attempt ended. */
  readonly endAt: number;
  readonly versionId: string;
  readonly ok: boolean;
  /** For a failure: why (authentication failure or another error name); never a password. */
  readonly reason?: string;
}

/**
 * A client that, like an application, reads AWSCURRENT and logs in to the database, again and again every
 * `intervalMs`, until stopped. Every attempt is recorded with its timestamps.
 */
export class LoginClient {
  readonly attempts: LoginAttempt[] = [];
  private running = true;
  private readonly loop: Promise<void>;

  constructor(private readonly e: E2e, private readonly secretArn: string, private readonly intervalMs = 3) {
    this.loop = this.run();
  }

  private async run(): Promise<void> {
    while (this.running) {
      const readAt = Date.now();
      let versionId = '';
      try {
        const v = await this.e.value(this.secretArn);
        versionId = v!.versionId;
        const ok = await this.e.stack.canLogin(v!.username, v!.password);
        this.attempts.push({ readAt, endAt: Date.now(), versionId, ok, reason: ok ? undefined : 'authentication failed' });
      } catch (err) {
        this.attempts.push({ readAt, endAt: Date.now(), versionId, ok: false, reason: (err as Error).name || 'Error' });
      }
      if (this.intervalMs > 0) await sleep(this.intervalMs);
    }
  }

  /** Stops the loop and returns every attempt. */
  async stop(): Promise<LoginAttempt[]> {
    this.running = false;
    await this.loop;
    return this.attempts;
  }

  get failures(): LoginAttempt[] {
    return this.attempts.filter((a) => !a.ok);
  }
}

/** Failed attempts that do not overlap any of the windows (an attempt overlaps when it read before the window
 * ended and finished after it started). */
export function failuresOutside(attempts: readonly LoginAttempt[], windows: ReadonlyArray<{ start: number; end: number }>): LoginAttempt[] {
  return attempts.filter((a) => !a.ok && !windows.some((w) => a.readAt <= w.end && a.endAt >= w.start));
}

/** A fresh ClientRequestToken. */
export const newToken = () => randomUUID();

/** Prints one line through the test's console (figures only). */
export function report(line: string): void {
  process.stdout.write(`[e2e] ${line}\n`);
}
