// The llm-replay command line. Every option has an environment variable; bad
// options end the process with a message that names them and a non-zero exit.
import { Command, InvalidArgumentError, Option } from 'commander';
import { LAYOUTS, MODES, type ServerOptions } from '../config/options.js';
import { DEFAULT_CONFIG_FILE, readConfigFile } from '../config/config-file.js';
import { LlmReplayError } from '../errors.js';
import { KEY_SCHEMES } from '../keys/index.js';
import { registerToolCommands } from './tools.js';
import { startServer } from '../server/app.js';

function port(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) > 65535) throw new InvalidArgumentError('expected a port number from 0 to 65535');
  return Number(value);
}

function positive(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1) throw new InvalidArgumentError('expected a whole number above 0');
  return Number(value);
}

function fail(message: string): never {
  process.stderr.write(`llm-replay: ${message}\n`);
  process.exit(2);
}

function collectRoute(value: string, routes: Record<string, string>): Record<string, string> {
  const eq = value.indexOf('=');
  if (eq < 1) throw new InvalidArgumentError('expected PREFIX=URL, e.g. /anthropic=https://api.anthropic.com');
  return { ...routes, [value.slice(0, eq)]: value.slice(eq + 1) };
}

/** Flags and environment variables, then the config file, then defaults. */
function serverOptionsOf(command: Command): ServerOptions {
  const options = command.opts();
  const configFile = (options['config'] as string | undefined) ?? DEFAULT_CONFIG_FILE;
  const fromFile = readConfigFile(configFile, options['config'] !== undefined) as Record<string, unknown>;
  const pick = (flag: string, field: string = flag): unknown => {
    const source = command.getOptionValueSource(flag);
    return source === 'default' && fromFile[field] !== undefined ? fromFile[field] : options[flag];
  };
  const routes = { ...((fromFile['routes'] as Record<string, string> | undefined) ?? {}), ...((options['route'] as Record<string, string> | undefined) ?? {}) };
  return {
    mode: pick('mode') as ServerOptions['mode'],
    recordings: pick('recordings') as string,
    upstream: pick('upstream') as string,
    port: pick('port') as number,
    host: pick('host') as string,
    keyScheme: pick('keyScheme') as ServerOptions['keyScheme'],
    layout: pick('layout') as ServerOptions['layout'],
    upstreamTimeoutMs: pick('upstreamTimeout', 'upstreamTimeoutMs') as number,
    bodyLimit: pick('bodyLimit') as number,
    logLevel: pick('logLevel') as string,
    pace: pick('pace') as string,
    statefulIds: pick('statefulIds') as boolean,
    recordTiming: pick('recordTiming') as boolean,
    strict: pick('strict') as boolean,
    ...(pick('stateDir') !== undefined ? { stateDir: pick('stateDir') as string } : {}),
    ...(pick('usageDir') !== undefined ? { usageDir: pick('usageDir') as string } : {}),
    ...(fromFile['normalize'] !== undefined ? { normalize: fromFile['normalize'] as ServerOptions['normalize'] } : {}),
    routes,
  };
}

async function serve(_options: unknown, command: Command): Promise<void> {
  let server;
  try {
    server = await startServer(serverOptionsOf(command));
  } catch (error) {
    if (error instanceof LlmReplayError) fail(error.message);
    throw error;
  }
  const { config } = server;
  process.stdout.write(
    `llm-replay: ${config.mode} mode, ${server.store.size} recordings in ${config.recordingsDir}, listening on ${server.url}` +
      ` (clients: OPENAI_BASE_URL=${server.url}/v1)\n`,
  );
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    server.app.log.info(`llm-replay: ${signal}: finishing requests in flight`);
    server.close().then(
      () => process.exit(0),
      (error: unknown) => {
        process.stderr.write(`llm-replay: error while stopping: ${(error as Error).message}\n`);
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}

export function buildProgram(): Command {
  const program = new Command('llm-replay')
    .description('Record-and-replay HTTP proxy for LLM APIs: point any client\'s base URL at it.')
    .showHelpAfterError('(llm-replay help <command> shows the options)')
    .configureOutput({ writeErr: (text) => process.stderr.write(text) })
    // Usage errors exit 2, like most command-line tools; --help and --version exit 0.
    .exitOverride((error) => process.exit(error.exitCode === 0 ? 0 : 2));

  program
    .command('serve', { isDefault: true })
    .description('serve recordings (replay) or record exchanges with the real API')
    .addOption(new Option('-m, --mode <mode>', 'replay: recordings only, never the network; record: forward and (over)write every exchange; record-if-missing: replay what exists, record the rest; live: pass-through, nothing written').choices(MODES).default('replay').env('LLM_REPLAY_MODE'))
    .addOption(new Option('-r, --recordings <dir>', 'the recordings directory (read at any depth)').default('./recordings').env('LLM_REPLAY_RECORDINGS'))
    .addOption(new Option('-u, --upstream <url>', 'the real API that record and live modes forward to').default('https://api.openai.com').env('LLM_REPLAY_UPSTREAM'))
    .addOption(new Option('-p, --port <port>', 'port to listen on (0 picks a free one)').argParser(port).default(8787).env('LLM_REPLAY_PORT'))
    .addOption(new Option('--host <host>', 'address to listen on').default('127.0.0.1').env('LLM_REPLAY_HOST'))
    .addOption(new Option('-k, --key-scheme <scheme>', 'how requests are keyed: default, or llama-stack to share llama-stack\'s recordings').choices(KEY_SCHEMES).default('default').env('LLM_REPLAY_KEY_SCHEME'))
    .addOption(new Option('--layout <layout>', 'where new recordings go: flat, or by-test-file (<dir>/<test file folder>/recordings/, as llama-stack does)').choices(LAYOUTS).default('flat').env('LLM_REPLAY_LAYOUT'))
    .addOption(new Option('--upstream-timeout <ms>', 'give up on an upstream silent for this long').argParser(positive).default(300000).env('LLM_REPLAY_UPSTREAM_TIMEOUT'))
    .addOption(new Option('--body-limit <bytes>', 'largest request body accepted (larger: 413)').argParser(positive).default(50 * 1024 * 1024).env('LLM_REPLAY_BODY_LIMIT'))
    .addOption(new Option('--log-level <level>', 'fatal, error, warn, info, debug, trace or silent').default('info').env('LLM_REPLAY_LOG_LEVEL'))
    .addOption(new Option('--route <prefix=url>', 'another upstream for paths under a prefix (repeatable), e.g. /anthropic=https://api.anthropic.com').argParser(collectRoute))
    .addOption(new Option('--pace <pace>', 'replayed streams: fast (no delays), recorded (as timed when recorded), or a speed factor such as 10x').default('fast').env('LLM_REPLAY_PACE'))
    .addOption(new Option('--no-stateful-ids', 'record modes: pass the upstream\'s ids through instead of replacing them with deterministic ones'))
    .addOption(new Option('--state-dir <dir>', 'where the upstream\'s real ids are kept between runs (default: under the OS temp folder)').env('LLM_REPLAY_STATE_DIR'))
    .addOption(new Option('--no-record-timing', 'record modes: do not keep when each stream event arrived (files then re-record byte for byte)'))
    .addOption(new Option('--strict', 'refuse to start when a file in the recordings directory cannot be used (default: warn)').default(false))
    .addOption(new Option('--usage-dir <dir>', 'where the usage file (recordings hit, recorded, missed) is written on shutdown (default: <state dir>/usage)').env('LLM_REPLAY_USAGE_DIR'))
    .addOption(new Option('-c, --config <file>', `a JSON file with any of these options (default ./${DEFAULT_CONFIG_FILE} when present)`).env('LLM_REPLAY_CONFIG'))
    .action(serve);

  registerToolCommands(program, fail);

  return program;
}

export async function main(argv: string[] = process.argv): Promise<void> {
  await buildProgram().parseAsync(argv);
}
