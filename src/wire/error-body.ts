// The OpenAI-style error body every answer of llm-replay's own uses: the official
// SDKs read `error.message` and `error.code` from it, whatever the provider.

interface ErrorBody {
  error: { message: string; type: string; param: string | null; code: string };
}

export function errorBody(message: string, type: string, code: string, param: string | null = null): ErrorBody {
  return { error: { message, type, param, code } };
}

/** The upstream failed (unreachable, silent, broke off): the SDKs retry a 502 or 504 with this body. */
export function upstreamErrorBody(message: string): ErrorBody {
  return errorBody(message, 'upstream_error', 'llm_replay_upstream_error');
}
