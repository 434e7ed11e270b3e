// A stateful fake of OpenAI's Conversations and Responses APIs: ids are random on
// every run (as the real API's are) and later calls must name objects that exist.
import { randomBytes } from 'node:crypto';
import { FakeUpstream, openAiSse, sendEvents, sendJson, typedSse } from './fake-upstream.js';

const rid = (prefix: string) => `${prefix}${randomBytes(24).toString('hex')}`;
const now = () => Math.floor(Date.now() / 1000);

interface Item {
  id: string;
  type: 'message';
  role: 'user' | 'assistant';
  status: 'completed';
  content: Array<{ type: string; text: string; annotations?: unknown[] }>;
}

export function statefulOpenAi(): FakeUpstream {
  const conversations = new Map<string, { id: string; created_at: number; metadata: unknown; items: Item[] }>();
  const responses = new Map<string, Record<string, unknown>>();
  const upstream = new FakeUpstream();

  const userItem = (text: string): Item => ({ id: rid('msg_'), type: 'message', role: 'user', status: 'completed', content: [{ type: 'input_text', text }] });

  upstream.on('POST', '/v1/conversations', (request, res) => {
    const body = JSON.parse(request.body || '{}') as { metadata?: unknown; items?: Array<{ content: string }> };
    const conversation = { id: rid('conv_'), created_at: now(), metadata: body.metadata ?? {}, items: (body.items ?? []).map((i) => userItem(i.content)) };
    conversations.set(conversation.id, conversation);
    sendJson(res, 200, { id: conversation.id, object: 'conversation', created_at: conversation.created_at, metadata: conversation.metadata });
  });

  upstream.on('POST', '/v1/responses', (request, res) => {
    const body = JSON.parse(request.body) as { model: string; input: string; conversation?: string; previous_response_id?: string; stream?: boolean };
    const conversation = body.conversation ? conversations.get(body.conversation) : undefined;
    if (body.conversation && !conversation) return sendJson(res, 404, { error: { message: `Conversation ${body.conversation} not found`, type: 'invalid_request_error', param: 'conversation', code: null } });
    const previous = body.previous_response_id ? responses.get(body.previous_response_id) : undefined;
    if (body.previous_response_id && !previous) return sendJson(res, 404, { error: { message: `Previous response ${body.previous_response_id} not found`, type: 'invalid_request_error', param: 'previous_response_id', code: null } });
    // The answer depends on server-side state, as a real model's does.
    const turn = conversation ? conversation.items.length : previous ? 1 : 0;
    const text = `Turn ${turn}: ${body.input}${previous ? ` (after ${(previous['output'] as Item[])[0]!.content[0]!.text.length} chars)` : ''}`;
    const output: Item = { id: rid('msg_'), type: 'message', role: 'assistant', status: 'completed', content: [{ type: 'output_text', text, annotations: [] }] };
    conversation?.items.push(userItem(body.input), output);
    const response = {
      id: rid('resp_'),
      object: 'response',
      created_at: now(),
      status: 'completed',
      model: body.model,
      output,
      previous_response_id: body.previous_response_id ?? null,
      conversation: conversation ? { id: conversation.id } : null,
      usage: { input_tokens: 10, output_tokens: text.split(' ').length, total_tokens: 10 + text.split(' ').length },
    };
    const stored = { ...response, output: [output] };
    responses.set(response.id, stored);
    if (!body.stream) return sendJson(res, 200, stored);
    const inProgress = { ...stored, status: 'in_progress', output: [] };
    const events = [
      { type: 'response.created', sequence_number: 0, response: inProgress },
      { type: 'response.output_item.added', sequence_number: 1, output_index: 0, item: { ...output, status: 'in_progress', content: [] } },
      ...text.split(/(?= )/).map((delta, i) => ({ type: 'response.output_text.delta', sequence_number: 2 + i, item_id: output.id, output_index: 0, content_index: 0, delta, logprobs: [] })),
      { type: 'response.output_item.done', sequence_number: 90, output_index: 0, item: output },
      { type: 'response.completed', sequence_number: 91, response: stored },
    ];
    return sendEvents(res, typedSse(events));
  });

  upstream.on('GET', /^\/v1\/responses\/[^/]+$/, (request, res) => {
    const response = responses.get(request.url.split('/').pop()!.split('?')[0]!);
    return response ? sendJson(res, 200, response) : sendJson(res, 404, { error: { message: 'No response found', type: 'invalid_request_error', param: null, code: null } });
  });

  upstream.on('GET', /^\/v1\/conversations\/[^/]+\/items$/, (request, res) => {
    const conversation = conversations.get(request.url.split('/')[3]!);
    if (!conversation) return sendJson(res, 404, { error: { message: 'Conversation not found', type: 'invalid_request_error', param: null, code: null } });
    const data = [...conversation.items].reverse();
    sendJson(res, 200, { object: 'list', data, first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null, has_more: false });
  });

  upstream.on('GET', /^\/v1\/conversations\/[^/]+\/items\/[^/]+$/, (request, res) => {
    const [, , , conversationId, , itemId] = request.url.split('?')[0]!.split('/');
    const item = conversations.get(conversationId!)?.items.find((i) => i.id === itemId);
    return item ? sendJson(res, 200, item) : sendJson(res, 404, { error: { message: `Item ${itemId} not found`, type: 'invalid_request_error', param: null, code: null } });
  });

  // Chat completions: a fresh id each; kept (and retrievable) only with "store": true, as OpenAI's stored completions.
  const completions = new Map<string, Record<string, unknown>>();
  upstream.on('POST', '/v1/chat/completions', (request, res) => {
    const body = JSON.parse(request.body) as { model: string; messages: Array<{ content: string }>; store?: boolean; stream?: boolean; tools?: unknown[] };
    const id = rid('chatcmpl-');
    const text = `You said: ${body.messages.at(-1)!.content}`;
    const toolCalls = body.tools ? [{ id: rid('call_'), type: 'function', function: { name: 'lookup', arguments: '{}' } }] : undefined;
    const completion = { id, object: 'chat.completion', created: now(), model: body.model, choices: [{ index: 0, message: { role: 'assistant', content: text, ...(toolCalls ? { tool_calls: toolCalls } : {}) }, finish_reason: toolCalls ? 'tool_calls' : 'stop' }] };
    if (body.store === true) completions.set(id, completion);
    if (!body.stream) return sendJson(res, 200, completion);
    const chunk = (delta: unknown, finish: string | null) => ({ id, object: 'chat.completion.chunk', created: completion.created, model: body.model, choices: [{ index: 0, delta, finish_reason: finish }] });
    const chunks = [chunk({ role: 'assistant', content: '' }, null), ...(toolCalls ? [chunk({ tool_calls: [{ index: 0, ...toolCalls[0] }] }, null)] : []), ...text.split(/(?= )/).map((part) => chunk({ content: part }, null)), chunk({}, toolCalls ? 'tool_calls' : 'stop')];
    return sendEvents(res, openAiSse(chunks));
  });

  upstream.on('GET', /^\/v1\/chat\/completions\/[^/]+$/, (request, res) => {
    const completion = completions.get(request.url.split('/').pop()!.split('?')[0]!);
    return completion ? sendJson(res, 200, completion) : sendJson(res, 404, { error: { message: 'Completion not found', type: 'invalid_request_error', param: null, code: null } });
  });

  upstream.on('DELETE', /^\/v1\/conversations\/[^/]+$/, (request, res) => {
    const id = request.url.split('/')[3]!;
    if (!conversations.delete(id)) return sendJson(res, 404, { error: { message: 'Conversation not found', type: 'invalid_request_error', param: null, code: null } });
    sendJson(res, 200, { id, object: 'conversation.deleted', deleted: true });
  });

  return upstream;
}
