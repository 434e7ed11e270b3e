// npm's prepare: builds dist/. A clone installed as a folder (`npm install ../llm-replay`)
// gets no dependencies of its own before prepare runs, so tsc is missing there: then
// its locked dependencies (typescript among them) are installed first, scripts off.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';

const root = path.dirname(path.dirname(new URL(import.meta.url).pathname));
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const run = (args) => execFileSync(npm, args, { cwd: root, stdio: 'inherit' });

if (!existsSync(path.join(root, 'node_modules', 'typescript', 'bin', 'tsc'))) {
  console.error('llm-replay: installing its build tools in its own folder, to build dist/');
  run(['ci', '--include=dev', '--ignore-scripts', '--no-audit', '--no-fund']);
}
run(['run', 'build', '--silent']);
