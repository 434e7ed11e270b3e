// Record mode reads the request and the answer with JSON.parse when every number in
// them is written as JavaScript writes it, and exactly otherwise: either way the file
// holds every number as the client and the upstream wrote it, and replay answers with
// the upstream's bytes.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { stringify } from 'lossless-json';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseLossless, stringifyLossless } from '../src/json/lossless.js';
import { jsonTextFacts } from '../src/json/text-facts.js';
import { FakeUpstream, sendEvents } from './support/fake-upstream.js';
import { capturedLog, listFiles, removeDir, serve, tempDir } from './support/harness.js';
import { seed } from './support/seeds.js';
import type { RunningServer } from '../src/index.js';

describe('plain numbers in JSON text', () => {
  it('are those JavaScript writes back as written, outside strings only', () => {
    const plain = ['{"a":1}', '{"a":0.7,"b":[1,2,-3]}', '[1.5e-7]', '[1e+21]', '{"s":"1.0 and 1e3"}', '{"s":"x\\"1.0"}', '{"t":true,"f":false,"n":null}', '0'];
    const notPlain = ['{"a":1.0}', '[1e3]', '[1E+21]', '-0', '{"x":12345678901234567}', '{"x":0.1000}', '{"big":1e400}', '[1e21]'];
    for (const text of plain) expect(jsonTextFacts(text).plainNumbers, text).toBe(true);
    for (const text of notPlain) expect(jsonTextFacts(text).plainNumbers, text).toBe(false);
  });

  it('are written by stringifyLossless as lossless-json writes them, lexemes kept where they are not plain', () => {
    const texts = [JSON.stringify(seed('gpt-5.1-chat', 'Usage').response), '{"a":[],"b":{},"c":[{"d":null}],"e":"\\u2028\\ud800"}', '{"n":1.0,"m":[1e5,0.10],"s":"é"}'];
    for (const text of texts) {
      const value = parseLossless(text);
      expect(stringifyLossless(value, 2)).toBe(stringify(value, undefined, 2));
      expect(stringifyLossless(JSON.parse(text), 2)).toBe(JSON.stringify(JSON.parse(text), undefined, 2));
    }
  });
});

describe('a recording made through the proxy', () => {
  let dir: string;
  let upstream: FakeUpstream;
  let server: RunningServer | undefined;
  const spellings = ['1.0', '1e5', '0.10', '-0', '12345678901234567890', '0.5', '7'];

  beforeEach(async () => {
    dir = await tempDir();
    upstream = await new FakeUpstream()
      .on('POST', '/v1/chat/completions', (request, res) => {
        if (request.body.includes('"model":"deep"')) {
          const deep = `${'['.repeat(6000)}1${']'.repeat(6000)}`;
          const chunk = `{"id":"chatcmpl-1","object":"chat.completion.chunk","created":0,"model":"m","choices":[{"index":0,"delta":{"content":"n"},"finish_reason":null}],"deep":${deep}}`;
          if (request.body.includes('"stream":true')) return sendEvents(res, [`data: ${chunk}\n\n`, 'data: [DONE]\n\n']);
          res.writeHead(200, { 'content-type': 'application/json' });
          return void res.end(`{"id":"chatcmpl-1","object":"chat.completion","created":0,"deep":${deep}}`);
        }
        const { spelling, answer } = (JSON.parse(request.body) as { metadata: { spelling: string; answer?: string } }).metadata;
        const chunk = `{"id":"chatcmpl-1","object":"chat.completion.chunk","created":0,"model":"m","choices":[{"index":0,"delta":{"content":"n"},"finish_reason":null}],"n":${spelling}}`;
        if (request.body.includes('"stream":true')) return sendEvents(res, [`data: ${chunk}\n\n`, 'data: [DONE]\n\n']);
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(`{"id":"chatcmpl-1","object":"chat.completion","created":0,"model":"m","choices":[],"usage":{"n":${answer ?? spelling},"list":[${answer ?? spelling},2,0.5]}}`);
      })
      .start();
  });

  afterEach(async () => {
    await server?.close();
    server = undefined;
    await upstream.stop();
    await removeDir(dir);
  });

  async function ask(body: string): Promise<string> {
    const response = await fetch(`${server!.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    expect(response.status).toBe(200);
    return response.text();
  }

  it('keeps every number as written, plain or not, in the request, the answer and a stream', async () => {
    const log = capturedLog();
    server = await serve({ mode: 'record', recordings: dir, upstream: upstream.url, recordTiming: false, logLevel: 'info', logStream: log.stream });
    const sent: string[] = [];
    for (const spelling of spellings) {
      for (const stream of [false, true]) {
        const body = `{"model":"m","temperature":${spelling},"stream":${stream},"metadata":{"spelling":"${spelling}"},"messages":[{"role":"user","content":"n ${stream}"}]}`;
        sent.push(await ask(body));
      }
    }
    await server.close();
    server = undefined;
    const files = (await listFiles(dir)).filter((file) => file.endsWith('.json'));
    expect(files).toHaveLength(spellings.length * 2);
    // At info, each recording is logged with its file (the path is worked out only for a log that shows it).
    await log.settled();
    const recordedLines = log.text().split('\n').filter((line) => line.includes('llm-replay: recorded'));
    expect(recordedLines.map((line) => (JSON.parse(line) as { file: string }).file).sort()).toEqual([...files].sort());
    const texts = await Promise.all(files.map((file) => readFile(path.join(dir, file), 'utf8')));
    for (const spelling of spellings) {
      const mine = texts.filter((text) => text.includes(`"spelling": "${spelling}"`));
      expect(mine, spelling).toHaveLength(2);
      for (const text of mine) {
        expect(text).toContain(`"temperature": ${spelling},`);
        expect(text).toContain(`"n": ${spelling}`);
      }
    }
    // Replayed from the files, each answer is the bytes the client got while recording.
    server = await serve({ mode: 'replay', recordings: dir });
    let i = 0;
    for (const spelling of spellings) {
      for (const stream of [false, true]) {
        const body = `{"model":"m","temperature":${spelling},"stream":${stream},"metadata":{"spelling":"${spelling}"},"messages":[{"role":"user","content":"n ${stream}"}]}`;
        expect(await ask(body), `${spelling} ${stream}`).toBe(sent[i++]);
      }
    }
  });

  it('keeps the numbers of each side as written when only one side has plain numbers, in later occurrences too', async () => {
    server = await serve({ mode: 'record', recordings: dir, upstream: upstream.url, recordTiming: false });
    // Plain request with an answer that is not, and the other way round; each sent twice (occurrences 1 and 2).
    const pairs = [['0.5', '1.0'], ['1.0', '0.5'], ['0.25', '1e5']] as const;
    for (const [sent, answer] of pairs) {
      const body = `{"model":"m","temperature":${sent},"metadata":{"spelling":"${sent}","answer":"${answer}"},"messages":[{"role":"user","content":"mixed"}]}`;
      for (let i = 0; i < 2; i++) expect(await ask(body)).toContain(`"n":${answer},`);
    }
    await server.close();
    server = undefined;
    const files = (await listFiles(dir)).filter((file) => file.endsWith('.json'));
    expect(files).toHaveLength(pairs.length * 2);
    const texts = await Promise.all(files.map((file) => readFile(path.join(dir, file), 'utf8')));
    for (const [sent, answer] of pairs) {
      const mine = texts.filter((text) => text.includes(`"spelling": "${sent}"`));
      expect(mine, sent).toHaveLength(2);
      for (const text of mine) {
        expect(text).toContain(`"temperature": ${sent},`);
        expect(text).toContain(`"n": ${answer},`);
        expect(text).not.toContain('isLosslessNumber');
      }
    }
  });

  it('keeps an answer or a stream event nested deeper than 512 levels as the bytes sent, and replays them', async () => {
    server = await serve({ mode: 'record', recordings: dir, upstream: upstream.url, recordTiming: false });
    const bodies = [false, true].map((stream) => `{"model":"deep","stream":${stream},"messages":[]}`);
    const sent = [await ask(bodies[0]!), await ask(bodies[1]!)];
    expect(sent[0]).toContain('[[[[');
    expect(sent[1]).toContain('data: [DONE]');
    await server.close();
    server = undefined;
    expect((await listFiles(dir)).filter((file) => file.endsWith('.json'))).toHaveLength(2);
    server = await serve({ mode: 'replay', recordings: dir });
    expect([await ask(bodies[0]!), await ask(bodies[1]!)]).toEqual(sent);
  });
});
