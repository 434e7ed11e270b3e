// What record mode makes constant in a stored answer: timestamps and durations at any
// depth, a top-level id unless ids are kept deterministic; never a model's `created`,
// never a null, never anything else.
import { describe, expect, it } from 'vitest';
import { normalizeResponseObject, recordedId } from '../src/proxy/response-normalize.js';
import { parseLossless } from '../src/json/lossless.js';

const KEY = 'f'.repeat(64);
const EPOCH = '1970-01-01T00:00:00.000000Z';

describe('normalising an answer', () => {
  it('makes timestamps and durations constant at any depth, and leaves the rest as it was', () => {
    const answer = JSON.parse(`{
      "id": "chatcmpl-1", "object": "chat.completion", "created": 1757525942,
      "response": { "id": "resp_1", "created_at": 1757525942.5, "completed_at": "2025-09-10T12:00:00Z", "status": "completed" },
      "items": [ { "created_at": null, "total_duration": 12, "load_duration": 3, "prompt_eval_duration": 1.0, "eval_duration": 7, "text": "created 5" }, [ { "created": 9 } ] ],
      "data": [ { "object": "model", "id": "gpt-4o", "created": 1700000000 } ],
      "nested": { "created": { "at": 5 }, "__proto__": { "created_at": "yesterday" } },
      "usage": { "total_tokens": 10, "created": null }
    }`);
    const out = normalizeResponseObject(answer, KEY) as Record<string, any>;
    expect(out['id']).toBe(recordedId(KEY));
    expect(out['created']).toBe(0);
    expect(out['response']).toEqual({ id: 'resp_1', created_at: 0, completed_at: EPOCH, status: 'completed' });
    expect(out['items']).toEqual([{ created_at: null, total_duration: 0, load_duration: 0, prompt_eval_duration: 0, eval_duration: 0, text: 'created 5' }, [{ created: 0 }]]);
    // A model's creation date is what the model is, not when this answer was made.
    expect(out['data']).toEqual([{ object: 'model', id: 'gpt-4o', created: 1700000000 }]);
    expect(out['nested']['created']).toBe(0);
    expect(Object.getOwnPropertyDescriptor(out['nested'], '__proto__')?.value).toEqual({ created_at: EPOCH });
    expect(out['usage']).toEqual({ total_tokens: 10, created: null });
  });

  it('keeps the top-level id when ids are made deterministic elsewhere, and a model list entry its id', () => {
    expect(normalizeResponseObject(JSON.parse('{"id":"resp_9","created_at":5}'), KEY, false)).toEqual({ id: 'resp_9', created_at: 0 });
    expect(normalizeResponseObject(JSON.parse('{"id":"gpt-4o","object":"model","created":5}'), KEY)).toEqual({ id: 'gpt-4o', object: 'model', created: 5 });
    // Only an object is an answer to normalise: a list is left as it came.
    expect(normalizeResponseObject(JSON.parse('[{"created":5}]'), KEY)).toEqual([{ created: 5 }]);
    // Numbers kept as written (LosslessNumbers) are made constant too.
    expect(normalizeResponseObject(parseLossless('{"created":1.0,"x":{"eval_duration":2.50}}'), KEY)).toEqual({ created: 0, x: { eval_duration: 0 } });
  });
});
