// The record command a miss's inspector view gives: vitest itself, run as a child
// process, must select exactly the test that missed with the -t pattern the page shows.
import { spawnSync } from 'node:child_process';
import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { vitestNamePattern } from '../../src/server/inspector/miss-view.js';
import { tempDir } from '../support/harness.js';

const VITEST = new URL('../../node_modules/vitest/vitest.mjs', import.meta.url).pathname;

describe('the record command a miss gives', () => {
  it("selects exactly the test that missed when vitest runs it, describe blocks included", async () => {
    const project = await tempDir('llm-replay-vitest-name-');
    try {
      // The helper names a test by vitest's currentTestName ("outer > inner"); the page's -t pattern must select it.
      await writeFile(
        path.join(project, 'nested.test.ts'),
        [
          "import { appendFileSync } from 'node:fs';",
          "import { describe, expect, it } from 'vitest';",
          "const ran = (name: string) => appendFileSync(new URL('./ran.txt', import.meta.url), `${name}\\n`);",
          "describe('gpt-5.1 (chat) > edge', () => { it('answers a science question?', () => ran(expect.getState().currentTestName!)); });",
          "describe('gpt-5.1 (chat) > edge', () => { it('answers a science question? twice', () => ran('other')); });",
          "it('answers a science question?', () => ran('top level'));",
        ].join('\n'),
      );
      const run = (pattern: string) =>
        spawnSync(process.execPath, [VITEST, 'run', '--root', project, '-t', pattern], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' }, timeout: 60_000 });
      const first = run('^gpt-5\\.1 \\(chat\\) > edge answers a science question\\?$');
      expect(first.stdout + first.stderr).toMatch(/Tests\s+1 passed \| 2 skipped/);
      const testName = (await readFile(path.join(project, 'ran.txt'), 'utf8')).trim();
      expect(testName).toBe('gpt-5.1 (chat) > edge > answers a science question?');
      await rm(path.join(project, 'ran.txt'));
      const pattern = vitestNamePattern(testName);
      const second = run(pattern);
      expect(second.stdout + second.stderr).toMatch(/Tests\s+1 passed \| 2 skipped/);
      expect((await readFile(path.join(project, 'ran.txt'), 'utf8')).trim()).toBe(testName);
    } finally {
      await rm(project, { recursive: true, force: true });
    }
  });
});
