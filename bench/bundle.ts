/**
 * Bundle benchmark for the rotation handler (run by hand:
 * `npx ts-node --project bench/tsconfig.json bench/bundle.ts`, or `npm run bench -- bundle`).
 *
 * Builds lambda/rotation/index.ts with esbuild exactly as the projen bundle task does (node20, cjs, minified),
 * twice: with the AWS SDK clients bundled in (what ships) and with `--external:@aws-sdk/*` (as if the Lambda
 * runtime's SDK were used). Reports bytes (raw and gzip) and module load time: each file is required in a fresh
 * `node` process RUNS times, alternating the two variants; the external one resolves @aws-sdk from this
 * project's node_modules through NODE_PATH. Prints a table and one JSON line.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as zlib from 'zlib';
// esbuild is a devDependency: this script runs from a development checkout only
// eslint-disable-next-line import/no-extraneous-dependencies
import { buildSync } from 'esbuild';

const ROOT = path.join(__dirname, '..');
const ENTRY = path.join(ROOT, 'lambda', 'rotation', 'index.ts');
const RUNS = Number(process.env.BENCH_RUNS ?? 15);

interface Variant {
  readonly name: string;
  readonly file: string;
  readonly external: string[];
}

interface Result {
  readonly name: string;
  readonly bytes: number;
  readonly gzipBytes: number;
  /** median time of `require(file)` inside the process, ms */
  readonly requireMs: number;
  /** median wall time of the whole `node -e` process, ms */
  readonly processMs: number;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function build(variant: Variant): void {
  buildSync({
    entryPoints: [ENTRY],
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    minify: true,
    outfile: variant.file,
    external: variant.external,
    logLevel: 'error',
  });
}

/** One fresh node process: require the file, report the require time; also the process's wall time. */
function loadOnce(file: string): { requireMs: number; processMs: number } {
  const script = 'const t=process.hrtime.bigint();const m=require(process.argv[1]);'
    + 'if(typeof m.handler!=="function")process.exit(3);'
    + 'process.stdout.write(String(Number(process.hrtime.bigint()-t)/1e6))';
  const started = process.hrtime.bigint();
  const result = spawnSync(process.execPath, ['-e', script, file], {
    encoding: 'utf8',
    env: { ...process.env, NODE_PATH: path.join(ROOT, 'node_modules'), AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
  });
  const processMs = Number(process.hrtime.bigint() - started) / 1e6;
  if (result.status !== 0) throw new Error(`loading ${file} failed (exit ${result.status}): ${result.stderr}`);
  return { requireMs: Number(result.stdout), processMs };
}

function main(): void {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rotation-bundle-bench-'));
  try {
    const variants: Variant[] = [
      { name: 'SDK bundled (shipped)', file: path.join(dir, 'bundled', 'index.js'), external: [] },
      { name: 'SDK external (runtime)', file: path.join(dir, 'external', 'index.js'), external: ['@aws-sdk/*'] },
    ];
    for (const v of variants) build(v);

    const samples = new Map(variants.map((v) => [v.name, { require: [] as number[], process: [] as number[] }]));
    loadOnce(variants[0].file); // warm the file system cache once for each
    loadOnce(variants[1].file);
    for (let i = 0; i < RUNS; i++) {
      const order = i % 2 === 0 ? variants : [...variants].reverse();
      for (const v of order) {
        const s = loadOnce(v.file);
        samples.get(v.name)!.require.push(s.requireMs);
        samples.get(v.name)!.process.push(s.processMs);
      }
    }

    const results: Result[] = variants.map((v) => {
      const content = fs.readFileSync(v.file);
      return {
        name: v.name,
        bytes: content.length,
        gzipBytes: zlib.gzipSync(content, { level: 9 }).length,
        requireMs: Math.round(median(samples.get(v.name)!.require) * 10) / 10,
        processMs: Math.round(median(samples.get(v.name)!.process) * 10) / 10,
      };
    });

    const [bundled, external] = results;
    const pad = (s: string | number, n: number) => String(s).padStart(n);
    process.stdout.write(`rotation handler bundle, node ${process.version}, ${RUNS} loads each (medians)\n`);
    process.stdout.write(`${'variant'.padEnd(24)}${pad('bytes', 10)}${pad('gzip', 10)}${pad('require ms', 12)}${pad('process ms', 12)}\n`);
    for (const r of results) {
      process.stdout.write(`${r.name.padEnd(24)}${pad(r.bytes, 10)}${pad(r.gzipBytes, 10)}${pad(r.requireMs.toFixed(1), 12)}${pad(r.processMs.toFixed(1), 12)}\n`);
    }
    const ratio = {
      bytes: Math.round((bundled.bytes / external.bytes) * 10) / 10,
      gzipBytes: Math.round((bundled.gzipBytes / external.gzipBytes) * 10) / 10,
      requireMs: Math.round((bundled.requireMs / external.requireMs) * 100) / 100,
      processMs: Math.round((bundled.processMs / external.processMs) * 100) / 100,
    };
    process.stdout.write(`bundled / external: bytes x${ratio.bytes}, gzip x${ratio.gzipBytes}, require x${ratio.requireMs}, process x${ratio.processMs}\n`);
    process.stdout.write(JSON.stringify({ bench: 'bundle', node: process.version, runs: RUNS, results, ratio }) + '\n');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main();
