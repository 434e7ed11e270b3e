// An answer's shape: what a client's code depends on, with none of what changes on
// every call. Status, media type, stream or not; for JSON each member path with the
// types seen there (array elements merged under `[]`); for a stream the kinds of
// event in the order they first came and each kind's paths; the finish reasons.
// Text, ids, timestamps and numbers' values are not part of it.
import { isJsonObject, type JsonValue } from '../json/lossless.js';
import { statusOf, unwrapTyped, type RecordedResponse } from '../recordings/recording.js';
import type { AnswerShape, PathTypes } from './report.js';

const FINISH_FIELDS = new Set(['finish_reason', 'stop_reason', 'finishReason', 'done_reason']);

function typeOf(value: JsonValue): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'object') return 'isLosslessNumber' in value ? 'number' : 'object';
  return typeof value;
}

function addType(paths: Map<string, Set<string>>, path: string, value: JsonValue): void {
  let types = paths.get(path);
  if (!types) paths.set(path, (types = new Set()));
  types.add(typeOf(value));
}

/** A tool call's arguments: the model chooses their members, so only their type is shape (OpenAI's are a string already). */
function isToolArguments(parent: Record<string, unknown>, name: string, path: string): boolean {
  if (name === 'input') return typeof parent['type'] === 'string' && parent['type'].endsWith('tool_use');
  if (name === 'args') return /(^|\.)function_?[cC]all$/.test(path);
  if (name === 'arguments') return /(^|\.)function$/.test(path);
  return false;
}

function walk(value: JsonValue, path: string, paths: Map<string, Set<string>>, finish: Set<string>): void {
  if (path !== '') addType(paths, path, value);
  if (Array.isArray(value)) {
    // Elements that name their type are kept apart by it, so a mixed array (text and tool_use blocks) hides no change of one kind.
    for (const element of value) walk(element, `${path}[${isJsonObject(element) && typeof element['type'] === 'string' ? `type=${element['type']}` : ''}]`, paths, finish);
  } else if (isJsonObject(value) && !('isLosslessNumber' in value)) {
    for (const [name, member] of Object.entries(value)) {
      if (FINISH_FIELDS.has(name) && typeof member === 'string') finish.add(member);
      const where = path === '' ? name : `${path}.${name}`;
      if (isToolArguments(value, name, path)) addType(paths, where, member as JsonValue);
      else walk(member as JsonValue, where, paths, finish);
    }
  }
}

function sorted(paths: Map<string, Set<string>>): PathTypes {
  const out: PathTypes = {};
  for (const path of [...paths.keys()].sort()) out[path] = [...paths.get(path)!].sort();
  return out;
}

/** A chunk's kind: its SSE event name, else its `type`, else its `object`, else Ollama's final line or a plain chunk. */
function kindOf(chunk: JsonValue, event: string | undefined): string {
  if (event) return event;
  if (isJsonObject(chunk)) {
    if (typeof chunk['type'] === 'string') return chunk['type'];
    if (typeof chunk['object'] === 'string') return chunk['object'];
    if (chunk['done'] === true) return 'done';
  }
  return 'chunk';
}

/** The event name of each chunk, by position (events without data take no chunk). */
function eventNames(response: RecordedResponse): Array<string | undefined> {
  const events = response.stream?.events;
  if (!events) return [];
  return events.filter((meta) => meta.data !== false).map((meta) => meta.event);
}

/** The wire body of an error llama-stack recorded as an exception. */
function exceptionBody(response: RecordedResponse): JsonValue {
  const data = response.exception_data;
  return isJsonObject(data) && data['body'] !== undefined ? (data['body'] as JsonValue) : (data ?? null);
}

/** The JSON body as the API sends it: an exception's error body; llama-stack's model list (an array of typed models) as the API's list. */
function wireBody(response: RecordedResponse): JsonValue {
  if (response.is_exception && response.body === null) return unwrapTyped(exceptionBody(response));
  const body = unwrapTyped(response.body);
  return Array.isArray(body) ? { object: 'list', data: body.map((item) => unwrapTyped(item)) } : body;
}

export function shapeOf(response: RecordedResponse): AnswerShape {
  const contentType = (response.headers?.['content-type'] ?? (response.is_streaming ? 'text/event-stream' : 'application/json')).split(';')[0]!.trim().toLowerCase();
  const finish = new Set<string>();
  const shape: AnswerShape = { status: statusOf(response), contentType, streaming: response.is_streaming, finishReasons: [] };
  if (response.body_encoding === 'base64') return shape;
  if (response.is_streaming && Array.isArray(response.body)) {
    const names = eventNames(response);
    const kinds = new Map<string, Map<string, Set<string>>>();
    response.body.forEach((raw, index) => {
      const chunk = unwrapTyped(raw);
      const kind = kindOf(chunk, names[index]);
      let paths = kinds.get(kind);
      if (!paths) kinds.set(kind, (paths = new Map()));
      walk(chunk, '', paths, finish);
    });
    shape.events = [...kinds.keys()];
    shape.kinds = Object.fromEntries([...kinds].map(([kind, paths]) => [kind, sorted(paths)]));
  } else {
    const paths = new Map<string, Set<string>>();
    walk(wireBody(response), '', paths, finish);
    shape.body = sorted(paths);
  }
  shape.finishReasons = [...finish].sort();
  return shape;
}
