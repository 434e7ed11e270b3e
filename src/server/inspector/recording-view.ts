// One recording as the page shows it: the conversation, the answer (for a stream, the
// assembled text and its timeline), the shape of embeddings, and the raw file.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { toPlainJson } from '../../json/lossless.js';
import { assembleStream } from '../../recordings/assemble.js';
import { answerOf, apiOf, conversationOf, embeddingShape } from '../../recordings/conversation.js';
import { statusOf, unwrapTyped } from '../../recordings/recording.js';
import type { RecordingStore } from '../../recordings/store.js';
import { streamTimeline } from '../../recordings/timeline.js';
import type { ListedRecording, RecordingView } from './contract.js';

/** The raw file is shown up to this size. */
const RAW_LIMIT = 1024 * 1024;

/** {"error": ...}: OpenAI's, Anthropic's, Ollama's and Gemini's error bodies all put it there. */
function isErrorEnvelope(body: unknown): body is { error: unknown } {
  return typeof body === 'object' && body !== null && !Array.isArray(body) && 'error' in body;
}

export async function recordingView(store: RecordingStore, row: ListedRecording): Promise<RecordingView> {
  const file = path.join(store.dir, row.file);
  const [recording, raw] = await Promise.all([store.read(file), readFile(file, 'utf8')]);
  const { request, response } = recording;
  const requestBody = toPlainJson(request.body);
  const view: RecordingView = {
    row,
    path: file,
    request: { method: request.method, endpoint: request.endpoint, url: request.url, model: request.model ?? '', body: requestBody },
    response: { status: statusOf(response), streaming: response.is_streaming, headers: response.headers ?? {} },
    raw: { text: raw.length > RAW_LIMIT ? raw.slice(0, RAW_LIMIT) : raw, truncated: raw.length > RAW_LIMIT, bytes: Buffer.byteLength(raw) },
  };
  if (response.origin) {
    const { upstream, recorded_at: recordedAt, model, version_headers: versionHeaders } = response.origin;
    view.origin = { upstream, ...(recordedAt ? { recordedAt } : {}), ...(model ? { model } : {}), ...(versionHeaders ? { versionHeaders } : {}) };
  }
  const conversation = conversationOf(request.endpoint, requestBody);
  if (conversation) view.conversation = conversation;
  if (response.is_exception) {
    view.response.error = toPlainJson(response.exception_data ?? response.exception_message ?? null);
  } else if (response.body_encoding === 'base64') {
    const body = String(toPlainJson(response.body));
    view.response.binary = { bytes: Buffer.from(body, 'base64').length, contentType: response.headers?.['content-type'] ?? 'application/octet-stream' };
  } else if (response.is_streaming && Array.isArray(response.body)) {
    const assembled = assembleStream(response.body);
    view.stream = { format: response.stream?.format ?? 'sse', chunks: assembled.chunks, text: assembled.text, toolCalls: assembled.toolCalls, timeline: streamTimeline(response.body, response.stream) };
  } else {
    const body = toPlainJson(unwrapTyped(response.body));
    if (view.response.status >= 400) {
      // An HTTP error's answer is its error, in whatever shape the API gave it.
      view.response.error = isErrorEnvelope(body) ? body['error'] : body;
    } else if (apiOf(request.endpoint) === 'embeddings') {
      const shape = embeddingShape(requestBody, body);
      if (shape) view.embeddings = shape;
      else view.response.body = body;
    } else {
      view.response.body = body;
      const answer = answerOf(request.endpoint, body);
      if (answer) view.answer = answer;
    }
  }
  return view;
}
