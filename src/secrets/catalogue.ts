// The one catalogue of credentials: where requests carry them (headers and query
// parameters, by name: the listed ones, and any whose name says key, token, auth,
// secret, password, signature ...), which redaction strips from every file, key, log
// line and state file, and the shapes of common keys, which `verify` looks for in
// recordings and the id journal refuses to hold. Add a provider's credential here and
// redaction, detection and the README's Secrets section all follow it.

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
 * Headers holding a JSON object of per-request settings, some of them credentials, by
 * member name: llama-stack's provider data (`{"openai_api_key": "sk-...", "__test_id": "..."}`).
 * They are forwarded (an llama-stack server upstream reads them), and their credential
 * members are scrubbed from what is written as any credential is.
 */
export const PROVIDER_DATA_HEADERS: readonly string[] = ['x-llamastack-provider-data', 'x-ogx-provider-data'];

/**
 * Query parameters that carry credentials (lower-case): API keys and tokens, and the
 * signatures of presigned URLs (AWS SigV4's X-Amz-*, Google's X-Goog-*, Azure's sig).
 */
const CREDENTIAL_QUERY_PARAMS: ReadonlySet<string> = new Set([
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

/** A name's words: `X-Portkey-API-Key` -> x, portkey, api, key; `accessToken` -> access, token. */
function wordsOf(name: string): string[] {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1-$2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((word) => word !== '');
}

/**
 * Words that make any header or query parameter a credential, wherever they stand in
 * its name (`helicone-auth`, `cf-aig-authorization`, `x-functions-key`,
 * `subscription-key`), and word endings that do (`accesstoken`, `clientsecret`). Plural
 * `tokens` is not one: `x-ratelimit-remaining-tokens` and `max_tokens` count tokens.
 */
const SECRET_WORDS = new Set(['key', 'apikey', 'auth', 'authorization', 'sig', 'signature', 'credential', 'credentials', 'cookie', 'session', 'pwd', 'jwt', 'bearer']);
const SECRET_ENDINGS = /(?:token|secret|password|passwd|apikey|credential)$/;
const PAGING_WORDS = new Set(['page', 'pagetoken', 'continuation', 'continuationtoken', 'cursor']);
/** Whole names that are credentials only on their own: OAuth's `code` (not `language_code`). */
const SECRET_QUERY_NAMES = new Set(['code']);

/** True when a name says it holds a secret: a catalogued one, or one of the secret words in it. */
function namesSecret(name: string, catalogued: ReadonlySet<string>): boolean {
  const lower = name.toLowerCase();
  if (catalogued.has(lower)) return true;
  const words = wordsOf(name);
  // A paging cursor (`pageToken`, `next_page_token`, `continuationToken`) tells one page from another: it stays in the key.
  if (words.some((word) => PAGING_WORDS.has(word))) return false;
  return words.some((word) => SECRET_WORDS.has(word) || SECRET_ENDINGS.test(word));
}

/** Whether a member of a provider-data object holds a credential (`openai_api_key`, `aws_secret_access_key`), judged as a query parameter's name is. */
export function isCredentialMember(name: string): boolean {
  return namesSecret(name, CREDENTIAL_QUERY_PARAMS);
}

/** Header names already judged: a client sends the same dozen on every request. */
const judgedHeaders = new Map<string, boolean>();
const MAX_JUDGED = 1000;

export function isCredentialHeader(name: string): boolean {
  let secret = judgedHeaders.get(name);
  if (secret === undefined) {
    secret = namesSecret(name, CREDENTIAL_HEADERS);
    if (judgedHeaders.size < MAX_JUDGED) judgedHeaders.set(name, secret);
  }
  return secret;
}

/** A query parameter's name, as sent (percent-encoded, `+` for space) or decoded. */
export function isCredentialQueryParam(name: string): boolean {
  let decoded = name;
  try {
    decoded = decodeURIComponent(name.replaceAll('+', ' '));
  } catch {
    // a malformed escape: judged as written
  }
  return SECRET_QUERY_NAMES.has(decoded.trim().toLowerCase()) || namesSecret(decoded, CREDENTIAL_QUERY_PARAMS);
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

/**
 * How each of KEY_SHAPES begins, every alternative of each (kept in step with them: a
 * test tries one key of each): a text holding none of these has no key shape, told
 * without cutting it into tokens. Literal alternatives, so it cannot backtrack.
 */
const KEY_STARTS = /sk-|AIza|A(?:KI|SI|BI|CC)A|gh[pousr]_|github_pat_|eyJ/;

/** A run of the characters keys are made of. */
const KEY_TOKEN = /[A-Za-z0-9_.~-]+/g;

function keyShaped(token: string): boolean {
  return KEY_SHAPES.some(([, shape]) => shape.test(token));
}

/** The tokens of `text` that have the shape of a common key. */
export function keyShapedTokens(text: string): string[] {
  return [...text.matchAll(KEY_TOKEN)].map(([token]) => token).filter(keyShaped);
}

/** True when a token of `text` has the shape of a common key (stops at the first). */
export function hasKeyShape(text: string): boolean {
  // Most texts asked (every id an upstream makes, in record mode) begin no key.
  if (!KEY_STARTS.test(text)) return false;
  for (const [token] of text.matchAll(KEY_TOKEN)) if (keyShaped(token)) return true;
  return false;
}

/** The scheme before a bearer token in an Authorization value or a log line. */
export const BEARER = /^bearer$/i;
/** How long a bearer token must be to count (placeholders such as "none" do not). */
export const MIN_BEARER_LENGTH = 16;
