// The inspector's server side over HTTP: its page's files, the recordings list
// (filtered and paged on the server), one recording as a person reads it for each
// API, this run's journal (a miss with its diff, live events), and the links the
// terminal gives. The page itself is tested in a browser (test/browser/).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JournalDetail, JournalPage, RecordingPage, RecordingView } from '../src/server/inspector/contract.js';
import { startServer, type RunningServer } from '../src/index.js';
import { corpusCalls, recordCorpus, STREAM_TEST } from './support/corpus.js';
import { removeDir, tempDir } from './support/harness.js';
import { seed, seedText } from './support/seeds.js';

let dir: string;
let server: RunningServer;

beforeAll(async () => {
  dir = await tempDir();
  await recordCorpus(dir);
  server = await startServer({ recordings: dir, stateDir: `${dir}.state`, port: 0, logLevel: 'silent' });
});

afterAll(async () => {
  await server?.close();
  await removeDir(dir);
});

async function get<T>(path: string, status = 200): Promise<T> {
  const response = await fetch(`${server.url}/_llm-replay${path}`);
  expect(response.status, path).toBe(status);
  return (await response.json()) as T;
}

async function list(query: string): Promise<RecordingPage> {
  // The first list starts reading the directory: ask until it has read every file.
  for (;;) {
    const page = await get<RecordingPage>(`/api/recordings?${query}`);
    if (page.indexing.done === page.indexing.total) return page;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function view(testId: string): Promise<RecordingView> {
  const page = await list(`test_id=${encodeURIComponent(testId)}`);
  expect(page.rows).toHaveLength(1);
  return get<RecordingView>(`/api/recording?file=${encodeURIComponent(page.rows[0]!.file)}`);
}

function chat(body: unknown, testId: string): Promise<Response> {
  return fetch(`${server.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-test-id': testId }, body: JSON.stringify(body) });
}

describe('the recordings list', () => {
  it('lists every file with its metadata, filtered on the server', async () => {
    const all = await list('');
    expect(all.total).toBe(corpusCalls().length);
    expect(all.rows.map((row) => row.testId)).toEqual([...all.rows.map((row) => row.testId)].sort());
    const stream = all.rows.find((row) => row.testId === STREAM_TEST)!;
    expect(stream).toMatchObject({ method: 'POST', endpoint: '/v1/chat/completions', model: 'openai/gpt-5.5', status: 200, streaming: true, occurrence: 1, hits: 0, recorded: false });
    expect(stream.file).toMatch(/^[0-9a-f]{64}\.json$/);
    expect(stream.key).toBe(stream.file.slice(0, 64));

    expect((await list('test_id=tests/agent.test.ts')).rows.map((row) => row.testId!.split('::')[1])).toEqual(['answers with the weather tool', 'reports an unknown conversation', 'streams a Responses answer']);
    expect((await list('endpoint=/ollama/api/chat')).rows.map((row) => row.testId)).toEqual(['tests/local.test.ts::chats with a local model']);
    expect((await list('model=claude')).total).toBe(1);
    // Gemini's model is in its path.
    expect((await list('model=gemini-2.0-flash')).rows.map((row) => row.testId)).toEqual(['tests/gemini.test.ts::streams from Gemini']);
    expect((await list('status=4xx')).rows.map((row) => row.status)).toEqual([400]);
    expect((await list('status=200')).total).toBe(corpusCalls().length - 1);
    expect((await list('streaming=true')).total).toBe(6);
    expect((await list('streaming=false&endpoint=/v1/chat/completions')).total).toBe(9);
    expect((await list('occurrence=1')).total).toBe(corpusCalls().length);
    expect((await list('occurrence=2')).total).toBe(0);
    expect(all.facets.endpoints[0]).toEqual({ value: '/v1/chat/completions', count: 11 });
  });

  it('pages by cursor', async () => {
    const first = await list('limit=6');
    const second = await list(`limit=6&cursor=${first.next}`);
    const third = await list(`limit=6&cursor=${second.next}`);
    expect([first.rows.length, second.rows.length, third.rows.length]).toEqual([6, 6, 4]);
    expect(third.next).toBeNull();
    expect(new Set([...first.rows, ...second.rows, ...third.rows].map((row) => row.file)).size).toBe(16);
  });

  it('searches the text of the files, a page at a time', async () => {
    const found = await list(`q=${encodeURIComponent('LIGHT RAIN')}`);
    expect(found.rows.map((row) => row.testId)).toEqual(['tests/agent.test.ts::answers with the weather tool']);
    expect(found.scanned).toBe(corpusCalls().length);
    const answers = await list(`q=recursion&limit=1`);
    expect(answers.rows).toHaveLength(1);
    expect(answers.total).toBeNull();
    const next = await list(`q=recursion&limit=5&cursor=${answers.next}`);
    expect(next.rows.map((row) => row.testId)).not.toContain(answers.rows[0]!.testId);
    expect(next.rows.length).toBeGreaterThan(0);
  });

  it('refuses a bad query with a message naming the parameter', async () => {
    for (const [query, param] of [['status=abc', 'status'], ['streaming=maybe', 'streaming'], ['occurrence=0', 'occurrence'], ['limit=100000', 'limit'], ['cursor=-1', 'cursor']]) {
      const body = await get<{ error: { message: string; param: string } }>(`/api/recordings?${query}`, 400);
      expect(body.error.param).toBe(param);
      expect(body.error.message).toContain(param);
    }
  });
});

describe('one recording', () => {
  it('a stream: the conversation, the assembled text, a timeline over the recorded timing, and the raw file', async () => {
    const shown = await view(STREAM_TEST);
    const exchange = seed('gpt-5.5', 'Streaming Response');
    expect(shown.conversation?.messages).toEqual([{ role: 'user', parts: [{ kind: 'text', text: exchange.request.messages[0]!.content }] }]);
    expect(shown.stream?.text).toBe(seedText(exchange));
    const { events, headMs } = shown.stream!.timeline;
    expect(events).toHaveLength((exchange.response as unknown[]).length + 1);
    expect(events.at(-1)?.label).toBe('[DONE]');
    expect(events.map((e) => e.text).join('')).toBe(seedText(exchange));
    const offsets = events.map((e) => e.ms!);
    expect(offsets.every((ms, i) => ms >= (i === 0 ? headMs! : offsets[i - 1]!))).toBe(true);
    expect(offsets.at(-1)! - offsets[0]!).toBeGreaterThan(0);
    expect(shown.path.startsWith(dir)).toBe(true);
    expect(JSON.parse(shown.raw.text).test_id).toBe(STREAM_TEST);
    // When and against what, from response.origin, for the page to show its age.
    const origin = JSON.parse(shown.raw.text).response.origin;
    expect(shown.origin).toEqual({ upstream: origin.upstream, recordedAt: origin.recorded_at, model: origin.model });
    expect(shown.origin!.upstream).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(Date.parse(shown.origin!.recordedAt!)).toBeGreaterThan(Date.now() - 10 * 60_000);
  });

  it('Anthropic: system, an image as a placeholder, a tool call and its result, and the streamed answer', async () => {
    const shown = await view('tests/agent.test.ts::answers with the weather tool');
    expect(shown.conversation?.tools).toEqual(['get_weather']);
    expect(shown.conversation?.messages).toEqual([
      { role: 'system', parts: [{ kind: 'text', text: 'You are a concise assistant. Use tools when they help.' }] },
      { role: 'user', parts: [{ kind: 'media', label: 'image (image/png, 70 B)' }, { kind: 'text', text: 'What is the weather where this photo was taken? It looks like Paris.' }] },
      { role: 'assistant', parts: [{ kind: 'tool-call', id: 'toolu_01A09q90qw90lq917835lq9', name: 'get_weather', arguments: '{\n  "city": "Paris"\n}' }] },
      { role: 'user', parts: [{ kind: 'tool-result', id: 'toolu_01A09q90qw90lq917835lq9', text: '18°C, light rain' }] },
    ]);
    expect(shown.stream?.text).toBe('Saturn is the planet with the most famous rings.');
    expect(shown.stream?.timeline.events.map((e) => e.label)).toContain('content_block_delta');
  });

  it('whole answers of OpenAI chat, Ollama and Gemini streams, Responses, and an error', async () => {
    const usage = await view('tests/chat.test.ts::gpt-5.1-chat > with system message');
    expect(usage.conversation?.messages.map((m) => m.role)).toEqual(['system', 'user']);
    expect(usage.answer?.messages[0]?.role).toBe('assistant');
    expect(usage.answer?.stop).toBe('stop');
    expect(usage.answer?.usage?.['total_tokens']).toBeGreaterThan(0);
    expect((usage.answer?.messages[0]?.parts[0] as { text: string }).text).toBe(seedText(seed('gpt-5.1-chat', 'With System Message')));

    const ollama = await view('tests/local.test.ts::chats with a local model');
    expect(ollama.conversation?.api).toBe('ollama-chat');
    expect(ollama.stream?.format).toBe('ndjson');
    expect(ollama.stream?.text).toBe('Saturn is the planet with the most famous rings.');

    const gemini = await view('tests/gemini.test.ts::streams from Gemini');
    expect(gemini.conversation?.messages).toEqual([{ role: 'user', parts: [{ kind: 'text', text: 'Which planet has the most famous rings?' }] }]);
    expect(gemini.stream?.text).toBe('Saturn is the planet with the most famous rings.');

    const responses = await view('tests/agent.test.ts::streams a Responses answer');
    expect(responses.conversation?.messages).toEqual([{ role: 'user', parts: [{ kind: 'text', text: 'Name the largest moon of Saturn.' }] }]);
    expect(responses.stream?.text).toBe('You said: Name the largest moon of Saturn.');
    expect(responses.stream?.timeline.events[0]?.label).toBe('response.created');

    const error = await view('tests/agent.test.ts::reports an unknown conversation');
    expect(error.response.status).toBe(400);
    // Shown as the error, not as an empty answer.
    expect(error.answer).toBeUndefined();
    expect(JSON.stringify(error.response.error)).toContain('no seed for this conversation');
  });

  it('embeddings: the shape, never the numbers', async () => {
    const shown = await view('tests/search.test.ts::embeds the query');
    expect(shown.embeddings).toEqual({ inputs: 1, vectors: 1, dimensions: [4], encoding: 'float' });
    expect(shown.response.body).toBeUndefined();
    expect(shown.conversation?.messages).toEqual([{ role: 'input', parts: [{ kind: 'text', text: 'How do rings form around planets?' }] }]);
  });

  it('reads only files the index knows', async () => {
    for (const file of ['../package.json', '/etc/passwd', 'nope.json', '']) {
      const body = await get<{ error: { message: string } }>(`/api/recording?file=${encodeURIComponent(file)}`, 404);
      expect(body.error.message).toContain('no recording');
    }
  });
});

describe("this run's journal", () => {
  it('notes hits and misses with test id, status and duration; a miss links to its diff and the command that records it', async () => {
    const before = await get<JournalPage>('/api/journal');
    const asked = seed('gpt-5.1-chat', 'Usage').request;
    const testId = 'tests/chat.test.ts::gpt-5.1-chat > answers a science question';
    expect((await chat(asked, testId)).status).toBe(200);
    const miss = await chat({ ...asked, messages: [{ role: 'user', content: 'What are the four laws of thermodynamics?' }] }, testId);
    expect(miss.status).toBe(404);
    const message = ((await miss.json()) as { error: { message: string } }).error.message;
    const link = /See it in the inspector: (\S+)$/m.exec(message)?.[1];
    expect(link).toBe(`${server.url}/_llm-replay/ui/#/run/${before.next + 1}`);

    // The same miss again: its own link, once.
    const again = ((await (await chat({ ...asked, messages: [{ role: 'user', content: 'What are the four laws of thermodynamics?' }] }, testId)).json()) as { error: { message: string } }).error.message;
    expect(again.match(/See it in the inspector/g)).toHaveLength(1);
    expect(again).toContain(`#/run/${before.next + 2}`);

    const after = await get<JournalPage>(`/api/journal?after=${before.next - 1}`);
    expect(after.items.map((item) => [item.kind, item.testId, item.status])).toEqual([
      ['hit', testId, 200],
      ['miss', testId, 404],
      ['miss', testId, 404],
    ]);
    expect(after.items.every((item) => typeof item.durationMs === 'number' && item.durationMs >= 0)).toBe(true);
    const hit = after.items[0]!;
    expect(hit.file).toMatch(/^[0-9a-f]{64}\.json$/);
    const rows = await list(`test_id=${encodeURIComponent(testId)}`);
    expect(rows.rows[0]).toMatchObject({ hits: 1, file: hit.file });
    expect(rows.rows[0]!.lastUsedMs).toBeGreaterThanOrEqual(hit.at);
    expect((await list('used=true')).rows.map((row) => row.file)).toEqual([hit.file]);
    expect((await list('used=false')).total).toBe(corpusCalls().length - 1);

    const detail = await get<JournalDetail>(`/api/journal/${before.next + 1}`);
    expect(detail.miss?.nearest?.file).toBe(hit.file);
    expect(detail.miss?.differences).toEqual([{ path: 'body.messages[0].content', recorded: '"What are the three laws of thermodynamics?"', requested: '"What are the four laws of thermodynamics?"' }]);
    const changed = detail.miss!.diff!.filter((line) => line.changed);
    expect(changed).toEqual([{ left: '      "content": "What are the three laws of thermodynamics?",', right: '      "content": "What are the four laws of thermodynamics?",', changed: true }]);
    expect(detail.miss?.commands[0]?.command).toBe(`LLM_REPLAY_MODE=record-if-missing npx vitest run tests/chat.test.ts -t '^gpt-5\\.1-chat(?: > | )answers a science question$'`);
    expect(detail.miss?.commands.some((c) => c.command.includes(`${server.url}/_llm-replay/mode`))).toBe(true);
    await get(`/api/journal/999999`, 404);
  });

  it('notes an injected fault as a fault, with what was injected', async () => {
    const before = await get<JournalPage>('/api/journal');
    const asked = seed('gpt-5.5', 'Creative Writing').request;
    const response = await fetch(`${server.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-test-id': 'tests/faults.test.ts::retries', 'x-llm-replay-fault': 'status=429' }, body: JSON.stringify(asked) });
    expect(response.status).toBe(429);
    await response.arrayBuffer();
    const { items } = await get<JournalPage>(`/api/journal?after=${before.next - 1}`);
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({ kind: 'fault', testId: 'tests/faults.test.ts::retries', status: 429 });
    expect(items[0]!.message).toContain('status=429');
  });

  it('streams each request as server-sent events while the page is open, and lets the server close', async () => {
    const own = await startServer({ recordings: dir, stateDir: `${dir}.state`, port: 0, logLevel: 'silent' });
    const events = await fetch(`${own.url}/_llm-replay/api/journal/events?after=0`);
    expect(events.headers.get('content-type')).toBe('text/event-stream');
    const reader = events.body!.pipeThrough(new TextDecoderStream()).getReader();
    await fetch(`${own.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-test-id': 'live' }, body: '{"model": "x"}' }).then((r) => r.arrayBuffer());
    let text = '';
    while (!text.includes('\n\n')) text += (await reader.read()).value ?? '';
    const item = JSON.parse(/^data: (.*)$/m.exec(text)![1]!);
    expect(item).toMatchObject({ seq: 1, kind: 'miss', testId: 'live', path: '/v1/chat/completions', status: 404 });
    await own.close();
    expect((await reader.read()).done).toBe(true);
  });
});
