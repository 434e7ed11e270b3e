// Credential-looking strings, for checking that recordings carry none.

const PATTERNS: Array<[string, RegExp]> = [
  ['OpenAI API key', /\bsk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,}/],
  ['Anthropic API key', /\bsk-ant-[A-Za-z0-9_-]{10,}/],
  ['Google API key', /\bAIza[0-9A-Za-z_-]{35}\b/],
  ['bearer token', /\bBearer\s+[A-Za-z0-9._~+/-]{16,}=*/],
  ['credential header', /"(?:authorization|x-api-key|api-key|x-goog-api-key|cookie|proxy-authorization)"\s*:\s*"[^"]+"/i],
  ['credential query parameter', /[?&](?:key|api_key|api-key|apikey|access_token)=[^&"\s]{8,}/i],
];

/** The kinds of credential found in a text, if any. */
export function findCredentials(text: string): string[] {
  return PATTERNS.filter(([, pattern]) => pattern.test(text)).map(([name]) => name);
}
