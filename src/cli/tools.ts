// The commands that work on a recordings directory: verify, rekey, list, show, diff, prune.
// Exit codes: 0 fine, 1 problems found (verify) or nothing found (show, diff),
// 2 bad usage.
import { Command, Option } from 'commander';
import { resolveConfig } from '../config/options.js';
import { DEFAULT_CONFIG_FILE, readConfigFile } from '../config/config-file.js';
import { compileRules } from '../keys/rules.js';
import { ConfigError, LlmReplayError } from '../errors.js';
import { KEY_SCHEMES, type KeyScheme } from '../keys/index.js';
import { describeRecording, diffRequests, findRecording, listRecordings, type RecordingList, type ShownRecording } from './commands/inspect.js';
import { prune } from './commands/prune.js';
import { formatVerifyReport, verifyRecordings } from './commands/verify.js';
import { formatRekeyReport, rekeyRecordings } from './commands/rekey.js';
import { colour, printable, progress, table } from './terminal.js';
import { formatAge } from '../recordings/origin.js';
import { defaultRecordingsDir, recordingsDirOf, withRecordingsDir } from './recordings-dir.js';

function print(text: string): void {
  process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
}

/** Files `list` leaves out, said on stderr (so that --json stays a list of recordings): a count that silently fell short would read as all there is. */
function sayNotListed(notListed: RecordingList['notListed']): void {
  if (notListed.length === 0) return;
  const shown = notListed.slice(0, 10).map(({ file, reason }) => `  ${printable(file)}: ${printable(reason)}`);
  const more = notListed.length > shown.length ? [`  and ${notListed.length - shown.length} more`] : [];
  process.stderr.write([`llm-replay list: ${notListed.length} ${notListed.length === 1 ? 'file is' : 'files are'} not listed (llm-replay verify checks them all):`, ...shown, ...more].join('\n') + '\n');
}

function formatSize(bytes: number): string {
  return bytes < 1024 ? `${bytes} B` : bytes < 1024 * 1024 ? `${(bytes / 1024).toFixed(1)} KiB` : `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

function formatShown(shown: ShownRecording): string {
  const c = colour();
  const lines = [
    c('bold', shown.file),
    `${c('cyan', 'request')}   ${shown.request.method} ${shown.request.endpoint}  model ${shown.request.model || '-'}  test id ${shown.testId ?? '-'}`,
    JSON.stringify(shown.request.body, null, 2),
    `${c('cyan', 'response')}  ${shown.response.status}${shown.response.streaming ? `, a stream of ${shown.response.stream?.chunks ?? 0} chunks` : ''}`,
  ];
  if (shown.response.stream) {
    lines.push(shown.response.stream.text || c('dim', '(no text)'));
    for (const call of shown.response.stream.toolCalls) lines.push(`${c('yellow', 'tool call')} ${call.name ?? '?'} ${call.id ?? ''} ${call.arguments}`);
  } else {
    lines.push(JSON.stringify(shown.response.body, null, 2));
  }
  return lines.join('\n');
}

export function registerToolCommands(program: Command, fail: (message: string) => never): void {
  const guard = async (work: () => Promise<void>) => {
    try {
      await work();
    } catch (error) {
      if (error instanceof ConfigError) fail(error.message);
      if (error instanceof LlmReplayError) {
        process.stderr.write(`llm-replay: ${error.message}\n`);
        process.exitCode = 1;
        return;
      }
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') fail(`${(error as NodeJS.ErrnoException).path ?? 'a path'} does not exist`);
      throw error;
    }
  };

  /** The key scheme and rules names are made with: the flags, then the config file. */
  const keying = (options: { keyScheme?: KeyScheme; config?: string }) => {
    const fromFile = readConfigFile(options.config ?? DEFAULT_CONFIG_FILE, options.config !== undefined);
    return { scheme: options.keyScheme ?? fromFile.keyScheme ?? 'default', rules: compileRules(fromFile.normalize) };
  };
  const schemeOption = () => new Option('-k, --key-scheme <scheme>', 'the key scheme the names follow (default: the config file\'s, else default)').choices(KEY_SCHEMES).env('LLM_REPLAY_KEY_SCHEME');
  const configOption = () => new Option('-c, --config <file>', `the config file whose keyScheme and normalize rules the keys are made with (default ./${DEFAULT_CONFIG_FILE} when present)`).env('LLM_REPLAY_CONFIG');

  withRecordingsDir(program.command('verify').description('check every recording: it parses, its name is the key of its request, it holds no credentials (exit 1 if not)'))
    .addOption(schemeOption())
    .addOption(configOption())
    .option('--json', 'print the report as JSON')
    .action((given: string | undefined, options: { recordings?: string; keyScheme?: KeyScheme; config?: string; json?: boolean }, command: Command) =>
      guard(async () => {
        const dir = recordingsDirOf(command, given, options.recordings);
        const { scheme, rules } = keying(options);
        const bar = progress('verifying');
        const report = await verifyRecordings(dir, scheme, bar.update, rules);
        bar.done();
        print(options.json ? JSON.stringify(report, null, 2) : formatVerifyReport(report, dir));
        process.exitCode = report.problems.some((p) => p.kind !== 'ignored') ? 1 : 0;
      }),
    );

  withRecordingsDir(program.command('rekey').description('rename every recording to the key of its request under the scheme and rules now in force (exit 1 if any cannot be)'))
    .addOption(schemeOption())
    .addOption(configOption())
    .option('--dry-run', 'only report what would be renamed')
    .option('--json', 'print the report as JSON')
    .action((given: string | undefined, options: { recordings?: string; keyScheme?: KeyScheme; config?: string; dryRun?: boolean; json?: boolean }, command: Command) =>
      guard(async () => {
        const dir = recordingsDirOf(command, given, options.recordings);
        const { scheme, rules } = keying(options);
        const bar = progress('rekeying');
        const report = await rekeyRecordings(dir, scheme, rules, options.dryRun === true, bar.update);
        bar.done();
        print(options.json ? JSON.stringify(report, null, 2) : formatRekeyReport(report));
        process.exitCode = report.conflicts.length + report.unreadable.length > 0 ? 1 : 0;
      }),
    );

  withRecordingsDir(program.command('list').description('a table of the recordings: key, endpoint, model, test id, streaming, size, date, age (since recorded; unknown when the file does not say)'))
    .option('--endpoint <text>', 'only endpoints containing this')
    .option('--model <text>', 'only models containing this')
    .option('--test-id <text>', 'only test ids containing this')
    .option('--json', 'print JSON instead of a table')
    .action((given: string | undefined, options: { recordings?: string; endpoint?: string; model?: string; testId?: string; json?: boolean }, command: Command) =>
      guard(async () => {
        const dir = recordingsDirOf(command, given, options.recordings);
        const bar = progress('reading');
        const { rows, notListed } = await listRecordings(dir, options, bar.update);
        bar.done();
        sayNotListed(notListed);
        if (options.json) return print(JSON.stringify(rows, null, 2));
        const c = colour();
        const now = Date.now();
        const header = ['KEY', 'METHOD', 'ENDPOINT', 'MODEL', 'TEST ID', 'STREAM', 'STATUS', 'SIZE', 'DATE', 'AGE'];
        // What the files say is shown, never acted on by the terminal, and a long test id does not widen every row.
        const body = rows.map((r) => [`${r.key.slice(0, 12)}${r.occurrence > 1 ? `.${r.occurrence}` : ''}`, printable(r.method, 12), printable(r.endpoint, 60), printable(r.model, 40) || '-', r.testId === null ? '-' : printable(r.testId, 60), r.streaming ? 'yes' : 'no', String(r.status), formatSize(r.size), r.modified.slice(0, 10), formatAge(r.recordedAt === null ? undefined : now - Date.parse(r.recordedAt))]);
        const text = table([header, ...body]).split('\n');
        print([c('bold', text[0] ?? ''), ...text.slice(1), c('dim', `${rows.length} recordings${notListed.length > 0 ? ` (${notListed.length} other ${notListed.length === 1 ? 'file' : 'files'} not listed)` : ''}`)].join('\n'));
      }),
    );

  program
    .command('show')
    .description('one recording: its request, and its answer (for a stream: the text and tool calls it carried, and its chunk count)')
    .argument('<key|file>', 'a key, a unique key prefix, or a file')
    .option('-r, --recordings <dir>', 'the recordings directory', defaultRecordingsDir())
    .option('--json', 'print JSON')
    .action((which: string, options: { recordings: string; json?: boolean }) =>
      guard(async () => {
        const { file, recording } = await findRecording(options.recordings, which);
        const shown = describeRecording(file, recording);
        print(options.json ? JSON.stringify(shown, null, 2) : formatShown(shown));
      }),
    );

  program
    .command('diff')
    .description('two recordings\' requests side by side: the fields that differ')
    .argument('<a>', 'a key, a unique key prefix, or a file')
    .argument('<b>', 'a key, a unique key prefix, or a file')
    .option('-r, --recordings <dir>', 'the recordings directory', defaultRecordingsDir())
    .option('--json', 'print JSON')
    .action((a: string, b: string, options: { recordings: string; json?: boolean }) =>
      guard(async () => {
        const diff = diffRequests(await findRecording(options.recordings, a), await findRecording(options.recordings, b));
        if (options.json) return print(JSON.stringify(diff, null, 2));
        if (diff.rows.length === 0) return print('the two requests are the same');
        print(table([['FIELD', 'A', 'B'], ...diff.rows.map((r) => [r.field, r.a.slice(0, 60), r.b.slice(0, 60)])]));
      }),
    );

  withRecordingsDir(program.command('prune').description('the recordings no run used (a dry run: --delete removes them), from usage files or a running server'))
    .option('--usage <file|dir...>', 'usage files, or folders of them (several shards: give them all); default: the usage folder of this recordings directory')
    .option('--server <url...>', 'also use the usage of a running llm-replay server')
    .option('--delete', 'remove the unused recordings')
    .option('--json', 'print JSON')
    .action((given: string | undefined, options: { recordings?: string; usage?: string[]; server?: string[]; delete?: boolean; json?: boolean }, command: Command) =>
      guard(async () => {
        const dir = recordingsDirOf(command, given, options.recordings);
        const sources = options.usage ?? (options.server ? [] : [resolveConfig({ recordings: dir }).usageDir]);
        // What will be deleted is printed before anything is (with --json, the report says it after).
        const showFirst = (files: string[]) => print(files.map((f) => `deleting: ${f}`).join('\n'));
        const report = await prune(dir, sources, options.server ?? [], options.delete === true, options.json ? undefined : showFirst);
        if (options.json) return print(JSON.stringify(report, null, 2));
        const listed = report.deleted ? [] : report.unused.map((f) => `unused: ${f}`);
        print([...listed, `${report.unused.length} recordings ${report.deleted ? 'deleted' : 'unused (dry run: --delete removes them)'}; ${report.used} keys used in ${report.usageSources.length} usage source(s)`, ...report.usageSources.map((source) => `usage read: ${source}`)].join('\n'));
      }),
    );
}
