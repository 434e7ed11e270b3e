// A recording as a person reads it: the messages of the request (system, user,
// assistant, tool calls and their results, images as placeholders) and the answer,
// for OpenAI chat, completions and Responses, Anthropic messages, Ollama chat and
// generate, and Gemini; and for embeddings, the shape of the vectors rather than
// their numbers. Input is plain JSON (lossless numbers already made plain). This
// module imports nothing: the inspector page's script uses its types as they are.

export type Part =
  | { kind: 'text'; text: string }
  | { kind: 'thinking'; text: string }
  /** An image, audio clip or file, never its bytes: what it is and roughly how large. */
  | { kind: 'media'; label: string }
  | { kind: 'tool-call'; id?: string; name: string; arguments: string }
  | { kind: 'tool-result'; id?: string; name?: string; text: string };

export interface Message {
  role: string;
  parts: Part[];
}

export type Api = 'openai-chat' | 'openai-completions' | 'openai-responses' | 'anthropic' | 'ollama-chat' | 'ollama-generate' | 'gemini' | 'embeddings';

export interface Conversation {
  api: Api;
  messages: Message[];
  /** Names of the tools offered to the model. */
  tools: string[];
  /** Other top-level settings worth a glance (temperature, max_tokens ...), as JSON text. */
  settings: Array<{ name: string; value: string }>;
}

export interface Answer {
  messages: Message[];
  /** Why the model stopped, as the API says it. */
  stop?: string;
  /** Token counts as the API reports them. */
  usage?: Record<string, number>;
}

/** A recorded stream's wire events over time (see timeline.ts). */
export interface TimelineEvent {
  /** Milliseconds from the request, when the stream's timing was recorded. */
  ms?: number;
  /** The SSE event name, the chunk's `type`, or `chunk`. */
  label: string;
  /** The text (or tool-call arguments) this event added to the answer. */
  text: string;
}

export interface Timeline {
  headMs?: number;
  events: TimelineEvent[];
}

export interface EmbeddingShape {
  inputs: number;
  vectors: number;
  dimensions: number[];
  encoding: 'float' | 'base64';
}

type Json = Record<string, any>;

const isObject = (value: unknown): value is Json => value !== null && typeof value === 'object' && !Array.isArray(value);
const asArray = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);
const jsonText = (value: unknown): string => (typeof value === 'string' ? value : JSON.stringify(value ?? null, null, 2));

/** The API a recording speaks, from its endpoint. */
export function apiOf(endpoint: string): Api | undefined {
  if (/embed(dings|Content|Contents)?$/i.test(endpoint) || /:batchEmbedContents$/.test(endpoint)) return 'embeddings';
  if (endpoint.endsWith('/chat/completions')) return 'openai-chat';
  if (endpoint.endsWith('/completions')) return 'openai-completions';
  if (endpoint.endsWith('/responses')) return 'openai-responses';
  if (endpoint.endsWith('/messages')) return 'anthropic';
  if (endpoint.endsWith('/api/chat')) return 'ollama-chat';
  if (endpoint.endsWith('/api/generate')) return 'ollama-generate';
  if (/:(stream)?generateContent$/i.test(endpoint)) return 'gemini';
  return undefined;
}

function media(kind: string, detail: unknown): Part {
  const text = typeof detail === 'string' ? detail : '';
  if (text.startsWith('data:')) {
    const type = text.slice(5, text.indexOf(';') > 0 ? text.indexOf(';') : undefined);
    return { kind: 'media', label: `${kind} (${type}, ${sizeOf(text.slice(text.indexOf(',') + 1))})` };
  }
  if (/^https?:\/\//.test(text)) return { kind: 'media', label: `${kind} ${text.length > 80 ? `${text.slice(0, 77)}...` : text}` };
  return { kind: 'media', label: text ? `${kind} (${text})` : kind };
}

/** The size of what base64 text decodes to. */
function sizeOf(base64: string): string {
  const bytes = decodedBytes(base64);
  return bytes < 1024 ? `${bytes} B` : bytes < 1024 * 1024 ? `${(bytes / 1024).toFixed(1)} KiB` : `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

/** OpenAI chat and Responses content: a string, or a list of typed parts. */
function openaiParts(content: unknown): Part[] {
  if (typeof content === 'string') return content ? [{ kind: 'text', text: content }] : [];
  const parts: Part[] = [];
  for (const part of asArray(content)) {
    if (!isObject(part)) continue;
    const type = String(part['type'] ?? '');
    if (typeof part['text'] === 'string') parts.push({ kind: type.includes('reasoning') ? 'thinking' : 'text', text: part['text'] });
    else if (type === 'refusal') parts.push({ kind: 'text', text: `(refused) ${part['refusal'] ?? ''}` });
    else if (type === 'image_url') parts.push(media('image', part['image_url']?.url));
    else if (type === 'input_image') parts.push(media('image', part['image_url'] ?? part['file_id']));
    else if (type === 'input_audio') parts.push(media('audio', part['input_audio']?.format ?? part['format']));
    else if (type === 'file' || type === 'input_file') parts.push(media('file', part['file']?.filename ?? part['filename'] ?? part['file_id']));
    else parts.push({ kind: 'text', text: jsonText(part) });
  }
  return parts;
}

function openaiChatMessage(message: Json): Message {
  const parts = openaiParts(message['content']);
  if (typeof message['reasoning_content'] === 'string') parts.unshift({ kind: 'thinking', text: message['reasoning_content'] });
  for (const call of asArray(message['tool_calls'])) {
    if (isObject(call)) parts.push({ kind: 'tool-call', id: call['id'], name: String(call['function']?.name ?? call['type'] ?? 'tool'), arguments: jsonText(call['function']?.arguments ?? call['custom']?.input ?? '') });
  }
  if (isObject(message['function_call'])) parts.push({ kind: 'tool-call', name: String(message['function_call']['name']), arguments: jsonText(message['function_call']['arguments']) });
  if (message['role'] === 'tool' || message['role'] === 'function') {
    return { role: 'tool', parts: [{ kind: 'tool-result', id: message['tool_call_id'], name: message['name'], text: parts.map(partText).join('\n') }] };
  }
  return { role: String(message['role'] ?? 'user'), parts };
}

const partText = (part: Part): string => (part.kind === 'text' || part.kind === 'thinking' ? part.text : part.kind === 'media' ? `[${part.label}]` : part.kind === 'tool-call' ? part.arguments : part.text);

function responsesItems(items: unknown): Message[] {
  const out: Message[] = [];
  for (const item of asArray(items)) {
    if (!isObject(item)) continue;
    const type = item['type'] ?? 'message';
    if (type === 'message') out.push({ role: String(item['role'] ?? 'assistant'), parts: openaiParts(item['content']) });
    else if (type === 'function_call' || type === 'custom_tool_call') out.push({ role: 'assistant', parts: [{ kind: 'tool-call', id: item['call_id'], name: String(item['name']), arguments: jsonText(item['arguments'] ?? item['input']) }] });
    else if (type === 'function_call_output' || type === 'custom_tool_call_output') out.push({ role: 'tool', parts: [{ kind: 'tool-result', id: item['call_id'], text: jsonText(item['output']) }] });
    else if (type === 'reasoning') {
      const text = asArray(item['summary']).map((s) => (isObject(s) ? String(s['text'] ?? '') : '')).join('\n');
      if (text) out.push({ role: 'assistant', parts: [{ kind: 'thinking', text }] });
    } else out.push({ role: 'assistant', parts: [{ kind: 'text', text: `${type}: ${jsonText(item)}` }] });
  }
  return out;
}

function anthropicParts(content: unknown): Part[] {
  if (typeof content === 'string') return [{ kind: 'text', text: content }];
  const parts: Part[] = [];
  for (const block of asArray(content)) {
    if (!isObject(block)) continue;
    const type = block['type'];
    if (type === 'text') parts.push({ kind: 'text', text: String(block['text'] ?? '') });
    else if (type === 'thinking') parts.push({ kind: 'thinking', text: String(block['thinking'] ?? '') });
    else if (type === 'redacted_thinking') parts.push({ kind: 'thinking', text: '(redacted)' });
    else if (type === 'image' || type === 'document') {
      const source = block['source'] ?? {};
      parts.push(source.type === 'base64' ? media(String(type), `data:${source.media_type};base64,${source.data ?? ''}`) : media(String(type), source.url ?? source.file_id ?? source.type));
    } else if (type === 'tool_use' || type === 'server_tool_use') parts.push({ kind: 'tool-call', id: block['id'], name: String(block['name']), arguments: jsonText(block['input']) });
    else if (type === 'tool_result') parts.push({ kind: 'tool-result', id: block['tool_use_id'], text: anthropicParts(block['content']).map(partText).join('\n') });
    else parts.push({ kind: 'text', text: jsonText(block) });
  }
  return parts;
}

function ollamaMessage(message: Json): Message {
  const parts: Part[] = [];
  if (typeof message['thinking'] === 'string' && message['thinking']) parts.push({ kind: 'thinking', text: message['thinking'] });
  if (typeof message['content'] === 'string' && message['content']) parts.push({ kind: 'text', text: message['content'] });
  for (const image of asArray(message['images'])) parts.push(media('image', typeof image === 'string' ? `data:image;base64,${image}` : ''));
  for (const call of asArray(message['tool_calls'])) {
    if (isObject(call)) parts.push({ kind: 'tool-call', name: String(call['function']?.name ?? 'tool'), arguments: jsonText(call['function']?.arguments ?? {}) });
  }
  if (message['role'] === 'tool') return { role: 'tool', parts: [{ kind: 'tool-result', name: message['tool_name'], text: parts.map(partText).join('\n') }] };
  return { role: String(message['role'] ?? 'user'), parts };
}

function geminiParts(content: unknown): Part[] {
  const parts: Part[] = [];
  for (const part of asArray(isObject(content) ? content['parts'] : content)) {
    if (!isObject(part)) continue;
    if (typeof part['text'] === 'string') parts.push({ kind: part['thought'] === true ? 'thinking' : 'text', text: part['text'] });
    else if (part['inlineData']) parts.push(media('media', `data:${part['inlineData'].mimeType};base64,${part['inlineData'].data ?? ''}`));
    else if (part['fileData']) parts.push(media('file', part['fileData'].fileUri));
    else if (part['functionCall']) parts.push({ kind: 'tool-call', id: part['functionCall'].id, name: String(part['functionCall'].name), arguments: jsonText(part['functionCall'].args ?? {}) });
    else if (part['functionResponse']) parts.push({ kind: 'tool-result', id: part['functionResponse'].id, name: part['functionResponse'].name, text: jsonText(part['functionResponse'].response) });
    else parts.push({ kind: 'text', text: jsonText(part) });
  }
  return parts;
}

const geminiRole = (role: unknown): string => (role === 'model' ? 'assistant' : String(role ?? 'user'));

const SHOWN_SETTINGS = ['temperature', 'top_p', 'topP', 'top_k', 'max_tokens', 'max_completion_tokens', 'max_output_tokens', 'maxOutputTokens', 'seed', 'stream', 'response_format', 'tool_choice', 'reasoning_effort', 'reasoning', 'n', 'stop', 'format', 'options', 'generationConfig', 'dimensions', 'encoding_format'];

function toolNames(body: Json): string[] {
  const names: string[] = [];
  for (const tool of asArray(body['tools'])) {
    if (!isObject(tool)) continue;
    const name = tool['function']?.name ?? tool['name'];
    if (typeof name === 'string') names.push(name);
    for (const declaration of asArray(tool['functionDeclarations'] ?? tool['function_declarations'])) if (isObject(declaration)) names.push(String(declaration['name']));
  }
  return names;
}

/** The request's conversation, or undefined for an API this does not know. */
export function conversationOf(endpoint: string, body: unknown): Conversation | undefined {
  const api = apiOf(endpoint);
  if (!api || !isObject(body)) return undefined;
  const messages: Message[] = [];
  const system = (text: unknown) => {
    const parts = typeof text === 'string' ? [{ kind: 'text' as const, text }] : anthropicParts(text);
    if (parts.length > 0) messages.push({ role: 'system', parts });
  };
  switch (api) {
    case 'openai-chat':
      for (const message of asArray(body['messages'])) if (isObject(message)) messages.push(openaiChatMessage(message));
      break;
    case 'openai-completions':
      for (const prompt of Array.isArray(body['prompt']) ? body['prompt'] : [body['prompt']]) messages.push({ role: 'user', parts: [{ kind: 'text', text: jsonText(prompt) }] });
      break;
    case 'openai-responses':
      if (typeof body['instructions'] === 'string') system(body['instructions']);
      if (typeof body['input'] === 'string') messages.push({ role: 'user', parts: [{ kind: 'text', text: body['input'] }] });
      else messages.push(...responsesItems(body['input']));
      break;
    case 'anthropic':
      if (body['system'] !== undefined) system(body['system']);
      for (const message of asArray(body['messages'])) if (isObject(message)) messages.push({ role: String(message['role']), parts: anthropicParts(message['content']) });
      break;
    case 'ollama-chat':
      for (const message of asArray(body['messages'])) if (isObject(message)) messages.push(ollamaMessage(message));
      break;
    case 'ollama-generate':
      if (typeof body['system'] === 'string') system(body['system']);
      messages.push(ollamaMessage({ role: 'user', content: body['prompt'], images: body['images'] }));
      break;
    case 'gemini':
      if (body['systemInstruction'] ?? body['system_instruction']) messages.push({ role: 'system', parts: geminiParts(body['systemInstruction'] ?? body['system_instruction']) });
      for (const content of asArray(body['contents'])) if (isObject(content)) messages.push({ role: geminiRole(content['role']), parts: geminiParts(content) });
      break;
    case 'embeddings': {
      const input = body['input'] ?? body['prompt'] ?? body['content'] ?? body['requests'];
      for (const item of Array.isArray(input) ? input : [input]) messages.push({ role: 'input', parts: [{ kind: 'text', text: isObject(item) ? jsonText(geminiParts(item['content'] ?? item).map(partText).join('\n')) : jsonText(item) }] });
      break;
    }
  }
  const settings = SHOWN_SETTINGS.filter((name) => body[name] !== undefined).map((name) => ({ name, value: JSON.stringify(body[name]) }));
  return { api, messages, tools: toolNames(body), settings };
}

/** The answer of a whole (not streamed) response body, or undefined for an API this does not know. */
export function answerOf(endpoint: string, body: unknown): Answer | undefined {
  const api = apiOf(endpoint);
  if (!api || api === 'embeddings' || !isObject(body)) return undefined;
  const usage = (value: unknown): Record<string, number> | undefined => {
    if (!isObject(value)) return undefined;
    const out: Record<string, number> = {};
    for (const [name, count] of Object.entries(value)) if (typeof count === 'number') out[name] = count;
    return Object.keys(out).length > 0 ? out : undefined;
  };
  const answer = (messages: Message[], stop: unknown, counts: unknown): Answer => ({
    messages,
    ...(typeof stop === 'string' ? { stop } : {}),
    ...(usage(counts) ? { usage: usage(counts)! } : {}),
  });
  switch (api) {
    case 'openai-chat': {
      const choices = asArray(body['choices']).filter(isObject);
      return answer(choices.map((choice) => openaiChatMessage({ role: 'assistant', ...(choice['message'] ?? {}) })), choices[0]?.['finish_reason'], body['usage']);
    }
    case 'openai-completions': {
      const choices = asArray(body['choices']).filter(isObject);
      return answer(choices.map((choice) => ({ role: 'assistant', parts: [{ kind: 'text', text: String(choice['text'] ?? '') }] })), choices[0]?.['finish_reason'], body['usage']);
    }
    case 'openai-responses':
      return answer(responsesItems(body['output']), body['status'], body['usage']);
    case 'anthropic':
      return answer([{ role: 'assistant', parts: anthropicParts(body['content']) }], body['stop_reason'], body['usage']);
    case 'ollama-chat':
      return answer([ollamaMessage({ role: 'assistant', ...(body['message'] ?? {}) })], body['done_reason'], { prompt_eval_count: body['prompt_eval_count'], eval_count: body['eval_count'] });
    case 'ollama-generate':
      return answer([ollamaMessage({ role: 'assistant', content: body['response'], thinking: body['thinking'] })], body['done_reason'], { prompt_eval_count: body['prompt_eval_count'], eval_count: body['eval_count'] });
    case 'gemini': {
      const candidates = asArray(body['candidates']).filter(isObject);
      return answer(candidates.map((candidate) => ({ role: 'assistant', parts: geminiParts(candidate['content']) })), candidates[0]?.['finishReason'], body['usageMetadata']);
    }
  }
}

function decodedBytes(base64: string): number {
  let padding = 0;
  while (padding < 2 && base64[base64.length - 1 - padding] === '=') padding++;
  return Math.floor((base64.length * 3) / 4) - padding;
}

/** How many vectors of how many dimensions an embeddings answer holds. */
export function embeddingShape(requestBody: unknown, responseBody: unknown): EmbeddingShape | undefined {
  if (!isObject(responseBody)) return undefined;
  const input = isObject(requestBody) ? (requestBody['input'] ?? requestBody['prompt'] ?? requestBody['requests'] ?? requestBody['content']) : undefined;
  const vectors: unknown[] = Array.isArray(responseBody['data'])
    ? responseBody['data'].map((item: unknown) => (isObject(item) ? item['embedding'] : undefined))
    : Array.isArray(responseBody['embeddings'])
      ? responseBody['embeddings'].map((item: unknown) => (isObject(item) ? item['values'] : item))
      : responseBody['embedding'] !== undefined
        ? [isObject(responseBody['embedding']) ? responseBody['embedding']['values'] : responseBody['embedding']]
        : [];
  if (vectors.length === 0) return undefined;
  const base64 = vectors.some((vector) => typeof vector === 'string');
  // A base64 vector is packed little-endian float32: 4 bytes a dimension.
  const dimensions = vectors.map((vector) => (Array.isArray(vector) ? vector.length : typeof vector === 'string' ? decodedBytes(vector) / 4 : 0));
  return { inputs: Array.isArray(input) ? input.length : input === undefined ? 0 : 1, vectors: vectors.length, dimensions: [...new Set(dimensions)], encoding: base64 ? 'base64' : 'float' };
}
