/**
 * The demo (`npm run demo`, README's first command): synthesizes the example app (examples/app.ts) and prints what
 * it provisions, then deploys each of its stacks into a local stack of its own (embedded PostgreSQL + local Secrets
 * Manager + local Redshift Data API + the bundled rotation handler) that holds only the admin user, as a fresh
 * cluster or workgroup does: the admin secrets get the admin's password (what CloudFormation sets as
 * MasterUserPassword / AdminUserPassword), the user secrets the template's JSON and tags with a generated password,
 * and the rotation function runs with the template's environment and role policy (every call authorized against
 * it). No user is created by hand: the first rotation of each user secret creates its user. Each secret is rotated
 * several times while a client keeps logging in with AWSCURRENT (the admin secrets first, single-user, then the
 * users, whose master is the rotated admin), and a table is printed: strategy, rotations, median rotation ms,
 * failed logins, single-user window ms.
 *
 *   npm run demo                 # human-readable
 *   npm run -s demo -- --json    # one JSON line on stdout, nothing else
 *   options: --rotations N (default 5 per secret)
 *
 * Exits 0 when every rotation succeeded (the first one of each secret included), every user secret's user was
 * created by its first rotation, and the invariants held (no failed login for ALTERNATING_USERS, SINGLE_USER
 * failures only inside the window between ALTER USER and finishSecret), 1 otherwise. No password is ever printed.
 */
import { randomBytes } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
// the SDK and pg are devDependencies: the demo runs from a clone, never from the published package
// eslint-disable-next-line import/no-extraneous-dependencies
import { CreateSecretCommand, GetSecretValueCommand, RotateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
// eslint-disable-next-line import/no-extraneous-dependencies
import { Client } from 'pg';
import { buildExampleApp } from './app';
import { localReferences, resolveIntrinsics, rolePolicies } from '../local-stack/iam';
import type { Pseudo, ReferenceResolver } from '../local-stack/iam';
import { startLocalStack } from '../local-stack/local-stack';
import type { LocalStack } from '../local-stack/local-stack';

export type Strategy = 'SINGLE_USER' | 'ALTERNATING_USERS';

/** One row of the result table (the `--json` shape). */
export interface StrategyResult {
  readonly strategy: Strategy;
  readonly rotations: number;
  readonly medianRotationMs: number;
  readonly failedLogins: number;
  /** Median window between ALTER USER and finishSecret (SINGLE_USER); 0 for ALTERNATING_USERS, which has none. */
  readonly windowMs: number;
}

/** What happened to one secret of the app (the `--json` shape). */
export interface SecretResult {
  /** `<stack>/<logical id>` of the secret in the synthesized app. */
  readonly id: string;
  readonly username: string;
  readonly strategy: Strategy;
  /** Successful rotations (stops at the first failure). */
  readonly rotations: number;
  /** Whether the secret's first rotation succeeded. */
  readonly firstRotation: boolean;
  /** The user did not exist before the secret's first rotation and existed right after it. */
  readonly userCreated: boolean;
  /** Successful logins of the client with AWSCURRENT during the secret's rotations. */
  readonly logins: number;
}

/** One stack of the app as deployed locally (the `--json` shape). */
export interface StackResult {
  readonly name: string;
  /** The database users (pg_user) of its fresh local stack before anything ran: the admin only. */
  readonly usersAtStart: string[];
}

export interface DemoResult {
  readonly strategies: StrategyResult[];
  readonly stacks: StackResult[];
  readonly secrets: SecretResult[];
}

/** Where the demo writes: stdout for the result, stderr for nothing but errors. */
export interface DemoIo {
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
}

const STRATEGY_TAG = 'redshift-rotation:strategy';
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function median(values: readonly number[]): number {
  if (values.length === 0) return 0;
  const s = [...values].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : Math.round((s[m - 1] + s[m]) / 2);
}

function newPassword(): string {
  const alphabet = 'ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz23456789!#%+-=';
  let out = 'Aa1!';
  for (const b of randomBytes(20)) out += alphabet[b % alphabet.length];
  return out;
}

// ---- what the example app provisions ---------------------------------------------------------------------------

type Resource = { readonly Type: string; readonly Properties?: any };
type Template = { readonly Resources?: Readonly<Record<string, Resource>> };

/** A rotated secret of the template, as far as the demo needs it. */
interface TemplateSecret {
  readonly logicalId: string;
  readonly username: string;
  readonly strategy: Strategy;
  /** The target's admin password comes from this secret (a `{{resolve:secretsmanager:…}}` of it in the template). */
  readonly admin: boolean;
  /** Logical ids of the secrets its JSON refers to (its master). */
  readonly refersTo: string[];
}

interface ProvisionedStack {
  readonly name: string;
  readonly template: Template;
  readonly resources: number;
  readonly functions: number;
  readonly schedules: string[];
  readonly runtime?: string;
  readonly secrets: TemplateSecret[];
  /** The cluster identifier, workgroup name and admin user name the template gives its target. */
  readonly cluster?: string;
  readonly workgroup?: string;
  readonly adminUser?: string;
}

/** The literal strings of a value (the text parts of an `Fn::Join`). */
function stringsIn(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(stringsIn);
  if (value === null || typeof value !== 'object') return [];
  return Object.values(value as Record<string, unknown>).flatMap(stringsIn);
}

/** The logical ids `Ref`'d anywhere in a value. */
function refsIn(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(refsIn);
  if (value === null || typeof value !== 'object') return [];
  return Object.entries(value as Record<string, unknown>).flatMap(([k, v]) => (k === 'Ref' && typeof v === 'string' ? [v] : refsIn(v)));
}

function synthesize(): ProvisionedStack[] {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'redshift-rotation-demo-'));
  try {
    const assembly = buildExampleApp({ outdir }).synth();
    return assembly.stacks.map((st) => {
      const template = st.template as Template;
      const resources = Object.entries(template.Resources ?? {});
      const ofType = (t: string) => resources.filter(([, r]) => r.Type === t);
      const functions = ofType('AWS::Lambda::Function');
      const cluster = ofType('AWS::Redshift::Cluster')[0]?.[1].Properties;
      const namespace = ofType('AWS::RedshiftServerless::Namespace')[0]?.[1].Properties;
      const workgroup = ofType('AWS::RedshiftServerless::Workgroup')[0]?.[1].Properties;
      // the secrets whose password becomes a target's admin password
      const adminIds = new Set([...refsIn(cluster?.MasterUserPassword), ...refsIn(namespace?.AdminUserPassword)]);
      const secrets: TemplateSecret[] = [];
      for (const [logicalId, r] of ofType('AWS::SecretsManager::Secret')) {
        const text = r.Properties?.GenerateSecretString?.SecretStringTemplate;
        const strategy = (r.Properties?.Tags ?? []).find((t: { Key: string }) => t.Key === STRATEGY_TAG)?.Value as Strategy | undefined;
        if (text === undefined || !strategy) continue;
        const username = /"username":"([^"]+)"/.exec(stringsIn(text).join(''))?.[1];
        if (!username) throw new Error(`${st.stackName}/${logicalId}: no username in the secret's template`);
        secrets.push({ logicalId, username, strategy, admin: adminIds.has(logicalId), refersTo: refsIn(text).filter((id) => template.Resources?.[id]?.Type === 'AWS::SecretsManager::Secret') });
      }
      return {
        name: st.stackName,
        template,
        resources: resources.length,
        functions: functions.length,
        schedules: ofType('AWS::SecretsManager::RotationSchedule').map(([, r]) => {
          const rules = r.Properties?.RotationRules ?? {};
          return rules.ScheduleExpression ?? (rules.AutomaticallyAfterDays ? `every ${rules.AutomaticallyAfterDays} days` : 'on demand');
        }),
        runtime: functions[0]?.[1].Properties?.Runtime,
        secrets,
        cluster: typeof cluster?.ClusterIdentifier === 'string' ? cluster.ClusterIdentifier : undefined,
        workgroup: typeof workgroup?.WorkgroupName === 'string' ? workgroup.WorkgroupName : undefined,
        adminUser: cluster?.MasterUsername ?? namespace?.AdminUsername,
      };
    });
  } finally {
    fs.rmSync(outdir, { recursive: true, force: true });
  }
}

// ---- deploying a stack of the app into a local stack -----------------------------------------------------------

/**
 * What the template's `Ref`s and `Fn::GetAtt`s resolve to in the local stack: the cluster or workgroup as the local
 * stack names it (identifier, workgroup ARN, endpoint), created secrets by their local ARN, the rotation function
 * by its local name; everything else as {@link localReferences} names it.
 */
function deployedReferences(template: Template, stack: LocalStack, names: Readonly<Record<string, string>>, pseudo: Pseudo): ReferenceResolver {
  const base = localReferences(template, pseudo, names);
  return (id, attribute) => {
    const type = template.Resources?.[id]?.Type;
    if (type === 'AWS::Redshift::Cluster' || type === 'AWS::RedshiftServerless::Workgroup') {
      if (attribute === undefined) return type === 'AWS::Redshift::Cluster' ? stack.clusterIdentifier : stack.workgroupName;
      if (attribute.endsWith('Endpoint.Address')) return stack.postgres.host;
      if (attribute.endsWith('Endpoint.Port')) return String(stack.postgres.port);
      if (attribute.endsWith('Arn')) return type === 'AWS::Redshift::Cluster' ? stack.clusterArn : stack.workgroupArn;
    }
    return base(id, attribute);
  };
}

/** The secrets in an order where each comes after the secrets it refers to (its master). */
function dependencyOrder(secrets: readonly TemplateSecret[]): TemplateSecret[] {
  const out: TemplateSecret[] = [];
  const pending = [...secrets];
  while (pending.length > 0) {
    const i = pending.findIndex((s) => s.refersTo.every((id) => out.some((o) => o.logicalId === id) || !secrets.some((x) => x.logicalId === id)));
    if (i < 0) throw new Error(`secrets refer to each other in a cycle: ${pending.map((s) => s.logicalId).join(', ')}`);
    out.push(...pending.splice(i, 1));
  }
  return out;
}

/**
 * Creates the stack's secrets in the local Secrets Manager as CloudFormation would (resolved JSON, tags; the admin
 * secrets with the admin's password, the others with a generated one) and registers the rotation function with the
 * template's environment and role policy. Returns the local ARN of each secret by logical id, and the function's ARN.
 */
async function deploy(
  p: ProvisionedStack, stack: LocalStack, sm: SecretsManagerClient,
): Promise<{ arns: Map<string, string>; functionArn: string; env: Record<string, string> }> {
  const pseudo: Pseudo = { partition: 'aws', region: stack.region, account: stack.account };
  const resources = p.template.Resources ?? {};
  const functionArn = stack.functionArn();
  const functionName = functionArn.split(':')[6];
  const fns = Object.entries(resources).filter(([, r]) => r.Type === 'AWS::Lambda::Function' && r.Properties?.Environment?.Variables?.PROBE_SECRET_PREFIX !== undefined);
  if (fns.length !== 1) throw new Error(`${p.name}: expected one rotation function, found ${fns.length}`);
  const [fnId, fn] = fns[0];
  const roleId: string | undefined = fn.Properties?.Role?.['Fn::GetAtt']?.[0];
  if (!roleId) throw new Error(`${p.name}/${fnId}: its Role is not a role of the template`);
  const names: Record<string, string> = { [fnId]: functionName, [roleId]: `${functionName}-role` };

  const arns = new Map<string, string>();
  for (const s of dependencyOrder(p.secrets)) {
    const props = resources[s.logicalId].Properties ?? {};
    const refs = deployedReferences(p.template, stack, names, pseudo);
    const json = JSON.parse(resolveIntrinsics(props.GenerateSecretString.SecretStringTemplate, refs, pseudo) as string);
    if (s.admin && json.username !== stack.postgres.adminUser) throw new Error(`${p.name}/${s.logicalId}: admin secret of ${json.username}, not of the local admin`);
    const password = s.admin ? stack.postgres.adminPassword : newPassword();
    const tags = resolveIntrinsics(props.Tags ?? [], refs, pseudo) as Array<{ Key: string; Value: string }>;
    const out = await sm.send(new CreateSecretCommand({
      Name: `${p.name}/${s.logicalId}`, SecretString: JSON.stringify({ ...json, password }), Tags: tags.length > 0 ? tags : undefined,
    }));
    arns.set(s.logicalId, out.ARN!);
    names[s.logicalId] = out.ARN!;
  }

  const refs = deployedReferences(p.template, stack, names, pseudo);
  const env = resolveIntrinsics(fn.Properties?.Environment?.Variables ?? {}, refs, pseudo) as Record<string, string>;
  const { policies, boundary } = rolePolicies(p.template, roleId, refs, pseudo);
  stack.registerFunction(functionArn, { env, iam: { policies, boundary, roleName: names[roleId] } });
  return { arns, functionArn, env };
}

// ---- rotating on the local stack -------------------------------------------------------------------------------

interface Attempt { readAt: number; endAt: number; ok: boolean }

/** Reads AWSCURRENT and logs in, again and again, until stopped. */
function startClient(stack: LocalStack, sm: SecretsManagerClient, arn: string): { stop: () => Promise<Attempt[]> } {
  const attempts: Attempt[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      const readAt = Date.now();
      let ok = false;
      try {
        const v = await sm.send(new GetSecretValueCommand({ SecretId: arn }));
        const { username, password } = JSON.parse(v.SecretString!);
        ok = await stack.canLogin(username, password);
      } catch {
        ok = false;
      }
      attempts.push({ readAt, endAt: Date.now(), ok });
      await sleep(3);
    }
  })();
  return { stop: async () => { running = false; await loop; return attempts; } };
}

interface SecretRun {
  readonly strategy: Strategy;
  readonly firstRotation: boolean;
  readonly durations: number[];
  readonly windows: Array<{ start: number; end: number }>;
  readonly attempts: Attempt[];
  readonly failedRotations: number;
}

/**
 * Rotates a secret `rotations` times while a client logs in with its AWSCURRENT. When the user does not exist yet
 * (`clientAfterFirst`: the first rotation creates it, as it does at deploy, before any application reads the secret),
 * the client starts once the first rotation has succeeded; otherwise it logs in throughout.
 */
async function rotateSecret(
  stack: LocalStack, sm: SecretsManagerClient, arn: string, functionArn: string, strategy: Strategy, rotations: number, clientAfterFirst: boolean,
  afterFirst: () => Promise<void> = async () => undefined,
): Promise<SecretRun> {
  const durations: number[] = [];
  const windows: Array<{ start: number; end: number }> = [];
  let failedRotations = 0;
  let client = clientAfterFirst ? undefined : startClient(stack, sm, arn);
  let attempts: Attempt[] = [];
  try {
    for (let i = 0; i < rotations; i++) {
      const seq = stack.faults.calls().length;
      const t0 = Date.now();
      const out = await sm.send(new RotateSecretCommand({ SecretId: arn, RotationLambdaARN: functionArn }));
      const ev = await stack.waitForRotation(arn, { token: out.VersionId, after: t0, timeoutMs: 60_000 });
      if (ev.type !== 'RotationSucceeded') {
        failedRotations++;
        break;
      }
      durations.push(Date.now() - t0);
      if (i === 0) await afterFirst();
      client ??= startClient(stack, sm, arn);
      if (strategy === 'SINGLE_USER') {
        const calls = stack.faults.calls().slice(seq).filter((c) => c.lambda?.rotatedSecretArn === arn);
        const alter = calls.find((c) => c.lambda?.step === 'setSecret' && (c.statementKinds ?? []).includes('ALTER USER'));
        const finish = calls.filter((c) => c.lambda?.step === 'finishSecret' && c.operation === 'UpdateSecretVersionStage').pop();
        if (alter && finish) windows.push({ start: alter.time, end: finish.time });
      }
    }
    await sleep(30);
  } finally {
    if (client) attempts = await client.stop();
  }
  return { strategy, firstRotation: durations.length > 0, durations, windows, attempts, failedRotations };
}

/** Parses the demo's arguments. */
export function parseArgs(argv: readonly string[]): { json: boolean; rotations: number } {
  let json = false;
  let rotations = 5;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--json') json = true;
    else if (argv[i] === '--rotations') rotations = Number(argv[++i]);
    else throw new Error(`unknown argument ${argv[i]} (use --json, --rotations N)`);
  }
  if (!Number.isInteger(rotations) || rotations < 1 || rotations > 100) throw new Error('--rotations must be an integer from 1 to 100');
  return { json, rotations };
}

function table(rows: ReadonlyArray<readonly string[]>): string[] {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('   '));
}

/**
 * Runs the demo; resolves with the exit code (0: every rotation succeeded and the invariants held).
 * With `--json`, `io.out` receives exactly one line.
 */
export async function main(argv: readonly string[] = process.argv.slice(2), io: DemoIo = {
  out: (l) => process.stdout.write(l + '\n'),
  err: (l) => process.stderr.write(l + '\n'),
}): Promise<number> {
  const { json, rotations } = parseArgs(argv);
  const say = (line: string) => { if (!json) io.out(line); };
  const t0 = Date.now();

  const app = synthesize();
  say('Synthesized examples/app.ts (buildExampleApp):');
  for (const s of app) {
    say(`  ${s.name}: ${s.resources} resources; ${s.secrets.length} rotated secrets; ${s.functions} rotation function${s.functions === 1 ? '' : 's'}`
      + `${s.runtime ? ` (${s.runtime})` : ''}; rotation schedules: ${s.schedules.join(', ') || 'none'}`);
  }

  const runs: SecretRun[] = [];
  const stacks: StackResult[] = [];
  const secrets: SecretResult[] = [];
  for (const p of app) {
    if (p.secrets.length === 0) continue;
    // a fresh target per stack of the app, holding only its admin user (the cluster's or namespace's admin)
    const stack = await startLocalStack({
      clusterIdentifier: p.cluster, workgroupName: p.workgroup, adminUser: p.adminUser, rotationRetryDelayMs: 100,
    });
    const sm = new SecretsManagerClient({
      region: stack.region,
      endpoint: stack.endpoints.secretsManager,
      maxAttempts: 4,
      credentials: { accessKeyId: 'AKIALOCALSTACK', secretAccessKey: 'local-stack-fake-secret' },
    });
    // the demo's own view of the database users: a session opened as the admin before its password is rotated
    const { host, port, adminUser, adminPassword, database } = stack.postgres;
    const observer = new Client({ host, port, user: adminUser, password: adminPassword, database });
    observer.on('error', () => undefined);
    try {
      await observer.connect();
      const users = async () => (await observer.query<{ usename: string }>('SELECT usename FROM pg_user ORDER BY usename')).rows.map((r) => r.usename);
      const usersAtStart = await users();
      stacks.push({ name: p.name, usersAtStart });
      say('');
      say(`${p.name} → local stack: PostgreSQL ${stack.postgres.host}:${stack.postgres.port}/${stack.postgres.database} (users: ${usersAtStart.join(', ')}), `
        + `Secrets Manager ${stack.endpoints.secretsManager}, Redshift Data API ${stack.endpoints.redshiftData} `
        + `(cluster ${stack.clusterIdentifier}, workgroup ${stack.workgroupName}), started in ${stack.startupMs.total} ms`);
      const deployed = await deploy(p, stack, sm);
      say(`  rotation function: the template's environment (${Object.entries(deployed.env).map(([k, v]) => `${k}=${v || '""'}`).join(' ')}) `
        + 'and role policy, every call authorized against it');
      // the admin secrets first (single user: the admin changes its own password), then the users, whose master is
      // the admin secret: each rotation reads the admin's current password from it
      const order = [...p.secrets.filter((s) => s.admin), ...p.secrets.filter((s) => !s.admin)];
      say(`  rotating each secret ${rotations} times while a client logs in with AWSCURRENT every few ms…`);
      for (const s of order) {
        const arn = deployed.arns.get(s.logicalId)!;
        const existedBefore = (await users()).includes(s.username);
        let existsAfterFirst = false;
        const run = await rotateSecret(stack, sm, arn, deployed.functionArn, s.strategy, rotations, !existedBefore, async () => {
          existsAfterFirst = (await users()).includes(s.username);
        });
        runs.push(run);
        const userCreated = !existedBefore && existsAfterFirst;
        secrets.push({
          id: `${p.name}/${s.logicalId}`,
          username: s.username,
          strategy: s.strategy,
          rotations: run.durations.length,
          firstRotation: run.firstRotation,
          userCreated,
          logins: run.attempts.filter((a) => a.ok).length,
        });
        say(`    ${s.username} (${s.strategy}${s.admin ? ', the admin' : ''}): ${run.durations.length}/${rotations} rotations, first ${run.firstRotation ? 'succeeded' : 'FAILED'}`
          + `${userCreated ? ', user created by the first rotation' : existedBefore ? ', user existed' : ', user missing'}; `
          + `${run.attempts.filter((a) => !a.ok).length} failed logins of ${run.attempts.length}`);
      }
    } finally {
      await observer.end().catch(() => undefined);
      sm.destroy();
      await stack.stop();
    }
  }

  const strategies: StrategyResult[] = (['SINGLE_USER', 'ALTERNATING_USERS'] as const).map((strategy) => {
    const of = runs.filter((r) => r.strategy === strategy);
    const windows = of.flatMap((r) => r.windows);
    return {
      strategy,
      rotations: of.reduce((n, r) => n + r.durations.length, 0),
      medianRotationMs: median(of.flatMap((r) => r.durations)),
      failedLogins: of.reduce((n, r) => n + r.attempts.filter((a) => !a.ok).length, 0),
      windowMs: strategy === 'SINGLE_USER' ? median(windows.map((w) => w.end - w.start)) : 0,
    };
  });

  // the invariants: every rotation succeeded, the first one of each secret included; every user secret's user was
  // created by it; no failed login for alternating users; single-user failures only inside the window
  const problems: string[] = [];
  const failedRotations = runs.reduce((n, r) => n + r.failedRotations, 0);
  if (failedRotations > 0) problems.push(`${failedRotations} rotation(s) failed`);
  for (const s of secrets.filter((x) => !x.firstRotation)) problems.push(`the first rotation of ${s.id} (${s.username}) failed`);
  for (const s of secrets.filter((x) => x.strategy === 'ALTERNATING_USERS' && !x.userCreated)) problems.push(`${s.id}: user ${s.username} was not created by its first rotation`);
  for (const r of runs) {
    const failures = r.attempts.filter((a) => !a.ok);
    const outside = r.strategy === 'ALTERNATING_USERS' ? failures
      : failures.filter((a) => !r.windows.some((w) => a.readAt <= w.end && a.endAt >= w.start));
    if (outside.length > 0) problems.push(`${outside.length} ${r.strategy} login(s) failed outside the single-user window`);
  }
  if (runs.length === 0 || strategies.some((s) => s.rotations === 0)) problems.push('a strategy was not rotated');

  if (json) {
    const result: DemoResult = { strategies, stacks, secrets };
    io.out(JSON.stringify(result));
  } else {
    say('');
    for (const line of table([
      ['strategy', 'rotations', 'median rotation ms', 'failed logins', 'single-user window ms'],
      ...strategies.map((s) => [s.strategy, String(s.rotations), String(s.medianRotationMs), String(s.failedLogins),
        s.strategy === 'SINGLE_USER' ? String(s.windowMs) : '-']),
    ])) say(line);
    say('');
    say(`Every secret of the app: first rotation ${secrets.every((s) => s.firstRotation) ? 'succeeded' : 'FAILED for some'}; `
      + `users created by the rotation function: ${secrets.filter((s) => s.userCreated).map((s) => s.username).join(', ') || 'none'}; created by hand: none.`);
    say(`SINGLE_USER: logins fail only between ALTER USER and finishSecret (the window); ALTERNATING_USERS: none. ${((Date.now() - t0) / 1000).toFixed(1)} s in all.`);
  }
  for (const p of problems) io.err(`demo: ${p}`);
  return problems.length === 0 ? 0 : 1;
}

if (require.main === module) {
  main().then((code) => process.exit(code), (err) => {
    process.stderr.write(`demo failed: ${(err as Error).message}\n`);
    process.exit(1);
  });
}
