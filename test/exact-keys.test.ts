// Exact default keys, through the openai SDK against an upstream whose answer changes
// on every call: prompts that differ only in a long decimal or a score: value get
// answers of their own in the default scheme, and one answer (the first recorded) in
// the llama-stack scheme, or in the default scheme with llama-stack's string rules.
import { describe, expect, it } from 'vitest';
import OpenAI from 'openai';
import { answerText, counterUpstream } from './support/counter-upstream.js';
import { workspace } from './support/harness.js';
import type { RunningServer, ServerOptions } from '../src/index.js';

const ws = workspace();
const pairs = [
  ['Is 3.141592 bigger than 3.141594?', 'Is 3.141590 bigger than 3.141589?'],
  ['Rank the passage. score: 0.2', 'Rank the passage. score: 0.95'],
];

/** Each question in a run of its own: the first occurrence of its request. */
function ask(server: RunningServer, content: string, run: string): Promise<string> {
  const client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'sk-test', maxRetries: 0, defaultHeaders: { 'x-test-id': 'tests/test_compare.py::test_pairs', 'x-llm-replay-run': run } });
  return client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content }] }).then((a) => a.choices[0]?.message.content ?? '');
}

/** Records the first prompt of each pair, then asks the second in record-if-missing: what answers it? */
async function answersTo(options: ServerOptions): Promise<{ first: string[]; second: string[]; calls: number }> {
  const upstream = await counterUpstream().start();
  ws.cleanup.push(() => upstream.stop());
  const server = await ws.start({ mode: 'record-if-missing', upstream: upstream.url, ...options });
  const first: string[] = [];
  const second: string[] = [];
  for (const [i, [a, b]] of pairs.entries()) {
    first.push(await ask(server, a!, `first-${i}`));
    second.push(await ask(server, b!, `second-${i}`));
  }
  return { first, second, calls: upstream.count };
}

describe('exact default keys', () => {
  it('the default scheme gives prompts that differ in a decimal or a score answers of their own', async () => {
    const { first, second, calls } = await answersTo({});
    expect(calls).toBe(4);
    expect(first).toEqual([answerText(1), answerText(3)]);
    expect(second).toEqual([answerText(2), answerText(4)]);
  });

  it('the llama-stack scheme keys them alike: the second prompt gets the first one\'s recording', async () => {
    const { first, second, calls } = await answersTo({ keyScheme: 'llama-stack' });
    expect(calls).toBe(2);
    expect(second).toEqual(first);
  });

  it('so does the default scheme with llama-stack\'s string rules opted into', async () => {
    const { first, second, calls } = await answersTo({ normalize: [{ strings: 'llama-stack' }] });
    expect(calls).toBe(2);
    expect(second).toEqual(first);
  });
});
