// A miss as the page shows it: the diagnostic, the body the client sent beside the
// nearest recording's (aligned, changed lines marked), and the commands that would
// record it.
import path from 'node:path';
import { toPlainJson } from '../../json/lossless.js';
import { bodyDifferences } from '../../json/diff.js';
import { sideBySide } from '../../json/side-by-side.js';
import { ADMIN_PREFIX } from '../../request/control-headers.js';
import type { FastifyInstance } from 'fastify';
import type { JournalDetail } from './contract.js';

/** A POSIX shell word. */
const quote = (text: string): string => (/^[\w@%+=:,./-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`);
const escapeRegex = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * vitest's -t pattern for one test: the helper's test name joins the describe blocks
 * and the test with " > " (vitest's currentTestName), while -t is matched against
 * the same names joined by single spaces. A name may hold " > " itself, so each one
 * may stand for either.
 */
export function vitestNamePattern(testName: string): string {
  return `^${testName.split(' > ').map(escapeRegex).join('(?: > | )')}$`;
}

/** How to record what missed: switch this server over, or restart it, and run the test again. */
function recordCommands(server: Pick<FastifyInstance, 'url' | 'config'>, needsToken: boolean, testId: string | null): Array<{ label: string; command: string }> {
  const commands: Array<{ label: string; command: string }> = [];
  const vitest = testId ? /^(.+\.[cm]?[jt]sx?)::(.+)$/.exec(testId) : null;
  const pytest = testId ? /^(.+\.py)::/.test(testId) : false;
  if (vitest) {
    commands.push({ label: 'Record it with the vitest helper (give the client its real API key)', command: `LLM_REPLAY_MODE=record-if-missing npx vitest run ${quote(vitest[1]!)} -t ${quote(vitestNamePattern(vitest[2]!))}` });
  }
  const or = commands.length > 0 ? 'Or s' : 'S';
  // The token is never shown: the command names the variable that holds it.
  const token = needsToken ? ` -H "authorization: Bearer $LLM_REPLAY_ADMIN_TOKEN"` : '';
  commands.push({
    label: `${or}witch this server to record what is missing, then run the test again`,
    command: `curl -X PUT ${server.url}${ADMIN_PREFIX}/mode -H 'content-type: application/json'${token} -d '{"mode": "record-if-missing"}'`,
  });
  const relative = path.relative(process.cwd(), server.config.recordingsDir);
  const dir = relative === '' ? '.' : relative.startsWith('..') ? server.config.recordingsDir : relative;
  commands.push({ label: 'Or start it recording what is missing', command: `npx llm-replay serve --mode record-if-missing --recordings ${quote(dir)}` });
  if (pytest) commands.push({ label: 'and run the test', command: `pytest ${quote(testId!)}` });
  return commands;
}

export async function missView(server: Pick<FastifyInstance, 'url' | 'config' | 'journal' | 'store'>, seq: number, needsToken: boolean): Promise<JournalDetail['miss'] | undefined> {
  const entry = server.journal.entry(seq);
  const report = entry?.miss;
  if (!entry || !report) return undefined;
  const kept = server.journal.bodyOf(seq);
  const miss: NonNullable<JournalDetail['miss']> = {
    message: report.message,
    differences: [],
    commands: recordCommands(server, needsToken, entry.testId),
  };
  if (kept) miss.requested = kept.value ?? null;
  if (report.nearest) {
    const file = path.resolve(report.nearest.file);
    const recording = await server.store.read(file).catch(() => undefined);
    const key = path.basename(file).replace(/^models-/, '').slice(0, 64);
    miss.nearest = { file: path.relative(server.store.dir, file).split(path.sep).join('/'), key, testId: report.nearest.testId };
    if (recording && kept) {
      const recorded = toPlainJson(recording.request.body);
      const requested = kept.value ?? null;
      miss.diff = sideBySide(recorded, requested);
      miss.differences = bodyDifferences(recorded, requested).map((d) => ({ path: d.path, ...(d.a !== undefined ? { recorded: d.a } : {}), ...(d.b !== undefined ? { requested: d.b } : {}) }));
      if (recording.test_id !== entry.testId) miss.differences.unshift({ path: 'test id', recorded: JSON.stringify(recording.test_id), requested: JSON.stringify(entry.testId) });
    } else {
      miss.differences = report.nearest.differences.map((line) => ({ path: line }));
    }
  }
  return miss;
}
