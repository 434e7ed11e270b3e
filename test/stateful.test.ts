// A stateful flow (conversations, responses chained by previous_response_id, items)
// recorded twice from scratch against an upstream with random ids gives byte-identical
// recordings, and replays with the upstream gone.
import { mkdir, readFile, symlink } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type OpenAI from 'openai';
import { capturedLog, listFiles, openai, removeDir, serve, tempDir } from './support/harness.js';
import { statefulOpenAi } from './support/stateful-upstream.js';
import type { RunningServer } from '../src/index.js';

const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

async function flow(client: OpenAI) {
  const conversation = await client.conversations.create({ metadata: { topic: 'demo' }, items: [{ type: 'message', role: 'user', content: 'Hello!' }] });
  const first = await client.responses.create({ model: 'gpt-4o', input: 'What are the 5 Ds of dodgeball?', conversation: conversation.id });
  const followUp = await client.responses.create({ model: 'gpt-4o', input: 'Repeat what you just said', previous_response_id: first.id });
  const stream = await client.responses.create({ model: 'gpt-4o', input: 'Say it a third time', conversation: conversation.id, stream: true });
  let streamed = '';
  let streamedId = '';
  for await (const event of stream) {
    if (event.type === 'response.output_text.delta') streamed += event.delta;
    if (event.type === 'response.completed') streamedId = event.response.id;
  }
  const again = await client.responses.retrieve(streamedId);
  const items = await client.conversations.items.list(conversation.id, { limit: 10 });
  const item = await client.conversations.items.retrieve(items.data[1]!.id!, { conversation_id: conversation.id });
  const deleted = await client.conversations.delete(conversation.id);
  return {
    conversation: conversation.id,
    ids: [first.id, followUp.id, streamedId],
    texts: [first.output_text, followUp.output_text, streamed, again.output_text],
    followUpPrevious: followUp.previous_response_id,
    items: items.data.map((i) => i.id),
    item,
    deleted,
  };
}

async function record(dir: string, port = 0) {
  // The same port both times: the stored url names the upstream, as a real re-recording's would.
  const upstream = await statefulOpenAi().start(port);
  const server = await serve({ mode: 'record', recordings: dir, upstream: upstream.url, recordTiming: false, stateDir: path.join(dir, '..', `${path.basename(dir)}-state`) });
  const result = await flow(openai(server));
  await server.close();
  await upstream.stop();
  return { result, upstream };
}

/** A recordings folder and its state folder (removed after the test), and a stateful upstream (stopped after it). */
async function recordingSetup() {
  const dir = await tempDir();
  const state = `${dir}-state`;
  cleanup.push(() => removeDir(dir), () => removeDir(state));
  const upstream = await statefulOpenAi().start();
  cleanup.push(() => upstream.stop());
  return { dir, state, upstream };
}

/** The log lines about the id journal. */
function journalLines(log: string): Array<{ msg: string; level: number }> {
  return log.split('\n').filter(Boolean).map((line) => JSON.parse(line) as { msg: string; level: number }).filter(({ msg }) => msg.includes('id journal'));
}

async function contents(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const file of await listFiles(dir)) out[file] = await readFile(path.join(dir, file), 'utf8');
  return out;
}

describe('stateful flows', () => {
  it('record twice from scratch: byte-identical recordings; then replay with the upstream gone', async () => {
    const a = await tempDir();
    const b = await tempDir();
    cleanup.push(() => removeDir(a), () => removeDir(b), () => removeDir(`${a}-state`), () => removeDir(`${b}-state`));
    const first = await record(a);
    const second = await record(b, Number(new URL(first.upstream.url).port));

    // The flow really ran against state: texts depend on earlier turns.
    expect(first.result.texts[0]).toBe('Turn 1: What are the 5 Ds of dodgeball?');
    expect(first.result.texts[1]).toMatch(/^Turn 1: Repeat what you just said \(after \d+ chars\)$/);
    expect(first.result.texts[2]).toBe('Turn 3: Say it a third time');
    expect(first.result.texts[3]).toBe(first.result.texts[2]);
    expect(first.result.followUpPrevious).toBe(first.result.ids[0]);
    expect(first.result.deleted).toMatchObject({ deleted: true, id: first.result.conversation });

    // The clients saw the same deterministic ids both times, with the API's prefixes.
    expect(second.result).toEqual(first.result);
    expect(first.result.conversation).toMatch(/^conv_[0-9a-f]{40}$/);
    expect(first.result.ids.every((id) => /^resp_[0-9a-f]{40}$/.test(id))).toBe(true);
    expect(first.result.items.every((id) => /^msg_[0-9a-f]{40}$/.test(id ?? ''))).toBe(true);
    // ... while the upstream made different random ones each time.
    const realIds = (upstream: typeof first.upstream) => upstream.received.map((r) => r.url).filter((u) => u.includes('conv_'));
    expect(realIds(first.upstream)).not.toEqual(realIds(second.upstream));

    const filesA = await contents(a);
    expect(Object.keys(filesA)).toHaveLength(8);
    expect(await contents(b)).toEqual(filesA);
    for (const text of Object.values(filesA)) expect(text).not.toMatch(/"(?:conv|resp|msg)_[0-9a-f]{48}"/);

    const replayer: RunningServer = await serve({ mode: 'replay', recordings: a });
    cleanup.push(() => replayer.close());
    expect(await flow(openai(replayer))).toEqual(first.result);
  });

  it('the mapping survives a restart: record-if-missing continues a flow recorded by another process', async () => {
    const { dir, state, upstream } = await recordingSetup();
    const one = await serve({ mode: 'record', recordings: dir, upstream: upstream.url, stateDir: state });
    const conversation = await openai(one).conversations.create({});
    await one.close();
    const two = await serve({ mode: 'record-if-missing', recordings: dir, upstream: upstream.url, stateDir: state });
    cleanup.push(() => two.close());
    const response = await openai(two).responses.create({ model: 'gpt-4o', input: 'hi', conversation: conversation.id });
    expect(response.output_text).toBe('Turn 0: hi');
    expect(upstream.received.at(-1)!.body).not.toContain(conversation.id);
  });

  it('answers that end together are each journaled, a stream\'s id too, while the server runs (the order is id-journal.test.ts\'s)', async () => {
    const { dir, state, upstream } = await recordingSetup();
    const server = await serve({ mode: 'record', recordings: dir, upstream: upstream.url, stateDir: state });
    cleanup.push(() => server.close());
    const journaled = async () => (await readFile(path.join(state, 'upstream-ids.jsonl'), 'utf8')).split('\n').filter(Boolean).map((line) => (JSON.parse(line) as { id: string }).id);
    const client = openai(server);
    // Several at once, as under load: answers that end in one turn share a write.
    const whole = await Promise.all(['a', 'b', 'c'].map((input) => client.responses.create({ model: 'gpt-4o', input })));
    expect(await journaled()).toEqual(expect.arrayContaining(whole.map((response) => response.id)));
    const stream = await client.responses.create({ model: 'gpt-4o', input: 'd', stream: true });
    for await (const event of stream) {
      // The first event carrying the new id: the journal has it already, the stream still open.
      if (event.type === 'response.created') {
        expect(await journaled()).toContain(event.response.id);
        break;
      }
    }
  });

  it('a journal that cannot be written is said at warn, once, naming it and what is lost; recordings are still written', async () => {
    const { dir, state, upstream } = await recordingSetup();
    // A folder where the journal's file goes: the folder can be written (no warning at start), the journal cannot.
    await mkdir(path.join(state, 'upstream-ids.jsonl'), { recursive: true });
    const logs = capturedLog();
    const server = await serve({ mode: 'record', recordings: dir, upstream: upstream.url, stateDir: state, logLevel: 'warn', logStream: logs.stream });
    cleanup.push(() => server.close());
    const client = openai(server);
    await client.responses.create({ model: 'gpt-4o', input: 'one' });
    await client.responses.create({ model: 'gpt-4o', input: 'two' });
    await logs.settled();
    const warnings = journalLines(logs.text());
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.msg).toBe(`llm-replay: the id journal ${path.join(state, 'upstream-ids.jsonl')} cannot be written (EISDIR): ids minted now may not outlive a restart (a stateful flow recorded now may not be continued after one), though recordings are still written; --state-dir names another folder`);
    expect(await listFiles(dir)).toHaveLength(2);
  });

  it('a journal whose writes keep failing (a full disk) is said at warn the first time, then at debug for each batch lost', async () => {
    const { dir, state, upstream } = await recordingSetup();
    const logs = capturedLog();
    const server = await serve({ mode: 'record', recordings: dir, upstream: upstream.url, stateDir: state, logLevel: 'debug', logStream: logs.stream });
    cleanup.push(() => server.close());
    // Made after start (the journal is read then): every write to it fails as a full disk's does.
    await mkdir(state, { recursive: true });
    await symlink('/dev/full', path.join(state, 'upstream-ids.jsonl'));
    const client = openai(server);
    await client.responses.create({ model: 'gpt-4o', input: 'one' });
    await client.responses.create({ model: 'gpt-4o', input: 'two' });
    await logs.settled();
    const said = journalLines(logs.text());
    expect(said.map(({ level, msg }) => [level, /\((\w+)\)/.exec(msg)?.[1]])).toEqual([[40, 'ENOSPC'], [20, 'ENOSPC']]);
    expect(await listFiles(dir)).toHaveLength(2);
  });

  it('a chat completion\'s id maps back while the server runs; only a stored one ("store": true) is journaled, to map back after a restart', async () => {
    const { dir, state, upstream } = await recordingSetup();
    const server = await serve({ mode: 'record', recordings: dir, upstream: upstream.url, stateDir: state });
    cleanup.push(() => server.close());
    const client = openai(server);
    const journal = async () => readFile(path.join(state, 'upstream-ids.jsonl'), 'utf8').catch(() => '');

    const plain = await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'not kept' }] });
    expect(plain.id).toMatch(/^rec-[0-9a-f]{12}$/);
    // Nothing journaled for it: the journal is written before each answer, and most recorded exchanges are such completions.
    expect(await journal()).toBe('');
    const stored = await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'kept' }], store: true });
    expect(stored.id).toMatch(/^rec-[0-9a-f]{12}$/);
    const lines = (await journal()).split('\n').filter(Boolean).map((line) => JSON.parse(line) as { id: string; upstream: string });
    expect(lines.map((line) => line.id)).toEqual([stored.id]);
    const storedReal = lines[0]!.upstream;
    expect(storedReal).toMatch(/^chatcmpl-/);

    // While it runs, both map back: an upstream that keeps every completion (llama-stack) finds either; this one kept only the stored.
    const fetched = await client.chat.completions.retrieve(stored.id);
    expect(fetched.choices[0]!.message.content).toBe('You said: kept');
    expect(fetched.id).toBe(stored.id);
    expect(upstream.received.at(-1)!.url).toBe(`/v1/chat/completions/${storedReal}`);
    await expect(client.chat.completions.retrieve(plain.id)).rejects.toMatchObject({ status: 404 });
    expect(upstream.received.at(-1)!.url).toMatch(/^\/v1\/chat\/completions\/chatcmpl-[0-9a-f]{48}$/);
    await server.close();

    // After a restart, the journal maps the stored one back; the other's id goes as the client sent it.
    const again = await serve({ mode: 'record', recordings: dir, upstream: upstream.url, stateDir: state });
    cleanup.push(() => again.close());
    expect((await openai(again).chat.completions.retrieve(stored.id)).choices[0]!.message.content).toBe('You said: kept');
    expect(upstream.received.at(-1)!.url).toBe(`/v1/chat/completions/${storedReal}`);
    await expect(openai(again).chat.completions.retrieve(plain.id)).rejects.toMatchObject({ status: 404 });
    expect(upstream.received.at(-1)!.url).toBe(`/v1/chat/completions/${plain.id}`);
  });

  it('an unstored chat completion stream has one rec-<key> throughout, its tool call\'s id journaled and numbered after it, the completion\'s not journaled', async () => {
    const { dir, state, upstream } = await recordingSetup();
    const server = await serve({ mode: 'record', recordings: dir, upstream: upstream.url, stateDir: state, recordTiming: false });
    cleanup.push(() => server.close());
    const stream = await openai(server).chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'call it' }], tools: [{ type: 'function', function: { name: 'lookup', parameters: {} } }], stream: true });
    const ids = new Set<string>();
    const callIds: string[] = [];
    for await (const chunk of stream) {
      ids.add(chunk.id);
      for (const call of chunk.choices[0]?.delta.tool_calls ?? []) if (call.id) callIds.push(call.id);
    }
    expect([...ids]).toHaveLength(1);
    const [id] = [...ids];
    expect(id).toMatch(/^rec-[0-9a-f]{12}$/);
    const [file] = await listFiles(dir);
    const key = path.basename(file!, '.json');
    expect(id).toBe(`rec-${key.slice(0, 12)}`);
    // The completion's id took position 0; the tool call the next.
    expect(callIds).toEqual([`call_${createHash('sha256').update(`${key}:1`).digest('hex').slice(0, 40)}`]);
    // The tool call's id names nothing stored either, but it is nested: mapped and journaled as before.
    expect(await readFile(path.join(state, 'upstream-ids.jsonl'), 'utf8')).toContain(callIds[0]);
    expect(await readFile(path.join(state, 'upstream-ids.jsonl'), 'utf8')).not.toContain('chatcmpl-');
  });

  it('switched off, the upstream ids pass through and are stored as they came', async () => {
    const dir = await tempDir();
    cleanup.push(() => removeDir(dir));
    const upstream = await statefulOpenAi().start();
    cleanup.push(() => upstream.stop());
    const server = await serve({ mode: 'record', recordings: dir, upstream: upstream.url, statefulIds: false });
    cleanup.push(() => server.close());
    const conversation = await openai(server).conversations.create({});
    expect(conversation.id).toMatch(/^conv_[0-9a-f]{48}$/);
  });
});
