// The llm-replay command line. Every option has an environment variable; bad
// options end the process with a message that names them and a non-zero exit.
import { readFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import { DEFAULT_CONFIG_FILE, readConfigFile } from '../config/config-file.js';
import { optionDefaults, type OptionName } from '../config/schema.js';
import { LlmReplayError } from '../errors.js';
import { registerToolCommands } from './tools.js';
import { registerDriftCommand } from './commands/drift.js';
import { addServeOptions, serveOptionsOf } from './serve-options.js';
import { startServer } from '../server/app.js';

function fail(message: string): never {
  process.stderr.write(`llm-replay: ${message}\n`);
  process.exit(2);
}

async function serve(command: Command, flags: Map<string, OptionName>): Promise<void> {
  let server;
  try {
    const file = command.getOptionValue('config') as string | undefined;
    const fromFile = readConfigFile(file ?? DEFAULT_CONFIG_FILE, file !== undefined);
    // The CLI's defaults, not startServer's (a free port, warnings only).
    server = await startServer({ ...optionDefaults(), ...serveOptionsOf(command, flags, fromFile) });
  } catch (error) {
    if (error instanceof LlmReplayError) fail(error.message);
    throw error;
  }
  // Before the start-up line: whoever reads it may stop the server at once, and a signal
  // that comes before its handler kills the process outright (no drain, no usage file).
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) {
      // A second signal means now. Writes are synchronous, so none is half done between two
      // turns: the record lock can go (the next start need not take it over), and what was
      // in flight ends unrecorded, as after a kill.
      const recording = server.config.mode === 'record' || server.config.mode === 'record-if-missing';
      const said = `llm-replay: ${signal} again: stopping at once; requests still in flight end unanswered${recording ? ' and are not recorded' : ''}, and no usage file is written`;
      server.app.log.warn(said);
      // Also said synchronously: the logger's last line may still be on its way at exit.
      process.stderr.write(`${said}\n`);
      server.store.unlock();
      process.exit(signal === 'SIGINT' ? 130 : 143);
    }
    stopping = true;
    const forwarding = server.config.mode !== 'replay' ? ' (a forwarded one for as long as its upstream keeps answering: it is given up after --upstream-timeout of silence)' : '';
    server.app.log.info(`llm-replay: ${signal}: finishing requests in flight${forwarding}; ${signal} again stops at once`);
    server.close().then(
      () => process.exit(0),
      (error: unknown) => {
        process.stderr.write(`llm-replay: error while stopping: ${(error as Error).message}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  const { config } = server;
  process.stdout.write(
    `llm-replay: ${config.mode} mode, ${server.store.size} recording${server.store.size === 1 ? '' : 's'} in ${config.recordingsDir}, listening on ${server.url}` +
      ` (clients: OPENAI_BASE_URL=${server.url}/v1; inspector: ${server.inspectorUrl})\n`,
  );
  // Logged too; said plainly here for the person who started it.
  if (server.warning) process.stderr.write(`${server.warning}\n`);
}

/**
 * Commander calls a switch given a value (`--record-retryable=yes`) an unknown option,
 * which reads as if the switch did not exist: said as what it is instead.
 */
function switchWithValue(text: string, program: Command): string {
  const given = /unknown option '(--[\w-]+)=([^']*)'/.exec(text);
  if (!given) return text;
  const [, flag, value] = given;
  const known = [program, ...program.commands].some((command) => command.options.some((option) => option.long === flag && !option.required && !option.optional));
  return known ? text.replace(given[0], `option '${flag}' is a switch and takes no value (given '${value}'): '${flag}' alone turns it on`) : text;
}

function buildProgram(): Command {
  const program = new Command('llm-replay')
    .description('Record-and-replay HTTP proxy for LLM APIs: point any client\'s base URL at it.')
    .showHelpAfterError('(llm-replay help <command> shows the options)')
    .configureOutput({ writeErr: (text) => process.stderr.write(text), outputError: (text, write) => write(switchWithValue(text, program)) })
    // Usage errors exit 2, like most command-line tools; --help and --version exit 0.
    .exitOverride((error) => process.exit(error.exitCode === 0 ? 0 : 2))
    .version((JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version);

  const serveCommand = program.command('serve', { isDefault: true }).description('serve recordings (replay) or record exchanges with the real API');
  const flags = addServeOptions(serveCommand);
  serveCommand
    .addOption(new Option('-c, --config <file>', `a JSON file with any of these options (default ./${DEFAULT_CONFIG_FILE} when present)`).env('LLM_REPLAY_CONFIG'))
    // serve is the default command, so a mistyped command arrives here as an argument.
    .allowExcessArguments()
    .action((_options: unknown, command: Command) => {
      const [word] = command.args;
      if (word !== undefined) command.error(`error: unknown command '${word}'; the commands are ${[...program.commands.map((c) => c.name()), 'help'].join(', ')}`);
      return serve(command, flags);
    });

  registerToolCommands(program, fail);
  registerDriftCommand(program);

  return program;
}

export async function main(argv: string[] = process.argv): Promise<void> {
  await buildProgram().parseAsync(argv);
}
