// `llm-replay drift [dir]`: send recorded requests to the live API and report where
// the answers' shapes no longer match the recordings (never writing a recording but
// with --refresh). Exit 0 none, 1 drift, 2 the check itself failed (no key, a key
// refused, the upstream unreachable or overloaded, bad options), after printing
// and saving what drift it did find.
import { constants } from 'node:fs';
import { access, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Command, Option } from 'commander';
import { DEFAULT_CONFIG_FILE, readConfigFile } from '../../config/config-file.js';
import { defaultStateDir, parseRoutes, routeFor, type ServerOptions } from '../../config/options.js';
import { DriftCheckError, LlmReplayError } from '../../errors.js';
import { parseDuration } from '../../recordings/origin.js';
import { checkDrift, formatDriftReport, keyDestinations } from '../../drift/check.js';
import { configHostsOf } from '../../drift/keys.js';
import { reportText, saveDriftReport } from '../../drift/report-file.js';
import { selectRecordings, type Selection } from '../../drift/select.js';
import type { LiveRoute } from '../../drift/send.js';
import { keyValue } from '../serve-options.js';
import { progress } from '../terminal.js';
import { recordingsDirOf, withRecordingsDir } from '../recordings-dir.js';
import { formatRefresh, planRefresh, refreshDrifted } from './drift-refresh.js';

/** Above these, the check asks for --yes before spending the user's money. */
export const CONFIRM_ABOVE = { requests: 50, tokens: 100_000 };

interface DriftFlags {
  recordings?: string;
  upstream?: string;
  sample?: string;
  testId?: string;
  endpoint?: string;
  olderThan?: string;
  maxRequests?: string;
  maxTokens?: string;
  concurrency: string;
  rate?: string;
  timeout: string;
  report?: string;
  stateDir?: string;
  config?: string;
  route?: Record<string, string>;
  json?: boolean;
  yes?: boolean;
  refresh?: boolean;
}

function whole(flag: string, text: string | undefined, min: number): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!Number.isInteger(value) || value < min) throw new DriftCheckError(`${flag} must be a whole number from ${min}, not ${JSON.stringify(text)}`);
  return value;
}

/** Above the thresholds, spending the user's money needs --yes. */
function confirmCost(requests: number, tokens: number, yes: boolean | undefined, narrow: string): void {
  if ((requests > CONFIRM_ABOVE.requests || tokens > CONFIRM_ABOVE.tokens) && !yes) {
    throw new DriftCheckError(`that is more than ${CONFIRM_ABOVE.requests} requests or ${CONFIRM_ABOVE.tokens} tokens: add --yes to send them, or ${narrow}`);
  }
}

function selectionOf(flags: DriftFlags): Selection {
  const olderThan = flags.olderThan === undefined ? undefined : parseDuration(flags.olderThan);
  if (flags.olderThan !== undefined && olderThan === undefined) throw new DriftCheckError(`--older-than must be a duration such as 30d, 12h, 90m or 2w, not ${JSON.stringify(flags.olderThan)}`);
  return {
    testId: flags.testId,
    endpoint: flags.endpoint,
    olderThanMs: olderThan,
    sample: whole('--sample', flags.sample, 1),
    maxRequests: whole('--max-requests', flags.maxRequests, 1),
    maxTokens: whole('--max-tokens', flags.maxTokens, 0),
  };
}

/** The options a server over `dir` would start with: the config file's, its routes under --route's (as `serve` merges them). */
function serverOptionsOf(flags: DriftFlags): ServerOptions {
  const fromFile = readConfigFile(flags.config ?? DEFAULT_CONFIG_FILE, flags.config !== undefined);
  return flags.route === undefined ? fromFile : { ...fromFile, routes: { ...fromFile.routes, ...flags.route } };
}

/**
 * The route an endpoint takes on the server: a recording made through one was sent
 * there without its prefix. What no route takes goes to -u or its own origin, so the
 * default route's upstream here is never used.
 */
function routingOf(routes: Record<string, string> | undefined): (endpoint: string) => LiveRoute | undefined {
  const table = parseRoutes(routes ?? {}, new URL('http://default-route.invalid'));
  return (endpoint) => {
    const route = routeFor(table, endpoint);
    return route.prefix === '' ? undefined : route;
  };
}

export async function runDrift(dir: string, flags: DriftFlags): Promise<number> {
  const fromFile = serverOptionsOf(flags);
  const stateDir = flags.stateDir ?? fromFile.stateDir ?? defaultStateDir(dir);
  const selection = selectionOf(flags);
  const concurrency = whole('--concurrency', flags.concurrency, 1)!;
  const rate = whole('--rate', flags.rate, 1);
  const timeoutMs = whole('--timeout', flags.timeout, 1)!;
  const routeOf = routingOf(fromFile.routes);
  let upstream: URL | undefined;
  if (flags.upstream !== undefined) {
    try {
      upstream = new URL(flags.upstream);
    } catch {
      throw new DriftCheckError(`--upstream must be a URL, not ${JSON.stringify(flags.upstream)}`);
    }
  }
  // A report that cannot be written is found out before any paid request, not after.
  if (flags.report !== undefined) {
    const folder = path.dirname(path.resolve(flags.report));
    await access(folder, constants.W_OK).catch(() => {
      throw new DriftCheckError(`--report ${flags.report}: the folder ${folder} does not exist or cannot be written`);
    });
  }
  const { selected, unreadable } = await selectRecordings(dir, selection, Date.now());
  const tokens = selected.reduce((sum, one) => sum + one.tokens, 0);
  const keys = keyDestinations(selected, { upstream, routeOf, env: process.env });
  process.stderr.write(
    `llm-replay drift: ${selected.length} request${selected.length === 1 ? '' : 's'} to send, about ${tokens} tokens (from the recordings' usage)${keys.length ? `; keys: ${keys.join(', ')}` : ''}${unreadable.length ? `; ${unreadable.length} unreadable files skipped (llm-replay verify says why)` : ''}\n`,
  );
  confirmCost(selected.length, tokens, flags.yes, 'narrow with --sample, --max-requests, --max-tokens');
  const bar = progress('checking');
  const configHosts = configHostsOf(fromFile.upstream, fromFile.routes);
  const report = await checkDrift(selected, { recordingsDir: dir, upstream, routeOf, concurrency, ratePerSecond: rate, timeoutMs, env: process.env, configHosts }, bar.update);
  bar.done();
  // The inspector's Drift view shows the latest one.
  await saveDriftReport(stateDir, report);
  if (flags.report) await writeFile(flags.report, reportText(report));
  process.stdout.write(flags.json ? reportText(report) : `${formatDriftReport(report)}\n`);
  if (report.failed.length > 0) {
    process.stderr.write(`llm-replay drift: the check failed for ${report.failed.length} recording${report.failed.length === 1 ? '' : 's'}${report.notSent ? ` and stopped (${report.notSent} not sent)` : ''}: ${report.failed[0]!.reason}\n`);
  }
  if (flags.refresh && report.drifted.length > 0) {
    const plan = await planRefresh(dir, report);
    const planned = plan.sends.reduce((sum, one) => sum + one.tokens, 0);
    process.stderr.write(`llm-replay drift: refreshing ${plan.sends.length} recordings of ${plan.tests} tests (every recording of a test that drifted, in order), about ${planned} tokens\n`);
    confirmCost(plan.sends.length, planned, flags.yes, 'narrow with --test-id or --endpoint');
    const result = await refreshDrifted(dir, plan, { upstream, routeOf, server: fromFile, stateDir, timeoutMs, env: process.env, configHosts });
    // --json keeps stdout to the report alone.
    (flags.json ? process.stderr : process.stdout).write(`${formatRefresh(result)}\n`);
    if (result.stopped !== undefined) {
      process.stderr.write(`llm-replay drift: --refresh ${result.stopped}; the files listed above were already changed\n`);
      return 2;
    }
  }
  if (report.failed.length > 0) return 2;
  return report.drifted.length > 0 ? 1 : 0;
}

export function registerDriftCommand(program: Command): void {
  withRecordingsDir(program.command('drift').description("send recorded requests to the live API with your key and report where the answers' shapes differ from the recordings (exit 0 none, 1 drift, 2 the check failed)"))
    .option('-u, --upstream <url>', "send what no route takes to this API instead of each recording's own origin")
    .option('--route <prefix=url>', 'a route the recordings were made through, as serve takes it (repeatable; over the config file\'s routes): endpoints under the prefix go to that upstream, the prefix taken off', keyValue)
    .option('--sample <n>', 'at most n recordings, spread evenly, stalest first')
    .option('--test-id <text>', 'only test ids containing this')
    .option('--endpoint <text>', 'only endpoints containing this')
    .option('--older-than <age>', 'only recordings at least this old (30d, 12h, 90m, 2w; unknown age counts as old)')
    .option('--max-requests <n>', 'send at most n requests (the stalest first: unknown age, then oldest)')
    .option('--max-tokens <n>', 'spend at most about n tokens (estimated from the recordings\' usage)')
    .addOption(new Option('--concurrency <n>', 'requests in flight at once').default('4'))
    .option('--rate <n>', 'start at most n requests a second')
    .addOption(new Option('--timeout <ms>', 'ms to wait for each answer').default('120000'))
    .option('--report <file>', 'also write the JSON report here')
    .addOption(new Option('--state-dir <dir>', "the server's state folder, where the inspector's Drift view finds the latest report (default: as the server's)").env('LLM_REPLAY_STATE_DIR'))
    .addOption(new Option('-c, --config <file>', `the config file the server starts with (default ./${DEFAULT_CONFIG_FILE} when present)`).env('LLM_REPLAY_CONFIG'))
    .option('--json', 'print the report as JSON')
    .option('--refresh', 'record again what drifted (every recording of each test that drifted), through a record-mode server, and print what changed')
    .option('-y, --yes', `send even when that is more than ${CONFIRM_ABOVE.requests} requests or ${CONFIRM_ABOVE.tokens} tokens`)
    .action(async (given: string | undefined, flags: DriftFlags, command: Command) => {
      const dir = recordingsDirOf(command, given, flags.recordings);
      try {
        process.exitCode = await runDrift(dir, flags);
      } catch (error) {
        // Whatever stopped the check, it is not drift: exit 2, so CI tells the two apart. A file system error names its path.
        const said = error instanceof LlmReplayError || typeof (error as NodeJS.ErrnoException).code === 'string';
        process.stderr.write(`llm-replay drift: ${said ? (error as Error).message : ((error as Error).stack ?? String(error))}\n`);
        process.exitCode = 2;
      }
    });
}
