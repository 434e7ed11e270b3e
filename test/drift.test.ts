// The drift check against a fake upstream: recordings made from it, then the upstream
// changes its answers' shape one way at a time (every way is reported), or only their
// text, ids and numbers (nothing is), in every dialect and for llama-stack's files.
import { copyFile, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DriftingUpstream, MISSING_MODEL, SHAPE_CHANGES, type Variant } from './support/drifting-upstream.js';
import { openAiSse, sendEvents } from './support/fake-upstream.js';
import { json, listFiles, openai, removeDir, serve, tempDir } from './support/harness.js';
import type { RunningServer } from '../src/index.js';
import { checkDrift, formatDriftReport } from '../src/drift/check.js';
import type { DriftReport } from '../src/drift/report.js';
import { selectRecordings } from '../src/drift/select.js';
import { destinationOf, liveUrl } from '../src/drift/send.js';
import { checkKeyHost } from '../src/drift/keys.js';
import { compareShapes, describeFinding } from '../src/drift/compare.js';
import { knownFinishReasons } from '../src/drift/dialect.js';
import { shapeOf } from '../src/drift/shape.js';
import { statusOf } from '../src/recordings/recording.js';
import type { Recording } from '../src/recordings/recording.js';
import { driftReportPath, saveDriftReport } from '../src/drift/report-file.js';
import type { DriftGroup, GroupedFinding } from '../src/drift/report.js';
import { runDrift } from '../src/cli/commands/drift.js';
import { planRefresh, refreshDrifted } from '../src/cli/commands/drift-refresh.js';
import { wireHeaderValue } from '../src/request/header-text.js';
import { statefulOpenAi } from './support/stateful-upstream.js';

const env = { OPENAI_API_KEY: 'sk-drift-test', ANTHROPIC_API_KEY: 'sk-ant-drift-test', GEMINI_API_KEY: 'gm-drift-test' };
const REQUESTS: Array<[string, unknown]> = [
  ['/v1/chat/completions', { model: 'gpt-4o', messages: [{ role: 'user', content: 'rings?' }] }],
  ['/v1/chat/completions', { model: 'gpt-4o', messages: [{ role: 'user', content: 'rings?' }], stream: true, stream_options: { include_usage: true } }],
  ['/v1/responses', { model: 'gpt-5', input: 'rings?', stream: true }],
  ['/v1/messages', { model: 'claude-sonnet-4-5', max_tokens: 100, messages: [{ role: 'user', content: 'rings?' }], stream: true }],
  ['/v1beta/models/gemini-2.5-flash:generateContent', { contents: [{ role: 'user', parts: [{ text: 'rings?' }] }] }],
  ['/api/chat', { model: 'llama3.2', messages: [{ role: 'user', content: 'rings?' }] }],
  ['/v1/embeddings', { model: 'text-embedding-3-small', input: '' }],
  // Each dialect's error answer.
  ['/v1/chat/completions', { model: MISSING_MODEL, messages: [{ role: 'user', content: 'rings?' }] }],
  ['/v1/responses', { model: MISSING_MODEL, input: 'rings?' }],
  ['/v1/messages', { model: MISSING_MODEL, max_tokens: 100, messages: [{ role: 'user', content: 'rings?' }] }],
  [`/v1beta/models/${MISSING_MODEL}:generateContent`, { contents: [{ role: 'user', parts: [{ text: 'rings?' }] }] }],
  ['/api/chat', { model: MISSING_MODEL, messages: [{ role: 'user', content: 'rings?' }] }],
];

/** Each dialect by its endpoints. */
const DIALECTS: Array<[string, (endpoint: string) => boolean]> = [
  ['OpenAI chat', (endpoint) => endpoint === '/v1/chat/completions'],
  ['OpenAI Responses', (endpoint) => endpoint === '/v1/responses'],
  ['Anthropic', (endpoint) => endpoint === '/v1/messages'],
  ['Gemini', (endpoint) => endpoint.endsWith(':generateContent')],
  ['Ollama', (endpoint) => endpoint === '/api/chat'],
];
/** The kinds of finding each way of changing a shape shows as. Gemini's and Ollama's streams name no events: a renamed field is one gone and one new. */
const CHANGES_SEEN: Record<(typeof SHAPE_CHANGES)[number], (dialect: string) => string[]> = {
  added: () => ['added'],
  removed: () => ['removed'],
  retyped: () => ['retyped'],
  renamed: (dialect) => (dialect === 'Gemini' || dialect === 'Ollama' ? ['added', 'removed'] : ['gone', 'new']),
  error: () => [],
};

let dir: string;
let upstream: DriftingUpstream;

beforeAll(async () => {
  dir = await tempDir();
  upstream = await new DriftingUpstream().start();
  const server = await serve({ mode: 'record', recordings: dir, upstream: upstream.url, recordRetryable: true });
  for (const [endpoint, body] of REQUESTS) {
    const answer = await fetch(`${server.url}${endpoint}`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer sk-record' }, body: JSON.stringify(body) });
    await answer.arrayBuffer();
  }
  await server.close();
  expect((await listFiles(dir)).filter((f) => f.endsWith('.json'))).toHaveLength(REQUESTS.length);
});

afterAll(async () => {
  await upstream.stop();
  await removeDir(dir);
});

async function driftAgainst(variant: Variant, recordings = dir, target = upstream): Promise<DriftReport> {
  target.variant = variant;
  const { selected } = await selectRecordings(recordings, {}, Date.now());
  return checkDrift(selected, { recordingsDir: recordings, upstream: new URL(target.url), concurrency: 3, timeoutMs: 10_000, env });
}

/** Runs `work` with the keys in the environment and the command's output silenced; returns what it printed. */
async function withKeysQuietly(work: () => Promise<void>): Promise<{ out: string; err: string }> {
  const write = process.stdout.write.bind(process.stdout);
  const errors = process.stderr.write.bind(process.stderr);
  const saved = { ...process.env };
  const printed = { out: '', err: '' };
  Object.assign(process.env, env);
  process.stdout.write = ((text: string) => ((printed.out += text), true)) as typeof process.stdout.write;
  process.stderr.write = ((text: string) => ((printed.err += text), true)) as typeof process.stderr.write;
  try {
    await work();
  } finally {
    process.stdout.write = write;
    process.stderr.write = errors;
    process.env = saved;
  }
  return printed;
}

/** Every file under dir with its bytes. */
async function bytesOf(folder: string): Promise<Record<string, string>> {
  const files = await listFiles(folder);
  return Object.fromEntries(await Promise.all(files.map(async (f) => [f, await readFile(path.join(folder, f), 'utf8')] as const)));
}

const texts = (report: DriftReport) => report.groups.flatMap((g) => g.findings.map((f) => `${g.endpoint} ${f.text}`));

describe('drift', () => {
  it('finds nothing when the same shapes come back', async () => {
    const report = await driftAgainst('base');
    expect(report.sent).toBe(REQUESTS.length);
    expect(texts(report)).toEqual([]);
  });

  it('finds nothing when only text, ids, timestamps, numbers and the number of chunks change', async () => {
    const report = await driftAgainst('text');
    expect(texts(report)).toEqual([]);
    expect(report.failed).toEqual([]);
    expect(report.unchanged).toBe(REQUESTS.length);
  });

  describe.each(DIALECTS)('in %s', (dialect, isDialect) => {
    it.each(SHAPE_CHANGES)('reports the shape changed: %s', async (change) => {
      const report = await driftAgainst(change);
      const drifted = report.drifted.filter((d) => isDialect(d.endpoint));
      expect(drifted.length).toBeGreaterThan(0);
      // An error's shape changes its error answer only; any other change, only its successful answers.
      for (const one of drifted) expect(one.recorded.status >= 400).toBe(change === 'error');
      const kinds = new Set(report.groups.filter((g) => isDialect(g.endpoint)).flatMap((g) => g.findings.map((f) => f.change)));
      for (const kind of CHANGES_SEEN[change](dialect)) expect(kinds).toContain(kind);
    });

    it('reports nothing when only text, ids and numbers change', async () => {
      const report = await driftAgainst('text');
      expect(report.drifted.filter((d) => isDialect(d.endpoint))).toEqual([]);
    });
  });

  // Every finding of each change, in every dialect, and nothing else (no text, id or number).
  const EVERY_FINDING: Record<(typeof SHAPE_CHANGES)[number], string[]> = {
    added: [
      '/api/chat event done: thinking: added (string)',
      '/v1/chat/completions choices[].message.refusal: added (null)',
      '/v1/chat/completions event chat.completion.chunk: service_tier: added (string)',
      '/v1/messages event message_start: message.container: added (null)',
      '/v1/responses event response.completed: response.service_tier: added (string)',
      '/v1beta/models/gemini-2.5-flash:generateContent responseId: added (string)',
    ],
    removed: [
      '/api/chat event done: eval_count: removed (number)',
      '/v1/chat/completions event chat.completion.chunk: usage.completion_tokens: removed (number)',
      '/v1/chat/completions usage.completion_tokens: removed (number)',
      '/v1/messages event content_block_start: index: removed (number)',
      '/v1/responses event response.output_text.delta: item_id: removed (string)',
      '/v1beta/models/gemini-2.5-flash:generateContent usageMetadata.candidatesTokenCount: removed (number)',
    ],
    retyped: [
      '/api/chat event done: total_duration: retyped (number -> string)',
      '/v1/chat/completions choices[].index: retyped (number -> string)',
      '/v1/chat/completions event chat.completion.chunk: choices[].index: retyped (number -> string)',
      '/v1/messages event message_start: message.usage.input_tokens: retyped (number -> string)',
      '/v1/responses event response.output_text.delta: sequence_number: retyped (number -> string)',
      '/v1beta/models/gemini-2.5-flash:generateContent usageMetadata.totalTokenCount: retyped (number -> string)',
    ],
    renamed: [
      '/api/chat event done: done_reason: removed (string)',
      '/api/chat event done: stop_reason: added (string)',
      '/v1/chat/completions choices[].finish_reason: removed (string)',
      '/v1/chat/completions choices[].stop_reason: added (string)',
      '/v1/chat/completions event chat.completion.chunk: gone',
      '/v1/chat/completions event chat.completion.delta: new',
      '/v1/messages event content_block_delta: gone',
      '/v1/messages event content_block_update: new',
      '/v1/responses event response.output_text.chunk: new',
      '/v1/responses event response.output_text.delta: gone',
      '/v1beta/models/gemini-2.5-flash:generateContent candidates[].finishReason: removed (string)',
      '/v1beta/models/gemini-2.5-flash:generateContent candidates[].finish_reason: added (string)',
    ],
    error: [
      '/api/chat error.message: added (string)',
      '/api/chat error: retyped (string -> object)',
      '/v1/chat/completions error.code: retyped (string -> number)',
      '/v1/chat/completions error.param: removed (null)',
      '/v1/embeddings error.code: retyped (string -> number)',
      '/v1/embeddings error.param: removed (null)',
      '/v1/embeddings error.type: removed (string)',
      '/v1/messages request_id: added (string)',
      '/v1/responses error.code: retyped (string -> number)',
      '/v1/responses error.param: removed (null)',
      `/v1beta/models/${MISSING_MODEL}:generateContent error.details: added (array)`,
      `/v1beta/models/${MISSING_MODEL}:generateContent error.status: removed (string)`,
    ],
  };

  it.each(SHAPE_CHANGES)('reports every finding of a shape %s, and nothing else', async (change) => {
    expect(texts(await driftAgainst(change)).sort()).toEqual(EVERY_FINDING[change]);
  });

  it('keeps array elements apart by their type, so a new kind in a mixed array is reported', () => {
    const answer = (content: unknown[]) => shapeOf({ status: 200, is_streaming: false, headers: { 'content-type': 'application/json' }, body: { content } as never });
    const text = { type: 'text', text: 'hi' };
    const findings = compareShapes(answer([text]), answer([text, { type: 'tool_use', id: 'toolu_1', name: 'f', input: { a: 1 } }])).map(describeFinding);
    expect(findings).toEqual(['content[type=tool_use]: added (object)']);
    expect(compareShapes(answer([text, { type: 'tool_use', id: 'toolu_1' }]), answer([text, { type: 'tool_use', id: 7 }])).map(describeFinding)).toEqual(['content[type=tool_use].id: retyped (string -> number)']);
    // An array empty on one side says nothing of its elements.
    expect(compareShapes(answer([]), answer([text]))).toEqual([]);
  });

  it('reports a finish reason only when neither the API nor a recording of the endpoint has it', () => {
    const shape = (finishReasons: string[]) => ({ status: 200, contentType: 'application/json', streaming: false, body: {}, finishReasons });
    const known = knownFinishReasons('/v1/chat/completions', ['stop']);
    expect(compareShapes(shape(['stop']), shape(['length', 'tool_calls']), known)).toEqual([]);
    expect(compareShapes(shape(['stop']), shape(['end_turn']), known).map(describeFinding)).toEqual(['finish reason end_turn: new']);
    expect(compareShapes(shape(['end_turn']), shape(['max_tokens']), knownFinishReasons('/v1/messages', []))).toEqual([]);
  });

  it('groups a finding by endpoint and model, with the recordings it touches and both shapes', async () => {
    const report = await driftAgainst('removed');
    const chat = report.groups.find((g) => g.endpoint === '/v1/chat/completions')!;
    expect(chat.model).toBe('gpt-4o');
    // The whole answer and the stream are two recordings, each with its own finding.
    expect(chat.findings.map((f) => f.files.length)).toEqual([1, 1]);
    const whole = report.drifted.find((d) => d.endpoint === '/v1/chat/completions' && !d.recorded.streaming)!;
    expect(whole.recorded.body!['usage.completion_tokens']).toEqual(['number']);
    expect(whole.live.body!['usage.completion_tokens']).toBeUndefined();
  });

  it("checks llama-stack's recordings (typed wrappers, no origin)", async () => {
    const stack = await tempDir();
    // Its own upstream: the answer it is given here is not the other tests'.
    const seeded = await new DriftingUpstream().start();
    try {
      await copyFile(new URL('./fixtures/llama-stack-seed-004.json', import.meta.url), path.join(stack, '302b9a7e33b5e584ddffd841d097425b4026d50c61ddf894b8e9dfa73a4e533f.json'));
      const chunks = (JSON.parse(await readFile(new URL('./fixtures/llama-stack-seed-004.json', import.meta.url), 'utf8')) as { response: { body: Array<{ __data__: any }> } }).response.body.map((c) => c.__data__);
      let drop = false;
      seeded.on('POST', '/v1/chat/completions', async (_request, res) => {
        const live = chunks.map((c, i) => {
          const copy = { ...c, id: `chatcmpl-live${i}`, created: 1_700_000_000 + i, choices: c.choices.map((choice: any) => ({ ...choice, delta: { ...choice.delta, content: choice.delta.content === null ? null : `other ${i}` } })) };
          if (drop) delete copy.system_fingerprint;
          return copy;
        });
        await sendEvents(res, openAiSse(live));
      });
      expect(texts(await driftAgainst('base', stack, seeded))).toEqual([]);
      drop = true;
      expect(texts(await driftAgainst('base', stack, seeded))).toEqual(['/v1/chat/completions event chat.completion.chunk: system_fingerprint: removed (string)']);
    } finally {
      await seeded.stop();
      await removeDir(stack);
    }
  });

  it('fails the check itself, not as drift, with no key or the upstream down', async () => {
    const { selected } = await selectRecordings(dir, { endpoint: '/v1/messages' }, Date.now());
    await expect(checkDrift(selected, { recordingsDir: dir, upstream: new URL(upstream.url), concurrency: 1, timeoutMs: 5000, env: {} })).rejects.toThrow(/ANTHROPIC_API_KEY/);
    const gone = new DriftingUpstream();
    await gone.start();
    const url = new URL(gone.url);
    await gone.stop();
    const down = await checkDrift(selected, { recordingsDir: dir, upstream: url, concurrency: 1, timeoutMs: 5000, env });
    expect(down.failed.map((f) => f.file)).toEqual(selected.map((s) => s.file).sort());
    for (const { reason } of down.failed) expect(reason).toContain(`the upstream ${url.origin} could not be reached`);
    expect(down.drifted).toEqual([]);
  });

  it('stops sending after the key is refused, and still reports the drift it found and what failed', async () => {
    const { selected } = await selectRecordings(dir, {}, Date.now());
    const ok = selected.flatMap((one, index) => (statusOf(one.recording.response) < 300 ? [index] : []));
    // The second recording with a 2xx gets the 401; the first was answered, with drift.
    const refusedAt = ok[1]!;
    upstream.fail(401, refusedAt);
    const before = upstream.received.length;
    try {
      const report = await checkDrift(selected, { recordingsDir: dir, upstream: new URL(upstream.url), concurrency: 1, timeoutMs: 10_000, env }).finally(() => (upstream.variant = 'base'));
      expect(report.failed).toEqual([{ file: selected[refusedAt]!.file, reason: expect.stringMatching(/refused the key \(401\)/) }]);
      expect(report.drifted.map((d) => d.file)).toContain(selected[ok[0]!]!.file);
      expect(report.sent).toBe(refusedAt + 1);
      expect(report.notSent).toBe(selected.length - refusedAt - 1);
      // No paid request started after the refusal.
      expect(upstream.received.length - before).toBe(refusedAt + 1);
    } finally {
      upstream.fail(undefined);
    }
  }, 30_000);

  it('sends a key only to its API, a host the config file names, or loopback, unless -u names another', async () => {
    const target = (url: string) => new URL(url);
    expect(() => checkKeyHost('openai', target('https://api.openai.com/v1/chat/completions'), false, [], 'a.json')).not.toThrow();
    expect(() => checkKeyHost('anthropic', target('http://127.0.0.1:9/v1/messages'), false, [], 'a.json')).not.toThrow();
    expect(() => checkKeyHost('openai', target('https://gateway.internal:8443/v1/x'), false, ['gateway.internal:8443'], 'a.json')).not.toThrow();
    expect(() => checkKeyHost('anthropic', target('https://api.openai.com/v1/messages'), false, [], 'a.json')).toThrow(/-u\/--upstream https:\/\/api.openai.com/);
    expect(() => checkKeyHost('openai', target('https://collector.example/v1/chat/completions'), true, [], 'a.json')).not.toThrow();
    // A recording naming another host is failed, not sent, and the run goes on.
    const elsewhere = await tempDir();
    try {
      const { selected } = await selectRecordings(dir, { endpoint: '/v1/embeddings' }, Date.now());
      const moved = { ...selected[0]!.recording, request: { ...selected[0]!.recording.request, url: 'https://collector.example/v1/embeddings' } };
      const before = upstream.received.length;
      const report = await checkDrift([{ ...selected[0]!, recording: moved }], { recordingsDir: elsewhere, concurrency: 1, timeoutMs: 5000, env });
      expect(report.failed).toEqual([{ file: selected[0]!.file, reason: expect.stringMatching(/recorded against collector.example, not api.openai.com: your OPENAI_API_KEY is not sent there unless you name it with -u\/--upstream/) }]);
      expect(report.sent).toBe(0);
      expect(upstream.received.length).toBe(before);
    } finally {
      await removeDir(elsewhere);
    }
  });

  it("sends to the recording's origin, or to --upstream with its base path", async () => {
    const stack = JSON.parse(await readFile(new URL('./fixtures/llama-stack-seed-004.json', import.meta.url), 'utf8')) as Recording;
    // llama-stack writes its client's base URL and the endpoint again.
    expect(stack.request.url).toBe('https://api.openai.com/v1/v1/chat/completions');
    expect(liveUrl(stack, undefined).href).toBe('https://api.openai.com/v1/chat/completions');
    expect(liveUrl(stack, new URL('http://127.0.0.1:9/gateway/ai/')).href).toBe('http://127.0.0.1:9/gateway/ai/v1/chat/completions');
  });

  it('selects by endpoint, test id, sample and budgets', async () => {
    const all = (await selectRecordings(dir, {}, Date.now())).selected;
    expect(all).toHaveLength(REQUESTS.length);
    expect((await selectRecordings(dir, { endpoint: '/api/' }, Date.now())).selected).toHaveLength(2);
    expect((await selectRecordings(dir, { testId: 'nope' }, Date.now())).selected).toHaveLength(0);
    expect((await selectRecordings(dir, { sample: 3 }, Date.now())).selected).toHaveLength(3);
    expect((await selectRecordings(dir, { maxRequests: 2 }, Date.now())).selected).toHaveLength(2);
    const chat = all.find((s) => s.recording.request.endpoint === '/v1/chat/completions' && !s.recording.response.is_streaming)!;
    expect(chat.tokens).toBe(25);
    const budget = (await selectRecordings(dir, { maxTokens: 30 }, Date.now())).selected;
    expect(budget.reduce((sum, s) => sum + s.tokens, 0)).toBeLessThanOrEqual(30);
    expect((await selectRecordings(dir, { olderThanMs: 86_400_000 }, Date.now())).selected).toHaveLength(0);
    expect((await selectRecordings(dir, { olderThanMs: 86_400_000 }, Date.now() + 2 * 86_400_000)).selected).toHaveLength(REQUESTS.length);
  });

  it('spends a budget on the stalest recordings first: unknown age, then the oldest', async () => {
    const aged = await tempDir();
    try {
      const all = (await selectRecordings(dir, { endpoint: '/v1/chat/completions' }, Date.now())).selected.slice(0, 3);
      const at = ['2025-06-01T00:00:00Z', undefined, '2024-01-01T00:00:00Z'];
      await Promise.all(all.map(async (one, i) => {
        const recording = JSON.parse(await readFile(path.join(dir, one.file), 'utf8'));
        if (at[i] === undefined) delete recording.response.origin;
        else recording.response.origin = { ...recording.response.origin, recorded_at: at[i] };
        await writeFile(path.join(aged, one.file), JSON.stringify(recording));
      }));
      const chosen = (await selectRecordings(aged, { maxRequests: 2 }, Date.now())).selected.map((s) => s.file);
      expect(chosen).toEqual([all[1]!.file, all[2]!.file]);
    } finally {
      await removeDir(aged);
    }
  });

  it('checks that --report can be written before sending anything', async () => {
    const before = upstream.received.length;
    await withKeysQuietly(async () => {
      await expect(runDrift(dir, { upstream: upstream.url, concurrency: '2', timeout: '10000', stateDir: `${dir}.state`, report: path.join(dir, 'no-such-folder', 'r.json') })).rejects.toThrow(/--report .*no-such-folder/);
    });
    expect(upstream.received.length).toBe(before);
  });

  it('exits 0 with no drift, 1 with drift, and refuses bad options as a failed check', async () => {
    await withKeysQuietly(async () => {
      upstream.variant = 'text';
      const flags = { upstream: upstream.url, concurrency: '2', timeout: '10000', endpoint: '/v1/embeddings', stateDir: `${dir}.state` };
      expect(await runDrift(dir, flags)).toBe(0);
      upstream.variant = 'error';
      expect(await runDrift(dir, flags)).toBe(1);
      upstream.fail(503);
      const failing = await withKeysQuietly(async () => expect(await runDrift(dir, { ...flags, endpoint: '/v1/chat/completions' })).toBe(2)).finally(() => upstream.fail(undefined));
      expect(failing.err).toContain(`keys: OPENAI_API_KEY -> ${new URL(upstream.url).host}`);
      expect(failing.err).toMatch(/the check failed for \d recordings?: .*answered 503 3 times/);
      expect(failing.out).toMatch(/the check failed for:\n/);
      await expect(runDrift(dir, { ...flags, olderThan: 'a while' })).rejects.toThrow(/--older-than/);
      await expect(runDrift(dir, { ...flags, sample: '0' })).rejects.toThrow(/--sample/);
    });
  });

  it('writes nothing in the recordings directory without --refresh, drift found or not', async () => {
    const before = await bytesOf(dir);
    await withKeysQuietly(async () => {
      upstream.variant = 'removed';
      expect(await runDrift(dir, { upstream: upstream.url, concurrency: '2', timeout: '10000', stateDir: `${dir}.state` })).toBe(1);
    });
    expect(await bytesOf(dir)).toEqual(before);
  });
});

describe("the inspector's drift API", () => {
  const stateDir = () => `${dir}.state`;
  const reportFile = () => driftReportPath(stateDir());
  const driftApi = async (server: RunningServer, query = '') => {
    const answer = await fetch(`${server.url}/_llm-replay/api/drift${query}`);
    return { status: answer.status, body: await json(answer) };
  };

  it('serves the latest report drift kept, and one recording\'s recorded and live shapes side by side', async () => {
    await saveDriftReport(stateDir(), await driftAgainst('added'));
    const server = await serve({ recordings: dir });
    try {
      const { status, body } = await driftApi(server);
      expect(status).toBe(200);
      expect(body.path).toBe(reportFile());
      expect(body.report.recordingsDir).toBe(path.resolve(dir));
      expect(body.serverDir).toBeUndefined();
      expect(body.report.groups.map((g: DriftGroup) => g.endpoint)).toContain('/v1/chat/completions');
      const file = body.report.groups.flatMap((g: DriftGroup) => g.findings).find((f: GroupedFinding) => f.where === 'choices[].message.refusal').files[0];
      const shapes = await driftApi(server, `?file=${encodeURIComponent(file)}`);
      expect(shapes.status).toBe(200);
      const changed = shapes.body.shapes.filter((line: { changed: boolean }) => line.changed);
      expect(changed).toEqual([{ right: '    "choices[].message.refusal": "null",', changed: true }]);
      expect(shapes.body.shapes.some((line: { left?: string; right?: string }) => line.left === line.right && line.left?.includes('"choices[].message.content": "string"'))).toBe(true);
      const unknown = await driftApi(server, '?file=nope.json');
      expect(unknown.status).toBe(404);
      expect(unknown.body.error.message).toContain('"nope.json"');
      expect((await driftApi(server, '?file=')).status).toBe(400);
    } finally {
      await server.close();
    }
  });

  it('says there is no report yet, and names a file that is not one, without failing the request', async () => {
    const server = await serve({ recordings: dir });
    try {
      await rm(reportFile(), { force: true });
      expect((await driftApi(server)).body).toEqual({ path: reportFile() });
      await writeFile(reportFile(), '{"checkedAt": "2026-');
      const cut = await driftApi(server);
      expect(cut.status).toBe(200);
      expect(cut.body.report).toBeUndefined();
      expect(cut.body.problem).toMatch(/drift-report\.json is not JSON/);
      await writeFile(reportFile(), JSON.stringify({ ...(await driftAgainst('added')), sent: 'seven' }));
      expect((await driftApi(server)).body.problem).toMatch(/is not a drift report: at "\/sent"/);
      // A report of another directory is shown, and said to be one.
      await saveDriftReport(stateDir(), { ...(await driftAgainst('added')), recordingsDir: '/elsewhere/recordings' });
      expect((await driftApi(server)).body).toMatchObject({ report: { recordingsDir: '/elsewhere/recordings' }, serverDir: path.resolve(dir) });
      // The server goes on answering.
      expect((await fetch(`${server.url}/_llm-replay/api/journal`)).status).toBe(200);
    } finally {
      await server.close();
    }
  });
});

describe('drift --refresh', () => {
  /** Records one chat request per input, in order, under one test id, from the upstream's base shape. */
  async function recordChats(recordings: string, testId: string, inputs: string[]): Promise<void> {
    const recorder = await serve({ mode: 'record', recordings, upstream: upstream.url });
    upstream.variant = 'base';
    for (const input of inputs) {
      const answer = await fetch(`${recorder.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer sk-record', 'x-test-id': testId }, body: JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: input }] }) });
      await answer.arrayBuffer();
    }
    await recorder.close();
  }

  it('records again every recording of each test that drifted, through record mode (occurrences kept, keys scrubbed), and says what changed', async () => {
    const own = await tempDir();
    try {
      const recorder = await serve({ mode: 'record', recordings: own, upstream: upstream.url });
      // A test id past Latin-1, sent as its UTF-8 bytes: the refresh must send it back the same way (fetch refuses it as text).
      const poll = 'tests/poll.test.ts::polls → twice';
      const send = async (testId: string, endpoint: string, body: unknown) => {
        const answer = await fetch(`${recorder.url}${endpoint}`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer sk-record', 'x-test-id': wireHeaderValue(testId) }, body: JSON.stringify(body) });
        await answer.arrayBuffer();
      };
      upstream.variant = 'base';
      const [endpoint, body] = REQUESTS[0]!;
      // A poll: the same request twice, two occurrences; then another request of the same test, and another test's (whose shapes the change leaves alone).
      await send(poll, endpoint, body);
      await send(poll, endpoint, body);
      await send(poll, '/v1/embeddings', { model: 'text-embedding-3-small', input: '' });
      await send('tests/other.test.ts::asks', '/v1/messages', { model: MISSING_MODEL, max_tokens: 100, messages: [{ role: 'user', content: 'rings?' }] });
      await recorder.close();
      const before = await bytesOf(own);
      const names = Object.keys(before);
      expect(names.filter((f) => /\.2\.json$/.test(f))).toHaveLength(1);

      upstream.variant = 'added';
      let code = 0;
      const printed = await withKeysQuietly(async () => {
        code = await runDrift(own, { upstream: upstream.url, concurrency: '2', timeout: '10000', stateDir: `${own}.state`, refresh: true });
      });
      expect(code).toBe(1);
      const after = await bytesOf(own);
      expect(Object.keys(after)).toEqual(names);
      const chatFiles = names.filter((f) => before[f]!.includes('"/v1/chat/completions"'));
      expect(chatFiles).toHaveLength(2);
      for (const file of chatFiles) {
        expect(after[file]).not.toBe(before[file]);
        expect(printed.out).toContain(`${file}: choices[].message.refusal: added (null)`);
        expect(JSON.parse(after[file]!).response.body.choices[0].message.refusal).toBeNull();
        expect(JSON.parse(after[file]!).test_id).toBe(poll);
      }
      expect(JSON.parse(after[chatFiles.find((f) => f.endsWith('.2.json'))!]!).occurrence).toBe(2);
      // The same test's other request was sent again (its shape did not change); the other test's was not.
      const sameTest = names.find((f) => before[f]!.includes('"/v1/embeddings"'))!;
      expect(printed.out).toContain(`${sameTest}: re-recorded, same shape`);
      const otherFile = names.find((f) => before[f]!.includes('"/v1/messages"'))!;
      expect(after[otherFile]).toBe(before[otherFile]);
      expect(printed.out).not.toContain(otherFile);
      for (const text of Object.values(after)) expect(text).not.toContain('sk-drift-test');
      // The refreshed recordings tell the truth again.
      expect(texts(await driftAgainst('added', own))).toEqual([]);
    } finally {
      await removeDir(own);
    }
  });

  it('stopped part-way, prints what it had already changed and exits 2', async () => {
    const own = await tempDir();
    try {
      await recordChats(own, 'tests/a.test.ts::two', ['one', 'two']);
      upstream.variant = 'added';
      // The check's two requests and the refresh's first are answered; the refresh's second stalls past the timeout.
      upstream.fail('stall', 3);
      let code = 0;
      const printed = await withKeysQuietly(async () => {
        code = await runDrift(own, { upstream: upstream.url, concurrency: '1', timeout: '1500', stateDir: `${own}.state`, refresh: true });
      }).finally(() => upstream.fail(undefined));
      expect(code).toBe(2);
      expect(printed.out).toMatch(/refreshed:\n {2}[0-9a-f]{64}\.json: choices\[\]\.message\.refusal: added \(null\)/);
      expect(printed.out).toContain('stopped part-way, nothing more sent: refreshing');
      expect(printed.err).toContain('the files listed above were already changed');
    } finally {
      upstream.variant = 'base';
      await removeDir(own);
    }
  });

  it('says a file the upstream refused to answer again (429) once, as not re-recorded, never also as re-recorded', async () => {
    const own = await tempDir();
    try {
      await recordChats(own, 'tests/a.test.ts::one', ['one']);
      const [file] = Object.keys(await bytesOf(own));
      upstream.variant = 'added';
      // The check's request is answered; the refresh's is rate limited (not recorded).
      upstream.fail(429, 1);
      let code = 0;
      const printed = await withKeysQuietly(async () => {
        code = await runDrift(own, { upstream: upstream.url, concurrency: '1', timeout: '10000', stateDir: `${own}.state`, refresh: true });
      }).finally(() => upstream.fail(undefined));
      expect(code).toBe(1);
      expect(printed.out).toContain(`not re-recorded: ${file}: the upstream answered 429, which is not recorded`);
      expect(printed.out).not.toContain(`${file}: re-recorded`);
    } finally {
      upstream.variant = 'base';
      await removeDir(own);
    }
  });

  it('sends a stateful flow again from its start, in order, so a later request names the new upstream objects', async () => {
    const own = await tempDir();
    const stateful = await statefulOpenAi().start();
    try {
      const recorder = await serve({ mode: 'record', recordings: own, upstream: stateful.url });
      const client = openai(recorder, { testId: 'tests/flow.test.ts::chains' });
      const first = await client.responses.create({ model: 'gpt-4o', input: 'first' });
      await client.responses.create({ model: 'gpt-4o', input: 'second', previous_response_id: first.id });
      await recorder.close();
      const before = await bytesOf(own);
      const second = Object.keys(before).find((f) => before[f]!.includes('previous_response_id'))!;
      // Only the second drifted; the first must be sent again before it, with a state folder that knows none of the old ids.
      const report = { checkedAt: '', recordingsDir: own, sent: 2, unchanged: 1, groups: [], failed: [], notSent: 0, drifted: [{ file: second, endpoint: '/v1/responses', model: 'gpt-4o', findings: [], recorded: { status: 200, contentType: '', streaming: false, finishReasons: [] }, live: { status: 200, contentType: '', streaming: false, finishReasons: [] } }] };
      const plan = await planRefresh(own, report);
      expect(plan.sends.map((s) => s.file)).toEqual([Object.keys(before).find((f) => f !== second), second]);
      const result = await refreshDrifted(own, plan, { server: { faults: 'status=503' }, stateDir: `${own}.fresh-state`, timeoutMs: 10_000, env });
      expect(result.notRecorded).toEqual([]);
      expect(result.files.map((f) => [f.file, f.change, f.findings])).toEqual(plan.sends.map((s) => [s.file, 'rewritten', []]).sort());
      const refreshed = JSON.parse(await readFile(path.join(own, second), 'utf8'));
      expect(refreshed.response.status ?? 200).toBe(200);
      expect(refreshed.response.body.previous_response_id).toBe(first.id);
    } finally {
      await stateful.stop();
      await rm(`${own}.fresh-state`, { recursive: true, force: true });
      await removeDir(own);
    }
  });
});

describe('drift through routes', () => {
  const CLAUDE = { model: 'claude-sonnet-4-5', max_tokens: 100, messages: [{ role: 'user', content: 'rings?' }], stream: true };
  let routed: DriftingUpstream;

  beforeAll(async () => {
    routed = await new DriftingUpstream().start();
  });
  afterAll(async () => {
    await routed.stop();
  });

  /** A chat request through the default upstream and a Claude one through the /anthropic route, recorded; returns the folder and a config file naming the route. */
  async function recordThroughRoute(): Promise<{ own: string; config: string }> {
    const own = await tempDir();
    const config = `${own}.config.json`;
    await writeFile(config, JSON.stringify({ routes: { '/anthropic': routed.url } }));
    const recorder = await serve({ mode: 'record', recordings: own, upstream: upstream.url, routes: { '/anthropic': routed.url } });
    upstream.variant = routed.variant = 'base';
    const post = async (endpoint: string, body: unknown, headers: Record<string, string>) => (await fetch(`${recorder.url}${endpoint}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) })).arrayBuffer();
    await post('/v1/chat/completions', REQUESTS[0]![1], { authorization: 'Bearer sk-record', 'x-test-id': 'tests/a.test.ts::chats' });
    await post('/anthropic/v1/messages', CLAUDE, { 'x-api-key': 'sk-ant-record', 'x-test-id': 'tests/a.test.ts::claude' });
    await recorder.close();
    const stored = Object.values(await bytesOf(own)).map((text) => JSON.parse(text) as Recording);
    // What the server stores for a routed request: the prefixed endpoint, the route's origin.
    expect(stored.map((r) => r.request.url).sort()).toEqual([`${routed.url}/anthropic/v1/messages`, `${upstream.url}/v1/chat/completions`].sort());
    return { own, config };
  }

  it("asks a recording made through a route at the route's upstream, less the prefix, as the server forwarded it; --refresh the same", async () => {
    const { own, config } = await recordThroughRoute();
    const before = routed.received.length;
    try {
      routed.variant = 'added';
      let code = 0;
      const printed = await withKeysQuietly(async () => {
        code = await runDrift(own, { config, concurrency: '1', timeout: '10000', stateDir: `${own}.state`, refresh: true });
      });
      // The check and the refresh each asked the route's upstream once, at the path record mode used.
      expect(routed.received.slice(before).map((r) => r.url)).toEqual(['/v1/messages', '/v1/messages']);
      expect(upstream.calls('/anthropic/v1/messages')).toBe(0);
      expect(printed.err).toContain(`ANTHROPIC_API_KEY -> ${new URL(routed.url).host}`);
      expect(printed.out).toContain('/anthropic/v1/messages  model claude-sonnet-4-5\n  event message_start: message.container: added (null)');
      expect(printed.out).toMatch(/refreshed:\n {2}[0-9a-f]{64}\.json: event message_start: message\.container: added \(null\)/);
      expect(code).toBe(1);
    } finally {
      routed.variant = 'base';
      await removeDir(own);
      await rm(config, { force: true });
    }
  });

  it('takes -u as the default upstream only: a routed recording, and its key, still go to the route (--route as serve takes it)', async () => {
    const { own, config } = await recordThroughRoute();
    const moved = await new DriftingUpstream().start();
    const before = routed.received.length;
    try {
      let code = 0;
      const printed = await withKeysQuietly(async () => {
        code = await runDrift(own, { upstream: moved.url, route: { '/anthropic': routed.url }, concurrency: '1', timeout: '10000', stateDir: `${own}.state` });
      });
      expect(printed.err).toContain(`keys: ANTHROPIC_API_KEY -> ${new URL(routed.url).host}, OPENAI_API_KEY -> ${new URL(moved.url).host}`);
      expect(moved.received.map((r) => r.url)).toEqual(['/v1/chat/completions']);
      expect(moved.received.flatMap((r) => Object.values(r.headers))).not.toContain(env.ANTHROPIC_API_KEY);
      expect(routed.received.slice(before).map((r) => [r.url, r.headers['x-api-key']])).toEqual([['/v1/messages', env.ANTHROPIC_API_KEY]]);
      expect(code).toBe(0);
      // A route serve would refuse fails the check before anything is sent.
      await expect(runDrift(own, { route: { anthropic: routed.url }, concurrency: '1', timeout: '10000', stateDir: `${own}.state` })).rejects.toThrow(/routes\["anthropic"\]: a prefix starts with \//);
    } finally {
      await moved.stop();
      await removeDir(own);
      await rm(config, { force: true });
    }
  });

  it("keeps the route's base path and the recorded query, and takes the prefix off only at a folder boundary", () => {
    const recording = (endpoint: string, url: string) => ({ request: { method: 'POST', url, endpoint, headers: {}, body: {}, model: '' } }) as unknown as Recording;
    const routeOf = (endpoint: string) => (endpoint === '/anthropic' || endpoint.startsWith('/anthropic/') ? { prefix: '/anthropic', base: 'http://127.0.0.1:9/gateway' } : undefined);
    expect(destinationOf(recording('/anthropic/v1/messages', 'http://127.0.0.1:9/anthropic/v1/messages?beta=true'), { routeOf, upstream: new URL('http://127.0.0.1:8') })).toEqual({ url: new URL('http://127.0.0.1:9/gateway/v1/messages?beta=true'), chosen: false });
    expect(destinationOf(recording('/anthropicx/v1/messages', 'https://api.anthropic.com/anthropicx/v1/messages'), { routeOf })).toEqual({ url: new URL('https://api.anthropic.com/anthropicx/v1/messages'), chosen: false });
    expect(destinationOf(recording('/v1/chat/completions', 'https://api.openai.com/v1/chat/completions'), { routeOf, upstream: new URL('http://127.0.0.1:8/base') })).toEqual({ url: new URL('http://127.0.0.1:8/base/v1/chat/completions'), chosen: true });
  });
});

describe('the text report', () => {
  it("shows a live member name's control characters as code points, so an answer cannot write to the terminal", () => {
    const report = {
      groups: [{ endpoint: '/v1/chat/completions', model: 'gpt-4o', findings: [{ text: 'choices[].message.\u001b[2Jx\r\nfake\u202e: added (string)', files: ['a.json'] }] }],
      drifted: [{}],
      unchanged: 0,
      failed: [],
      notSent: 0,
    } as unknown as DriftReport;
    const text = formatDriftReport(report);
    expect(text).toContain('message.[U+001B][2Jx[U+000D][U+000A]fake[U+202E]: added (string)');
    expect(text.split('\n')).toHaveLength(3);
    expect(text).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u202e]/);
    expect(text).toContain('1 recording checked: 1 drifted');
  });
});
