// Record against a fake upstream that sends real wire bytes, stop it, replay: the
// official openai SDK must see the same content either way.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fakeOpenAi, seed, seedText, embeddingResponse, modelsResponse, chatParams, streamParams } from './support/seeds.js';
import { listFiles, openai, recordingsIn, removeDir, serve, tempDir } from './support/harness.js';
import type { FakeUpstream } from './support/fake-upstream.js';
import type { RunningServer } from '../src/index.js';

let dir: string;
let upstream: FakeUpstream;
let servers: RunningServer[] = [];

beforeEach(async () => {
  dir = await tempDir();
  upstream = await fakeOpenAi().start();
});

afterEach(async () => {
  await Promise.all(servers.map((s) => s.close()));
  servers = [];
  await upstream.stop();
  await removeDir(dir);
});

async function start(mode: 'record' | 'replay' | 'record-if-missing' | 'live') {
  const server = await serve({ mode, recordings: dir, upstream: upstream.url });
  servers.push(server);
  return server;
}

async function recordThenReplay<T>(call: (client: ReturnType<typeof openai>) => Promise<T>): Promise<{ recorded: T; replayed: T }> {
  const recorder = await start('record');
  const recorded = await call(openai(recorder));
  await recorder.close();
  servers = servers.filter((s) => s !== recorder);
  await upstream.stop();
  const replayer = await start('replay');
  const replayed = await call(openai(replayer));
  return { recorded, replayed };
}

describe('record then replay with the openai SDK', () => {
  it('non-streaming chat completion', async () => {
    const exchange = seed('gpt-5.1-chat', 'Usage');
    const { recorded, replayed } = await recordThenReplay((client) => client.chat.completions.create(chatParams(exchange)));
    expect(recorded.choices[0]?.message.content).toBe(seedText(exchange));
    expect(replayed.choices[0]?.message.content).toBe(seedText(exchange));
    expect(replayed.usage).toEqual(recorded.usage);
    const [file] = await recordingsIn(dir);
    expect(file?.file).toMatch(/^[0-9a-f]{64}\.json$/);
    const key = file!.file.slice(0, 64);
    expect(file!.data.response.body.id).toBe(`rec-${key.slice(0, 12)}`);
    expect(file!.data.response.body.created).toBe(0);
    expect(replayed.id).toBe(`rec-${key.slice(0, 12)}`);
    expect(file!.data.request).toMatchObject({ method: 'POST', endpoint: '/v1/chat/completions', model: 'openai/gpt-5.1-chat', headers: {} });
    expect(file!.data.test_id).toBeNull();
  });

  it('streaming chat completion', async () => {
    const exchange = seed('gpt-5.5', 'Streaming Response');
    const collect = async (client: ReturnType<typeof openai>) => {
      const stream = await client.chat.completions.create(streamParams(exchange));
      let text = '';
      let chunks = 0;
      let usage: unknown;
      for await (const chunk of stream) {
        chunks++;
        text += chunk.choices[0]?.delta?.content ?? '';
        if (chunk.usage) usage = chunk.usage;
      }
      return { text, chunks, usage };
    };
    const { recorded, replayed } = await recordThenReplay(collect);
    expect(recorded.text).toBe(seedText(exchange));
    expect(replayed).toEqual(recorded);
    expect(replayed.chunks).toBe((exchange.response as unknown[]).length);
    expect(replayed.usage).toBeTruthy();
    const [file] = await recordingsIn(dir);
    expect(file!.data.response.is_streaming).toBe(true);
    expect(file!.data.response.body).toHaveLength((exchange.response as unknown[]).length);
    expect(file!.data.response.stream).toMatchObject({ format: 'sse', done: true });
    for (const chunk of file!.data.response.body) {
      expect(chunk.id).toBe(`rec-${file!.file.slice(0, 12)}`);
      expect(chunk.created).toBe(0);
    }
  });

  it('streaming Responses API', async () => {
    const collect = async (client: ReturnType<typeof openai>) => {
      const stream = await client.responses.create({ model: 'gpt-4o', input: 'hello there', stream: true });
      const types: string[] = [];
      let text = '';
      for await (const event of stream) {
        types.push(event.type);
        if (event.type === 'response.output_text.delta') text += event.delta;
      }
      return { types, text };
    };
    const { recorded, replayed } = await recordThenReplay(collect);
    expect(recorded.text).toBe('You said: hello there');
    expect(replayed).toEqual(recorded);
    expect(replayed.types.at(-1)).toBe('response.completed');
  });

  it('embeddings and models.list', async () => {
    const { recorded, replayed } = await recordThenReplay(async (client) => {
      const embedding = await client.embeddings.create({ model: 'text-embedding-3-small', input: 'hello' });
      const models = [];
      for await (const model of client.models.list()) models.push(model.id);
      return { vector: embedding.data[0]?.embedding, models };
    });
    expect(recorded.vector).toEqual(Array.from(new Float32Array(embeddingResponse.data[0]!.embedding)));
    expect(replayed).toEqual(recorded);
    expect(replayed.models).toEqual(modelsResponse.data.map((m) => m.id));
    expect(await listFiles(dir)).toHaveLength(2);
  });
});
