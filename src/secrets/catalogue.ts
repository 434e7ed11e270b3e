// The one list of credentials: where requests carry them (headers, query parameters),
// which redaction strips from every file, key and log line, and the shapes of common
// keys, which `verify` looks for in recordings. Add a provider's credential here and
// both redaction and detection know it.

/** Request headers that carry credentials (lower-case). */
export const CREDENTIAL_HEADERS: ReadonlySet<string> = new Set([
  'authorization',
  'proxy-authorization',
  'x-api-key',
  'api-key',
  'x-goog-api-key',
  'ocp-apim-subscription-key',
  'x-amz-security-token',
  'cookie',
  'set-cookie',
  'openai-organization',
  'openai-project',
]);

/**
 * Query parameters that carry credentials (lower-case): API keys and tokens, and the
 * signatures of presigned URLs (AWS SigV4's X-Amz-*, Google's X-Goog-*, Azure's sig).
 */
export const CREDENTIAL_QUERY_PARAMS: ReadonlySet<string> = new Set([
  'key',
  'api_key',
  'api-key',
  'apikey',
  'access_token',
  'refresh_token',
  'id_token',
  'token',
  'client_secret',
  'password',
  'sig',
  'signature',
  'x-amz-credential',
  'x-amz-signature',
  'x-amz-security-token',
  'x-goog-credential',
  'x-goog-signature',
]);

export function isCredentialHeader(name: string): boolean {
  return CREDENTIAL_HEADERS.has(name.toLowerCase());
}

export function isCredentialQueryParam(name: string): boolean {
  return CREDENTIAL_QUERY_PARAMS.has(name.toLowerCase());
}

/**
 * The shapes of common keys. Each is tried only at the start of a token (a run of
 * [A-Za-z0-9_.~+/=-]) and is anchored there, so a scan costs one short match per token:
 * linear in the text, whatever it holds.
 */
export const KEY_SHAPES: ReadonlyArray<readonly [name: string, shape: RegExp]> = [
  ['Anthropic API key', /^sk-ant-[A-Za-z0-9_-]{10}/],
  ['OpenAI API key', /^sk-(?!ant-)(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20}/],
  ['Google API key', /^AIza[0-9A-Za-z_-]{35}/],
  ['AWS access key id', /^(?:AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16}(?![A-Za-z0-9])/],
  ['GitHub token', /^(?:gh[pousr]_[A-Za-z0-9]{36}|github_pat_[A-Za-z0-9_]{60})/],
  ['JSON web token', /^eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8}/],
];

/** The scheme before a bearer token in an Authorization value or a log line. */
export const BEARER = /^bearer$/i;
/** How long a bearer token must be to count (placeholders such as "none" do not). */
export const MIN_BEARER_LENGTH = 16;
