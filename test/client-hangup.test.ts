// A stream is complete once its API's final event has arrived, whatever the client
// does next. The official SDKs often hang up right there (the Python ones close the
// connection after [DONE] or message_stop), while the upstream ends its response a
// little later: the exchange is recorded all the same. A client that hangs up before
// the final event leaves nothing written. The Node SDKs here; the Python SDKs in
// test/slow/python-hangup.test.ts.
import Anthropic from '@anthropic-ai/sdk';
import { Ollama } from 'ollama';
import { describe, expect, it } from 'vitest';
import type { RunningServer } from '../src/index.js';
import { openAiSse, type FakeUpstream } from './support/fake-upstream.js';
import { openai, recordingsIn, workspace } from './support/harness.js';
import { anthropicEvents, fakeAnthropic, fakeGemini, fakeOllama } from './support/providers.js';
import { fakeOpenAi, seed } from './support/seeds.js';

const ws = workspace();
/** The upstream ends its response 30 ms after its last event, with a keep-alive between. */
const linger = () => ({ lingerMs: 30, keepAlive: ': keep-alive\n\n' });
const lingerLines = () => ({ lingerMs: 30, keepAlive: '\n' });
const streaming = seed('gpt-5.1-chat', 'Streaming Response');

async function upstream(fake: FakeUpstream): Promise<string> {
  await fake.start();
  ws.cleanup.push(() => fake.stop());
  return fake.url;
}

/** Waits (bounded) until the server has concluded `count` exchanges: recorded or not. */
async function concluded(server: RunningServer, count: number): Promise<void> {
  const done = () => server.app.llmReplay.journal.entries().filter((entry) => entry.kind === 'recorded' || entry.kind === 'failed').length >= count;
  for (let i = 0; i < 1000 && !done(); i++) await new Promise((resolve) => setTimeout(resolve, 5));
  expect(done()).toBe(true);
}

/** Reads a raw stream until `final` appears in it, then hangs up. */
async function readUntil(response: Response, final: string): Promise<string> {
  const reader = response.body!.getReader();
  let text = '';
  while (!text.includes(final)) {
    const { done, value } = await reader.read();
    if (done) break;
    text += Buffer.from(value).toString();
  }
  await reader.cancel();
  return text;
}

describe('a client that hangs up after the final event', () => {
  it('is recorded for every streaming API: chat [DONE], Responses, Anthropic, Ollama, Gemini', async () => {
    const server = await ws.start({
      mode: 'record', 
      upstream: await upstream(fakeOpenAi(linger)),
      routes: { '/anthropic': await upstream(fakeAnthropic(linger)), '/ollama': await upstream(fakeOllama(lingerLines)), '/gemini': await upstream(fakeGemini(linger)) },
    });
    const client = openai(server, { testId: 'hangup' });
    // Chat completions: the SDK made the request; its raw body is read up to [DONE], then dropped.
    const chat = await client.chat.completions.create({ ...(streaming.request as object), stream: true } as never).asResponse();
    expect(await readUntil(chat, 'data: [DONE]')).toContain('data: [DONE]');
    for await (const event of await client.responses.create({ model: 'gpt-5.1', input: 'hello', stream: true })) if (event.type === 'response.completed') break;
    const anthropic = new Anthropic({ baseURL: `${server.url}/anthropic`, apiKey: 'sk-ant-test', maxRetries: 0, defaultHeaders: { 'x-test-id': 'hangup' } });
    for await (const event of await anthropic.messages.create({ model: 'claude-sonnet-4-5', max_tokens: 64, messages: [{ role: 'user', content: 'Rings?' }], stream: true })) if (event.type === 'message_stop') break;
    const ollama = new Ollama({ host: `${server.url}/ollama`, headers: { 'x-test-id': 'hangup' } });
    for await (const part of await ollama.chat({ model: 'llama3.2:3b', messages: [{ role: 'user', content: 'Rings?' }], stream: true })) if (part.done) break;
    const gemini = await fetch(`${server.url}/gemini/v1beta/models/gemini-2.0-flash:streamGenerateContent?alt=sse`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-test-id': 'hangup' }, body: JSON.stringify({ contents: [{ role: 'user', parts: [{ text: 'Rings?' }] }] }) });
    expect(await readUntil(gemini, 'finishReason')).toContain('"finishReason":"STOP"');
    await concluded(server, 5);
    await server.close();
    const recorded = (await recordingsIn(ws.dir)).map((f) => f.data.request.endpoint as string).sort();
    expect(recorded).toEqual(['/anthropic/v1/messages', '/gemini/v1beta/models/gemini-2.0-flash:streamGenerateContent', '/ollama/api/chat', '/v1/chat/completions', '/v1/responses']);
  });

  it('a client that hangs up before the final event leaves nothing written', async () => {
    // The final events are held back until the clients have gone.
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    ws.cleanup.push(async () => release());
    const holdLast = (events: number) => () => ({ holdBefore: { index: events - 1, until: gate } });
    const server = await ws.start({
      mode: 'record',
      upstream: await upstream(fakeOpenAi(holdLast(openAiSse(streaming.response as unknown[]).length))),
      routes: { '/anthropic': await upstream(fakeAnthropic(holdLast(anthropicEvents().length))) },
    });
    const anthropic = new Anthropic({ baseURL: `${server.url}/anthropic`, apiKey: 'sk-ant-test', maxRetries: 0 });
    for await (const event of await anthropic.messages.create({ model: 'claude-sonnet-4-5', max_tokens: 64, messages: [{ role: 'user', content: 'Rings?' }], stream: true })) if (event.type === 'message_delta') break;
    const chat = await openai(server).chat.completions.create({ ...(streaming.request as object), stream: true } as never).asResponse();
    await readUntil(chat, '"finish_reason":"stop"');
    await concluded(server, 2);
    release();
    await server.close();
    expect(await recordingsIn(ws.dir)).toEqual([]);
  });
});
