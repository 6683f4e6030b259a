import { spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as http from 'http';
import { AddressInfo } from 'net';
import * as path from 'path';
import { md5 } from './world';

/** The bundle jest's globalSetup builds from lambda/rotation/index.ts: what the construct ships. */
const BUNDLE = path.join(__dirname, '..', '..', 'assets', 'lambda', 'rotation', 'index', 'index.js');

describe('the built bundle', () => {
  test('exists, is one minified CommonJS file and bundles the AWS SDK clients', () => {
    const text = fs.readFileSync(BUNDLE, 'utf8');
    expect(text.length).toBeGreaterThan(100_000);
    // booleans, so that a failure does not print half a megabyte of bundle
    expect(/require\(["']@aws-sdk\/client-/.test(text)).toBe(false);
    expect(text.includes('ExecuteStatementCommand') || text.includes('redshift-data')).toBe(true);
    expect(text.split('\n').length).toBeLessThan(200);
  });

  test('exports handler and refuses a malformed event with a clear message before any network call', () => {
    // a separate node process: no jest module registry, no mocks; endpoints that would fail loudly if reached
    const script = `
      const http = require('http'), https = require('https'), net = require('net');
      let network = 0;
      for (const m of [http, https]) { const r = m.request; m.request = function () { network++; return r.apply(this, arguments); }; }
      const c = net.connect; net.connect = function () { network++; return c.apply(this, arguments); };
      const mod = require(${JSON.stringify(BUNDLE)});
      const out = { exports: Object.keys(mod).sort(), type: typeof mod.handler, errors: [] };
      (async () => {
        for (const e of [{}, { SecretId: 'arn:x', ClientRequestToken: 't', Step: 'dropSecret' }, null]) {
          try { await mod.handler(e); out.errors.push('resolved'); } catch (err) { out.errors.push(err.message); }
        }
        out.network = network;
        process.stderr.write(JSON.stringify(out));
      })();
    `;
    const result = spawnSync(process.execPath, ['-e', script], {
      encoding: 'utf8',
      env: { PATH: process.env.PATH, AWS_REGION: 'eu-west-1', AWS_ENDPOINT_URL_SECRETS_MANAGER: 'http://127.0.0.1:9', AWS_ENDPOINT_URL_REDSHIFT_DATA: 'http://127.0.0.1:9' },
      timeout: 20_000,
    });
    expect(result.status).toBe(0);
    const out = JSON.parse(result.stderr.slice(result.stderr.indexOf('{"exports"')));
    expect(out.exports).toEqual(['createHandler', 'handler']);
    expect(out.type).toBe('function');
    expect(out.errors).toEqual([
      'rotation failed: Invalid rotation event: SecretId must be a non-empty string',
      'rotation failed: Invalid rotation event: Step must be one of createSecret, setSecret, testSecret, finishSecret',
      'rotation failed: Invalid rotation event: expected an object with SecretId, ClientRequestToken and Step',
    ]);
    expect(out.network).toBe(0);
    // one JSON log line per refused event on stdout
    const lines = result.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((l) => l.outcome)).toEqual(['error', 'error', 'error']);
  });
});

describe('the built bundle over HTTP, with the standard endpoint variables', () => {
  const ARN = 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:app-AbCdEf';
  const CURRENT = JSON.stringify({ engine: 'redshift', username: 'app', password: 'OldPassw0rdOverHttp', dbClusterIdentifier: 'c1', dbname: 'dev' });
  const PENDING = JSON.stringify({ engine: 'redshift', username: 'app', password: 'NewPassw0rdOverHttp', dbClusterIdentifier: 'c1', dbname: 'dev' });

  test('SINGLE_USER setSecret talks to AWS_ENDPOINT_URL_SECRETS_MANAGER and AWS_ENDPOINT_URL_REDSHIFT_DATA with real SDK requests', async () => {
    const requests: Array<{ target: string; body: any; authorization: string }> = [];
    const answers: Record<string, ((body: any) => unknown) | undefined> = {
      'secretsmanager.DescribeSecret': () => ({
        ARN,
        Name: 'app',
        RotationEnabled: true,
        Tags: [],
        VersionIdsToStages: { 'v-current': ['AWSCURRENT'], 'tok-1': ['AWSPENDING'] },
      }),
      'secretsmanager.GetSecretValue': (b) => (b.VersionStage === 'AWSCURRENT' && !b.VersionId
        ? { ARN, Name: 'app', VersionId: 'v-current', SecretString: CURRENT, VersionStages: ['AWSCURRENT'] }
        : { ARN, Name: 'app', VersionId: 'tok-1', SecretString: PENDING, VersionStages: ['AWSPENDING'] }),
      'secretsmanager.CreateSecret': (b) => ({ ARN: `arn:aws:secretsmanager:eu-west-1:111122223333:secret:${b.Name}-Zz9Yy8`, Name: b.Name }),
      'RedshiftData.ExecuteStatement': () => ({ Id: 'st-1', ClusterIdentifier: 'c1', Database: 'dev', SecretArn: ARN, CreatedAt: 1767225600 }),
      'RedshiftData.DescribeStatement': () => ({ Id: 'st-1', Status: 'FINISHED', HasResultSet: false }),
    };
    const server = http.createServer((req, res) => {
      let raw = '';
      req.on('data', (c) => { raw += c; });
      req.on('end', () => {
        const target = String(req.headers['x-amz-target']);
        const body = JSON.parse(raw || '{}');
        requests.push({ target, body, authorization: String(req.headers.authorization) });
        const answer = answers[target];
        const out = answer ? answer(body) as Record<string, unknown> : { __error: 'ValidationException', message: `unexpected ${target}` };
        const error = typeof out.__error === 'string' ? out.__error : undefined;
        res.writeHead(error ? 400 : 200, { 'content-type': 'application/x-amz-json-1.1' });
        res.end(JSON.stringify(error ? { __type: error, message: out.message } : out));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const script = `require(${JSON.stringify(BUNDLE)}).handler({ SecretId: ${JSON.stringify(ARN)}, ClientRequestToken: 'tok-1', Step: 'setSecret' }, { getRemainingTimeInMillis: () => 60000 })`
        + '.then(() => process.stderr.write("RESOLVED"), (e) => process.stderr.write("REJECTED " + e.message))';
      const { stdout, stderr } = await new Promise<{ stdout: string; stderr: string }>((resolve) => {
        const child = spawn(process.execPath, ['-e', script], {
          env: {
            PATH: process.env.PATH,
            AWS_REGION: 'eu-west-1',
            AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
            AWS_SECRET_ACCESS_KEY: 'secret-example',
            AWS_ENDPOINT_URL_SECRETS_MANAGER: url,
            AWS_ENDPOINT_URL_REDSHIFT_DATA: url,
            STATEMENT_POLL_MS: '10',
            AWS_LAMBDA_FUNCTION_NAME: 'redshift-rotation',
            AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
          },
        });
        let out = '';
        let err = '';
        child.stdout.on('data', (c) => { out += c; });
        child.stderr.on('data', (c) => { err += c; });
        child.on('close', () => resolve({ stdout: out, stderr: err }));
      });
      expect(stderr).toContain('RESOLVED');
      expect(requests.map((r) => r.target)).toEqual([
        'secretsmanager.DescribeSecret', 'secretsmanager.GetSecretValue', 'secretsmanager.GetSecretValue',
        // the probe before the irreversible ALTER USER, made at once
        'secretsmanager.CreateSecret',
        'RedshiftData.ExecuteStatement', 'RedshiftData.DescribeStatement',
      ]);
      expect(requests[2].body).toEqual({ SecretId: ARN, VersionId: 'tok-1', VersionStage: 'AWSPENDING' });
      expect(requests[5].body.WaitTimeSeconds).toBe(30);
      const execute = requests[4].body;
      expect(execute).toMatchObject({ ClusterIdentifier: 'c1', Database: 'dev', SecretArn: ARN, Sql: `ALTER USER "app" PASSWORD '${md5('NewPassw0rdOverHttp', 'app')}'` });
      expect(execute.ClientToken).toMatch(/^[0-9a-f-]{36}$/);
      for (const r of requests) expect(r.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/eu-west-1\/(secretsmanager|redshift-data)\/aws4_request/);
      const line = JSON.parse(stdout.trim());
      expect(line).toMatchObject({ secretArn: ARN, step: 'setSecret', strategy: 'SINGLE_USER', outcome: 'ok' });
      for (const text of [stdout, stderr, JSON.stringify(requests.map((r) => r.body.Sql ?? ''))]) {
        expect(text.includes('NewPassw0rdOverHttp')).toBe(false);
        expect(text.includes('OldPassw0rdOverHttp')).toBe(false);
      }
    } finally {
      server.close();
    }
  });
});
