// The Python SDKs close the connection right after a stream's final event ([DONE],
// message_stop), while the upstream here ends its response 30 ms later (with a keep-alive
// comment between), as real APIs can: each exchange is recorded all the same. The real `openai` and
// `anthropic` packages, from the venv test/support/python-venv.sh makes.
import { execFile, execFileSync } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';
import { recordingsIn, workspace } from '../support/harness.js';
import { fakeAnthropic } from '../support/providers.js';
import { fakeOpenAi, seed } from '../support/seeds.js';
import type { FakeUpstream } from '../support/fake-upstream.js';

const ws = workspace();
const root = path.resolve(import.meta.dirname, '../..');
const streaming = seed('gpt-5.1-chat', 'Streaming Response');

const script = `
import json, sys, openai, anthropic
base, request = sys.argv[1], json.loads(sys.argv[2])
client = openai.OpenAI(base_url=base + "/v1", api_key="sk-test", max_retries=0)
text = "".join(chunk.choices[0].delta.content or "" for chunk in client.chat.completions.create(**request) if chunk.choices)
claude = anthropic.Anthropic(base_url=base + "/anthropic", api_key="sk-ant-test", max_retries=0)
events = [event.type for event in claude.messages.create(model="claude-sonnet-4-5", max_tokens=64, messages=[{"role": "user", "content": "Rings?"}], stream=True)]
print(len(text) > 0, events[-1])
`;

async function upstream(fake: FakeUpstream): Promise<string> {
  await fake.start();
  ws.cleanup.push(() => fake.stop());
  return fake.url;
}

it('streams the Python openai and anthropic SDKs read to their final event are recorded, though the upstream ends 30 ms later', async () => {
  const python = execFileSync('bash', [path.join(root, 'test/support/python-venv.sh')], { encoding: 'utf8' }).trim();
  const linger = () => ({ lingerMs: 30, keepAlive: ': keep-alive\n\n' });
  const server = await ws.start({ mode: 'record', upstream: await upstream(fakeOpenAi(linger)), routes: { '/anthropic': await upstream(fakeAnthropic(linger)) } });
  const { stdout } = await promisify(execFile)(python, ['-c', script, server.url, JSON.stringify({ ...(streaming.request as object), stream: true })]);
  expect(stdout.trim()).toBe('True message_stop');
  // Bounded wait for both exchanges to be concluded (the SDKs are gone; the writes follow).
  const done = () => server.app.llmReplay.journal.entries().filter((entry) => entry.kind === 'recorded' || entry.kind === 'failed').length >= 2;
  for (let i = 0; i < 1000 && !done(); i++) await new Promise((resolve) => setTimeout(resolve, 5));
  await server.close();
  expect((await recordingsIn(ws.dir)).map((f) => f.data.request.endpoint).sort()).toEqual(['/anthropic/v1/messages', '/v1/chat/completions']);
}, 120_000);
