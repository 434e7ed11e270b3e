// The inspector's pure parts: conversations of request shapes the corpus does not
// record, embeddings sent as base64, the side-by-side body diff, and the journal's bounds.
import { describe, expect, it } from 'vitest';
import { answerOf, conversationOf, embeddingShape } from '../src/recordings/conversation.js';
import { sideBySide } from '../src/json/side-by-side.js';
import { Journal } from '../src/server/journal.js';

describe('conversations', () => {
  it('OpenAI chat: images as placeholders, tool calls and their results, settings', () => {
    const png = `data:image/png;base64,${Buffer.alloc(3000).toString('base64')}`;
    const conversation = conversationOf('/v1/chat/completions', {
      model: 'gpt-4o',
      temperature: 0.2,
      tools: [{ type: 'function', function: { name: 'lookup' } }],
      messages: [
        { role: 'developer', content: 'Be brief.' },
        { role: 'user', content: [{ type: 'text', text: 'What is this?' }, { type: 'image_url', image_url: { url: png } }, { type: 'image_url', image_url: { url: 'https://example.com/cat.jpg' } }] },
        { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'lookup', arguments: '{"q":"cat"}' } }] },
        { role: 'tool', tool_call_id: 'call_1', content: 'A cat.' },
      ],
    });
    expect(conversation?.settings).toEqual([{ name: 'temperature', value: '0.2' }]);
    expect(conversation?.tools).toEqual(['lookup']);
    expect(conversation?.messages).toEqual([
      { role: 'developer', parts: [{ kind: 'text', text: 'Be brief.' }] },
      { role: 'user', parts: [{ kind: 'text', text: 'What is this?' }, { kind: 'media', label: 'image (image/png, 2.9 KiB)' }, { kind: 'media', label: 'image https://example.com/cat.jpg' }] },
      { role: 'assistant', parts: [{ kind: 'tool-call', id: 'call_1', name: 'lookup', arguments: '{"q":"cat"}' }] },
      { role: 'tool', parts: [{ kind: 'tool-result', id: 'call_1', text: 'A cat.' }] },
    ]);
    const answer = answerOf('/v1/chat/completions', { choices: [{ message: { role: 'assistant', content: null, tool_calls: [{ id: 'call_2', function: { name: 'lookup', arguments: '{}' } }] }, finish_reason: 'tool_calls' }] });
    expect(answer).toEqual({ messages: [{ role: 'assistant', parts: [{ kind: 'tool-call', id: 'call_2', name: 'lookup', arguments: '{}' }] }], stop: 'tool_calls' });
  });

  it('Responses input items, Ollama images and tool calls, Gemini function calls', () => {
    expect(conversationOf('/v1/responses', {
      instructions: 'Answer in French.',
      input: [
        { role: 'user', content: [{ type: 'input_text', text: 'Weather?' }] },
        { type: 'function_call', call_id: 'c1', name: 'weather', arguments: '{}' },
        { type: 'function_call_output', call_id: 'c1', output: 'Sunny' },
      ],
    })?.messages).toEqual([
      { role: 'system', parts: [{ kind: 'text', text: 'Answer in French.' }] },
      { role: 'user', parts: [{ kind: 'text', text: 'Weather?' }] },
      { role: 'assistant', parts: [{ kind: 'tool-call', id: 'c1', name: 'weather', arguments: '{}' }] },
      { role: 'tool', parts: [{ kind: 'tool-result', id: 'c1', text: 'Sunny' }] },
    ]);
    expect(conversationOf('/api/chat', { messages: [{ role: 'user', content: 'Look', images: ['iVBORw0KGgo='] }, { role: 'assistant', content: '', tool_calls: [{ function: { name: 'zoom', arguments: { by: 2 } } }] }] })?.messages).toEqual([
      { role: 'user', parts: [{ kind: 'text', text: 'Look' }, { kind: 'media', label: 'image (image, 8 B)' }] },
      { role: 'assistant', parts: [{ kind: 'tool-call', name: 'zoom', arguments: '{\n  "by": 2\n}' }] },
    ]);
    expect(conversationOf('/v1beta/models/gemini-2.0-flash:generateContent', { systemInstruction: { parts: [{ text: 'Be kind.' }] }, contents: [{ role: 'model', parts: [{ functionCall: { name: 'f', args: {} } }] }] })?.messages).toEqual([
      { role: 'system', parts: [{ kind: 'text', text: 'Be kind.' }] },
      { role: 'assistant', parts: [{ kind: 'tool-call', name: 'f', arguments: '{}' }] },
    ]);
    expect(conversationOf('/v1/files', { purpose: 'batch' })).toBeUndefined();
  });

  it('embeddings sent as base64 are measured, not decoded for show', () => {
    const vector = Buffer.from(new Float32Array(1536).buffer).toString('base64');
    expect(embeddingShape({ input: ['a', 'b'] }, { data: [{ embedding: vector }, { embedding: vector }] })).toEqual({ inputs: 2, vectors: 2, dimensions: [1536], encoding: 'base64' });
    expect(embeddingShape({ input: 'a' }, { embeddings: [[1, 2, 3]] })).toEqual({ inputs: 1, vectors: 1, dimensions: [3], encoding: 'float' });
  });
});

describe('the side-by-side diff', () => {
  it('faces members at the same place whatever their order, and leaves a gap where one side has none', () => {
    const lines = sideBySide({ b: 1, a: [1, 2] }, { a: [1, 3], c: true, b: 1 });
    expect(lines).toEqual([
      { left: '{', right: '{', changed: false },
      { left: '  "a": [', right: '  "a": [', changed: false },
      { left: '    1,', right: '    1,', changed: false },
      { left: '    2', right: '    3', changed: true },
      { left: '  ],', right: '  ],', changed: false },
      { left: '  "b": 1', right: '  "b": 1,', changed: false },
      { right: '  "c": true', changed: true },
      { left: '}', right: '}', changed: false },
    ]);
    expect(sideBySide('x', { x: 1 }).every((line) => line.changed)).toBe(true);
  });
});

describe('the journal', () => {
  const note = (journal: Journal, kind: 'hit' | 'miss', key: string, body?: unknown, bodyBytes?: number) =>
    journal.add({ kind, method: 'POST', path: '/v1/chat/completions', testId: 't', key, startedAt: performance.now(), ...(body !== undefined ? { body, bodyBytes: bodyBytes ?? 0 } : {}) });

  it('keeps the most recent entries and the bodies of recent misses within its budget', () => {
    const journal = new Journal({ capacity: 3, bodyBudget: 100 });
    for (let i = 1; i <= 5; i++) note(journal, i % 2 ? 'miss' : 'hit', `k${i}`, i % 2 ? { i } : undefined, 60);
    expect(journal.entries().map((entry) => entry.seq)).toEqual([3, 4, 5]);
    expect(journal.entry(2)).toBeUndefined();
    expect(journal.bodyOf(5)?.value).toEqual({ i: 5 });
    expect(journal.bodyOf(3)).toBeUndefined(); // dropped: two bodies of 60 bytes exceed 100
    expect(journal.entries(4).map((entry) => entry.seq)).toEqual([5]);
    expect([...journal.lastUsed.keys()]).toEqual(['k2', 'k4']);
  });

  it('completes an entry when its answer has ended, and tells its listeners then', () => {
    const journal = new Journal();
    const heard: number[] = [];
    journal.listen((entry) => heard.push(entry.seq));
    let close: () => void = () => undefined;
    const response = { writableEnded: false, destroyed: false, statusCode: 200, once: (_event: string, listener: () => void) => (close = listener) };
    const entry = journal.add({ kind: 'hit', method: 'GET', path: '/x', testId: null, startedAt: performance.now(), response: response as never });
    expect(entry.durationMs).toBeUndefined();
    expect(heard).toEqual([]);
    close();
    expect(entry).toMatchObject({ status: 200, durationMs: expect.any(Number) });
    expect(heard).toEqual([1]);
  });
});
