/**
 * Runs the benchmarks one after the other (`npm run bench`), each in its own process so that module caches, JIT
 * state and leftover processes of one do not colour the next. Run by hand, never in CI.
 *
 *   npm run bench                      every benchmark
 *   npm run bench -- --quick           fewer sizes, runs and rotations (under 3 minutes on 2 cores)
 *   npm run bench -- rotation synth    only the benchmarks whose name contains one of the words
 *
 * The local stack runs the handler bundle (assets/lambda/rotation/index/index.js) and the construct synthesizes it
 * as its asset; when it is missing (a fresh clone) it is built first with `npx projen bundle`. Ends with the time each benchmark took; exits non-zero when one failed.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

/** In the order they run: the cheap ones first. */
const BENCHES = ['synth', 'bundle', 'rotation', 'throughput'];
const ROOT = path.join(__dirname, '..');
const HANDLER_BUNDLE = path.join(ROOT, 'assets', 'lambda', 'rotation', 'index', 'index.js');

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const words = args.filter((a) => !a.startsWith('-'));
const unknown = args.filter((a) => a.startsWith('-') && a !== '--quick');
if (unknown.length > 0) {
  process.stderr.write(`unknown option ${unknown.join(' ')}; usage: npm run bench -- [--quick] [name ...] (names: ${BENCHES.join(', ')})\n`);
  process.exit(2);
}
const selected = BENCHES.filter((b) => words.length === 0 || words.some((w) => b.includes(w)));
if (selected.length === 0) {
  process.stderr.write(`no benchmark matches ${words.join(' ')} (names: ${BENCHES.join(', ')})\n`);
  process.exit(2);
}

if (!fs.existsSync(HANDLER_BUNDLE)) {
  process.stdout.write('building the handler bundle (npx projen bundle)\n');
  const built = spawnSync('npx', ['projen', 'bundle'], { stdio: 'inherit', cwd: ROOT });
  if (built.status !== 0) process.exit(built.status ?? 1);
}

const timings: string[] = [];
let failed = 0;
const started = Date.now();
for (const name of selected) {
  process.stdout.write(`\n=== ${name}${quick ? ' (quick)' : ''} ===\n`);
  const t0 = Date.now();
  const result = spawnSync('npx', [
    'ts-node', '--transpile-only', '--project', path.join(__dirname, 'tsconfig.json'), path.join(__dirname, `${name}.ts`), ...(quick ? ['--quick'] : []),
  ], {
    stdio: 'inherit',
    cwd: ROOT,
    env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', NODE_NO_WARNINGS: '1' },
  });
  timings.push(`${name} ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  if (result.status !== 0) {
    failed++;
    process.stdout.write(`${name} failed with exit code ${result.status}\n`);
  }
}
process.stdout.write(`\nbenchmarks: ${timings.join(', ')}; total ${((Date.now() - started) / 1000).toFixed(1)} s${failed ? `; ${failed} failed` : ''}\n`);
process.exit(failed === 0 ? 0 : 1);
