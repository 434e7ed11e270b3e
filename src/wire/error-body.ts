// The OpenAI-style error body every answer of llm-replay's own uses: the official
// SDKs read `error.message` and `error.code` from it, whatever the provider.

interface ErrorBody {
  error: { message: string; type: string; param: string | null; code: string };
}

export function errorBody(message: string, type: string, code: string, param: string | null = null): ErrorBody {
  return { error: { message, type, param, code } };
}
