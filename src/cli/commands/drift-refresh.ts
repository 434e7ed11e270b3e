// `drift --refresh`: what drifted is recorded again through the same path a recording
// server takes (a record-mode server started here over the same directory), so
// occurrences, test ids, stateful ids, secret scrubbing, atomic writes and the record
// lock all apply. A flow is only true re-recorded whole: every recording of each test
// that drifted is sent again, in the order it was first recorded, each occurrence of
// a request as often as it was recorded; then what changed on disk is said, file by
// file, with its shape before and after.
import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import type { ServerOptions } from '../../config/options.js';
import { compareShapes, describeFinding } from '../../drift/compare.js';
import { knownFinishReasons } from '../../drift/dialect.js';
import type { DriftReport } from '../../drift/report.js';
import { selectRecordings, type Selected } from '../../drift/select.js';
import { dialectOf } from '../../request/dialect.js';
import { authHeaders, checkKeyHost } from '../../drift/keys.js';
import { destinationOf, liveMethod, pathOf, requestBody, upstreamOf, type Routing } from '../../drift/send.js';
import { shapeOf } from '../../drift/shape.js';
import { TEST_ID_HEADER } from '../../request/control-headers.js';
import { wireHeaderValue } from '../../request/header-text.js';
import { RecordingStore } from '../../recordings/store.js';
import type { Recording } from '../../recordings/recording.js';
import { startServer } from '../../server/app.js';

/** `upstream`: the record server's default upstream instead of each recording's own; `routeOf`: the route of an endpoint, as `server.routes` says. */
export interface RefreshOptions extends Routing {
  /** The config file's options (its routes with drift's --route): the key scheme, normalisation, layout, routes and state folder the recordings were made with. */
  server: ServerOptions;
  stateDir: string;
  timeoutMs: number;
  env: NodeJS.ProcessEnv;
  /** Hosts the config file names: a key may go there without --upstream. */
  configHosts?: readonly string[];
}

export interface RefreshPlan {
  /** The recordings to send again, in order: by test, then as first recorded. */
  sends: Selected[];
  tests: number;
}

export interface RefreshedFile {
  file: string;
  change: 'rewritten' | 'unchanged' | 'new' | 'removed';
  /** For a rewritten file, where its shape now differs from before. */
  findings: string[];
}

export interface RefreshResult {
  files: RefreshedFile[];
  /** Requests whose answer was not written (an error the proxy does not record, such as a 429 or 401). */
  notRecorded: string[];
  /** Why the refresh stopped part-way (nothing more was sent); what it had changed is in `files`. */
  stopped?: string;
}

/** When it was recorded: the recorded time, else the file's modification time. */
async function recordedAt(dir: string, one: Selected): Promise<number> {
  const at = one.recording.response.origin?.recorded_at;
  return at !== undefined ? Date.parse(at) : (await stat(path.join(dir, one.file))).mtimeMs;
}

/** Every recording of each test with a drifted recording, in the order to send them. */
export async function planRefresh(dir: string, report: DriftReport): Promise<RefreshPlan> {
  const { selected } = await selectRecordings(dir, {}, Date.now());
  const drifted = new Set(report.drifted.map((d) => d.file));
  const tests = new Set(selected.filter((one) => drifted.has(one.file)).map((one) => one.recording.test_id));
  const chosen = await Promise.all(selected.filter((one) => tests.has(one.recording.test_id)).map(async (one) => ({ one, at: await recordedAt(dir, one) })));
  chosen.sort((a, b) => (a.one.recording.test_id ?? '').localeCompare(b.one.recording.test_id ?? '') || a.at - b.at || (a.one.recording.occurrence ?? 1) - (b.one.recording.occurrence ?? 1) || a.one.file.localeCompare(b.one.file));
  return { sends: chosen.map((c) => c.one), tests: tests.size };
}

/** Each recording file's bytes, by its path relative to dir. */
async function snapshot(dir: string): Promise<Map<string, { digest: string; recording?: Recording }>> {
  const store = await RecordingStore.open(dir);
  const files = new Map<string, { digest: string; recording?: Recording }>();
  for (const { file } of store.filesWithIds()) {
    const digest = createHash('sha256').update(await readFile(file)).digest('hex');
    files.set(path.relative(store.dir, file), { digest, recording: await store.read(file).catch(() => undefined) });
  }
  return files;
}

function changes(before: Awaited<ReturnType<typeof snapshot>>, after: Awaited<ReturnType<typeof snapshot>>, sent: Set<string>): RefreshedFile[] {
  const out: RefreshedFile[] = [];
  for (const [file, was] of before) {
    const now = after.get(file);
    if (!now) out.push({ file, change: 'removed', findings: [] });
    else if (now.digest === was.digest) {
      if (sent.has(file)) out.push({ file, change: 'unchanged', findings: [] });
    } else {
      const shapes = was.recording && now.recording ? [shapeOf(was.recording.response), shapeOf(now.recording.response)] as const : undefined;
      const findings = shapes ? compareShapes(shapes[0], shapes[1], knownFinishReasons(was.recording!.request.endpoint, shapes[0].finishReasons)).map(describeFinding) : [];
      out.push({ file, change: 'rewritten', findings });
    }
  }
  for (const file of after.keys()) if (!before.has(file)) out.push({ file, change: 'new', findings: [] });
  return out.sort((a, b) => a.file.localeCompare(b.file));
}

/** Sends the plan through a record-mode server per upstream, one request at a time, and says what changed on disk. */
export async function refreshDrifted(dir: string, plan: RefreshPlan, options: RefreshOptions): Promise<RefreshResult> {
  const auth = plan.sends.map(({ recording, file }) => {
    const dialect = dialectOf(recording.request.endpoint);
    const { url, chosen } = destinationOf(recording, options);
    checkKeyHost(dialect, url, chosen, options.configHosts ?? [], file);
    return authHeaders(dialect, options.env, recording).headers;
  });
  const byUpstream = new Map<string, number[]>();
  plan.sends.forEach((one, index) => {
    const base = upstreamOf(one.recording, options.upstream).href;
    byUpstream.set(base, [...(byUpstream.get(base) ?? []), index]);
  });
  // A config file's fault rules are for tests: refreshing records what the upstream says.
  const { faults: _faults, ...serverOptions } = options.server;
  const before = await snapshot(dir);
  const notRecorded: string[] = [];
  const unrecorded = new Set<string>();
  let stopped: string | undefined;
  for (const [upstream, indexes] of byUpstream) {
    if (stopped !== undefined) break;
    const server = await startServer({ ...serverOptions, mode: 'record', recordings: dir, upstream, stateDir: options.stateDir, port: 0, host: '127.0.0.1', logLevel: 'silent' });
    const statuses = new Map<string, number>();
    try {
      for (const index of indexes) {
        const { recording, file } = plan.sends[index]!;
        const { body, contentType } = requestBody(recording);
        const headers: Record<string, string> = { ...auth[index]!, ...(contentType ? { 'content-type': contentType } : {}) };
        if (recording.test_id !== null) headers[TEST_ID_HEADER] = wireHeaderValue(recording.test_id);
        let answer: Response;
        try {
          answer = await fetch(`${server.url}${pathOf(recording)}`, { method: liveMethod(recording), headers, ...(body ? { body } : {}), signal: AbortSignal.timeout(options.timeoutMs) });
          await answer.arrayBuffer();
        } catch (error) {
          stopped = `refreshing ${file} through ${upstream} failed: ${(error as Error).message}`;
          break;
        }
        statuses.set(file, answer.status);
      }
    } finally {
      await server.close();
    }
    // Once closed, every write has landed: what the server did not record (a retryable status, a refused key) is said.
    for (const [file, status] of statuses) {
      if (server.usage.recorded.has(path.basename(file).replace(/\.json$/, ''))) continue;
      notRecorded.push(`${file}: the upstream answered ${status}, which is not recorded`);
      unrecorded.add(file);
    }
  }
  const after = await snapshot(dir);
  // A file the server did not record is said once, as not re-recorded, never also as "re-recorded, the same".
  const rerecorded = new Set(plan.sends.map((s) => s.file).filter((file) => !unrecorded.has(file)));
  return { files: changes(before, after, rerecorded), notRecorded, ...(stopped !== undefined ? { stopped } : {}) };
}

export function formatRefresh(result: RefreshResult): string {
  const lines = ['refreshed:'];
  for (const { file, change, findings } of result.files) {
    if (change === 'rewritten') lines.push(`  ${file}: ${findings.length > 0 ? findings.join('; ') : 're-recorded, same shape'}`);
    else if (change === 'unchanged') lines.push(`  ${file}: re-recorded, byte for byte the same`);
    else lines.push(`  ${file}: ${change === 'new' ? 'new (a later occurrence)' : 'removed (an occurrence the flow no longer reaches)'}`);
  }
  for (const line of result.notRecorded) lines.push(`  not re-recorded: ${line}`);
  if (result.stopped !== undefined) lines.push(`  stopped part-way, nothing more sent: ${result.stopped}`);
  return lines.join('\n');
}
