/**
 * Runs every benchmark in bench/ one after the other (`npm run bench`), each in its own process so that
 * module caches and JIT state of one do not colour the next. Run by hand, never in CI.
 * `npm run bench -- bundle` runs only the benchmarks whose file name contains "bundle".
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

const filter = process.argv.slice(2);
const benches = fs.readdirSync(__dirname)
  .filter((f) => f.endsWith('.ts') && f !== 'run.ts')
  .filter((f) => filter.length === 0 || filter.some((word) => f.includes(word)))
  .sort();

let failed = 0;
for (const file of benches) {
  process.stdout.write(`\n=== ${file} ===\n`);
  const result = spawnSync('npx', ['ts-node', '--transpile-only', '--project', path.join(__dirname, 'tsconfig.json'), path.join(__dirname, file)], {
    stdio: 'inherit',
    cwd: path.join(__dirname, '..'),
  });
  if (result.status !== 0) {
    failed++;
    process.stdout.write(`${file} failed with exit code ${result.status}\n`);
  }
}
process.exit(failed === 0 ? 0 : 1);
