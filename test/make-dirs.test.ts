// Folders made level by level: what Node's recursive mkdir does where it returns, and
// a clear error where it would loop for ever or pass a link to nothing as made.
import { mkdir, stat, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { makeDirs } from '../src/recordings/make-dirs.js';
import { removeDir, tempDir } from './support/harness.js';

let dir: string;
beforeEach(async () => {
  dir = await tempDir();
});
afterEach(async () => {
  await removeDir(dir);
});

const codeOf = (make: () => void) => {
  try {
    make();
  } catch (error) {
    return (error as NodeJS.ErrnoException).code;
  }
  return 'made';
};

it('makes a folder and its missing parents, and is content with one that exists', async () => {
  makeDirs(path.join(dir, 'a', 'b', 'c'));
  expect((await stat(path.join(dir, 'a', 'b', 'c'))).isDirectory()).toBe(true);
  expect(codeOf(() => makeDirs(path.join(dir, 'a', 'b')))).toBe('made');
});

it('follows a link to a folder, and refuses a link to nothing, a file in the way, and a path it cannot make under /proc', async () => {
  await mkdir(path.join(dir, 'real'));
  await symlink(path.join(dir, 'real'), path.join(dir, 'linked'));
  makeDirs(path.join(dir, 'linked', 'inside'));
  expect((await stat(path.join(dir, 'real', 'inside'))).isDirectory()).toBe(true);
  await symlink(path.join(dir, 'nowhere'), path.join(dir, 'dangling'));
  expect(codeOf(() => makeDirs(path.join(dir, 'dangling')))).toBe('ENOENT');
  await writeFile(path.join(dir, 'file'), 'x');
  expect(codeOf(() => makeDirs(path.join(dir, 'file')))).toBe('ENOTDIR');
  expect(codeOf(() => makeDirs(path.join(dir, 'file', 'below')))).toBe('ENOTDIR');
  expect(codeOf(() => makeDirs('/proc/llm-replay-nope/x'))).toBe('ENOENT');
});
