// A recording that cannot be written: the client is told (a 500 for a whole answer, a
// broken stream for a streamed one), nothing half-written is left, the server keeps
// running, and the answer is not served from memory afterwards as if it had been
// recorded. The write is made to fail by a folder standing where the recording's file
// goes (a rename onto a folder fails for root too, where permission bits would not).
import path from 'node:path';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { describe, expect, it, vi } from 'vitest';
import { answerText, counterUpstream, type CounterUpstream } from './support/counter-upstream.js';
import { fakeAnthropic } from './support/providers.js';
import { fakeOpenAi } from './support/seeds.js';
import { FakeUpstream, sendJson } from './support/fake-upstream.js';
import { blockWrite, capturedLog, listFiles, recordedFileName, removeDir, workspace } from './support/harness.js';
import type { RunningServer, ServerOptions } from '../src/index.js';

const ws = workspace();
const question = { model: 'gpt-4o-mini', messages: [{ role: 'user' as const, content: 'Summarise the report.' }] };

function client(server: RunningServer): OpenAI {
  return new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'sk-test', maxRetries: 0, defaultHeaders: { 'x-test-id': 'report' } });
}

function switchToReplay(server: RunningServer): Promise<Response> {
  return fetch(`${server.url}/_llm-replay/mode`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ mode: 'replay' }) });
}

async function counter(): Promise<CounterUpstream> {
  return ws.upstream(counterUpstream());
}

/** A server in `options.mode` whose recording of the question (`stream`: asked for as a stream) cannot be written, its upstream, and the file's name. */
async function blocked(stream: boolean, options: ServerOptions): Promise<{ upstream: CounterUpstream; name: string; recorder: RunningServer }> {
  const upstream = await counter();
  const name = await fileNameOf(upstream, stream);
  await blockWrite(ws.dir, name);
  return { upstream, name, recorder: await ws.start({ ...options, upstream: upstream.url }) };
}

/** The file name a request is recorded under (`stream`: asked for as a stream). */
function fileNameOf(upstream: CounterUpstream, stream: boolean): Promise<string> {
  return recordedFileName({ upstream: upstream.url }, async (recorder) => {
    if (stream) for await (const _chunk of await client(recorder).chat.completions.create({ ...question, stream: true })) void _chunk;
    else await client(recorder).chat.completions.create(question);
  });
}

describe('a recording that cannot be written', () => {
  it('a whole answer: the SDK gets a 500 naming the file, nothing is left behind, and a replay misses instead of answering from memory', async () => {
    const logs = capturedLog();
    const { name, recorder } = await blocked(false, { mode: 'record', logLevel: 'warn', logStream: logs.stream });
    const error = await client(recorder).chat.completions.create(question).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.InternalServerError);
    expect((error as Error).message).toContain('llm-replay: the answer could not be recorded');
    expect((error as Error).message).toContain(path.join(ws.dir, name));
    // No temp file or partial recording: only the folder that was in the way.
    expect(await listFiles(ws.dir)).toEqual([path.join(name, 'keep.txt')]);
    // Switched to replay, the server has nothing to answer with: the answer was never recorded.
    expect((await switchToReplay(recorder)).status).toBe(200);
    expect(await client(recorder).chat.completions.create(question).catch((e: unknown) => e)).toBeInstanceOf(OpenAI.NotFoundError);
    // The log says what was not written and why, once.
    await logs.settled();
    expect(logs.text().match(/not recorded: .*cannot be written \(EISDIR\)/g)).toEqual([`not recorded: ${path.join(ws.dir, name)}: cannot be written (EISDIR)`]);
  });

  it('a whole answer: the SDK is told not to retry (each retry a paid call that could not be recorded either)', async () => {
    const { upstream, recorder } = await blocked(false, { mode: 'record' });
    const asked = upstream.count;
    const retrying = new OpenAI({ baseURL: `${recorder.url}/v1`, apiKey: 'sk-test', maxRetries: 2, defaultHeaders: { 'x-test-id': 'report' } });
    const error = (await retrying.chat.completions.create(question).catch((e: unknown) => e)) as InstanceType<typeof OpenAI.APIError>;
    expect(error.status).toBe(500);
    expect(error.headers?.get('x-should-retry')).toBe('false');
    expect(upstream.count).toBe(asked + 1);
  });

  it('record-if-missing: a run that waited on the request whose write the directory refused is told not to retry too', async () => {
    // The upstream holds its answer until the second run waits on the first.
    let gate = Promise.resolve();
    const completion = { id: 'chatcmpl-1', object: 'chat.completion', created: 1, model: question.model, choices: [{ index: 0, message: { role: 'assistant', content: 'held', refusal: null }, finish_reason: 'stop', logprobs: null }] };
    const upstream = await ws.upstream(new FakeUpstream().on('POST', '/v1/chat/completions', async (_request, res) => {
      await gate;
      sendJson(res, 200, completion);
    }));
    const name = await recordedFileName({ upstream: upstream.url }, (recorder) => client(recorder).chat.completions.create(question));
    await blockWrite(ws.dir, name);
    let release!: () => void;
    gate = new Promise<void>((resolve) => (release = resolve));
    const recorder = await ws.start({ mode: 'record-if-missing', upstream: upstream.url });
    const asked = (run: string) =>
      new OpenAI({ baseURL: `${recorder.url}/v1`, apiKey: 'sk-test', maxRetries: 0, defaultHeaders: { 'x-test-id': 'report', 'x-llm-replay-run': run } }).chat.completions.create(question).catch((error: unknown) => error as InstanceType<typeof OpenAI.APIError>);
    const runs = [asked('a'), asked('b')];
    await vi.waitFor(() => expect(recorder.app.occurrences.size).toBe(2), { timeout: 10_000 });
    release();
    for (const error of await Promise.all(runs)) {
      expect(error).toBeInstanceOf(OpenAI.InternalServerError);
      expect((error as InstanceType<typeof OpenAI.APIError>).headers?.get('x-should-retry')).toBe('false');
    }
    expect(upstream.calls('/v1/chat/completions')).toBe(2);
  });

  it('record-if-missing asks the upstream again on the next call, and records it once the way is clear', async () => {
    const { upstream, name, recorder } = await blocked(false, { mode: 'record-if-missing' });
    const before = upstream.count;
    await expect(client(recorder).chat.completions.create(question)).rejects.toBeInstanceOf(OpenAI.InternalServerError);
    await removeDir(path.join(ws.dir, name));
    const answer = await client(recorder).chat.completions.create(question);
    // A second upstream call, not the first answer served from memory.
    expect(upstream.count).toBe(before + 2);
    expect(answer.choices[0]?.message.content).toBe(answerText(before + 2));
    expect(await listFiles(ws.dir)).toEqual([name]);
  });

  it('a stream: the SDK raises with the reason instead of ending cleanly, and nothing is left behind', async () => {
    const { upstream, name, recorder } = await blocked(true, { mode: 'record' });
    const seen: string[] = [];
    const read = (async () => {
      for await (const chunk of await client(recorder).chat.completions.create({ ...question, stream: true })) seen.push(chunk.choices[0]?.delta.content ?? '');
    })();
    // An error event in OpenAI's framing before the cut: the SDK raises its message.
    await expect(read).rejects.toThrow(/^llm-replay: the stream could not be recorded: .*cannot be written/);
    // The events came through as they arrived; only the end was withheld.
    expect(seen.join('')).toBe(answerText(upstream.count));
    expect(await listFiles(ws.dir)).toEqual([path.join(name, 'keep.txt')]);
    // The server is still up and answers the next request.
    expect((await fetch(`${recorder.url}/_llm-replay/health`)).status).toBe(200);
  });

  it('a stream read only to its closing event, as the Python SDKs read it: the closing event never comes, so the client cannot take it for a success', async () => {
    const { upstream, name, recorder } = await blocked(true, { mode: 'record' });
    const response = await fetch(`${recorder.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-test-id': 'report' }, body: JSON.stringify({ ...question, stream: true }) });
    const reader = response.body!.getReader();
    let text = '';
    const read = (async () => {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return 'ended';
        text += Buffer.from(value).toString();
        if (text.includes('data: [DONE]')) return 'closing event';
      }
    })();
    await expect(read).rejects.toThrow();
    expect(text).toContain(`"content":"${answerText(upstream.count).split(' ')[0]}`);
    expect(text).not.toContain('[DONE]');
    expect(text).toContain('"code":"llm_replay_write_failed"');
    expect(await listFiles(ws.dir)).toEqual([path.join(name, 'keep.txt')]);
  });

  it("an Anthropic stream: its SDK raises an APIError with the reason, from an error event in Anthropic's framing", async () => {
    const upstream = await ws.upstream(fakeAnthropic());
    const ask = (server: RunningServer) => new Anthropic({ baseURL: `${server.url}/anthropic`, apiKey: 'sk-ant-test', maxRetries: 0 }).messages.create({ model: 'claude-x', max_tokens: 64, messages: [{ role: 'user', content: 'Rings?' }], stream: true });
    const name = await recordedFileName({ routes: { '/anthropic': upstream.url } }, async (recorder) => {
      for await (const _event of await ask(recorder)) void _event;
    });
    await blockWrite(ws.dir, name);
    const recorder = await ws.start({ mode: 'record', routes: { '/anthropic': upstream.url } });
    const read = (async () => {
      for await (const _event of await ask(recorder)) void _event;
    })();
    await expect(read).rejects.toBeInstanceOf(Anthropic.APIError);
    await expect(read).rejects.toThrow(/the stream could not be recorded: .*cannot be written/);
  });

  it("a Responses stream: the OpenAI SDK raises an APIError with the reason, from an error event in the Responses framing", async () => {
    const upstream = await ws.upstream(fakeOpenAi());
    const ask = (server: RunningServer) => client(server).responses.create({ model: 'gpt-4o', input: 'Rings?', stream: true });
    const name = await recordedFileName({ upstream: upstream.url }, async (recorder) => {
      for await (const _event of await ask(recorder)) void _event;
    });
    await blockWrite(ws.dir, name);
    const recorder = await ws.start({ mode: 'record', upstream: upstream.url });
    const events: string[] = [];
    const read = (async () => {
      for await (const event of await ask(recorder)) events.push(event.type);
    })();
    await expect(read).rejects.toBeInstanceOf(OpenAI.APIError);
    await expect(read).rejects.toThrow(/the stream could not be recorded: .*cannot be written/);
    // Every event up to the closing one came; the closing one did not.
    expect(events).toContain('response.output_text.done');
    expect(events).not.toContain('response.completed');
  });

  it('a re-recording in place that cannot be written: the new answer is not served from memory afterwards', async () => {
    const upstream = await counter();
    const first = await ws.start({ mode: 'record', upstream: upstream.url });
    await client(first).chat.completions.create(question);
    await first.close();
    const [name] = await listFiles(ws.dir);
    // A new run re-records occurrence 1 in place; the way is blocked after it has indexed the file.
    const again = await ws.start({ mode: 'record', upstream: upstream.url });
    await removeDir(path.join(ws.dir, name!));
    await blockWrite(ws.dir, name!);
    await expect(client(again).chat.completions.create(question)).rejects.toBeInstanceOf(OpenAI.InternalServerError);
    expect((await switchToReplay(again)).status).toBe(200);
    // Replay reads the file (the folder in its way), never the answer that failed to be written.
    const replayed = await client(again).chat.completions.create(question).catch((e: unknown) => e);
    expect(replayed).toBeInstanceOf(OpenAI.InternalServerError);
    expect((replayed as Error).message).toContain(`llm-replay: recording ${path.join(ws.dir, name!)}: cannot be read (EISDIR)`);
    // Nothing in the file to mend: no advice to edit or delete it.
    expect((replayed as Error).message).not.toContain('mend it');
  });
});
