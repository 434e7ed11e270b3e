// `prune`: the recordings no run used, from the usage files servers write on
// shutdown (several shards' files are merged) or from a running server. A dry run
// unless told to delete; nothing is deleted unless every usage source was made for
// this very directory, and what will go is shown before it goes.
import { readdir, readFile, realpath, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import { LlmReplayError } from '../../errors.js';
import { ADMIN_PREFIX } from '../../request/control-headers.js';
import { RecordingStore } from '../../recordings/store.js';
import type { UsageFile } from '../../server/usage.js';

interface PruneReport {
  usageSources: string[];
  used: number;
  unused: string[];
  deleted: boolean;
}

async function usageFilesIn(source: string): Promise<string[]> {
  let info;
  try {
    info = await stat(source);
  } catch {
    throw new LlmReplayError(`no usage data at ${source}`);
  }
  if (info.isFile()) return [source];
  const names = (await readdir(source)).filter((name) => name.startsWith('usage-') && name.endsWith('.json'));
  return names.sort().map((name) => path.join(source, name));
}

function checkUsage(data: unknown, where: string): UsageFile {
  const usage = data as UsageFile;
  if (usage?.format !== 'llm-replay-usage/1' || !Array.isArray(usage.hits) || !Array.isArray(usage.recorded) || typeof usage.recordings !== 'string') {
    throw new LlmReplayError(`${where} is not an llm-replay usage file`);
  }
  return usage;
}

/** A usage file's text as data, or one line saying why it cannot be. */
function parseUsage(text: string, file: string): UsageFile {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    throw new LlmReplayError(`${file} is cut short or corrupt (not complete JSON): remove it, or run the suite again to write a new one`);
  }
  return checkUsage(data, file);
}

/** The directory a path names, links resolved, for comparing two spellings of it. */
async function sameDir(dir: string): Promise<string> {
  return realpath(dir).catch(() => path.resolve(dir));
}

async function loadUsage(sources: string[], servers: string[], dir: string): Promise<{ files: string[]; used: Set<string> }> {
  const used = new Set<string>();
  const files: string[] = [];
  const target = await sameDir(dir);
  const take = async (usage: UsageFile, where: string) => {
    if ((await sameDir(usage.recordings)) !== target) {
      throw new LlmReplayError(`${where} was made for ${usage.recordings}, not ${path.resolve(dir)}: nothing is pruned on another directory's usage`);
    }
    for (const key of [...usage.hits, ...usage.recorded]) used.add(key);
    files.push(where);
  };
  for (const source of sources) {
    for (const file of await usageFilesIn(source)) await take(parseUsage(await readFile(file, 'utf8'), file), file);
  }
  for (const server of servers) {
    const token = process.env['LLM_REPLAY_ADMIN_TOKEN'];
    const response = await fetch(`${server.replace(/\/$/, '')}${ADMIN_PREFIX}/usage`, token ? { headers: { authorization: `Bearer ${token}` } } : {}).catch((error: Error) => {
      throw new LlmReplayError(`cannot reach ${server}: ${error.message}`);
    });
    if (!response.ok) throw new LlmReplayError(`${server} answered ${response.status} for its usage`);
    await take(checkUsage(await response.json(), server), server);
  }
  if (files.length === 0) throw new LlmReplayError('no usage data found: run the test suite through llm-replay first (its usage file is written on shutdown)');
  // A run that used nothing says nothing about what is unused.
  if (used.size === 0) throw new LlmReplayError(`the usage in ${files.join(', ')} used no recording at all: nothing is pruned on it`);
  return { files, used };
}

/**
 * The recordings no usage source used; with `remove`, they are deleted once `beforeDelete`
 * has been shown them (relative paths).
 */
export async function prune(dir: string, sources: string[], servers: string[], remove: boolean, beforeDelete: (files: string[]) => void = () => undefined): Promise<PruneReport> {
  const { files, used } = await loadUsage(sources, servers, dir);
  const store = await RecordingStore.open(dir);
  const unused: string[] = [];
  for (const { id, file } of store.filesWithIds()) {
    if (!used.has(id)) unused.push(file);
  }
  unused.sort();
  if (remove && unused.length > 0) {
    beforeDelete(unused.map((file) => path.relative(store.dir, file)));
    for (const file of unused) await unlink(file);
  }
  return { usageSources: files, used: used.size, unused: unused.map((file) => path.relative(store.dir, file)), deleted: remove };
}
