// The package as a user gets it: `npm pack`, installed into a fresh project, then its
// CLI (--version, serve in replay mode, one openai SDK call) and its entry points.
// Offline: the fresh project's lockfile is made from this repo's, so `npm ci --offline`
// takes every dependency from the npm cache `npm ci` filled; nothing leaves the machine.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { promisify } from 'node:util';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCli } from '../support/cli-process.js';
import { removeDir, tempDir } from '../support/harness.js';

const run = promisify(execFile);
const root = new URL('../..', import.meta.url).pathname;
const manifest = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { name: string; version: string; dependencies: Record<string, string> };

type LockEntry = { version?: string; dependencies?: Record<string, string>; optionalDependencies?: Record<string, string>; [field: string]: unknown };

/** The entries of this repo's lockfile that `names` need, found as node finds them (nested first, then up). */
function lockEntriesFor(names: string[]): Record<string, LockEntry> {
  const packages = (JSON.parse(readFileSync(path.join(root, 'package-lock.json'), 'utf8')) as { packages: Record<string, LockEntry> }).packages;
  const out: Record<string, LockEntry> = {};
  const visit = (from: string, name: string) => {
    for (let dir = from; ; dir = dir.slice(0, Math.max(0, dir.lastIndexOf('/node_modules/')))) {
      const at = `${dir ? `${dir}/` : ''}node_modules/${name}`;
      const entry = packages[at];
      if (entry) {
        if (out[at]) return;
        const { dev: _dev, devOptional: _devOptional, peer: _peer, ...kept } = entry;
        out[at] = kept;
        for (const dependency of Object.keys({ ...entry.dependencies, ...entry.optionalDependencies })) visit(at, dependency);
        return;
      }
      if (!dir) throw new Error(`${name} (needed by ${from || 'the package'}) is not in package-lock.json`);
    }
  };
  for (const name of names) visit('', name);
  return out;
}

let project: string;
let tarball: string;

beforeAll(async () => {
  project = await tempDir();
  // dist/ is fresh: npm test builds before it runs the suite (npm pack would run prepare, the same build, again).
  const { stdout } = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', project], { cwd: root });
  const packed = (JSON.parse(stdout) as Array<{ filename: string; files: Array<{ path: string }> }>)[0]!;
  tarball = packed.filename;
  const integrity = `sha512-${createHash('sha512').update(readFileSync(path.join(project, tarball))).digest('base64')}`;
  writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name: 'fresh-project', private: true, type: 'module', dependencies: { [manifest.name]: `file:${tarball}` } }));
  const lock = {
    name: 'fresh-project',
    lockfileVersion: 3,
    requires: true,
    packages: {
      '': { name: 'fresh-project', dependencies: { [manifest.name]: `file:${tarball}` } },
      [`node_modules/${manifest.name}`]: { version: manifest.version, resolved: `file:${tarball}`, integrity, dependencies: manifest.dependencies, bin: { 'llm-replay': 'bin/llm-replay.js' } },
      ...lockEntriesFor(Object.keys(manifest.dependencies)),
    },
  };
  writeFileSync(path.join(project, 'package-lock.json'), JSON.stringify(lock, null, 2));
  await run('npm', ['ci', '--offline', '--ignore-scripts', '--no-audit', '--no-fund'], { cwd: project });
}, 180_000);

afterAll(async () => {
  await removeDir(project);
});

describe('the published package', () => {
  it('ships the built code and its docs, not the tests, sources or fixtures', async () => {
    const { stdout } = await run('tar', ['tzf', path.join(project, tarball)]);
    const tops = new Set(stdout.trim().split('\n').map((file) => file.split('/')[1]));
    expect([...tops].sort()).toEqual(['README.md', 'bin', 'dist', 'package.json', 'src']);
    // Of src/, only the inspector page's assets, which the server reads from there.
    expect(stdout).not.toMatch(/^package\/src\/.*\.ts$|\.map$/m);
    // No comment points at a map the package leaves out (vitest would print a warning for each).
    const { stdout: withMaps } = await run('grep', ['-rl', 'sourceMappingURL', path.join(project, 'node_modules', manifest.name, 'dist')]).catch((error: { stdout: string }) => error);
    expect(withMaps).toBe('');
  });

  it("asks for a Node every production dependency accepts", () => {
    const semver = createRequire(import.meta.url)('semver') as { subset(a: string, b: string): boolean };
    const ours = (JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { engines: { node: string } }).engines.node;
    const refusing = Object.entries(lockEntriesFor(Object.keys(manifest.dependencies)))
      .map(([at, entry]) => [at, (entry['engines'] as { node?: string } | undefined)?.node] as const)
      .filter(([, node]) => node !== undefined && !semver.subset(ours, node));
    expect(refusing).toEqual([]);
  });

  it('installs offline into a fresh project: --version, serve in replay mode, an openai SDK call, the inspector page', async () => {
    const bin = path.join(project, 'node_modules/.bin/llm-replay');
    expect((await run(bin, ['--version'])).stdout.trim()).toBe(manifest.version);
    const server = await startCli(['--recordings', path.join(root, 'recordings'), '--state-dir', path.join(project, 'state')], { bin, cwd: project });
    try {
      const client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'unused', maxRetries: 0 });
      const answer = await client.chat.completions.create({ model: 'openai/gpt-5.1-chat', messages: [{ role: 'user', content: 'What are the three laws of thermodynamics?' }] });
      expect(answer.choices[0]?.message.content).toMatch(/thermodynamics|energy/i);
      for (const file of ['', 'main.js']) expect((await fetch(`${server.url}/_llm-replay/ui/${file}`)).status).toBe(200);
    } finally {
      server.child.kill('SIGTERM');
      await server.exited;
    }
  });

  it('exposes startServer, and the vitest helper (which needs vitest, a peer) resolves', async () => {
    const script = "const m = await import('llm-replay'); console.log(typeof m.startServer, import.meta.resolve('llm-replay/vitest'), import.meta.resolve('llm-replay/vitest/setup'));";
    const [startServer, helper, setup] = (await run(process.execPath, ['--input-type=module', '-e', script], { cwd: project })).stdout.trim().split(' ');
    expect(startServer).toBe('function');
    expect(helper).toMatch(/node_modules\/llm-replay\/dist\/vitest\/index\.js$/);
    expect(setup).toMatch(/node_modules\/llm-replay\/dist\/vitest\/setup\.js$/);
  });
});
