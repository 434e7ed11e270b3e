// The real OpenAI answers from ../shared/seeds (extracted into test/fixtures by
// test/fixtures/extract-seeds.mjs), served by a fake upstream with OpenAI's framing.
import { readFileSync } from 'node:fs';
import type { ChatCompletionCreateParamsNonStreaming, ChatCompletionCreateParamsStreaming } from 'openai/resources/chat/completions';
import { FakeUpstream, openAiSse, sendEvents, sendJson, typedSse, type StreamScript } from './fake-upstream.js';

export interface SeedExchange {
  source: string;
  model: string;
  title: string;
  request: { model: string; messages: Array<{ role: string; content: string }>; stream?: boolean; [k: string]: unknown };
  response: Record<string, unknown> | Array<Record<string, unknown>>;
}

export const seedExchanges: SeedExchange[] = JSON.parse(readFileSync(new URL('../fixtures/seed-exchanges.json', import.meta.url), 'utf8'));

/** A seed's request as the openai SDK's chat parameters, streaming or not. */
export function chatParams(exchange: SeedExchange): ChatCompletionCreateParamsNonStreaming {
  return { ...exchange.request } as ChatCompletionCreateParamsNonStreaming;
}
export function streamParams(exchange: SeedExchange): ChatCompletionCreateParamsStreaming {
  return { ...exchange.request, stream: true } as ChatCompletionCreateParamsStreaming;
}

export function seed(model: string, title: string): SeedExchange {
  const found = seedExchanges.find((e) => e.model === model && e.title === title);
  if (!found) throw new Error(`no seed ${model} / ${title}`);
  return found;
}

/** The text a chat answer carries: the message content, or the streamed deltas joined. */
export function seedText(exchange: SeedExchange): string {
  if (!Array.isArray(exchange.response)) {
    return ((exchange.response['choices'] as Array<{ message: { content: string } }>)[0] as { message: { content: string } }).message.content;
  }
  return exchange.response
    .map((chunk) => ((chunk['choices'] as Array<{ delta?: { content?: string } }>)[0]?.delta?.content ?? ''))
    .join('');
}

export const embeddingResponse = {
  object: 'list',
  data: [{ object: 'embedding', index: 0, embedding: [0.0023064255, -0.009327292, 0.015797347, -0.0077780345] }],
  model: 'text-embedding-3-small',
  usage: { prompt_tokens: 8, total_tokens: 8 },
};

export const modelsResponse = {
  object: 'list',
  data: [
    { id: 'gpt-4o', object: 'model', created: 1715367049, owned_by: 'system' },
    { id: 'gpt-5.1-chat-latest', object: 'model', created: 1762547951, owned_by: 'system' },
  ],
};

/** A Responses API stream, shaped as OpenAI sends it. */
export function responsesStream(text: string): Array<{ type: string; [k: string]: unknown }> {
  const response = { id: 'resp_68c1d2f0a4b88190b5c3', object: 'response', created_at: 1757525942, status: 'in_progress', model: 'gpt-4o-2024-08-06', output: [] as unknown[] };
  const item = { id: 'msg_68c1d2f1b9e481909a7d', type: 'message', status: 'in_progress', role: 'assistant', content: [] as unknown[] };
  const words = text.split(/(?= )/);
  const events: Array<{ type: string; [k: string]: unknown }> = [
    { type: 'response.created', sequence_number: 0, response },
    { type: 'response.in_progress', sequence_number: 1, response },
    { type: 'response.output_item.added', sequence_number: 2, output_index: 0, item },
    { type: 'response.content_part.added', sequence_number: 3, item_id: item.id, output_index: 0, content_index: 0, part: { type: 'output_text', annotations: [], text: '' } },
  ];
  for (const word of words) {
    events.push({ type: 'response.output_text.delta', sequence_number: events.length, item_id: item.id, output_index: 0, content_index: 0, delta: word, logprobs: [] });
  }
  const done = { type: 'output_text', annotations: [], logprobs: [], text };
  const finalItem = { ...item, status: 'completed', content: [done] };
  events.push({ type: 'response.output_text.done', sequence_number: events.length, item_id: item.id, output_index: 0, content_index: 0, text, logprobs: [] });
  events.push({ type: 'response.content_part.done', sequence_number: events.length, item_id: item.id, output_index: 0, content_index: 0, part: done });
  events.push({ type: 'response.output_item.done', sequence_number: events.length, output_index: 0, item: finalItem });
  events.push({
    type: 'response.completed',
    sequence_number: events.length,
    response: { ...response, status: 'completed', output: [finalItem], usage: { input_tokens: 12, output_tokens: words.length, total_tokens: 12 + words.length } },
  });
  return events;
}

/** A fake OpenAI: chat answers from the seeds (matched by the last user message), plus embeddings, models and Responses. */
export function fakeOpenAi(script: () => StreamScript = () => ({})): FakeUpstream {
  const upstream = new FakeUpstream();
  upstream.on('POST', /\/chat\/completions$/, async (request, res) => {
    const body = JSON.parse(request.body) as SeedExchange['request'];
    const last = body.messages[body.messages.length - 1]?.content;
    const match = seedExchanges.find((e) => e.request.messages[e.request.messages.length - 1]?.content === last && e.request.model === body.model && Boolean(e.request.stream) === Boolean(body.stream));
    if (!match) return sendJson(res, 400, { error: { message: 'fake upstream: no seed for this conversation', type: 'invalid_request_error', param: 'messages', code: null } });
    if (Array.isArray(match.response)) return sendEvents(res, openAiSse(match.response), script());
    return sendJson(res, 200, match.response);
  });
  upstream.on('POST', /\/embeddings$/, (request, res) => {
    // Like the real API: the SDK asks for base64 (little-endian float32) by default.
    if ((JSON.parse(request.body) as { encoding_format?: string }).encoding_format !== 'base64') return sendJson(res, 200, embeddingResponse);
    const data = embeddingResponse.data.map((item) => ({ ...item, embedding: Buffer.from(new Float32Array(item.embedding).buffer).toString('base64') }));
    return sendJson(res, 200, { ...embeddingResponse, data });
  });
  upstream.on('GET', /\/models$/, (_request, res) => sendJson(res, 200, modelsResponse));
  upstream.on('POST', /\/responses$/, async (request, res) => {
    const body = JSON.parse(request.body) as { input: string; stream?: boolean };
    const events = responsesStream(`You said: ${body.input}`);
    if (body.stream) return sendEvents(res, typedSse(events), script());
    return sendJson(res, 200, (events[events.length - 1] as unknown as { response: unknown }).response);
  });
  return upstream;
}
