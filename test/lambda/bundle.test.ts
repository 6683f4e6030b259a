import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

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
