// `prune`: the recordings no run used, from the usage files servers write on
// shutdown (several shards' files are merged) or from a running server. A dry run
// unless told to delete.
import { readdir, readFile, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import { LlmReplayError } from '../../errors.js';
import { RecordingStore } from '../../recordings/store.js';
import type { UsageFile } from '../../server/usage.js';

export interface PruneReport {
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
  if (usage?.format !== 'llm-replay-usage/1' || !Array.isArray(usage.hits) || !Array.isArray(usage.recorded)) {
    throw new LlmReplayError(`${where} is not an llm-replay usage file`);
  }
  return usage;
}

export async function loadUsage(sources: string[], servers: string[]): Promise<{ files: string[]; used: Set<string> }> {
  const used = new Set<string>();
  const files: string[] = [];
  for (const source of sources) {
    for (const file of await usageFilesIn(source)) {
      const usage = checkUsage(JSON.parse(await readFile(file, 'utf8')), file);
      for (const key of [...usage.hits, ...usage.recorded]) used.add(key);
      files.push(file);
    }
  }
  for (const server of servers) {
    const token = process.env['LLM_REPLAY_ADMIN_TOKEN'];
    const response = await fetch(`${server.replace(/\/$/, '')}/_llm-replay/usage`, token ? { headers: { authorization: `Bearer ${token}` } } : {}).catch((error: Error) => {
      throw new LlmReplayError(`cannot reach ${server}: ${error.message}`);
    });
    if (!response.ok) throw new LlmReplayError(`${server} answered ${response.status} for its usage`);
    const usage = checkUsage(await response.json(), server);
    for (const key of [...usage.hits, ...usage.recorded]) used.add(key);
    files.push(server);
  }
  if (files.length === 0) throw new LlmReplayError('no usage data found: run the test suite through llm-replay first (its usage file is written on shutdown)');
  return { files, used };
}

export async function prune(dir: string, sources: string[], servers: string[], remove: boolean): Promise<PruneReport> {
  const { files, used } = await loadUsage(sources, servers);
  const store = await RecordingStore.open(dir);
  const unused: string[] = [];
  for (const { id, file } of store.filesWithIds()) {
    if (!used.has(id)) unused.push(file);
  }
  unused.sort();
  if (remove) for (const file of unused) await unlink(file);
  return { usageSources: files, used: used.size, unused: unused.map((file) => path.relative(store.dir, file)), deleted: remove };
}
