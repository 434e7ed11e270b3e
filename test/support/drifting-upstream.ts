// A fake upstream for the drift check that answers every dialect (OpenAI chat and
// Responses, Anthropic, Gemini, Ollama), and can change its answers' shape one way at
// a time in each of them (a field added, removed, retyped; an event renamed, or a
// field renamed where the wire has no event names; an error's shape), or change only
// their text, ids and numbers. A request for the model `no-such-model` gets the
// dialect's error. `fail` makes it fail as a live API can, which is the check's
// failure and not drift.
import type { ServerResponse } from 'node:http';
import { FakeUpstream, sendEvents, sendJson, typedSse, openAiSse, type Handler } from './fake-upstream.js';

export type Variant = 'base' | 'text' | 'added' | 'removed' | 'retyped' | 'renamed' | 'error';
export const SHAPE_CHANGES = ['added', 'removed', 'retyped', 'renamed', 'error'] as const;
export const MISSING_MODEL = 'no-such-model';
/** A refused key, a rate limit, an outage, a connection cut mid-answer, an answer that stalls mid-body. */
export type Failure = 401 | 429 | 503 | 'reset' | 'stall';

const missing = (body: string) => (JSON.parse(body) as { model?: string }).model === MISSING_MODEL;

export class DriftingUpstream extends FakeUpstream {
  variant: Variant = 'base';
  private failure: { kind: Failure; after: number } | undefined;

  /** Every request after the next `after` fails this way, until `fail(undefined)`. */
  fail(kind: Failure | undefined, after = 0): void {
    this.failure = kind === undefined ? undefined : { kind, after };
  }

  override on(method: string, path: string | RegExp, handler: Handler): this {
    return super.on(method, path, (request, res) => {
      const failure = this.failure;
      if (!failure || failure.after-- > 0) return handler(request, res);
      if (typeof failure.kind === 'number') return void sendJson(res, failure.kind, { error: { message: `failing with ${failure.kind}` } }, failure.kind === 401 ? {} : { 'retry-after': '0' });
      res.writeHead(200, { 'content-type': 'application/json' });
      // Stall: the body starts, then stays silent until the client's body timeout (or stop()).
      if (failure.kind === 'stall') return void res.write('{"id": "stalled-');
      // Cut: the connection closes mid-body. 16 MB are handed to the socket only once the client has read most
      // of them, so it has its answer's headers and is reading the body when the connection goes.
      res.write(`{"id": "cut-${'x'.repeat(16 * 1024 * 1024)}`, () => res.socket?.destroy());
    });
  }

  constructor() {
    super();
    const v = () => this.variant;
    const text = () => (v() === 'text' ? 'An entirely different and much longer answer, said in other words' : 'Saturn has rings');
    const id = () => (v() === 'text' ? 'xyz-999' : 'abc-1');
    const n = () => (v() === 'text' ? 987 : 12);
    const index = () => (v() === 'retyped' ? '0' : 0);
    // What only text changes too: a null where there was a value, an array empty where it had elements, the
    // members of a tool call's arguments (the model chooses them), another documented finish reason.
    const or = <T, U>(base: T, other: U) => (v() === 'text' ? other : base);
    const toolArguments = () => or({ city: 'Paris' }, { query: { text: 'rings', limit: 3 }, units: ['km'] });
    /** OpenAI's error (chat and Responses alike). */
    const openAiError = (res: ServerResponse) =>
      sendJson(res, 404, v() === 'error' ? { error: { message: `no model ${id()}`, type: 'invalid_request_error', code: 404 } } : { error: { message: `no model ${id()}`, type: 'invalid_request_error', param: null, code: 'model_not_found' } });

    this.on('POST', '/v1/chat/completions', (request, res) => {
      if (missing(request.body)) return openAiError(res);
      const stream = JSON.parse(request.body).stream === true;
      const usage: Record<string, unknown> = { prompt_tokens: n(), completion_tokens: n() + 1, total_tokens: 2 * n() + 1 };
      if (v() === 'removed') delete usage['completion_tokens'];
      if (!stream) {
        const message: Record<string, unknown> = { role: 'assistant', content: text(), annotations: or([], [{ type: 'url_citation', url_citation: { url: 'https://example.com', title: 'Rings', start_index: 0, end_index: 6 } }]) };
        if (v() === 'added') message['refusal'] = null;
        const finish = v() === 'renamed' ? { stop_reason: 'stop' } : { finish_reason: or('stop', 'length') };
        return sendJson(res, 200, { id: `chatcmpl-${id()}`, object: 'chat.completion', created: n() * 1000, model: 'gpt-4o-2024-08-06', system_fingerprint: or(null, 'fp_abc123'), choices: [{ index: index(), message, ...finish }], usage });
      }
      const words = text().split(' ');
      const chunk = (delta: unknown, finish: string | null) => ({
        id: `chatcmpl-${id()}`,
        object: v() === 'renamed' ? 'chat.completion.delta' : 'chat.completion.chunk',
        created: n(),
        model: 'gpt-4o',
        ...(v() === 'added' ? { service_tier: 'default' } : {}),
        choices: [{ index: index(), delta, finish_reason: finish }],
      });
      return sendEvents(res, openAiSse([chunk({ role: 'assistant', content: or('', null) }, null), ...words.map((w) => chunk({ content: `${w} ` }, null)), chunk({}, or('stop', 'length')), { ...chunk({}, null), choices: [], usage }]));
    });

    this.on('POST', '/v1/responses', (request, res) => {
      if (missing(request.body)) return openAiError(res);
      const delta = v() === 'renamed' ? 'response.output_text.chunk' : 'response.output_text.delta';
      const response = { id: `resp_${id()}`, object: 'response', created_at: n(), status: 'completed', model: 'gpt-5', usage: { input_tokens: n(), output_tokens: n() } };
      const completed = v() === 'added' ? { ...response, service_tier: 'default' } : response;
      const events: Array<{ type: string; [k: string]: unknown }> = [
        { type: 'response.created', response: { ...response, status: 'in_progress', usage: null } },
        ...text()
          .split(' ')
          .map((w, i) => ({ type: delta, ...(v() === 'removed' ? {} : { item_id: `msg_${id()}` }), output_index: 0, content_index: 0, delta: `${w} `, sequence_number: v() === 'retyped' ? String(i + 1) : i + 1 })),
        { type: 'response.completed', response: completed },
      ];
      return sendEvents(res, typedSse(events));
    });

    this.on('POST', '/v1/messages', (request, res) => {
      if (missing(request.body)) {
        const error = { type: 'not_found_error', message: `model: ${MISSING_MODEL} (${id()})` };
        return sendJson(res, 404, v() === 'error' ? { type: 'error', error, request_id: `req_${id()}` } : { type: 'error', error });
      }
      const usage = v() === 'retyped' ? { input_tokens: String(n()), output_tokens: n() } : { input_tokens: n(), output_tokens: n() };
      const message = { id: `msg_${id()}`, type: 'message', role: 'assistant', model: 'claude-sonnet-4-5-20250929', content: [], stop_reason: null, usage, ...(v() === 'added' ? { container: null } : {}) };
      const deltaType = v() === 'renamed' ? 'content_block_update' : 'content_block_delta';
      const events: Array<{ type: string; [k: string]: unknown }> = [
        { type: 'message_start', message },
        { type: 'content_block_start', ...(v() === 'removed' ? {} : { index: 0 }), content_block: { type: 'text', text: '' } },
        ...text()
          .split(' ')
          .map((w) => ({ type: deltaType, index: 0, delta: { type: 'text_delta', text: `${w} ` } })),
        { type: 'content_block_stop', index: 0 },
        { type: 'content_block_start', ...(v() === 'removed' ? {} : { index: 1 }), content_block: { type: 'tool_use', id: `toolu_${id()}`, name: 'lookup', input: toolArguments() } },
        { type: 'content_block_stop', index: 1 },
        { type: 'message_delta', delta: { stop_reason: or('end_turn', 'max_tokens'), stop_sequence: or(null, '\n\nHuman:') }, usage: { output_tokens: n() } },
        { type: 'message_stop' },
      ];
      return sendEvents(res, typedSse(events));
    });

    this.on('POST', /^\/v1beta\/models\/[^/]+:generateContent$/, (request, res) => {
      if (request.url.includes(MISSING_MODEL)) {
        const error = { code: 404, message: `models/${MISSING_MODEL} is not found (${id()})`, status: 'NOT_FOUND' };
        return sendJson(res, 404, { error: v() === 'error' ? { code: 404, message: error.message, details: [{ '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'MODEL_NOT_FOUND' }] } : error });
      }
      // Gemini's stream has no event names: a renamed field is its renaming.
      const finish = v() === 'renamed' ? { finish_reason: 'STOP' } : { finishReason: or('STOP', 'MAX_TOKENS') };
      const usageMetadata: Record<string, unknown> = { promptTokenCount: n(), candidatesTokenCount: n(), totalTokenCount: v() === 'retyped' ? `${2 * n()}` : 2 * n() };
      if (v() === 'removed') delete usageMetadata['candidatesTokenCount'];
      return sendJson(res, 200, { candidates: [{ content: { parts: [{ text: text() }, { functionCall: { name: 'lookup', args: toolArguments() } }], role: 'model' }, ...finish, index: 0 }], usageMetadata, modelVersion: 'gemini-2.5-flash', ...(v() === 'added' ? { responseId: id() } : {}) });
    });

    this.on('POST', '/api/chat', (request, res) => {
      if (missing(request.body)) return sendJson(res, 404, { error: v() === 'error' ? { message: `model "${MISSING_MODEL}" not found (${id()})` } : `model "${MISSING_MODEL}" not found (${id()})` });
      const words = text().split(' ');
      // Ollama's lines have no event names either: its renamed field is done_reason.
      const done: Record<string, unknown> = { model: 'llama3.2', created_at: '2026-01-01T00:00:00Z', message: { role: 'assistant', content: '', tool_calls: [{ function: { name: 'lookup', arguments: toolArguments() } }] }, done: true, ...(v() === 'renamed' ? { stop_reason: 'stop' } : { done_reason: or('stop', 'length') }), total_duration: v() === 'retyped' ? String(n()) : n(), eval_count: n() };
      if (v() === 'added') done['thinking'] = '';
      if (v() === 'removed') delete done['eval_count'];
      const lines = [...words.map((w) => ({ model: 'llama3.2', created_at: `2026-01-0${n() % 9}T00:00:00Z`, message: { role: 'assistant', content: `${w} ` }, done: false })), done];
      res.writeHead(200, { 'content-type': 'application/x-ndjson' });
      res.end(lines.map((line) => `${JSON.stringify(line)}\n`).join(''));
    });

    this.on('POST', '/v1/embeddings', (_request, res) => {
      if (v() === 'error') return sendJson(res, 400, { error: { message: `bad input ${id()}`, code: 400 } });
      return sendJson(res, 400, { error: { message: `bad input ${id()}`, type: 'invalid_request_error', param: null, code: 'bad' } });
    });
  }
}
