// A fake upstream for the drift check that answers every dialect, and can change its
// answers' shape one way at a time, or change only their text, ids and numbers.
import { FakeUpstream, sendEvents, sendJson, typedSse, openAiSse } from './fake-upstream.js';

export type Variant = 'base' | 'text' | 'added' | 'removed' | 'retyped' | 'renamed' | 'error';

export class DriftingUpstream extends FakeUpstream {
  variant: Variant = 'base';

  constructor() {
    super();
    const v = () => this.variant;
    const text = () => (v() === 'text' ? 'An entirely different and much longer answer, said in other words' : 'Saturn has rings');
    const id = () => (v() === 'text' ? 'xyz-999' : 'abc-1');
    const n = () => (v() === 'text' ? 987 : 12);
    this.on('POST', '/v1/chat/completions', (request, res) => {
      const stream = JSON.parse(request.body).stream === true;
      const usage: Record<string, unknown> = { prompt_tokens: n(), completion_tokens: n() + 1, total_tokens: 2 * n() + 1 };
      if (v() === 'removed') delete usage['completion_tokens'];
      if (!stream) {
        const message: Record<string, unknown> = { role: 'assistant', content: text() };
        if (v() === 'added') message['refusal'] = null;
        return sendJson(res, 200, { id: `chatcmpl-${id()}`, object: 'chat.completion', created: n() * 1000, model: 'gpt-4o-2024-08-06', choices: [{ index: 0, message, finish_reason: 'stop' }], usage });
      }
      const words = text().split(' ');
      const chunk = (delta: unknown, finish: string | null) => ({ id: `chatcmpl-${id()}`, object: 'chat.completion.chunk', created: n(), model: 'gpt-4o', choices: [{ index: 0, delta, finish_reason: finish }] });
      return sendEvents(res, openAiSse([chunk({ role: 'assistant', content: '' }, null), ...words.map((w) => chunk({ content: `${w} ` }, null), chunk({}, 'stop')), { ...chunk({}, null), choices: [], usage }]));
    });
    this.on('POST', '/v1/responses', (_request, res) => {
      const delta = v() === 'renamed' ? 'response.output_text.chunk' : 'response.output_text.delta';
      const response = { id: `resp_${id()}`, object: 'response', created_at: n(), status: 'completed', model: 'gpt-5', usage: { input_tokens: n(), output_tokens: n() } };
      const events: Array<{ type: string; [k: string]: unknown }> = [
        { type: 'response.created', response: { ...response, status: 'in_progress', usage: null } },
        ...text().split(' ').map((w, i) => ({ type: delta, item_id: `msg_${id()}`, output_index: 0, content_index: 0, delta: `${w} `, sequence_number: i + 1 })),
        { type: 'response.completed', response },
      ];
      return sendEvents(res, typedSse(events));
    });
    this.on('POST', '/v1/messages', (_request, res) => {
      const usage = v() === 'retyped' ? { input_tokens: String(n()), output_tokens: n() } : { input_tokens: n(), output_tokens: n() };
      const events: Array<{ type: string; [k: string]: unknown }> = [
        { type: 'message_start', message: { id: `msg_${id()}`, type: 'message', role: 'assistant', model: 'claude-sonnet-4-5-20250929', content: [], stop_reason: null, usage } },
        { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } },
        ...text().split(' ').map((w) => ({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: `${w} ` } })),
        { type: 'content_block_stop', index: 0 },
        { type: 'message_delta', delta: { stop_reason: 'end_turn' }, usage: { output_tokens: n() } },
        { type: 'message_stop' },
      ];
      return sendEvents(res, typedSse(events));
    });
    this.on('POST', /^\/v1beta\/models\/[^/]+:generateContent$/, (_request, res) =>
      sendJson(res, 200, {
        candidates: [{ content: { parts: [{ text: text() }], role: 'model' }, finishReason: 'STOP', index: 0 }],
        usageMetadata: { promptTokenCount: n(), candidatesTokenCount: n(), totalTokenCount: v() === 'retyped' ? `${2 * n()}` : 2 * n() },
        modelVersion: 'gemini-2.5-flash',
      }),
    );
    this.on('POST', '/api/chat', (_request, res) => {
      const words = text().split(' ');
      const lines = [
        ...words.map((w) => ({ model: 'llama3.2', created_at: `2026-01-0${n() % 9}T00:00:00Z`, message: { role: 'assistant', content: `${w} ` }, done: false })),
        { model: 'llama3.2', created_at: '2026-01-01T00:00:00Z', message: { role: 'assistant', content: '' }, done: true, done_reason: 'stop', total_duration: n(), eval_count: n(), ...(v() === 'added' ? { thinking: '' } : {}) },
      ];
      res.writeHead(200, { 'content-type': 'application/x-ndjson' });
      res.end(lines.map((line) => `${JSON.stringify(line)}\n`).join(''));
    });
    this.on('POST', '/v1/embeddings', (_request, res) => {
      if (v() === 'error') return sendJson(res, 400, { error: { message: `bad input ${id()}`, code: 400 } });
      return sendJson(res, 400, { error: { message: `bad input ${id()}`, type: 'invalid_request_error', param: null, code: 'bad' } });
    });
  }
}
