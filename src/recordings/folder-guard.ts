// Where a new key's by-test-file folder may be written: there when the folder, or its
// nearest existing parent, is really inside the recordings directory; else the top
// folder, so a link that start-up refused (leading out) is never written through.
import { existsSync, realpathSync } from 'node:fs';
import path from 'node:path';

export class FolderGuard {
  /** Folders found to lead nowhere outside the directory: checked once each. */
  private readonly checked = new Set<string>();
  private realDir: string | undefined;

  constructor(private readonly dir: string) {}

  /** The folder to write a new key chosen to go in `relativeDir` into. */
  inside(relativeDir: string): string {
    if (relativeDir === '') return this.dir;
    const folder = path.join(this.dir, relativeDir);
    if (this.checked.has(folder)) return folder;
    this.realDir ??= realpathSync(this.dir);
    let existing = folder;
    while (!existsSync(existing) && existing !== this.dir) existing = path.dirname(existing);
    let real: string;
    try {
      real = realpathSync(existing);
    } catch {
      return this.dir;
    }
    if (real !== this.realDir && !real.startsWith(`${this.realDir}${path.sep}`)) return this.dir;
    this.checked.add(folder);
    return folder;
  }
}
