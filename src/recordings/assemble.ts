// What a recorded stream said, put back together: the text and any tool calls, for
// the streaming formats of OpenAI (chat, completions, Responses), Anthropic, Ollama
// and Gemini.
import { isJsonObject, toPlainJson, type JsonValue } from '../json/lossless.js';
import { unwrapTyped } from './recording.js';

export interface ToolCall {
  id?: string;
  name?: string;
  arguments: string;
}

export interface AssembledStream {
  chunks: number;
  text: string;
  toolCalls: ToolCall[];
}

type Chunk = Record<string, any>;

export function assembleStream(body: JsonValue[]): AssembledStream {
  const chunks = body.map((chunk) => toPlainJson(unwrapTyped(chunk))).filter((c): c is Chunk => isJsonObject(c as JsonValue));
  let text = '';
  const calls = new Map<string | number, ToolCall>();
  const call = (key: string | number): ToolCall => {
    let found = calls.get(key);
    if (!found) calls.set(key, (found = { arguments: '' }));
    return found;
  };
  for (const chunk of chunks) {
    // OpenAI chat completions and completions
    for (const choice of (chunk['choices'] as Chunk[] | undefined) ?? []) {
      text += choice['delta']?.content ?? choice['text'] ?? '';
      for (const toolCall of (choice['delta']?.tool_calls as Chunk[] | undefined) ?? []) {
        const entry = call(`chat:${toolCall['index'] ?? 0}`);
        if (toolCall['id']) entry.id = toolCall['id'];
        if (toolCall['function']?.name) entry.name = toolCall['function'].name;
        entry.arguments += toolCall['function']?.arguments ?? '';
      }
    }
    const type = chunk['type'];
    // OpenAI Responses
    if (type === 'response.output_text.delta') text += chunk['delta'] ?? '';
    if (type === 'response.output_item.added' && chunk['item']?.type === 'function_call') {
      const entry = call(`resp:${chunk['item'].id}`);
      entry.id = chunk['item'].call_id;
      entry.name = chunk['item'].name;
    }
    if (type === 'response.function_call_arguments.delta') call(`resp:${chunk['item_id']}`).arguments += chunk['delta'] ?? '';
    // Anthropic Messages
    if (type === 'content_block_start' && chunk['content_block']?.type === 'tool_use') {
      const entry = call(`msg:${chunk['index']}`);
      entry.id = chunk['content_block'].id;
      entry.name = chunk['content_block'].name;
    }
    if (type === 'content_block_delta') {
      if (chunk['delta']?.type === 'text_delta') text += chunk['delta'].text ?? '';
      if (chunk['delta']?.type === 'input_json_delta') call(`msg:${chunk['index']}`).arguments += chunk['delta'].partial_json ?? '';
    }
    // Ollama
    if (typeof chunk['message']?.content === 'string' && chunk['choices'] === undefined) text += chunk['message'].content;
    if (typeof chunk['response'] === 'string') text += chunk['response'];
    for (const toolCall of (chunk['message']?.tool_calls as Chunk[] | undefined) ?? []) {
      calls.set(`ollama:${calls.size}`, { name: toolCall['function']?.name, arguments: JSON.stringify(toolCall['function']?.arguments ?? {}) });
    }
    // Gemini
    for (const candidate of (chunk['candidates'] as Chunk[] | undefined) ?? []) {
      for (const part of (candidate['content']?.parts as Chunk[] | undefined) ?? []) {
        if (typeof part['text'] === 'string') text += part['text'];
        if (part['functionCall']) calls.set(`gemini:${calls.size}`, { name: part['functionCall'].name, arguments: JSON.stringify(part['functionCall'].args ?? {}) });
      }
    }
  }
  return { chunks: body.length, text, toolCalls: [...calls.values()] };
}
