// A stream is complete once its API's final event has arrived, whatever the client
// does next. Clients often hang up right there (the Python SDKs close the connection
// after [DONE] or message_stop) while the upstream ends its response a little later:
// the exchange is recorded all the same, and where the API closes its stream with an
// event of its own, the recording is on disk before the client sees that event. A client
// that hangs up before the final event leaves nothing written. The Node SDKs here; the
// Python SDKs in test/slow/python-hangup.test.ts.
import diagnosticsChannel from 'node:diagnostics_channel';
import Anthropic from '@anthropic-ai/sdk';
import { Ollama } from 'ollama';
import { describe, expect, it } from 'vitest';
import { FakeUpstream, openAiSse, sendEvents } from './support/fake-upstream.js';
import { concluded, HangUps } from './support/hang-ups.js';
import { openai, recordingsIn, workspace } from './support/harness.js';
import { anthropicEvents, fakeAnthropic, fakeGemini, fakeOllama } from './support/providers.js';
import { fakeOpenAi, seed } from './support/seeds.js';

const ws = workspace();
const streaming = seed('gpt-5.1-chat', 'Streaming Response');

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

/** The endpoints recorded so far. */
async function recorded(): Promise<string[]> {
  return (await recordingsIn(ws.dir)).map((f) => f.data.request.endpoint as string).sort();
}

describe('a client that hangs up after the final event', () => {
  it('is recorded for every streaming API, before the client sees the closing event where there is one: chat [DONE], Responses, Anthropic, Ollama; Gemini', async () => {
    const hangUps = new HangUps();
    ws.cleanup.push(async () => hangUps.hungUp());
    const sse = hangUps.script(': keep-alive\n\n');
    const server = await ws.start({
      mode: 'record',
      upstream: (await ws.upstream(fakeOpenAi(sse))).url,
      routes: { '/anthropic': (await ws.upstream(fakeAnthropic(sse))).url, '/ollama': (await ws.upstream(fakeOllama(hangUps.script('\n')))).url, '/gemini': (await ws.upstream(fakeGemini(sse))).url },
    });
    const client = openai(server, { testId: 'hangup' });
    // Chat completions: the Node SDK reads on to the end after [DONE], so its raw body is read up to [DONE], then dropped.
    const chat = await client.chat.completions.create({ ...(streaming.request as object), stream: true } as never).asResponse();
    expect(await readUntil(chat, 'data: [DONE]')).toContain('data: [DONE]');
    // The upstream has not ended its response (it waits for the hang-up): the recording is there already.
    expect(await recorded()).toEqual(['/v1/chat/completions']);
    hangUps.hungUp();
    // Leaving the loop aborts the SDK's request.
    for await (const event of await client.responses.create({ model: 'gpt-5.1', input: 'hello', stream: true })) if (event.type === 'response.completed') break;
    expect(await recorded()).toEqual(['/v1/chat/completions', '/v1/responses']);
    hangUps.hungUp();
    const anthropic = new Anthropic({ baseURL: `${server.url}/anthropic`, apiKey: 'sk-ant-test', maxRetries: 0, defaultHeaders: { 'x-test-id': 'hangup' } });
    for await (const event of await anthropic.messages.create({ model: 'claude-sonnet-4-6', max_tokens: 64, messages: [{ role: 'user', content: 'Rings?' }], stream: true })) if (event.type === 'message_stop') break;
    expect(await recorded()).toEqual(['/anthropic/v1/messages', '/v1/chat/completions', '/v1/responses']);
    hangUps.hungUp();
    const ollama = new Ollama({ host: `${server.url}/ollama`, headers: { 'x-test-id': 'hangup' } });
    // Leaving ollama's loop does not end its request: abort() does.
    const parts = await ollama.chat({ model: 'llama3.2:3b', messages: [{ role: 'user', content: 'Rings?' }], stream: true });
    for await (const part of parts) if (part.done) break;
    expect(await recorded()).toEqual(['/anthropic/v1/messages', '/ollama/api/chat', '/v1/chat/completions', '/v1/responses']);
    parts.abort();
    hangUps.hungUp();
    const gemini = await fetch(`${server.url}/gemini/v1beta/models/gemini-2.0-flash:streamGenerateContent?alt=sse`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-test-id': 'hangup' }, body: JSON.stringify({ contents: [{ role: 'user', parts: [{ text: 'Rings?' }] }] }) });
    expect(await readUntil(gemini, 'finishReason')).toContain('"finishReason":"STOP"');
    hangUps.hungUp();
    await concluded(server, 5);
    await server.close();
    // Each journal entry is complete, though its client had gone before it was added.
    expect(server.app.journal.entries().map((entry) => entry.status)).toEqual([200, 200, 200, 200, 200]);
    // Gemini's stream closes with the end of its body: recorded once its client had gone.
    expect(await recorded()).toEqual(['/anthropic/v1/messages', '/gemini/v1beta/models/gemini-2.0-flash:streamGenerateContent', '/ollama/api/chat', '/v1/chat/completions', '/v1/responses']);
  });

  it('an Anthropic stream that ends in an error event is complete when the client hangs up there (written with --record-retryable: an overloaded_error is not, by default)', async () => {
    const hangUps = new HangUps();
    ws.cleanup.push(async () => hangUps.hungUp());
    const overloaded = 'event: error\ndata: {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}\n\n';
    const fake = await ws.upstream(new FakeUpstream().on('POST', '/v1/messages', (_request, res) => sendEvents(res, [...anthropicEvents().slice(0, 4), overloaded], hangUps.script(': keep-alive\n\n')())));
    const server = await ws.start({ mode: 'record', routes: { '/anthropic': fake.url }, recordRetryable: true });
    const response = await fetch(`${server.url}/anthropic/v1/messages`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': 'sk-ant-test', 'anthropic-version': '2023-06-01' }, body: JSON.stringify({ model: 'claude-sonnet-4-6', max_tokens: 64, messages: [{ role: 'user', content: 'Rings?' }], stream: true }) });
    expect(await readUntil(response, 'overloaded_error')).toContain('event: error');
    hangUps.hungUp();
    await concluded(server, 1);
    await server.close();
    const [recording] = await recordingsIn(ws.dir);
    expect(recording?.data.response.body.at(-1)).toMatchObject({ type: 'error' });
  });

  it('a client that hangs up before the final event leaves nothing written', async () => {
    // The final events are held back until the clients have gone.
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    ws.cleanup.push(async () => release());
    const holdLast = (events: number) => () => ({ holdBefore: { index: events - 1, until: gate } });
    const server = await ws.start({
      mode: 'record',
      upstream: (await ws.upstream(fakeOpenAi(holdLast(openAiSse(streaming.response as unknown[]).length)))).url,
      routes: { '/anthropic': (await ws.upstream(fakeAnthropic(holdLast(anthropicEvents().length)))).url },
    });
    const anthropic = new Anthropic({ baseURL: `${server.url}/anthropic`, apiKey: 'sk-ant-test', maxRetries: 0 });
    for await (const event of await anthropic.messages.create({ model: 'claude-sonnet-4-6', max_tokens: 64, messages: [{ role: 'user', content: 'Rings?' }], stream: true })) if (event.type === 'message_delta') break;
    const chat = await openai(server).chat.completions.create({ ...(streaming.request as object), stream: true } as never).asResponse();
    await readUntil(chat, '"finish_reason":"stop"');
    await concluded(server, 2);
    // The journal (and the log line) says which side cut the stream.
    const cut = expect.stringMatching(/^not recorded: the client hung up before the stream's final event/);
    expect(server.app.journal.entries().map((entry) => entry.message)).toEqual([cut, cut]);
    release();
    await server.close();
    expect(await recordingsIn(ws.dir)).toEqual([]);
  });

  it('an upstream that breaks off after the closing event while its write waits: the client still gets the closing event, and it is recorded', async () => {
    // Occurrence 1 is held before its [DONE], so occurrence 2 (answered whole, then the connection closed) is written only after it.
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    ws.cleanup.push(async () => release());
    const events = openAiSse(streaming.response as unknown[]);
    let firstArrived!: () => void;
    const arrived = new Promise<void>((resolve) => (firstArrived = resolve));
    let secondBroken!: () => void;
    const broken = new Promise<void>((resolve) => (secondBroken = resolve));
    let calls = 0;
    const fake = await ws.upstream(
      new FakeUpstream().on('POST', '/v1/chat/completions', async (_request, res) => {
        const call = ++calls;
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        if (call === 2) {
          return void res.write(events.join(''), () => {
            res.socket?.destroy();
            secondBroken();
          });
        }
        res.write(events.slice(0, -1).join(''));
        firstArrived();
        await gate;
        res.end(events.at(-1));
      }),
    );
    // undici reports a request's error on this channel before the body it was reading errors.
    const channel = diagnosticsChannel.channel('undici:request:error');
    const upstreamError = new Promise<void>((resolve) => {
      const seen = () => {
        channel.unsubscribe(seen);
        resolve();
      };
      channel.subscribe(seen);
    });
    const server = await ws.start({ mode: 'record', upstream: fake.url });
    const client = openai(server, { testId: 'broken-off' });
    const first = client.chat.completions.create({ ...(streaming.request as object), stream: true } as never).asResponse();
    await arrived;
    const second = await client.chat.completions.create({ ...(streaming.request as object), stream: true } as never).asResponse();
    // Occurrence 2's [DONE] waits on occurrence 1's write while its upstream breaks off: released once the proxy's undici has seen the break.
    await broken;
    await upstreamError;
    await new Promise((resolve) => setImmediate(resolve));
    release();
    expect(await (await first).text()).toContain('data: [DONE]');
    expect(await second.text()).toContain('data: [DONE]');
    await concluded(server, 2);
    expect(server.app.journal.entries().map((entry) => entry.kind)).toEqual(['recorded', 'recorded']);
    await server.close();
    expect((await recordingsIn(ws.dir)).map((f) => f.file).sort()).toHaveLength(2);
  });

  it('an upstream that breaks off after the final event leaves the stream recorded', async () => {
    // Every event, [DONE] last, then the connection closed without the response's end.
    const fake = await ws.upstream(
      new FakeUpstream().on('POST', '/v1/chat/completions', (_request, res) => {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write(openAiSse(streaming.response as unknown[]).join(''), () => res.socket?.destroy());
      }),
    );
    const server = await ws.start({ mode: 'record', upstream: fake.url });
    const chat = await openai(server).chat.completions.create({ ...(streaming.request as object), stream: true } as never).asResponse();
    expect(await readUntil(chat, 'data: [DONE]')).toContain('data: [DONE]');
    await concluded(server, 1);
    await server.close();
    expect((await recordingsIn(ws.dir)).map((f) => f.data.request.endpoint)).toEqual(['/v1/chat/completions']);
  });
});
