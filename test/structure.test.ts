// Rules about how the code depends on itself, checked on the import statements.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { importsOf, reachable, resolveImport } from './support/imports.js';

const root = new URL('..', import.meta.url).pathname;
const src = path.join(root, 'src');

/**
 * The layers of src/, highest first (README, "How it works"). A module imports its own
 * folder and lower layers only: never a higher layer, nor a sibling on its own layer.
 */
const LAYERS = [
  ['cli', 'vitest', 'jest', 'ui', 'index'],
  ['server'],
  ['config', 'drift'],
  ['proxy', 'replay', 'faults'],
  ['keys'],
  ['request'],
  ['recordings'],
  ['wire', 'json', 'secrets', 'errors'],
];
/** HTTP stays in the layers that answer requests: nothing below them imports these. */
const HTTP_PACKAGES = /^(fastify|undici|@fastify\/)/;

/** `src/proxy/forward.ts` -> `proxy`; `src/errors.ts` -> `errors`. */
const unitOf = (file: string) => path.relative(src, file).split(path.sep)[0]!.replace(/\.ts$/, '');
const rankOf = (unit: string) => LAYERS.findIndex((layer) => layer.includes(unit));

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const file = path.join(dir, name);
    return statSync(file).isDirectory() ? sources(file) : file.endsWith('.ts') ? [file] : [];
  });
}

describe('structure', () => {
  it('every folder of src/ is on a layer, and no module imports a higher layer or a sibling', () => {
    const files = sources(src);
    expect([...new Set(files.map(unitOf))].filter((unit) => rankOf(unit) < 0)).toEqual([]);
    const wrong: string[] = [];
    for (const file of files) {
      const from = unitOf(file);
      for (const specifier of importsOf(file)) {
        if (!specifier.startsWith('.')) {
          if (HTTP_PACKAGES.test(specifier) && (rankOf(from) < rankOf('server') || rankOf(from) > rankOf('proxy'))) wrong.push(`${path.relative(src, file)} imports ${specifier}`);
          continue;
        }
        const to = unitOf(resolveImport(file, specifier));
        if (to !== from && rankOf(to) <= rankOf(from)) wrong.push(`${path.relative(src, file)} (${from}) imports ${specifier} (${to})`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it("vitest's per-test setup loads nothing of the server (types erased: only what runs)", () => {
    const { files, packages } = reachable(path.join(src, 'vitest/setup.ts'), true);
    const loaded = [...files].map((file) => path.relative(src, file)).sort();
    expect(loaded.filter((file) => !file.startsWith('vitest/') && !file.startsWith('request/'))).toEqual([]);
    expect(loaded).not.toContain('vitest/index.ts');
    expect([...packages].filter((name) => name !== 'vitest' && !name.startsWith('node:'))).toEqual([]);
  });

  it('the fast tier (test/*.test.ts) starts no process and needs no build: that is the slow tier, test/slow/', () => {
    const testDir = path.join(root, 'test');
    const fast = readdirSync(testDir).filter((name) => name.endsWith('.test.ts'));
    /** The test file, or the helper of test/ it reaches, that imports node:child_process (a helper that starts the CLI hides it). */
    const spawnerFrom = (file: string, seen: Set<string>): string | undefined => {
      for (const specifier of importsOf(file)) {
        if (specifier === 'node:child_process') return path.relative(testDir, file);
        const target = specifier.startsWith('.') ? resolveImport(file, specifier) : undefined;
        if (target === undefined || !target.startsWith(testDir) || seen.has(target)) continue;
        seen.add(target);
        const found = spawnerFrom(target, seen);
        if (found !== undefined) return found;
      }
      return undefined;
    };
    const wrong = fast.flatMap((name) => {
      const file = path.join(testDir, name);
      const spawner = spawnerFrom(file, new Set());
      const spawns = spawner === undefined ? [] : [`${name} imports node:child_process${spawner === name ? '' : ` through ${spawner}`}`];
      // A path into the build or the command line, in a string.
      const built = /['"`][^'"`\n]*\b(dist|bin)\/[^'"`\n]*['"`]/.exec(readFileSync(file, 'utf8'));
      return built ? [...spawns, `${name} names ${built[0]}`] : spawns;
    });
    expect(fast.length).toBeGreaterThan(10);
    expect(wrong).toEqual([]);
  });

  it('no file of the project holds a merge conflict marker (a README once shipped one)', () => {
    const skip = new Set(['node_modules', 'dist', '.git', '.venv', 'recordings']);
    const walk = (dir: string): string[] =>
      readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
        const file = path.join(dir, entry.name);
        if (entry.isDirectory()) return skip.has(entry.name) || entry.name.endsWith('.egg-info') ? [] : walk(file);
        return /\.(ts|js|mjs|py|md|json|toml|cfg|txt|html|css|sh)$|^run$/.test(entry.name) ? [file] : [];
      });
    const files = walk(root);
    const marked = files.filter((file) => /^(<{7}|>{7}) /m.test(readFileSync(file, 'utf8'))).map((file) => path.relative(root, file));
    expect(files.length).toBeGreaterThan(100);
    expect(marked).toEqual([]);
  });
});
