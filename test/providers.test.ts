// One server, several APIs behind routes: Anthropic, Ollama, Gemini and an
// OpenAI-compatible gateway, each recorded with its official client (Gemini over
// raw HTTP) against a fake that sends that API's wire bytes, then replayed with
// every upstream stopped.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import Anthropic from '@anthropic-ai/sdk';
import { Ollama } from 'ollama';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FakeUpstream } from './support/fake-upstream.js';
import { ANSWER, anthropicEvents, fakeAnthropic, fakeGemini, fakeOllama, geminiChunks, ollamaChatLines } from './support/providers.js';
import { fakeOpenAi, seed, seedText, chatParams } from './support/seeds.js';
import { listFiles, openai, recordingsIn, removeDir, serve, tempDir } from './support/harness.js';
import type { RunningServer } from '../src/index.js';

let dir: string;
let upstreams: Record<string, FakeUpstream>;

beforeAll(async () => {
  dir = await tempDir();
  upstreams = {
    openai: await fakeOpenAi().start(),
    anthropic: await fakeAnthropic().start(),
    ollama: await fakeOllama().start(),
    gemini: await fakeGemini().start(),
  };
});
afterAll(async () => {
  await Promise.all(Object.values(upstreams).map((u) => u.stop()));
  await removeDir(dir);
});

function routes(): Record<string, string> {
  return {
    '/anthropic': upstreams['anthropic']!.url,
    '/ollama': upstreams['ollama']!.url,
    '/gemini': upstreams['gemini']!.url,
    // A gateway whose account id lives in the upstream's base path.
    '/gateway': `${upstreams['openai']!.url}/client/v4/accounts/acct-7d2f9e41/ai`,
  };
}

type Results = Awaited<ReturnType<typeof exercise>>;

async function exercise(server: RunningServer) {
  const anthropic = new Anthropic({ baseURL: `${server.url}/anthropic`, apiKey: 'sk-ant-api03-test-key-0000000000', maxRetries: 0 });
  const message = await anthropic.messages.create({ model: 'claude-sonnet-4-6', max_tokens: 64, messages: [{ role: 'user', content: 'Which planet has rings?' }] });
  const stream = anthropic.messages.stream({ model: 'claude-sonnet-4-6', max_tokens: 64, messages: [{ role: 'user', content: 'Which planet has rings?' }] });
  const events: string[] = [];
  stream.on('streamEvent', (event) => events.push(event.type));
  const streamedText = await stream.finalText();

  const ollama = new Ollama({ host: `${server.url}/ollama` });
  const chat = await ollama.chat({ model: 'llama3.2:3b', messages: [{ role: 'user', content: 'Which planet has rings?' }], stream: false });
  let ollamaStreamed = '';
  let lastChunk: unknown;
  for await (const part of await ollama.chat({ model: 'llama3.2:3b', messages: [{ role: 'user', content: 'Which planet has rings?' }], stream: true })) {
    ollamaStreamed += part.message.content;
    lastChunk = part;
  }
  let generated = '';
  for await (const part of await ollama.generate({ model: 'llama3.2:3b', prompt: 'Which planet has rings?', stream: true })) generated += part.response;
  const embed = await ollama.embed({ model: 'all-minilm', input: 'rings' });
  const tags = await ollama.list();
  const ps = await ollama.ps();
  const show = await ollama.show({ model: 'llama3.2:3b' });

  const gemini = await fetch(`${server.url}/gemini/v1beta/models/gemini-2.0-flash:streamGenerateContent?alt=sse&key=AIzaSyGeminiTestKey000000000000000000`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ contents: [{ role: 'user', parts: [{ text: 'Which planet has rings?' }] }] }),
  });
  const geminiText = await gemini.text();
  const geminiOnce = await fetch(`${server.url}/gemini/v1beta/models/gemini-2.0-flash:generateContent`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-goog-api-key': 'AIzaSyGeminiHeaderKey0000000000000000' },
    body: JSON.stringify({ contents: [{ role: 'user', parts: [{ text: 'Which planet has rings?' }] }] }),
  });

  const usage = seed('gpt-5.1-chat', 'Usage');
  const gateway = openai({ url: `${server.url}/gateway` } as RunningServer);
  const completion = await gateway.chat.completions.create(chatParams(usage));

  return {
    message: message.content,
    streamedText,
    events,
    chat: chat.message.content,
    ollamaStreamed,
    lastChunk,
    generated,
    embed: embed.embeddings,
    tags: tags.models.map((m) => m.name),
    ps: ps.models,
    show: show.template,
    geminiText,
    geminiOnce: await geminiOnce.json(),
    completion: completion.choices[0]?.message.content,
  };
}

describe('several APIs behind one server', () => {
  let recorded: Results;
  let replayed: Results;

  beforeAll(async () => {
    const recorder = await serve({ mode: 'record', recordings: dir, upstream: 'http://127.0.0.1:9', routes: routes() });
    recorded = await exercise(recorder);
    await recorder.close();
    await Promise.all(Object.values(upstreams).map((u) => u.stop()));
    const replayer = await serve({ mode: 'replay', recordings: dir, routes: routes() });
    replayed = await exercise(replayer);
    await replayer.close();
  });

  it('Anthropic messages.create and messages.stream replay as recorded', () => {
    expect(recorded.message).toEqual([{ type: 'text', text: ANSWER }]);
    expect(recorded.streamedText).toBe(ANSWER);
    expect(recorded.events.at(-1)).toBe('message_stop');
    expect(replayed.message).toEqual(recorded.message);
    expect(replayed.streamedText).toBe(recorded.streamedText);
    expect(replayed.events).toEqual(recorded.events);
  });

  it('Ollama chat, generate, embed, tags, ps and show replay as recorded, with NDJSON streams', () => {
    expect(recorded.chat).toBe(ANSWER);
    expect(recorded.ollamaStreamed).toBe(ANSWER);
    expect(recorded.generated).toBe(ANSWER);
    expect(recorded.tags).toEqual(['llama3.2:3b']);
    for (const field of ['chat', 'ollamaStreamed', 'generated', 'embed', 'tags', 'ps', 'show'] as const) expect(replayed[field]).toEqual(recorded[field]);
    // Timing fields are normalised in the files, so the replayed last chunk has them at 0.
    expect(replayed.lastChunk).toMatchObject({ done: true, total_duration: 0, eval_duration: 0, created_at: new Date(0).toISOString().replace('.000Z', '.000000Z') });
  });

  it('Gemini streams replay with their CRLF framing and no terminator', () => {
    const wire = geminiChunks().map((chunk) => `data: ${JSON.stringify(chunk)}\r\n\r\n`).join('');
    expect(recorded.geminiText).toBe(wire);
    expect(replayed.geminiText).toBe(wire);
    expect(replayed.geminiOnce).toEqual(recorded.geminiOnce);
  });

  it('an OpenAI-compatible gateway replays as recorded', () => {
    expect(recorded.completion).toBe(seedText(seed('gpt-5.1-chat', 'Usage')));
    expect(replayed.completion).toBe(recorded.completion);
  });

  it('keys and files use the path the client called: no gateway account id, no API key', async () => {
    const files = await recordingsIn(dir);
    const endpoints = files.map((f) => f.data.request.endpoint).sort();
    expect(endpoints).toContain('/gateway/v1/chat/completions');
    expect(endpoints).toContain('/anthropic/v1/messages');
    expect(endpoints).toContain('/ollama/api/chat');
    expect(endpoints).toContain('/gemini/v1beta/models/gemini-2.0-flash:streamGenerateContent');
    const all = (await Promise.all((await listFiles(dir)).map((f) => readFile(path.join(dir, f), 'utf8')))).join('\n');
    for (const secret of ['acct-7d2f9e41', 'AIzaSyGeminiTestKey', 'AIzaSyGeminiHeaderKey', 'sk-ant-api03-test-key']) expect(all).not.toContain(secret);
    const ndjson = files.find((f) => f.data.request.endpoint === '/ollama/api/chat' && f.data.response.is_streaming)!;
    expect(ndjson.data.response.stream.format).toBe('ndjson');
    expect(ndjson.data.response.headers['content-type']).toBe('application/x-ndjson');
    const anthropicStream = files.find((f) => f.data.request.endpoint === '/anthropic/v1/messages' && f.data.response.is_streaming)!;
    expect(anthropicStream.data.response.stream.events.map((e: { event: string }) => e.event)).toEqual(anthropicEvents().map((e) => /^event: (\S+)/.exec(e)![1]));
    expect(ollamaChatLines('llama3.2:3b').length).toBe(ndjson.data.response.body.length);
  });
});
