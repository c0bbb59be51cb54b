// Builds dist/ once before the test run: the process tests spawn `node bin/tsgi.js`,
// which runs the compiled CLI.
import { execFileSync } from 'node:child_process';
import path from 'node:path';

export default function setup() {
  const root = path.join(__dirname, '..', '..');
  execFileSync(process.execPath, [path.join(root, 'scripts', 'build-ts.js')], { cwd: root, stdio: 'inherit' });
}
