// Rules about how the code depends on itself, checked on the import statements.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { reachable } from './support/imports.js';

const root = new URL('..', import.meta.url).pathname;

describe('structure', () => {
  it("vitest's per-test setup loads nothing of the server (built output: only what runs)", () => {
    const { files, packages } = reachable(path.join(root, 'dist/vitest/setup.js'));
    const loaded = [...files].map((file) => path.relative(path.join(root, 'dist'), file)).sort();
    expect(loaded.filter((file) => !file.startsWith('vitest/') && !file.startsWith('request/'))).toEqual([]);
    expect(loaded).not.toContain('vitest/index.js');
    expect([...packages].filter((name) => name !== 'vitest' && !name.startsWith('node:'))).toEqual([]);
  });
});
