// Reading a recordings directory at any depth: which files are recordings (by name),
// which folders are not entered (hidden ones, node_modules), which symbolic links are
// followed (inside the directory), aliases (read at their real place) or refused
// (leaving it, broken, looping), and which files are passed over, each with why.
// Stale temp files of writers no longer running are removed on the way when asked.
import { readdir, realpath, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import { TEMP_PREFIX, writerAlive } from './atomic-write.js';
import { parseRecordingId } from './occurrence.js';
import { isUnreadFolder } from './layout.js';

const KEY_FILE = /^[0-9a-f]{64}\.json$/;
const KEY_FILE_LENGTH = 64 + '.json'.length;
const MODEL_LIST_FILE = /^models-([0-9a-f]{64})-([0-9a-f]{8})\.json$/;

/** A recording file found: its key, folder and name, and which occurrence (or model-list part) it is. */
export interface FoundFile {
  key: string;
  /** The folder, one string shared by every file found in it. */
  dir: string;
  name: string;
  occurrence: number;
  modelList: boolean;
}

export interface ScanReport {
  /** Files and links that could not be used, with why. */
  skipped: Array<{ file: string; reason: string }>;
  /** Folders not entered. */
  unreadFolders: string[];
  /** Links to a file or folder read where it is: not read twice, and nothing is lost. */
  aliases: string[];
  /** Temp files of writers no longer running, removed (when asked). */
  removedTemps: number;
}

/** Walks `root`, calling `found` for each recording file; returns what it passed over. */
export async function scanDirectory(root: string, removeStaleTemps: boolean, found: (file: FoundFile) => void): Promise<ScanReport> {
  const report: ScanReport = { skipped: [], unreadFolders: [], aliases: [], removedTemps: 0 };
  const realRoot = await realpath(root);

  /**
   * What a symbolic link leads to, when it stays inside the directory; otherwise it is
   * refused, by name. A link to something the scan reads where it stands is an alias:
   * whichever the scan meets first, the file is read once, at its real place.
   */
  async function followLink(link: string): Promise<'file' | 'folder' | 'alias' | undefined> {
    let target: string;
    let info;
    try {
      target = await realpath(link);
      info = await stat(target);
    } catch {
      report.skipped.push({ file: link, reason: 'a broken link' });
      return undefined;
    }
    if (target !== realRoot && !target.startsWith(`${realRoot}${path.sep}`)) {
      report.skipped.push({ file: link, reason: `a link to ${target}, outside the recordings directory: refused` });
      return undefined;
    }
    // A real path: read where it stands unless a folder on the way is one the scan does not enter.
    // A file link is only an alias under its target's own name: <keyB>.json -> <keyA>.json is a recording of its own.
    const readInPlace = target !== realRoot && !path.relative(realRoot, target).split(path.sep).some(isUnreadFolder);
    if (readInPlace && (info.isDirectory() || path.basename(target) === path.basename(link))) return 'alias';
    return info.isDirectory() ? 'folder' : info.isFile() ? 'file' : undefined;
  }

  async function scan(dir: string, visited: Set<string>): Promise<void> {
    visited.add(await realpath(dir));
    const items = await readdir(dir, { withFileTypes: true });
    for (const item of items) {
      const { name } = item;
      // The usual file first, with no path built: the folder string is shared by all of them.
      if (name.length === KEY_FILE_LENGTH && name.endsWith('.json') && item.isFile() && KEY_FILE.test(name)) {
        found({ key: name.slice(0, 64), dir, name, occurrence: 1, modelList: false });
        continue;
      }
      const full = path.join(dir, name);
      const link = item.isSymbolicLink();
      const kind = link ? await followLink(full) : item.isDirectory() ? 'folder' : item.isFile() ? 'file' : undefined;
      if (kind === 'alias') {
        report.aliases.push(full);
        continue;
      }
      if (kind === 'folder') {
        if (isUnreadFolder(name)) report.unreadFolders.push(full);
        else if (link && visited.has(await realpath(full))) report.skipped.push({ file: full, reason: 'a link to a folder already read (a loop)' });
        else await scan(full, visited);
        continue;
      }
      if (name.startsWith(TEMP_PREFIX)) {
        if (removeStaleTemps && !writerAlive(name)) await unlink(full).then(() => report.removedTemps++, () => undefined);
        continue;
      }
      if (kind !== 'file' || !name.endsWith('.json')) continue;
      const models = MODEL_LIST_FILE.exec(name);
      if (models?.[1] !== undefined) {
        found({ key: models[1], dir, name, occurrence: 1, modelList: true });
        continue;
      }
      // <key>.json, or <key>.<n>.json with n from 2: a later occurrence.
      const parsed = parseRecordingId(name.slice(0, -'.json'.length));
      if (!parsed || (parsed.occurrence === 1 && name !== `${parsed.key}.json`)) {
        report.skipped.push({ file: full, reason: 'its name is not <key>.json, <key>.<n>.json (n from 2) or models-<key>-<digest>.json' });
        continue;
      }
      found({ key: parsed.key, dir, name, occurrence: parsed.occurrence, modelList: false });
    }
  }

  await scan(root, new Set());
  return report;
}
