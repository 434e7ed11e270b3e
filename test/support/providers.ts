// Fake Anthropic, Ollama and Gemini upstreams sending each API's real wire format
// (as documented by each provider), for recording with their official clients.
import { FakeUpstream, sendEvents, sendJson, type StreamScript } from './fake-upstream.js';

export const ANSWER = 'Saturn is the planet with the most famous rings.';
const words = ANSWER.split(/(?= )/);

// --- Anthropic Messages -------------------------------------------------------
export const anthropicMessage = {
  id: 'msg_01XFDUDYJgAACzvnptvVoYEL',
  type: 'message',
  role: 'assistant',
  model: 'claude-sonnet-4-5-20250929',
  content: [{ type: 'text', text: ANSWER }],
  stop_reason: 'end_turn',
  stop_sequence: null,
  usage: { input_tokens: 14, output_tokens: 12 },
};

export function anthropicEvents(): string[] {
  const start = { ...anthropicMessage, content: [], stop_reason: null, usage: { input_tokens: 14, output_tokens: 1 } };
  const events: Array<[string, string]> = [
    ['message_start', JSON.stringify({ type: 'message_start', message: start })],
    ['content_block_start', JSON.stringify({ type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } })],
    ['ping', '{"type": "ping"}'],
    ...words.map((text): [string, string] => ['content_block_delta', JSON.stringify({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text } })]),
    ['content_block_stop', JSON.stringify({ type: 'content_block_stop', index: 0 })],
    ['message_delta', JSON.stringify({ type: 'message_delta', delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: 12 } })],
    ['message_stop', JSON.stringify({ type: 'message_stop' })],
  ];
  return events.map(([event, data]) => `event: ${event}\ndata: ${data}\n\n`);
}

export function fakeAnthropic(script: () => StreamScript = () => ({})): FakeUpstream {
  return new FakeUpstream().on('POST', '/v1/messages', (request, res) => {
    // SDK 1.x sends the key as a bearer token; older clients and curl use x-api-key.
    if (!(request.headers['x-api-key'] || request.headers['authorization']) || !request.headers['anthropic-version']) {
      return sendJson(res, 401, { type: 'error', error: { type: 'authentication_error', message: 'x-api-key and anthropic-version are required' } });
    }
    const body = JSON.parse(request.body) as { stream?: boolean };
    if (body.stream) return sendEvents(res, anthropicEvents(), script());
    return sendJson(res, 200, anthropicMessage, { 'request-id': 'req_011CSHoEeqs5C35K2UUqR7Fy' });
  });
}

// --- Ollama native API --------------------------------------------------------
const ollamaTimes = { total_duration: 4883583458, load_duration: 1334875, prompt_eval_count: 26, prompt_eval_duration: 342546000, eval_count: 12, eval_duration: 4535599000 };

export function ollamaChatLines(model: string): string[] {
  const lines = words.map((content) => JSON.stringify({ model, created_at: '2025-09-10T17:45:12.817292Z', message: { role: 'assistant', content }, done: false }));
  lines.push(JSON.stringify({ model, created_at: '2025-09-10T17:45:13.903281Z', message: { role: 'assistant', content: '' }, done_reason: 'stop', done: true, ...ollamaTimes }));
  return lines.map((line) => `${line}\n`);
}

export function fakeOllama(script: () => StreamScript = () => ({})): FakeUpstream {
  const upstream = new FakeUpstream();
  upstream.on('POST', '/api/chat', (request, res) => {
    const body = JSON.parse(request.body) as { model: string; stream?: boolean };
    if (body.stream === false) {
      return sendJson(res, 200, { model: body.model, created_at: '2025-09-10T17:45:13.903281Z', message: { role: 'assistant', content: ANSWER }, done_reason: 'stop', done: true, ...ollamaTimes });
    }
    return sendEvents(res, ollamaChatLines(body.model), { contentType: 'application/x-ndjson', ...script() });
  });
  upstream.on('POST', '/api/generate', (request, res) => {
    const body = JSON.parse(request.body) as { model: string };
    const lines = words.map((response) => JSON.stringify({ model: body.model, created_at: '2025-09-10T17:45:12.817292Z', response, done: false }));
    lines.push(JSON.stringify({ model: body.model, created_at: '2025-09-10T17:45:13.903281Z', response: '', done: true, done_reason: 'stop', context: [1, 2, 3], ...ollamaTimes }));
    return sendEvents(res, lines.map((l) => `${l}\n`), { contentType: 'application/x-ndjson', ...script() });
  });
  upstream.on('POST', '/api/embed', (request, res) => {
    const body = JSON.parse(request.body) as { model: string };
    return sendJson(res, 200, { model: body.model, embeddings: [[0.010071029, -0.0017594862, 0.05007221]], total_duration: 14143917, load_duration: 1019500, prompt_eval_count: 8 });
  });
  upstream.on('GET', '/api/tags', (_r, res) =>
    sendJson(res, 200, { models: [{ name: 'llama3.2:3b', model: 'llama3.2:3b', modified_at: '2025-09-01T10:00:00.000000Z', size: 2019393189, digest: 'a80c4f17acd55265feec403c7aef86be0c25983ab279d83f3bcd3abbcb5b8b72', details: { format: 'gguf', family: 'llama', parameter_size: '3.2B', quantization_level: 'Q4_K_M' } }] }),
  );
  upstream.on('GET', '/api/ps', (_r, res) => sendJson(res, 200, { models: [] }));
  upstream.on('POST', '/api/show', (_r, res) => sendJson(res, 200, { modelfile: '# Modelfile', parameters: 'stop "<|eot_id|>"', template: '{{ .Prompt }}', details: { family: 'llama' } }));
  return upstream;
}

// --- Gemini ---------------------------------------------------------------------
export function geminiChunks(): unknown[] {
  return words.map((text, i) => ({
    candidates: [{ content: { parts: [{ text }], role: 'model' }, ...(i === words.length - 1 ? { finishReason: 'STOP' } : {}), index: 0 }],
    usageMetadata: { promptTokenCount: 9, candidatesTokenCount: i + 1, totalTokenCount: 10 + i },
    modelVersion: 'gemini-2.0-flash',
    responseId: 'mHbBaJ7tLo2vnvgP2sKwoAo',
  }));
}

export function fakeGemini(script: () => StreamScript = () => ({})): FakeUpstream {
  const upstream = new FakeUpstream();
  upstream.on('POST', /^\/v1beta\/models\/[^/]+:streamGenerateContent$/, (_request, res) =>
    // Gemini frames its SSE with CRLF line endings and no terminator.
    sendEvents(res, geminiChunks().map((chunk) => `data: ${JSON.stringify(chunk)}\r\n\r\n`), script()),
  );
  upstream.on('POST', /^\/v1beta\/models\/[^/]+:generateContent$/, (_request, res) =>
    sendJson(res, 200, { candidates: [{ content: { parts: [{ text: ANSWER }], role: 'model' }, finishReason: 'STOP', index: 0 }], usageMetadata: { promptTokenCount: 9, candidatesTokenCount: 12, totalTokenCount: 21 }, modelVersion: 'gemini-2.0-flash' }),
  );
  return upstream;
}
