import { execFileSync } from 'child_process';
import * as path from 'path';

/**
 * The construct loads the handler from assets/ and the end-to-end tests run that bundle, so every test run
 * starts from a bundle built from the current lambda/ sources (esbuild takes well under a second).
 */
export default function globalSetup(): void {
  execFileSync('npx', ['projen', 'bundle'], { cwd: path.join(__dirname, '..'), stdio: 'ignore' });
}
