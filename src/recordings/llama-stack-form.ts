// Recordings written under the llama-stack key scheme, in the form llama-stack's
// own recorder loads: SDK objects wrapped as {"__type__", "__data__"}, failures as
// is_exception records, and model lists as models-<key>-<digest>.json files
// holding a list of Model objects.
import { createHash } from 'node:crypto';
import { isJsonObject, type JsonValue } from '../json/lossless.js';
import type { Recording, RecordedResponse } from './recording.js';

const TYPES: Record<string, { body: string; chunk?: string }> = {
  '/v1/chat/completions': {
    body: 'openai.types.chat.chat_completion.ChatCompletion',
    chunk: 'openai.types.chat.chat_completion_chunk.ChatCompletionChunk',
  },
  '/v1/completions': { body: 'openai.types.completion.Completion', chunk: 'openai.types.completion.Completion' },
  '/v1/embeddings': { body: 'openai.types.create_embedding_response.CreateEmbeddingResponse' },
};
const MODEL_TYPE = 'openai.types.model.Model';

/** The OpenAI Python SDK's exception class for a status, as llama-stack records it. */
function exceptionType(status: number): string {
  const byStatus: Record<number, string> = {
    400: 'BadRequestError',
    401: 'AuthenticationError',
    403: 'PermissionDeniedError',
    404: 'NotFoundError',
    409: 'ConflictError',
    422: 'UnprocessableEntityError',
    429: 'RateLimitError',
  };
  return byStatus[status] ?? (status >= 500 ? 'InternalServerError' : 'APIStatusError');
}

function wrap(type: string, value: JsonValue): JsonValue {
  return { __type__: type, __data__: value };
}

/** llama-stack's digest of a model list: the first 8 hex of SHA-256 of the sorted unique ids joined by "|". */
export function modelListDigest(ids: string[]): string {
  return createHash('sha256').update([...new Set(ids)].sort().join('|')).digest('hex').slice(0, 8);
}

function asException(response: RecordedResponse, status: number): RecordedResponse {
  const body = response.body;
  const error = isJsonObject(body) && isJsonObject(body['error']) ? body['error'] : body;
  const message = `Error code: ${status} - ${JSON.stringify(body)}`;
  return {
    body: null,
    is_streaming: false,
    is_exception: true,
    exception_data: { category: 'provider_sdk', provider: 'openai', type: exceptionType(status), message, status_code: status, body: error },
    exception_message: message,
    status,
    // What a client acts on (retry-after, x-ratelimit-*): llama-stack's loader ignores it, replay sends it.
    ...(response.headers ? { headers: response.headers } : {}),
  };
}

/** Adapts a recording to llama-stack's form; a model list also gets the file name its part goes under. */
export function toLlamaStackForm(recording: Recording, key: string, modelList: boolean): { recording: Recording; modelListFile?: string } {
  const { response } = recording;
  const endpoint = recording.request.endpoint;
  const status = response.status ?? 200;
  if (status >= 400) return { recording: { ...recording, response: asException(response, status) } };
  if (modelList && isJsonObject(response.body) && Array.isArray(response.body['data'])) {
    const models = response.body['data'];
    const ids = models.map((model) => (isJsonObject(model) ? String(model['id']) : ''));
    return {
      recording: { ...recording, response: { ...response, body: models.map((model) => wrap(MODEL_TYPE, model)) } },
      modelListFile: `models-${key}-${modelListDigest(ids)}.json`,
    };
  }
  const types = TYPES[endpoint];
  if (!types || response.body_encoding) return { recording };
  const body =
    response.is_streaming && Array.isArray(response.body)
      ? response.body.map((chunk) => wrap(types.chunk ?? types.body, chunk))
      : wrap(types.body, response.body);
  return { recording: { ...recording, response: { ...response, body } } };
}
