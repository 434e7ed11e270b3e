// Every option of `llm-replay serve`, startServer() and llm-replay.config.json, in one
// place. Derived from OPTIONS below: the CLI flags and environment variables
// (cli/serve-options.ts), validation and types for the config file and startServer
// (config/options.ts), and the README's option table (test/options.test.ts fails when
// the README and this file disagree).
//
// To add an option, add one entry to OPTIONS:
//   - its type as a TypeBox schema (Type.Integer({ minimum, maximum }), Type.Enum([...]),
//     Type.Boolean(), ...), wrapped in Type.Optional: it is then validated everywhere and
//     typed in ServerOptions and (with its default filled in) ServerConfig;
//   - `default`, or `defaultText` for a default that resolveConfig computes;
//   - `description`: one line of Markdown, for the README table and (plain) for --help;
//   - `flag` to put it on the command line, as commander spells it ('--body-timeout <ms>',
//     '--no-thing' for a boolean that defaults to true); a flag that takes a value gets the
//     environment variable LLM_REPLAY_<FLAG NAME>; leave `flag` out for an option that
//     only a config file or startServer() can set;
//   - `expected` when the type alone does not say what a valid value is (a pattern).
// Then use config.<name> where it matters, run test/options.test.ts and paste the README
// row it prints.
import Type, { type Static, type TSchema } from 'typebox';
import { KEY_SCHEMES } from '../keys/index.js';
import { NormalizeRuleSchema } from '../keys/rules.js';
import { LAYOUTS } from '../recordings/layout.js';

export const MODES = ['replay', 'record', 'record-if-missing', 'live'] as const;
export type Mode = (typeof MODES)[number];

export function isRecordingMode(mode: Mode): boolean {
  return mode === 'record' || mode === 'record-if-missing';
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** What an option's schema carries beyond its type, and the JSON Schema words read from it. */
interface OptionDoc {
  description?: string;
  default?: unknown;
  defaultText?: string;
  flag?: string;
  expected?: string;
  type?: string;
  enum?: string[];
  minimum?: number;
  maximum?: number;
  minLength?: number;
  properties?: Record<string, unknown>;
}
export type OptionSchema = TSchema & OptionDoc;

const option = <T extends TSchema>(type: T) => Type.Optional(type);
export const FAULTS_EXPECTED = 'a fault rule such as "status=503;rate=0.1;seed=7", or a list of them';
const directory = { minLength: 1, expected: 'a directory path' };

export const OPTIONS = Type.Object(
  {
    mode: option(Type.Enum(MODES, { default: 'replay', flag: '-m, --mode <mode>', description: '`replay`: recordings only, never the network; `record`: forward and (over)write every exchange; `record-if-missing`: replay what exists, record the rest; `live`: pass-through, nothing written (see [Modes](#modes))' })),
    recordings: option(Type.String({ ...directory, default: './recordings', flag: '-r, --recordings <dir>', description: 'the recordings directory, read at any depth' })),
    upstream: option(Type.String({ default: 'https://api.openai.com', flag: '-u, --upstream <url>', description: "the real API for record and live modes; may carry a base path (a gateway's `/client/v4/accounts/<id>/ai`)" })),
    port: option(Type.Integer({ minimum: 0, maximum: 65535, default: 8787, flag: '-p, --port <port>', description: '`0` picks a free port (the default for `startServer`)' })),
    host: option(Type.String({ pattern: '\\S', expected: 'a host name or address', default: '127.0.0.1', flag: '--host <host>', description: 'address to listen on' })),
    keyScheme: option(Type.Enum(KEY_SCHEMES, { default: 'default', flag: '-k, --key-scheme <scheme>', description: "how requests are keyed: `default`, or `llama-stack` to share llama-stack's recordings (see [Keys](#keys))" })),
    layout: option(Type.Enum(LAYOUTS, { default: 'flat', flag: '--layout <layout>', description: 'where new recordings go: `flat`, or `by-test-file` (`<dir>/<test file folder>/recordings/`, as llama-stack does)' })),
    upstreamTimeoutMs: option(Type.Integer({ minimum: 1, maximum: 86_400_000, default: 300_000, flag: '--upstream-timeout <ms>', description: 'ms the upstream may stay silent (before its answer, or between two chunks)' })),
    headersTimeoutMs: option(Type.Integer({ minimum: 1, maximum: 3_600_000, default: 30_000, flag: '--headers-timeout <ms>', description: 'ms a client may take to send its request headers; slower gets `408` and the connection closed' })),
    bodyTimeoutMs: option(Type.Integer({ minimum: 1, maximum: 86_400_000, default: 120_000, flag: '--body-timeout <ms>', description: 'ms a client may take, after its headers, to send its request body; slower gets `408` and the connection closed' })),
    bodyLimit: option(Type.Integer({ minimum: 1, maximum: 2 ** 31 - 1, default: 50 * 1024 * 1024, flag: '--body-limit <bytes>', description: 'largest request body in bytes; larger gets `413`' })),
    logLevel: option(Type.Enum(LOG_LEVELS, { default: 'info', flag: '--log-level <level>', description: "fastify's (pino) JSON log level (`startServer`: `warn` unless told, `false` for none)" })),
    routes: option(Type.Record(Type.String(), Type.String(), { flag: '--route <prefix=url>', description: 'another upstream for paths under a prefix (repeatable), e.g. `/anthropic=https://api.anthropic.com` (see [Routes](#routes))' })),
    pace: option(Type.String({ pattern: '^(fast|recorded|(?=[\\d.]*[1-9])\\d+(\\.\\d+)?x)$', expected: 'fast, recorded or a speed factor such as 10x', default: 'fast', flag: '--pace <pace>', description: 'replayed streams: `fast` (no delays), `recorded` (as timed when recorded), or a speed factor (`10x`)' })),
    statefulIds: option(Type.Boolean({ default: true, flag: '--no-stateful-ids', description: "record modes: replace the upstream's ids with deterministic ones (`--no-stateful-ids` passes them through; see [Stateful flows](#stateful-flows))" })),
    stateDir: option(Type.String({ ...directory, defaultText: 'a folder per recordings directory under the OS temp folder', flag: '--state-dir <dir>', description: "where the upstream's real ids are kept between runs" })),
    recordRetryable: option(Type.Boolean({ default: false, flag: '--record-retryable', description: 'record modes: also write answers the official SDKs retry (408, 409, 429, 5xx) and streams that end in such an error, to test error handling from a recording (otherwise they reach the client and are not written; see [Failures](#failures-in-record-modes))' })),
    recordAuthErrors: option(Type.Boolean({ default: false, flag: '--record-auth-errors', description: "record modes: also write the upstream's `401` and `403` answers, to test auth failures from a recording (otherwise they reach the client and are not written: a missing or placeholder key is the recording setup's fault, not the code's; see [Failures](#failures-in-record-modes))" })),
    recordTiming: option(Type.Boolean({ default: true, flag: '--no-record-timing', description: 'record modes: keep when each stream event arrived (`--no-record-timing` leaves it out: files then re-record byte for byte)' })),
    strict: option(Type.Boolean({ default: false, flag: '--strict', description: 'refuse to start when a file in the recordings directory cannot be used, reading every file first (otherwise: a warning, at start for a file not named as a recording, a duplicate or a refused link, and for one whose contents cannot be used when the files are first read, at the first miss or inspector query, or as the error of a request it answers; `verify` checks them all)' })),
    strictOccurrences: option(Type.Boolean({ default: false, flag: '--strict-occurrences', description: 'replay: a request sent more often in a test than it was recorded is a miss (otherwise the last recorded answer is given again, and the log and usage data say so; see [Occurrences](#occurrences))' })),
    usageDir: option(Type.String({ ...directory, defaultText: '`<state dir>/usage`', flag: '--usage-dir <dir>', description: 'where the usage file (recordings hit, recorded, missed) is written on shutdown' })),
    normalize: option(Type.Array(NormalizeRuleSchema, { description: 'rules that take changing values out of keys (see [Normalisation rules](#normalisation-rules))' })),
    adminToken: option(Type.String({ minLength: 1, expected: 'a token', defaultText: 'none on loopback; beyond it, a random one printed at start', flag: '--admin-token <token>', description: 'the token the admin endpoints require (`Authorization: Bearer <token>` or `x-llm-replay-token`); always required when set, and beyond loopback made up when not (see [Admin endpoints](#admin-endpoints))' })),
    allowHosts: option(Type.String({ pattern: '\\S', expected: 'host names, comma-separated, or *', flag: '--allow-hosts <names>', description: 'on loopback, the proxied routes answer only requests naming a loopback host (`Host`, and `Origin` when a page sends one; `403` otherwise); these names too, e.g. a container name (`*`: any; see [Admin endpoints](#admin-endpoints))' })),
    faults: option(Type.Union([Type.String(), Type.Array(Type.String())], { expected: FAULTS_EXPECTED, flag: '--faults <rule>', description: 'faults for the whole server, e.g. `status=503;rate=0.1;seed=7` (a list of rules in a config file; see [Testing failures](#testing-failures))' })),
  },
  { additionalProperties: false },
);

export type OptionName = keyof typeof OPTIONS.properties;
export type Options = Static<typeof OPTIONS>;

/** The options with their documentation, in the order they are listed. */
export function optionEntries(): Array<[OptionName, OptionSchema & { description: string }]> {
  return Object.entries(OPTIONS.properties) as unknown as Array<[OptionName, OptionSchema & { description: string }]>;
}

/** Every option's declared default. */
export function optionDefaults(): Options {
  return Object.fromEntries(optionEntries().flatMap(([name, schema]) => (schema.default === undefined ? [] : [[name, schema.default]]))) as Options;
}

/** The environment variable of a flag that takes one value: --key-scheme -> LLM_REPLAY_KEY_SCHEME. */
export function envVariable(schema: OptionDoc): string | undefined {
  const match = schema.flag ? /--([\w-]+) <[^>]*>/.exec(schema.flag) : null;
  return match && schema.type !== 'object' ? `LLM_REPLAY_${match[1]!.replaceAll('-', '_').toUpperCase()}` : undefined;
}
