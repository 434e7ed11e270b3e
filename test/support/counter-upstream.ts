// A local OpenAI stand-in whose answer changes on every call ("answer 1", "answer 2",
// ...), as a polled status or a sampled completion does: replaying the wrong
// occurrence shows. It can be told to fail first (a status, with headers, for the
// next calls) and makes a fresh Responses id per call, as the real API does.
import { randomBytes } from 'node:crypto';
import { FakeUpstream, openAiSse, sendEvents, sendJson } from './fake-upstream.js';

export interface CounterUpstream extends FakeUpstream {
  /** Answers given so far (failures included). */
  count: number;
  /** The Responses ids it made, in order. */
  issued: string[];
  /** The next calls fail with these statuses (and headers), in order, before answering again. */
  failNext(...failures: Array<{ status: number; headers?: Record<string, string> }>): void;
}

export function answerText(n: number): string {
  return `answer ${n}`;
}

export function counterUpstream(): CounterUpstream {
  const failures: Array<{ status: number; headers?: Record<string, string> }> = [];
  const upstream = new FakeUpstream() as CounterUpstream;
  upstream.count = 0;
  upstream.issued = [];
  upstream.failNext = (...more) => failures.push(...more);
  const failed = (res: Parameters<typeof sendJson>[0]): boolean => {
    const failure = failures.shift();
    if (!failure) return false;
    sendJson(res, failure.status, { error: { message: `failure ${upstream.count}`, type: failure.status === 429 ? 'rate_limit_exceeded' : 'server_error', param: null, code: null } }, failure.headers);
    return true;
  };
  upstream.on('POST', '/v1/chat/completions', async (request, res) => {
    const n = ++upstream.count;
    if (failed(res)) return;
    const body = JSON.parse(request.body) as { model: string; stream?: boolean };
    const base = { id: `chatcmpl-${n}`, created: 1700000000 + n, model: body.model };
    if (!body.stream) {
      sendJson(res, 200, { ...base, object: 'chat.completion', choices: [{ index: 0, message: { role: 'assistant', content: answerText(n), refusal: null }, finish_reason: 'stop', logprobs: null }], usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 } });
      return;
    }
    const chunk = (delta: Record<string, unknown>, finish: string | null) => ({ ...base, object: 'chat.completion.chunk', choices: [{ index: 0, delta, finish_reason: finish, logprobs: null }] });
    await sendEvents(res, openAiSse([chunk({ role: 'assistant', content: '' }, null), chunk({ content: answerText(n) }, null), chunk({}, 'stop')]));
  });
  upstream.on('POST', '/v1/responses', (request, res) => {
    const n = ++upstream.count;
    if (failed(res)) return;
    const body = JSON.parse(request.body) as { model: string; previous_response_id?: string };
    const id = `resp_${randomBytes(12).toString('hex')}`;
    upstream.issued.push(id);
    sendJson(res, 200, {
      id,
      object: 'response',
      created_at: 1700000000 + n,
      status: 'completed',
      model: body.model,
      previous_response_id: body.previous_response_id ?? null,
      output: [{ type: 'message', id: `msg_${randomBytes(12).toString('hex')}`, status: 'completed', role: 'assistant', content: [{ type: 'output_text', text: answerText(n), annotations: [] }] }],
    });
  });
  return upstream;
}
