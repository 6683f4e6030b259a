/**
 * The demo (`npm run demo`, README's first command): synthesizes the example app (examples/app.ts) and prints what
 * it provisions, then starts the local stack (embedded PostgreSQL + local Secrets Manager + local Redshift Data API
 * + the bundled rotation handler), creates the app's users with the function configuration the template gives,
 * rotates each secret several times while a client keeps logging in with AWSCURRENT, and prints a table: strategy,
 * rotations, median rotation ms, failed logins, single-user window ms.
 *
 *   npm run demo                 # human-readable
 *   npm run -s demo -- --json    # one JSON line on stdout, nothing else
 *   options: --rotations N (default 5 per secret)
 *
 * Exits 0 when every rotation succeeded and the invariants held (no failed login for ALTERNATING_USERS, SINGLE_USER
 * failures only inside the window between ALTER USER and finishSecret), 1 otherwise. No password is ever printed.
 */
import { randomBytes } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
// the SDK is a devDependency: the demo runs from a clone, never from the published package
// eslint-disable-next-line import/no-extraneous-dependencies
import { GetSecretValueCommand, RotateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { buildExampleApp } from './app';
import { startLocalStack } from '../test/support/local-stack';
import type { LocalStack } from '../test/support/local-stack';

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

export interface DemoResult {
  readonly strategies: StrategyResult[];
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

/** A rotated secret of the template, as far as the demo needs it. */
interface TemplateSecret {
  readonly stack: string;
  readonly logicalId: string;
  readonly username: string;
  readonly strategy: Strategy;
  readonly target: 'cluster' | 'workgroup';
  readonly targetName: string;
  readonly dbname: string;
  /** The logical id of the master secret (ALTERNATING_USERS). */
  readonly masterRef?: string;
}

interface Provisioned {
  readonly stacks: Array<{ name: string; resources: number; secrets: number; functions: number; schedules: string[]; runtime?: string }>;
  readonly secrets: TemplateSecret[];
  /** The rotation function's environment, from the template (plain strings only). */
  readonly env: Record<string, string>;
}

/** A CloudFormation string that may be an Fn::Join with Refs; Refs become `{Ref:<id>}` markers. */
function cfnString(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  const join = (value as { 'Fn::Join'?: [string, unknown[]] } | undefined)?.['Fn::Join'];
  if (!join) return undefined;
  return join[1].map((part) => {
    if (typeof part === 'string') return part;
    const ref = (part as { Ref?: string }).Ref;
    const getAtt = (part as { 'Fn::GetAtt'?: string[] })['Fn::GetAtt'];
    return ref !== undefined ? `{Ref:${ref}}` : `{GetAtt:${getAtt?.join('.') ?? '?'}}`;
  }).join(join[0]);
}

function synthesize(): Provisioned {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'redshift-rotation-demo-'));
  try {
    const assembly = buildExampleApp({ outdir }).synth();
    const stacks: Provisioned['stacks'] = [];
    const secrets: TemplateSecret[] = [];
    let env: Record<string, string> = {};
    for (const st of assembly.stacks) {
      const resources = Object.entries<{ Type: string; Properties?: any }>(st.template.Resources ?? {});
      const ofType = (t: string) => resources.filter(([, r]) => r.Type === t);
      const functions = ofType('AWS::Lambda::Function');
      for (const [, fn] of functions) {
        for (const [k, v] of Object.entries(fn.Properties?.Environment?.Variables ?? {})) if (typeof v === 'string') env = { ...env, [k]: v };
      }
      stacks.push({
        name: st.stackName,
        resources: resources.length,
        secrets: ofType('AWS::SecretsManager::Secret').length,
        functions: functions.length,
        schedules: ofType('AWS::SecretsManager::RotationSchedule').map(([, r]) => {
          const rules = r.Properties?.RotationRules ?? {};
          return rules.ScheduleExpression ?? (rules.AutomaticallyAfterDays ? `every ${rules.AutomaticallyAfterDays} days` : 'on demand');
        }),
        runtime: functions[0]?.[1].Properties?.Runtime,
      });
      for (const [logicalId, r] of ofType('AWS::SecretsManager::Secret')) {
        const text = cfnString(r.Properties?.GenerateSecretString?.SecretStringTemplate);
        const strategy = (r.Properties?.Tags ?? []).find((t: { Key: string }) => t.Key === STRATEGY_TAG)?.Value as Strategy | undefined;
        if (!text || !strategy) continue;
        const masterRef = /\{Ref:([^}]+)\}/.exec(text)?.[1];
        // references become the string "ref", also where they stand for a number (an endpoint's port)
        const json = JSON.parse(text.replace(/\{(?:Ref|GetAtt):[^}]+\}/g, 'ref').replace(/:ref([,}])/g, ':"ref"$1'));
        secrets.push({
          stack: st.stackName,
          logicalId,
          username: json.username,
          strategy,
          target: json.workgroupName ? 'workgroup' : 'cluster',
          targetName: json.workgroupName ?? json.dbClusterIdentifier,
          dbname: json.dbname ?? 'dev',
          masterRef: json.masterarn ? masterRef : undefined,
        });
      }
    }
    return { stacks, secrets, env };
  } finally {
    fs.rmSync(outdir, { recursive: true, force: true });
  }
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
  readonly durations: number[];
  readonly windows: Array<{ start: number; end: number }>;
  readonly attempts: Attempt[];
  readonly failedRotations: number;
}

async function rotateSecret(stack: LocalStack, sm: SecretsManagerClient, arn: string, strategy: Strategy, rotations: number): Promise<SecretRun> {
  const durations: number[] = [];
  const windows: Array<{ start: number; end: number }> = [];
  let failedRotations = 0;
  let attempts: Attempt[] = [];
  const client = startClient(stack, sm, arn);
  try {
    for (let i = 0; i < rotations; i++) {
      const seq = stack.faults.calls().length;
      const t0 = Date.now();
      const out = await sm.send(new RotateSecretCommand({ SecretId: arn, RotationLambdaARN: stack.functionArn() }));
      const ev = await stack.waitForRotation(arn, { token: out.VersionId, after: t0, timeoutMs: 60_000 });
      if (ev.type !== 'RotationSucceeded') {
        failedRotations++;
        break;
      }
      durations.push(Date.now() - t0);
      if (strategy === 'SINGLE_USER') {
        const calls = stack.faults.calls().slice(seq).filter((c) => c.lambda?.rotatedSecretArn === arn);
        const alter = calls.find((c) => c.lambda?.step === 'setSecret' && (c.statementKinds ?? []).includes('ALTER USER'));
        const finish = calls.filter((c) => c.lambda?.step === 'finishSecret' && c.operation === 'UpdateSecretVersionStage').pop();
        if (alter && finish) windows.push({ start: alter.time, end: finish.time });
      }
    }
    await sleep(30);
  } finally {
    attempts = await client.stop();
  }
  return { strategy, durations, windows, attempts, failedRotations };
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
  for (const s of app.stacks) {
    say(`  ${s.name}: ${s.resources} resources; ${s.secrets} secrets; ${s.functions} rotation function${s.functions === 1 ? '' : 's'}`
      + `${s.runtime ? ` (${s.runtime})` : ''}; rotation schedules: ${s.schedules.join(', ') || 'none'}`);
  }
  // the users the app rotates (master secrets are the stack's admin here, not rotated by the demo)
  const masters = new Set(app.secrets.map((s) => s.masterRef).filter(Boolean));
  const rotated = app.secrets.filter((s) => !masters.has(s.logicalId));
  const cluster = rotated.find((s) => s.target === 'cluster')?.targetName;
  const workgroup = rotated.find((s) => s.target === 'workgroup')?.targetName;

  const stack = await startLocalStack({
    clusterIdentifier: cluster, workgroupName: workgroup, rotationRetryDelayMs: 100, defaultFunction: { env: app.env },
  });
  const sm = new SecretsManagerClient({
    region: stack.region,
    endpoint: stack.endpoints.secretsManager,
    maxAttempts: 4,
    credentials: { accessKeyId: 'AKIALOCALSTACK', secretAccessKey: 'local-stack-fake-secret' },
  });
  const runs: SecretRun[] = [];
  try {
    say(`Local stack: PostgreSQL ${stack.postgres.host}:${stack.postgres.port}/${stack.postgres.database}, Secrets Manager ${stack.endpoints.secretsManager}, `
      + `Redshift Data API ${stack.endpoints.redshiftData} (cluster ${stack.clusterIdentifier}, workgroup ${stack.workgroupName}), started in ${stack.startupMs.total} ms`);
    say(`Rotation function environment from the template: ${Object.entries(app.env).map(([k, v]) => `${k}=${v || '""'}`).join(' ')}`);
    const masterArns = new Map<string, string>();
    const secrets: Array<{ arn: string; s: TemplateSecret }> = [];
    for (const s of rotated) {
      const password = newPassword();
      await stack.createUser(s.username, password);
      let masterArn: string | undefined;
      if (s.strategy === 'ALTERNATING_USERS') {
        masterArn = masterArns.get(s.target);
        if (!masterArn) {
          masterArn = (await stack.createSecret({
            name: `${s.stack}/master-${s.target}`, username: stack.postgres.adminUser, password: stack.postgres.adminPassword, target: s.target, dbname: s.dbname,
          })).arn;
          masterArns.set(s.target, masterArn);
        }
      }
      const created = await stack.createSecret({
        name: `${s.stack}/${s.logicalId}`, username: s.username, password, target: s.target, strategy: s.strategy, masterArn, dbname: s.dbname,
      });
      secrets.push({ arn: created.arn, s });
      say(`Created user ${s.username} and its secret (${s.strategy}, ${s.target} ${s.targetName}${masterArn ? ', master secret: the admin' : ''})`);
    }

    say(`Rotating each secret ${rotations} times while a client logs in with AWSCURRENT every few ms…`);
    for (const { arn, s } of secrets) {
      const run = await rotateSecret(stack, sm, arn, s.strategy, rotations);
      runs.push(run);
      say(`  ${s.username}: ${run.durations.length}/${rotations} rotations, ${run.attempts.filter((a) => !a.ok).length} failed logins of ${run.attempts.length}`);
    }
  } finally {
    sm.destroy();
    await stack.stop();
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

  // the invariants: every rotation succeeded; no failed login for alternating users; single-user failures only
  // inside the window
  const problems: string[] = [];
  const failedRotations = runs.reduce((n, r) => n + r.failedRotations, 0);
  if (failedRotations > 0) problems.push(`${failedRotations} rotation(s) failed`);
  for (const r of runs) {
    const failures = r.attempts.filter((a) => !a.ok);
    const outside = r.strategy === 'ALTERNATING_USERS' ? failures
      : failures.filter((a) => !r.windows.some((w) => a.readAt <= w.end && a.endAt >= w.start));
    if (outside.length > 0) problems.push(`${outside.length} ${r.strategy} login(s) failed outside the single-user window`);
  }
  if (runs.length === 0 || strategies.some((s) => s.rotations === 0)) problems.push('a strategy was not rotated');

  if (json) {
    io.out(JSON.stringify({ strategies }));
  } else {
    say('');
    for (const line of table([
      ['strategy', 'rotations', 'median rotation ms', 'failed logins', 'single-user window ms'],
      ...strategies.map((s) => [s.strategy, String(s.rotations), String(s.medianRotationMs), String(s.failedLogins),
        s.strategy === 'SINGLE_USER' ? String(s.windowMs) : '-']),
    ])) say(line);
    say('');
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
