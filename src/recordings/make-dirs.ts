// A folder and its missing parents, made one level at a time: Node's own recursive
// mkdir never returns on a path it cannot make under a folder that exists (/proc/x:
// mkdir says ENOENT, it makes the parent, which exists, and tries again, forever).
import { mkdirSync, statSync } from 'node:fs';
import path from 'node:path';

/** The error mkdir would give for a file in the way, with its code. */
function notAFolder(at: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${at} is not a directory`), { code: 'ENOTDIR' });
}

/** Makes `dir` and whatever of its parents is missing; throws the system's error (with its code) for the first level that cannot be made. */
export function makeDirs(dir: string): void {
  const missing: string[] = [];
  for (let at = path.resolve(dir); ; at = path.dirname(at)) {
    let isDirectory: boolean;
    try {
      isDirectory = statSync(at).isDirectory();
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      missing.push(at);
      if (path.dirname(at) === at) break;
      continue;
    }
    if (!isDirectory) throw notAFolder(at);
    break;
  }
  for (const level of missing.reverse()) {
    try {
      mkdirSync(level);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      // Made meanwhile by another writer is as good; a file there, or a link to nothing (stat says ENOENT), is not.
      if (!statSync(level).isDirectory()) throw notAFolder(level);
    }
  }
}
