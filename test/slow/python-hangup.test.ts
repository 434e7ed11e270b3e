// The real Python `openai` and `anthropic` SDKs (from the venv test/support/python-venv.sh
// makes) read a stream to its final event and close the connection at once: openai's
// Stream closes its response when it reads [DONE]; an Anthropic stream left at
// message_stop is closed by its `with` block. The upstream ends its response 30 ms after
// the last event and only after the script says it has closed, so the hang-up always
// comes first, as it does against a real API that ends a little later: each exchange is
// recorded all the same. A stream that cannot be recorded never reaches its closing
// event, so the SDK raises instead of ending as if all were well. An Anthropic stream
// that breaks off into an overloaded_error raises in the SDK and is not written.
import { execFile, execFileSync, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { expect, it } from 'vitest';
import { concluded, HangUps } from '../support/hang-ups.js';
import { counterUpstream } from '../support/counter-upstream.js';
import { blockWrite, listFiles, recordedFileName, recordingsIn, workspace } from '../support/harness.js';
import { anthropicEvents, fakeAnthropic } from '../support/providers.js';
import { FakeUpstream, sendEvents } from '../support/fake-upstream.js';
import { fakeOpenAi, seed } from '../support/seeds.js';

const ws = workspace();
const root = path.resolve(import.meta.dirname, '../..');
const streaming = seed('gpt-5.1-chat', 'Streaming Response');

// Prints "closed" once each stream's connection is closed, and what it read.
const script = `
import json, sys, openai, anthropic
base, request = sys.argv[1], json.loads(sys.argv[2])
client = openai.OpenAI(base_url=base + "/v1", api_key="sk-test", max_retries=0)
text = "".join(chunk.choices[0].delta.content or "" for chunk in client.chat.completions.create(**request) if chunk.choices)
print("closed", flush=True)
claude = anthropic.Anthropic(base_url=base + "/anthropic", api_key="sk-ant-test", max_retries=0)
with claude.messages.create(model="claude-sonnet-4-6", max_tokens=64, messages=[{"role": "user", "content": "Rings?"}], stream=True) as stream:
    for event in stream:
        if event.type == "message_stop":
            break
print("closed", flush=True)
print(len(text) > 0, event.type, flush=True)
`;

it('streams the Python openai and anthropic SDKs read to their final event and close at once are recorded, though the upstream ends later', async () => {
  const python = execFileSync('bash', [path.join(root, 'test/support/python-venv.sh')], { encoding: 'utf8' }).trim();
  const hangUps = new HangUps();
  ws.cleanup.push(async () => hangUps.hungUp());
  const sse = hangUps.script(': keep-alive\n\n');
  const server = await ws.start({ mode: 'record', upstream: (await ws.upstream(fakeOpenAi(sse))).url, routes: { '/anthropic': (await ws.upstream(fakeAnthropic(sse))).url } });
  const child = spawn(python, ['-c', script, server.url, JSON.stringify({ ...(streaming.request as object), stream: true })], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines: string[] = [];
  for await (const line of createInterface({ input: child.stdout })) {
    if (line === 'closed') hangUps.hungUp();
    else lines.push(line);
  }
  expect(lines).toEqual(['True message_stop']);
  await concluded(server, 2);
  await server.close();
  expect((await recordingsIn(ws.dir)).map((f) => f.data.request.endpoint).sort()).toEqual(['/anthropic/v1/messages', '/v1/chat/completions']);
}, 120_000);

// Reads a chat stream to its end and prints "complete" or "raised", and the chunks it had.
const readStream = `
import sys, openai
client = openai.OpenAI(base_url=sys.argv[1] + "/v1", api_key="sk-test", max_retries=0)
chunks = 0
try:
    for chunk in client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "Summarise the report."}], stream=True):
        chunks += 1
    print("complete", chunks, flush=True)
except Exception as error:
    print("raised", chunks, type(error).__name__, error, flush=True)
`;

it('a stream that cannot be recorded raises an APIError with the reason in the Python openai SDK instead of ending at [DONE] as if recorded', async () => {
  const python = execFileSync('bash', [path.join(root, 'test/support/python-venv.sh')], { encoding: 'utf8' }).trim();
  // Not execFileSync: the servers answer on this process's event loop.
  const run = async (url: string) => (await promisify(execFile)(python, ['-c', readStream, url], { encoding: 'utf8', timeout: 60_000 })).stdout.trim();
  const upstream = await ws.upstream(counterUpstream());
  // The file this request is recorded under, learnt by recording it once elsewhere.
  const name = await recordedFileName({ upstream: upstream.url }, async (first) => expect(await run(first.url)).toMatch(/^complete [1-9]/));
  await blockWrite(ws.dir, name);
  const server = await ws.start({ mode: 'record', upstream: upstream.url });
  const asked = upstream.count;
  // Every chunk came through as it arrived (a server that is not there raises with none); the end was withheld, the reason given in OpenAI's framing.
  expect(await run(server.url)).toMatch(/^raised [1-9]\d* APIError llm-replay: the stream could not be recorded: .*cannot be written/);
  expect(upstream.count).toBe(asked + 1);
  // Nothing written, nothing half-written left.
  expect(await listFiles(ws.dir)).toEqual([path.join(name, 'keep.txt')]);
}, 120_000);

// Streams a message twice with the Python anthropic SDK, printing what each gave: the text, or the error it raised.
const overloadedTwice = `
import sys, anthropic
claude = anthropic.Anthropic(base_url=sys.argv[1] + "/anthropic", api_key="sk-ant-test", max_retries=0)
for attempt in range(2):
    text = ""
    try:
        with claude.messages.create(model="claude-sonnet-4-6", max_tokens=64, messages=[{"role": "user", "content": "Rings?"}], stream=True) as stream:
            for event in stream:
                if event.type == "content_block_delta":
                    text += event.delta.text
        print("complete", text, flush=True)
    except anthropic.APIError as error:
        print("raised", text, type(error).__name__, error.body["error"]["type"] if isinstance(error.body, dict) else error, flush=True)
`;

it("an Anthropic stream that breaks off into an overloaded_error raises in the Python SDK, is not written, and the next call's whole answer is", async () => {
  const python = execFileSync('bash', [path.join(root, 'test/support/python-venv.sh')], { encoding: 'utf8' }).trim();
  let calls = 0;
  const overloaded = 'event: error\ndata: {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}\n\n';
  const upstream = await ws.upstream(
    new FakeUpstream().on('POST', '/v1/messages', (_request, res) => sendEvents(res, ++calls === 1 ? [...anthropicEvents().slice(0, 4), overloaded] : anthropicEvents(), { lingerMs: 30 })),
  );
  const server = await ws.start({ mode: 'record-if-missing', routes: { '/anthropic': upstream.url } });
  const { stdout } = await promisify(execFile)(python, ['-c', overloadedTwice, server.url], { encoding: 'utf8', timeout: 60_000 });
  expect(stdout.trim().split('\n')).toEqual(['raised Saturn APIStatusError overloaded_error', 'complete Saturn is the planet with the most famous rings.']);
  expect(calls).toBe(2);
  await server.close();
  const recordings = await recordingsIn(ws.dir);
  expect(recordings.map((f) => f.data.response.body.at(-1))).toEqual([{ type: 'message_stop' }]);
}, 120_000);
