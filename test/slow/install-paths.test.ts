// An install the README names, as on a fresh machine: a folder holding a bare clone
// (no node_modules, no dist/: its prepare step installs its build tools from the clone's
// lockfile and builds) into a new project, then `npx llm-replay` there. The clone is of
// this repository's HEAD. Offline: every package comes from the npm cache `npm ci` filled.
// (A git URL runs the same prepare step, but resolves the dependencies afresh, which
// needs the registry: not tested here. package.test.ts installs the `npm pack` tarball.)
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeDir, tempDir } from '../support/harness.js';

const run = promisify(execFile);
const root = new URL('../..', import.meta.url).pathname;
const version = (JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { version: string }).version;
const offline = { ...process.env, npm_config_offline: 'true', npm_config_audit: 'false', npm_config_fund: 'false' };

let dir: string;
let clone: string;

async function freshProject(name: string): Promise<string> {
  const project = path.join(dir, name);
  await mkdir(project);
  writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name, private: true, type: 'module' }));
  return project;
}

beforeAll(async () => {
  dir = await tempDir();
  clone = path.join(dir, 'llm-replay');
  await run('git', ['clone', '--quiet', root, clone]);
});

afterAll(async () => {
  await removeDir(dir);
});

describe('installs from a clone', () => {
  it('npm install <folder of a bare clone> builds it, and npx runs it', { timeout: 900_000 }, async () => {
    expect(existsSync(path.join(clone, 'node_modules')) || existsSync(path.join(clone, 'dist'))).toBe(false);
    const project = await freshProject('from-folder');
    await run('npm', ['install', '--save-dev', clone], { cwd: project, env: offline, maxBuffer: 64 << 20 });
    expect((await run('npx', ['--no-install', 'llm-replay', '--version'], { cwd: project, env: offline })).stdout.trim()).toBe(version);
    const script = "const m = await import('llm-replay'); console.log(typeof m.startServer);";
    expect((await run(process.execPath, ['--input-type=module', '-e', script], { cwd: project })).stdout.trim()).toBe('function');
  });
});
