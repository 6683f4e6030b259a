/**
 * Cold-start benchmark of the rotation handler.
 *
 *   npm run bench -- bundle [--quick]        (BENCH_RUNS=n overrides the fresh processes per variant)
 *
 * Builds lambda/rotation/index.ts with esbuild exactly as the projen bundle task does (node20, cjs, minified),
 * twice: with the AWS SDK clients bundled in (what ships) and with `--external:@aws-sdk/*` (as if the Lambda
 * runtime's SDK were used; it resolves @aws-sdk from this project's node_modules through NODE_PATH, so the SDK
 * version is this project's, not the runtime's). Reports:
 * - bytes (raw and gzip);
 * - module load: `require()` of the file in a fresh `node` process, median of RUNS (20; quick 5) processes per
 *   variant, alternating the two, and the whole process's wall time;
 * - first invocation: on the local stack (no latency), a rotation with a function never invoked before (a new
 *   execution environment that loads the module on its first invocation): the createSecret invocation of that
 *   rotation against the one of the next rotation with the same, now warm, function; and both rotations' times.
 * Every comparison prints a `ratio`. Prints tables and one JSON line.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as zlib from 'zlib';
// esbuild is a devDependency: this script runs from a development checkout only
// eslint-disable-next-line import/no-extraneous-dependencies
import { buildSync } from 'esbuild';
import { envInt, median, printJson, printTable, QUICK, ratio, ratioCell, rotate, round, say, startBenchStack } from './support';

const ROOT = path.join(__dirname, '..');
const ENTRY = path.join(ROOT, 'lambda', 'rotation', 'index.ts');
const RUNS = envInt('BENCH_RUNS', QUICK ? 5 : 20);
const COLD_RUNS = QUICK ? 3 : 10;

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

interface ColdStart {
  readonly name: string;
  /** the first invocation of a new execution environment (createSecret, module load included), ms, median */
  readonly firstInvocationMs: number;
  /** createSecret of the next rotation, same environment, ms, median */
  readonly warmInvocationMs: number;
  /** RotationStarted → RotationSucceeded of the first rotation (new environment), ms, median */
  readonly firstRotationMs: number;
  /** the same for the next rotation (warm), ms, median */
  readonly warmRotationMs: number;
}

/** First and warm invocations on the local stack, for each variant, COLD_RUNS new environments each. */
async function coldStarts(variants: readonly Variant[]): Promise<ColdStart[]> {
  const b = await startBenchStack();
  try {
    const secret = (await b.newSecret('SINGLE_USER')).arn;
    await rotate(b, secret); // PostgreSQL, endpoints and the default function warm
    const samples = new Map(variants.map((v) => [v.name, {
      first: [] as number[], warm: [] as number[], firstRot: [] as number[], warmRot: [] as number[],
    }]));
    const createSecretMs = (arn: string, run: { started: number }) => {
      const inv = b.stack.invocations.find((x) => x.functionArn === arn && x.step === 'createSecret' && x.start >= run.started);
      if (!inv?.end || !inv.ok) throw new Error(`no successful createSecret invocation of ${arn}`);
      return inv.end - inv.start;
    };
    for (let k = 0; k < COLD_RUNS; k++) {
      const order = k % 2 === 0 ? variants : [...variants].reverse();
      for (const [i, v] of order.entries()) {
        const arn = b.stack.functionArn(`cold-${variants.indexOf(v)}-${k}-${i}`);
        b.stack.registerFunction(arn, { handlerFile: v.file, env: { NODE_PATH: path.join(ROOT, 'node_modules') } });
        const first = await rotate(b, secret, arn);
        const warm = await rotate(b, secret, arn);
        const s = samples.get(v.name)!;
        s.first.push(createSecretMs(arn, first));
        s.warm.push(createSecretMs(arn, warm));
        s.firstRot.push(first.ms);
        s.warmRot.push(warm.ms);
      }
    }
    return variants.map((v) => {
      const s = samples.get(v.name)!;
      return {
        name: v.name,
        firstInvocationMs: round(median(s.first)),
        warmInvocationMs: round(median(s.warm)),
        firstRotationMs: round(median(s.firstRot)),
        warmRotationMs: round(median(s.warmRot)),
      };
    });
  } finally {
    await b.stop();
  }
}

async function main(): Promise<void> {
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
        requireMs: round(median(samples.get(v.name)!.require), 1),
        processMs: round(median(samples.get(v.name)!.process), 1),
      };
    });
    const cold = await coldStarts(variants);

    const [bundled, external] = results;
    say(`rotation handler bundle, node ${process.version}: module load median of ${RUNS} fresh processes; first invocation median of ${COLD_RUNS} new environments (local stack, no latency)`);
    printTable(
      ['variant', 'KB', 'gzip KB', 'require ms', 'process ms', 'first invocation ms', 'warm invocation ms', 'ratio first / warm', 'first rotation ms', 'warm rotation ms', 'ratio'],
      results.map((r, i) => {
        const c = cold[i];
        return [r.name, round(r.bytes / 1024, 1), round(r.gzipBytes / 1024, 1), r.requireMs, r.processMs,
          c.firstInvocationMs, c.warmInvocationMs, ratioCell(ratio(c.firstInvocationMs, c.warmInvocationMs)),
          c.firstRotationMs, c.warmRotationMs, ratioCell(ratio(c.firstRotationMs, c.warmRotationMs))];
      }),
    );
    const r = {
      bytes: ratio(bundled.bytes, external.bytes, 1),
      gzipBytes: ratio(bundled.gzipBytes, external.gzipBytes, 1),
      requireMs: ratio(bundled.requireMs, external.requireMs),
      processMs: ratio(bundled.processMs, external.processMs),
      firstInvocationMs: ratio(cold[0].firstInvocationMs, cold[1].firstInvocationMs),
    };
    say(`bundled / external: bytes ratio x${r.bytes}, gzip ratio x${r.gzipBytes}, require ratio x${r.requireMs}, process ratio x${r.processMs}, first invocation ratio x${r.firstInvocationMs}`);
    printJson('bundle', { runs: RUNS, coldRuns: COLD_RUNS, results, coldStarts: cold, ratio: r });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  process.stderr.write(`${(e as Error).stack ?? e}\n`);
  process.exit(1);
});
