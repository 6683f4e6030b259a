import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { CreateSecretCommand, DescribeSecretCommand, GetSecretValueCommand, RotateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { Client } from 'pg';
import { ensurePostgresBinaries, postgresNativeDir } from '../../local-stack/postgres';

const ROOT = path.join(__dirname, '..', '..');

function startCli(extraEnv: Record<string, string> = {}) {
  return spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', path.join(ROOT, 'local-stack', 'cli.ts')], {
    cwd: ROOT, env: { ...process.env, TS_NODE_PROJECT: path.join(ROOT, 'test', 'tsconfig.json'), ...extraEnv }, stdio: ['ignore', 'pipe', 'pipe'],
  });
}

function firstLine(child: ReturnType<typeof startCli>): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    let out = '';
    let err = '';
    child.stdout!.on('data', (d) => {
      out += d;
      if (out.includes('\n')) resolve(out.split('\n')[0]);
    });
    child.stderr!.on('data', (d) => { err += d; });
    child.on('exit', (code) => reject(new Error(`cli exited early (${code}): ${err}`)));
  });
}

/**
 * RotateSecret of a new secret with the default function; whether createSecret put an AWSPENDING value within
 * `waitMs` (the database user does not exist, so the rotation fails later either way).
 */
async function rotationPutsPending(info: any, waitMs: number): Promise<boolean> {
  const sm = new SecretsManagerClient({ region: info.region, endpoint: info.secretsManagerEndpoint, credentials: { accessKeyId: 'x', secretAccessKey: 'y' } });
  try {
    const secret = await sm.send(new CreateSecretCommand({
      Name: `app-${Date.now()}`,
      SecretString: JSON.stringify({ engine: 'redshift', username: 'app', password: 'Initial1pass', dbClusterIdentifier: info.clusterIdentifier, dbname: 'dev' }),
    }));
    const { VersionId } = await sm.send(new RotateSecretCommand({ SecretId: secret.ARN, RotationLambdaARN: info.rotationLambdaArn }));
    for (const end = Date.now() + waitMs; Date.now() < end;) {
      const ok = await sm.send(new GetSecretValueCommand({ SecretId: secret.ARN, VersionId, VersionStage: 'AWSPENDING' })).then(() => true, () => false);
      if (ok) return true;
      await new Promise((r) => setTimeout(r, 100));
    }
    return false;
  } finally {
    sm.destroy();
  }
}

test('LOCAL_STACK_IAM_POLICY: the functions\' calls are authorized against the given policy; other clients are not checked', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'iam-policy-'));
  const policyFile = path.join(dir, 'policy.json');
  fs.writeFileSync(policyFile, JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'secretsmanager:GetRandomPassword', Resource: '*' }] }));
  const child = startCli({ LOCAL_STACK_IAM_POLICY: policyFile });
  try {
    const info = JSON.parse(await firstLine(child));
    expect(info.iam).toBe('policy');
    // the function may not even describe the secret: createSecret never puts the pending value
    expect(await rotationPutsPending(info, 3000)).toBe(false);
  } finally {
    const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
    child.kill('SIGTERM');
    await exited;
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('`npm run local-stack` (cli.ts) prints one JSON line, serves until SIGTERM, then cleans up', async () => {
  const child = startCli();
  try {
    const line = await new Promise<string>((resolve, reject) => {
      let out = '';
      let err = '';
      child.stdout!.on('data', (d) => {
        out += d;
        if (out.includes('\n')) resolve(out.split('\n')[0]);
      });
      child.stderr!.on('data', (d) => { err += d; });
      child.on('exit', (code) => reject(new Error(`cli exited early (${code}): ${err}`)));
    });
    const info = JSON.parse(line);
    expect(Object.keys(info).sort()).toEqual([
      'account', 'adminPassword', 'adminUser', 'clusterArn', 'clusterIdentifier', 'database', 'iam', 'pgHost', 'pgPort', 'redshiftDataEndpoint', 'region',
      'rotationLambdaArn', 'secretsManagerEndpoint', 'startupMs', 'workgroupArn', 'workgroupName',
    ]);
    expect(info.iam).toBe('off');
    expect(await rotationPutsPending(info, 10_000)).toBe(true);
    expect(info).toMatchObject({ pgHost: '127.0.0.1', database: 'dev', clusterIdentifier: 'local-cluster', workgroupName: 'local-workgroup' });
    const pg = new Client({ host: info.pgHost, port: info.pgPort, user: info.adminUser, password: info.adminPassword, database: info.database });
    await pg.connect();
    expect((await pg.query('SELECT count(*)::int AS n FROM svl_user_info')).rows[0].n).toBeGreaterThanOrEqual(1);
    await pg.end();
    const sm = new SecretsManagerClient({ region: info.region, endpoint: info.secretsManagerEndpoint, credentials: { accessKeyId: 'x', secretAccessKey: 'y' } });
    await expect(sm.send(new DescribeSecretCommand({ SecretId: 'none' }))).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
    sm.destroy();

    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    const after = new Client({ host: info.pgHost, port: info.pgPort, user: info.adminUser, password: info.adminPassword, database: info.database });
    after.on('error', () => undefined);
    await expect(after.connect()).rejects.toThrow();
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
  }
});

test('after a plain `npm ci` without the postinstall, the shared-library symlinks are hydrated at startup', () => {
  const real = postgresNativeDir();
  const links = JSON.parse(fs.readFileSync(path.join(real, 'pg-symlinks.json'), 'utf-8')) as { source: string; target: string }[];
  const pkg = fs.mkdtempSync(path.join(os.tmpdir(), 'pg-pkg-'));
  try {
    fs.mkdirSync(path.join(pkg, 'native', 'bin'), { recursive: true });
    fs.mkdirSync(path.join(pkg, 'native', 'lib'), { recursive: true });
    fs.mkdirSync(path.join(pkg, 'scripts'));
    fs.copyFileSync(path.join(real, 'pg-symlinks.json'), path.join(pkg, 'native', 'pg-symlinks.json'));
    fs.copyFileSync(path.join(real, '..', 'scripts', 'hydrate-symlinks.js'), path.join(pkg, 'scripts', 'hydrate-symlinks.js'));
    fs.writeFileSync(path.join(pkg, 'package.json'), '{"type":"module"}');
    for (const l of links) fs.writeFileSync(path.join(pkg, l.source), '');
    for (const bin of ['initdb', 'postgres']) fs.writeFileSync(path.join(pkg, 'native', 'bin', bin), '', { mode: 0o600 });
    const bins = ensurePostgresBinaries(path.join(pkg, 'native'));
    for (const l of links) expect(fs.readlinkSync(path.join(pkg, l.target))).toBe(path.basename(l.source));
    expect(() => fs.accessSync(bins.postgres, fs.constants.X_OK)).not.toThrow();
  } finally {
    fs.rmSync(pkg, { recursive: true, force: true });
  }
});
