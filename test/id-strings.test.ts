// Where record mode rewrites an upstream's id: in string values that are the id, and an
// upstream-shaped id also as a word inside a string (a URL naming it); never inside a
// key or as part of another word, however short the id.
import { isUtf8 } from 'node:buffer';
import { describe, expect, it } from 'vitest';
import { IdMapper } from '../src/proxy/ids.js';
import { wholeResponse } from '../src/proxy/build-recording.js';
import { keyRequest } from '../src/keys/index.js';
import { parseLossless } from '../src/json/lossless.js';
import { FakeUpstream, openAiSse, sendEvents, sendJson } from './support/fake-upstream.js';
import { openai, recordingsIn, workspace } from './support/harness.js';

async function rewrite(text: string): Promise<string> {
  const mapper = await IdMapper.open(undefined);
  const value = parseLossless(text);
  const replace = mapper.session('a'.repeat(64), '{}').replacer(value);
  if (!replace) return text;
  const replaced = replace.inText(text);
  // The parsed value, replaced in place, is what parsing the replaced text gives.
  replace.inValue(value);
  expect(value).toEqual(parseLossless(replaced));
  return replaced;
}

describe('id rewriting in a JSON text', () => {
  it('replaces a short id only where a string value is the id: not in a key, not inside another string', async () => {
    const body = '{"id":"x","object":"x","choices":[{"index":0,"text":"max x box","x":"xx"}]}';
    const out = JSON.parse(await rewrite(body));
    expect(out.id).toMatch(/^rec-[0-9a-f]{12}$/);
    expect(out).toEqual({ id: out.id, object: out.id, choices: [{ index: 0, text: 'max x box', x: 'xx' }] });
  });

  it('replaces an upstream-shaped id inside a URL, but not as part of a longer word; escaped strings are read as what they say', async () => {
    const id = 'batch_01ABCDEFGH';
    const body = JSON.stringify({
      id,
      results_url: `https://api.example/v1/batches/${id}/results`,
      note: `${id}XYZ and ${id}`,
      quoted: `"${id}"`,
    });
    const out = JSON.parse(await rewrite(body));
    const minted = out.id as string;
    expect(minted).toMatch(/^batch_[0-9a-f]{40}$/);
    expect(out).toEqual({ id: minted, results_url: `https://api.example/v1/batches/${minted}/results`, note: `${id}XYZ and ${minted}`, quoted: `"${minted}"` });
  });

  it('replaces an id held by a member named __proto__ as a member, in the text and in the value', async () => {
    const out = JSON.parse(await rewrite('{"id":"x","__proto__":"x","list":["x",{"x":"x"}]}'));
    expect(Object.getOwnPropertyDescriptor(out, '__proto__')?.value).toBe(out.id);
    expect(out.list).toEqual([out.id, { x: out.id }]);
  });

  it('in an SSE frame, an unclosed quote in a comment line opens no string', async () => {
    const data = '{"id":"x","index":1}';
    const mapper = await IdMapper.open(undefined);
    const replace = mapper.session('b'.repeat(64), '{}').replacer(parseLossless(data))!;
    const frame = `: a "comment\nevent: x\ndata: ${data}\n\n`;
    const out = replace.inText(frame);
    expect(out).toMatch(/^: a "comment\nevent: x\ndata: \{"id":"rec-[0-9a-f]{12}","index":1\}\n\n$/);
  });
});

describe('id rewriting, the text and its value', () => {
  /** A small seeded generator: the same cases on every run. */
  function generator(seed: number): () => number {
    let state = seed;
    return () => ((state = (state * 1103515245 + 12345) % 2147483648) / 2147483648);
  }

  /** JSON text with some characters written as \\u escapes (as some upstreams write them). */
  function escapedText(value: unknown, random: () => number): string {
    return JSON.stringify(value).replace(/[a-z_]/g, (ch) => (random() < 0.05 ? `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}` : ch));
  }

  it('gives the same value parsed from the rewritten text as the value rewritten in place, ids spelt with escapes included', async () => {
    const random = generator(7);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
    const top = 'chatcmpl-AbCdEfGh1234';
    const nested = 'file-QwErTyUiOp99';
    const pieces = [top, nested, 'x', '', 'see ', `/v1/files/${nested}/content`, `${nested}X`, 'line\nbreak', '"quoted"', 'é', '€', '😀'];
    for (let n = 0; n < 300; n++) {
      const member = (): unknown => {
        const kind = random();
        if (kind < 0.5) return Array.from({ length: 1 + Math.floor(random() * 3) }, () => pick(pieces)).join(pick(['', ' ', '/']));
        if (kind < 0.65) return Math.floor(random() * 10);
        if (kind < 0.8) return [member(), member()];
        return { [pick(['id', 'file_id', 'text', nested, 'url'])]: member(), other: member() };
      };
      const value = { id: top, object: 'chat.completion', data: member(), more: [member(), member()] };
      const text = escapedText(value, random);
      const key = n.toString(16).padStart(64, '0');
      const replace = (await IdMapper.open(undefined)).session(key, '{}').replacer(parseLossless(text))!;
      const inPlace = parseLossless(text);
      const rewritten = replace.inText(text);
      replace.inValue(inPlace);
      expect(inPlace, text).toEqual(parseLossless(rewritten));
      // The search for ids written plainly (the escaped text, and the same value written without escapes) finds what the full scan does.
      expect(replace.inJson(text), text).toBe(rewritten);
      expect(replace.inJsonBytes(text, Buffer.from(text)).equals(Buffer.from(rewritten)), text).toBe(true);
      const plain = JSON.stringify(value, undefined, n % 2 === 0 ? undefined : 2);
      expect(replace.inJson(plain), plain).toBe(replace.inText(plain));
      expect(replace.inJsonBytes(plain, Buffer.from(plain)).equals(Buffer.from(replace.inText(plain))), plain).toBe(true);
      // A whole answer's bytes and value together (the value looked in only where the text's search found the ids): the value is what parsing the bytes gives.
      for (const written of [text, plain]) {
        const replacer = (await IdMapper.open(undefined)).session(key, '{}').replacer(parseLossless(written))!;
        const walked = parseLossless(written);
        const replacedBytes = replacer.inAnswer(written, Buffer.from(written), walked);
        expect(replacedBytes.equals(replacer.inJsonBytes(written, Buffer.from(written))), written).toBe(true);
        expect(walked, written).toEqual(parseLossless(replacedBytes.toString()));
      }
    }
  });

  it('rewrites a JSON text alike by the search for plainly written ids and by the full scan, where they stand in keys, after escaped quotes, inside words and spelt with escapes', async () => {
    const id = 'chatcmpl-AbCdEfGh1234';
    const texts = [
      `{"id":"${id}","object":"chat.completion","choices":[]}`,
      `{"id": "${id}", "echo": "${id}", "list": ["${id}", 1]}`,
      `{"id":"${id}","${id}":1}`,
      `{"id":"${id}","${id}" :1}`,
      `{"id":"${id}","note":"say \\"${id}\\" twice"}`,
      `{"id":"${id}","note":"${id}X"}`,
      `{"id":"${id}","url":"/v1/${id}/x"}`,
      `{"id":"${id}","spelt":"\\u0063hatcmpl-AbCdEfGh1234"}`,
      `{"id":"${id}","slash":"a\\/b"}`,
    ];
    // An odd top-level id (always replaced) that could stand between two strings: only the full scan tells.
    for (const odd of [',', '", "', '],[', ' x', '}']) {
      const text = `{"id":${JSON.stringify(odd)},"object":"list","data":["a","b"],"more":[["a"],["b"]],"m":{"k":"v"}}`;
      const replace = (await IdMapper.open(undefined)).session('e'.repeat(64), 'gpt').replacer(parseLossless(text))!;
      expect(replace.inJson(text), text).toBe(replace.inText(text));
      expect(replace.inJsonBytes(text, Buffer.from(text)).toString(), text).toBe(replace.inText(text));
      expect(JSON.parse(replace.inJson(text)), text).toEqual({ id: expect.stringMatching(/^rec-/), object: 'list', data: ['a', 'b'], more: [['a'], ['b']], m: { k: 'v' } });
    }
    for (const text of texts) {
      const replace = (await IdMapper.open(undefined)).session('c'.repeat(64), '{}').replacer(parseLossless(text))!;
      expect(replace.inJson(text), text).toBe(replace.inText(text));
      expect(replace.inJsonBytes(text, Buffer.from(text)).toString(), text).toBe(replace.inText(text));
      expect(JSON.parse(replace.inJson(text)).id, text).toMatch(/^rec-[0-9a-f]{12}$/);
    }
  });

  it('sends bytes that are not UTF-8 as the recording keeps them (U+FFFD), so that record and replay answer alike', async () => {
    const id = 'chatcmpl-AbCdEfGh1234';
    const bytes = Buffer.concat([Buffer.from(`{"id":"${id}","text":"• `), Buffer.from([0xff, 0xc3]), Buffer.from('"}')]);
    const text = bytes.toString('utf8');
    const key = await keyRequest('default', { method: 'POST', url: '/v1/chat/completions', body: Buffer.from('{}') });
    const mapper = await IdMapper.open(undefined);
    const out = wholeResponse(key, { status: 200, headers: { 'content-type': 'application/json' }, bodiless: false }, bytes, mapper.session(key.key, '{}')).bytes;
    // The same mapper gives the same id to the same upstream id: what the full scan of the text makes of it.
    const replace = mapper.session(key.key, '{}').replacer(parseLossless(text))!;
    expect(out).toEqual(Buffer.from(replace.inText(text)));
    expect(out.toString()).toContain('\ufffd');
  });
});

describe('record mode with an upstream whose ids are short', () => {
  const ws = workspace();

  it('rewrites an NDJSON stream\'s ids alike for the client and in the recording', async () => {
    const lines = [{ id: 'run_01ABCDEFGH', message: { content: 'see run_01ABCDEFGH' }, done: false }, { id: 'run_01ABCDEFGH', done: true }].map((line) => `${JSON.stringify(line)}\n`);
    const upstream = await ws.upstream(new FakeUpstream().on('POST', '/api/chat', (_request, res) => sendEvents(res, lines, { contentType: 'application/x-ndjson' })));
    const server = await ws.start({ mode: 'record', upstream: upstream.url });
    const response = await fetch(`${server.url}/api/chat`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'm', messages: [] }) });
    const received = (await response.text()).trim().split('\n').map((line) => JSON.parse(line));
    expect(received[0].id).toMatch(/^run_[0-9a-f]{40}$/);
    expect(received[0].message.content).toBe(`see ${received[0].id}`);
    const [recorded] = await recordingsIn(ws.dir);
    expect(recorded!.data.response.body).toEqual(received);
  });

  it('answers a JSON answer whose bytes are not UTF-8 alike in record mode and in replay, ids rewritten or not', async () => {
    const bytes = (id: string) => Buffer.concat([Buffer.from(`{"id":"${id}","object":"chat.completion","text":"• `), Buffer.from([0xff, 0xc3]), Buffer.from('"}')]);
    let n = 0;
    const upstream = await ws.upstream(
      new FakeUpstream().on('POST', '/v1/chat/completions', (_request, res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(bytes(`chatcmpl-AbCdEfGh${String(++n).padStart(4, '0')}`));
      }),
    );
    for (const statefulIds of [true, false]) {
      const dir = `${ws.dir}/${statefulIds}`;
      const body = JSON.stringify({ model: 'm', messages: [{ role: 'user', content: String(statefulIds) }] });
      const ask = async (url: string) => Buffer.from(await (await fetch(`${url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body })).arrayBuffer());
      const recorder = await ws.start({ mode: 'record', recordings: dir, upstream: upstream.url, statefulIds });
      const recorded = await ask(recorder.url);
      await recorder.close();
      const replayed = await ask((await ws.start({ mode: 'replay', recordings: dir })).url);
      // The bytes as replay sends them: UTF-8, each bad sequence U+FFFD.
      expect(isUtf8(recorded), String(statefulIds)).toBe(true);
      expect(recorded.toString(), String(statefulIds)).toContain('\ufffd');
      // Without stateful ids the client has the upstream's own id while recording, as the README says; the text is the same.
      const { id, ...rest } = JSON.parse(recorded.toString());
      const { id: replayedId, ...replayedRest } = JSON.parse(replayed.toString());
      expect(rest, String(statefulIds)).toEqual(replayedRest);
      if (statefulIds) expect(id).toBe(replayedId);
    }
  });

  it("keeps the answer's keys and texts whole, for the client and in the recording, streamed or not", async () => {
    const whole = { id: 'x', object: 'chat.completion', created: 1, model: 'm', choices: [{ index: 0, message: { role: 'assistant', content: 'max x index' }, finish_reason: 'stop' }] };
    const chunk = { id: 'x', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta: { content: 'max x index' }, finish_reason: 'stop' }] };
    const upstream = await ws.upstream(
      new FakeUpstream().on('POST', '/v1/chat/completions', (request, res) =>
        JSON.parse(request.body).stream ? sendEvents(res, openAiSse([chunk])) : sendJson(res, 200, whole),
      ),
    );
    const server = await ws.start({ mode: 'record', upstream: upstream.url });
    const client = openai(server);
    const answer = await client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'hi' }] });
    expect(answer.id).toMatch(/^rec-/);
    expect(answer.choices[0]).toEqual({ index: 0, message: { role: 'assistant', content: 'max x index' }, finish_reason: 'stop' });
    const streamed = [];
    for await (const part of await client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'hi' }], stream: true })) streamed.push(part.choices[0]);
    expect(streamed).toEqual([{ index: 0, delta: { content: 'max x index' }, finish_reason: 'stop' }]);
    const recorded = (await recordingsIn(ws.dir)).map(({ data }) => data.response.body);
    const choices = recorded.map((body) => (Array.isArray(body) ? body[0].choices[0] : body.choices[0]));
    expect(choices).toEqual(expect.arrayContaining([{ index: 0, message: { role: 'assistant', content: 'max x index' }, finish_reason: 'stop' }, { index: 0, delta: { content: 'max x index' }, finish_reason: 'stop' }]));
  });
});
