// What a forwarded exchange becomes on disk: the request as keyed (no credentials,
// no upstream base path, no headers) and the answer as the client got it, with
// the fields that change on every call made constant.
import { isUtf8 } from 'node:buffer';
import type { IncomingHttpHeaders } from 'node:http';
import { isJsonObject, parsedJson, type JsonValue } from '../json/lossless.js';
import type { RequestKey } from '../keys/index.js';
import { withPlainNumbers, type Recording, type RecordedResponse } from '../recordings/recording.js';
import { answeredModel, VERSION_HEADERS, type RecordingOrigin } from '../recordings/origin.js';
import type { ClientRequest } from '../request/client-request.js';
import { canonicalQuery } from '../secrets/redact.js';
import type { CapturedStream } from './capture.js';
import type { IdSession } from './ids.js';
import { normalizeResponseObject } from './response-normalize.js';
import { keptHeaders, type UpstreamHead } from './failure-policy.js';

export type { UpstreamHead } from './failure-policy.js';

export function contentTypeOf(headers: IncomingHttpHeaders): string | undefined {
  const value = headers['content-type'];
  return Array.isArray(value) ? value[0] : value;
}

/** When (unless timing is off: re-recordings then stay byte-identical) and against what the answer was made. */
function originOf(upstream: URL, head: UpstreamHead, response: RecordedResponse, recordTiming: boolean): RecordingOrigin {
  const origin: RecordingOrigin = { upstream: upstream.host };
  if (recordTiming) origin.recorded_at = new Date().toISOString();
  const model = answeredModel(response.body);
  if (model !== undefined) origin.model = model;
  const versions: Record<string, string> = {};
  for (const name of VERSION_HEADERS) {
    const value = head.headers[name];
    if (value !== undefined) versions[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  if (Object.keys(versions).length > 0) origin.version_headers = versions;
  return origin;
}

/** `answer.plainNumbers`: the answer's body holds no LosslessNumber (it came from JSON.parse, or is not JSON). */
export function recordingOf(client: ClientRequest, key: RequestKey, upstream: URL, answer: { head: UpstreamHead; response: RecordedResponse; recordTiming: boolean; plainNumbers?: boolean }): Recording {
  // The answer's response is made for this recording alone: given its origin in place (last, as a copy would have it; a copy's each new shape is a slow path in V8).
  const { response } = answer;
  response.origin = originOf(upstream, answer.head, response, answer.recordTiming);
  const body = key.storedBody();
  const query = canonicalQuery(client.query);
  const request: Recording['request'] = {
    method: key.method,
    // The upstream's origin and the keyed path: no credentials, no base path (a gateway's account id).
    url: `${upstream.origin}${key.keyedPath}${query ? `?${query}` : ''}`,
    headers: {},
    body: client.body.kind === 'bytes' ? client.body.bytes.toString('base64') : body,
    endpoint: key.endpoint,
    model: isJsonObject(body) && typeof body['model'] === 'string' ? body['model'] : '',
  };
  if (client.body.kind === 'bytes') {
    request['body_encoding'] = 'base64';
    request['content_type'] = client.body.contentType;
  }
  const recording: Recording = { test_id: client.testId, request, response, id_normalization_mapping: {} };
  // The stored body is the client's own, as JSON.parse read it (the default scheme's), or none.
  const plainRequest = body === null || (client.body.kind === 'json' && client.body.plainNumbers && body === client.body.value);
  return answer.plainNumbers && plainRequest ? withPlainNumbers(recording) : recording;
}

export function streamedResponse(key: RequestKey, head: UpstreamHead, captured: CapturedStream, ids: IdSession | undefined): RecordedResponse {
  return {
    body: captured.chunks.map((chunk) => normalizeResponseObject(chunk, key.key, !ids)),
    is_streaming: true,
    status: head.status,
    headers: keptHeaders(head.headers, head.status, key.method),
    stream: captured.framing,
  };
}

/** A whole (non-stream) answer: the bytes for the client (ids rewritten) and what to store. */
export function wholeResponse(key: RequestKey, head: UpstreamHead, upstreamBytes: Buffer, ids: IdSession | undefined): { bytes: Buffer; response: RecordedResponse; plainNumbers: boolean } {
  const type = contentTypeOf(head.headers) ?? '';
  let body: JsonValue | undefined;
  let bytes = upstreamBytes;
  // Base64, null, or what JSON.parse read.
  let plainNumbers = true;
  if (/json/i.test(type) || type === '') {
    try {
      const text = bytes.toString('utf8');
      const parsed = parsedJson(text);
      const value = parsed.value;
      plainNumbers = parsed.plainNumbers;
      // The recording keeps the text, each bad sequence read as U+FFFD: the client gets what replay will send.
      if (!isUtf8(bytes)) bytes = Buffer.from(text);
      const replace = ids?.replacer(value);
      if (replace) bytes = replace.inAnswer(text, bytes, value);
      body = normalizeResponseObject(value, key.key, !ids);
    } catch {
      body = undefined;
      plainNumbers = true;
    }
  }
  const kept = { is_streaming: false, status: head.status, headers: keptHeaders(head.headers, head.status, key.method) };
  const response: RecordedResponse =
    body === undefined && bytes.length > 0 ? { body: bytes.toString('base64'), ...kept, body_encoding: 'base64' } : { body: body ?? null, ...kept };
  return { bytes, response, plainNumbers };
}
