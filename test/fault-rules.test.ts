// The fault grammar, the provider dialects of injected errors, and the seeded
// schedule, checked directly.
import { describe, expect, it } from 'vitest';
import { corrupt } from '../src/faults/apply.js';
import { errorAnswer } from '../src/faults/dialects.js';
import { dialectOf } from '../src/request/dialect.js';
import { draw, selects, type Occasion } from '../src/faults/schedule.js';
import { FaultSpecError, parseFaultRule, parseFaultRules } from '../src/faults/spec.js';

describe('the fault grammar', () => {
  it('reads every part, in any order and case, and writes it back in one canonical form', () => {
    const rule = parseFaultRule(' Latency=2s ; status=429;retry-after=0.5; on=1-2,5;rate=25%;seed=ci-7;model=gpt-4o;path=/v1/chat ');
    expect(rule.fault).toEqual({ latencyMs: 2000, status: 429, retryAfterS: 0.5 });
    expect(rule.when).toEqual({ on: [[1, 2], [5, 5]], rate: 0.25, seed: 'ci-7', model: 'gpt-4o', path: '/v1/chat' });
    expect(rule.text).toBe('status=429;retry-after=0.5;latency=2000ms;on=1-2,5;rate=0.25;seed=ci-7;model=gpt-4o;path=/v1/chat');
    expect(parseFaultRule(rule.text)).toEqual(rule);
    expect(parseFaultRule('event-latency=20;malformed-at=2;cut-after=3').fault).toEqual({ eventLatencyMs: 20, malformedAt: 2, cutAfter: 3 });
    expect(parseFaultRule('reset;').fault).toEqual({ reset: true });
    expect(parseFaultRule('stall-after=0').fault).toEqual({ stallAfter: 0 });
    expect(parseFaultRules(['status=500', 'cut-after=1;rate=0.1']).map((r) => r.text)).toEqual(['status=500', 'cut-after=1;rate=0.1']);
  });

  it.each([
    ['status=200', '"status=200": expected an HTTP error status from 400 to 599'],
    ['status=42x', '"status=42x": expected an HTTP error status'],
    ['latency=fast', '"latency=fast": expected a duration such as 250ms or 2s'],
    ['latency=11m', '"latency=11m": expected a duration'],
    ['cut-after=-1', '"cut-after=-1": expected a number of events'],
    ['malformed-at=0', '"malformed-at=0": expected an event number (the first is 1)'],
    ['on=0', '"on=0": expected occurrences such as 2, 1-3 or 1,4'],
    ['on=3-1', '"on=3-1": expected occurrences'],
    ['rate=1.5', '"rate=1.5": expected a fraction from 0 to 1'],
    ['path=v1', '"path=v1": expected a path starting with /'],
    ['reset=1', '"reset=1": reset takes no value'],
    ['cut-after', '"cut-after": expected cut-after=<value>'],
    ['explode=1', '"explode=1": unknown fault part; known parts are status,'],
    ['status=429;status=500', '"status=500": status is given twice'],
    ['status=429;cut-after=2', 'status and cut-after cannot be combined'],
    ['reset;malformed-at=1', 'malformed-at cannot be combined with reset'],
    ['retry-after=2', 'retry-after needs a status'],
    ['on=2;rate=0.5', 'names no fault; give one of status, retry-after, latency'],
    ['', 'names no fault'],
  ])('refuses %j, naming the part', (text, message) => {
    let error: unknown;
    try {
      parseFaultRule(text);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(FaultSpecError);
    expect((error as Error).message).toContain(message);
  });

  it('refuses an option value that is neither a string nor a list of strings', () => {
    expect(() => parseFaultRules({ status: 429 })).toThrow(/expected a fault string such as "status=429;on=1", or a list of them/);
    expect(() => parseFaultRules(['status=429', 3])).toThrow(FaultSpecError);
  });
});

describe('the dialect of an injected error', () => {
  it('follows the endpoint the client called', () => {
    expect(dialectOf('/v1/chat/completions')).toBe('openai');
    expect(dialectOf('/v1/responses')).toBe('openai');
    expect(dialectOf('/api/v1/chat/completions')).toBe('openai'); // OpenRouter's base path
    expect(dialectOf('/v1beta/openai/chat/completions')).toBe('openai'); // Gemini's OpenAI-compatible API
    expect(dialectOf('/v1/messages')).toBe('anthropic');
    expect(dialectOf('/anthropic/v1/messages/count_tokens')).toBe('anthropic');
    expect(dialectOf('/api/chat')).toBe('ollama');
    expect(dialectOf('/ollama/api/generate')).toBe('ollama');
    expect(dialectOf('/v1beta/models/gemini-2.0-flash:generateContent')).toBe('gemini');
    expect(dialectOf('/gemini/v1beta/models/gemini-2.0-flash:streamGenerateContent')).toBe('gemini');
    expect(dialectOf('/v1/models/gemini-pro:countTokens')).toBe('gemini');
  });

  const body = (answer: { body: Buffer }) => JSON.parse(answer.body.toString('utf8'));

  it('OpenAI: a 429 with retry-after and the x-ratelimit-* headers; 500 and 503 as server_error', () => {
    const limited = errorAnswer('openai', { status: 429, retryAfterS: undefined, seed: 'k:1' });
    expect(limited.status).toBe(429);
    expect(limited.headers).toMatchObject({ 'content-type': 'application/json', 'retry-after': '1', 'x-ratelimit-remaining-requests': '0', 'x-ratelimit-reset-requests': '1s', 'x-ratelimit-remaining-tokens': '0' });
    expect(limited.headers['x-request-id']).toMatch(/^req_[0-9a-f]{24}$/);
    expect(body(limited).error).toMatchObject({ type: 'requests', code: 'rate_limit_exceeded', param: null });
    expect(body(limited).error.message).toContain('Rate limit reached');
    expect(errorAnswer('openai', { status: 429, retryAfterS: undefined, seed: 'k:1' }).headers['x-request-id']).toBe(limited.headers['x-request-id']);
    expect(body(errorAnswer('openai', { status: 500, retryAfterS: undefined, seed: 's' })).error).toMatchObject({ type: 'server_error', code: null });
    const overloaded = errorAnswer('openai', { status: 503, retryAfterS: 3, seed: 's' });
    expect(body(overloaded).error.message).toContain('overloaded');
    expect(overloaded.headers['retry-after']).toBe('3');
    expect(errorAnswer('openai', { status: 503, retryAfterS: undefined, seed: 's' }).headers['retry-after']).toBeUndefined();
  });

  it("Anthropic: {type: 'error', error: {type, message}, request_id}, 529 overloaded_error, a 429 with its rate-limit headers", () => {
    const overloaded = errorAnswer('anthropic', { status: 529, retryAfterS: undefined, seed: 's' });
    expect(overloaded.status).toBe(529);
    expect(body(overloaded)).toMatchObject({ type: 'error', error: { type: 'overloaded_error' } });
    expect(body(overloaded).error.message).toMatch(/^Overloaded/);
    expect(body(overloaded).request_id).toBe(overloaded.headers['request-id']);
    const limited = errorAnswer('anthropic', { status: 429, retryAfterS: 2, seed: 's' });
    expect(body(limited).error.type).toBe('rate_limit_error');
    expect(limited.headers).toMatchObject({ 'retry-after': '2', 'anthropic-ratelimit-requests-remaining': '0' });
    expect(Date.parse(limited.headers['anthropic-ratelimit-requests-reset']!)).not.toBeNaN();
    expect(body(errorAnswer('anthropic', { status: 500, retryAfterS: undefined, seed: 's' })).error.type).toBe('api_error');
    expect(body(errorAnswer('anthropic', { status: 418, retryAfterS: undefined, seed: 's' })).error.type).toBe('invalid_request_error');
  });

  it('Ollama: {"error": "<message>"}, its busy message on 503', () => {
    const busy = errorAnswer('ollama', { status: 503, retryAfterS: undefined, seed: 's' });
    expect(Object.keys(body(busy))).toEqual(['error']);
    expect(body(busy).error).toMatch(/^server busy, please try again\. {2}maximum pending requests exceeded/);
  });

  it('Gemini: google.rpc status RESOURCE_EXHAUSTED with QuotaFailure and RetryInfo details', () => {
    const exhausted = body(errorAnswer('gemini', { status: 429, retryAfterS: undefined, seed: 's' }));
    expect(exhausted.error).toMatchObject({ code: 429, status: 'RESOURCE_EXHAUSTED' });
    expect(exhausted.error.details.map((d: { '@type': string }) => d['@type'])).toEqual(['type.googleapis.com/google.rpc.QuotaFailure', 'type.googleapis.com/google.rpc.RetryInfo']);
    expect(exhausted.error.details[1].retryDelay).toBe('1s');
    expect(body(errorAnswer('gemini', { status: 503, retryAfterS: undefined, seed: 's' })).error.status).toBe('UNAVAILABLE');
  });
});

describe('the seeded schedule', () => {
  const occasion = (n: number, over: Partial<Occasion> = {}): Occasion => ({ testId: 't::a', path: '/v1/chat/completions', model: 'gpt-4o', key: 'k'.repeat(64), occurrence: n, rule: 0, ...over });

  it('is a pure function of seed, test id, key, occurrence and rule', () => {
    const when = { rate: 0.3, seed: '7' };
    const hits = Array.from({ length: 200 }, (_, i) => selects(when, occasion(i + 1)));
    expect(Array.from({ length: 200 }, (_, i) => selects(when, occasion(i + 1)))).toEqual(hits);
    // Near the rate, and neither all nor none.
    const share = hits.filter(Boolean).length / hits.length;
    expect(share).toBeGreaterThan(0.15);
    expect(share).toBeLessThan(0.45);
    const other = (over: Partial<Occasion>, seed = '7') => Array.from({ length: 200 }, (_, i) => selects({ rate: 0.3, seed }, occasion(i + 1, over)));
    for (const changed of [other({}, '8'), other({ testId: 't::b' }), other({ key: 'j'.repeat(64) }), other({ rule: 1 })]) expect(changed).not.toEqual(hits);
    expect(draw('7', occasion(1))).toBe(draw('7', occasion(1)));
  });

  it('selects listed occurrences, models and paths', () => {
    const when = parseFaultRule('status=500;on=2,4-5;model=gpt-4o;path=/v1').when;
    expect([1, 2, 3, 4, 5, 6].map((n) => selects(when, occasion(n)))).toEqual([false, true, false, true, true, false]);
    expect(selects(when, occasion(2, { model: 'gpt-5' }))).toBe(false);
    expect(selects(when, occasion(2, { path: '/v10/chat' }))).toBe(false);
    expect(selects(when, occasion(2, { path: '/v1' }))).toBe(true);
  });
});

describe('a malformed event', () => {
  it('halves the JSON of an SSE data line, an NDJSON line or a whole body, keeping the framing', () => {
    const sse = corrupt(Buffer.from('event: message_start\r\ndata: {"type":"message_start","index":0}\r\n\r\n'), 'sse').toString();
    expect(sse).toBe('event: message_start\r\ndata: {"type":"message_\r\n\r\n');
    expect(corrupt(Buffer.from('data: [DONE]\n\n'), 'sse').toString()).toBe('data: [DO\n\n');
    expect(corrupt(Buffer.from(': ping\n\n'), 'sse').toString()).toBe('data: {"\n: ping\n\n');
    expect(corrupt(Buffer.from('{"done":false}\n'), 'ndjson').toString()).toBe('{"done"\n');
    expect(corrupt(Buffer.from('12'), undefined).toString()).toBe('{1');
    for (const text of [sse.split('data: ')[1]!.trim(), '{"done"', '{1']) expect(() => JSON.parse(text)).toThrow();
  });
});
