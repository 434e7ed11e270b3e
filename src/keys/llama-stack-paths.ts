// How llama-stack's recorder names endpoints. It builds `url = base_url + endpoint`
// with endpoint constants such as "/v1/chat/completions" on top of a base_url that
// already ends in the API's base path, so the keyed path of a call the client made
// to ".../v1/chat/completions" is ".../v1/v1/chat/completions".

const OPENAI_RESOURCES = ['chat/completions', 'completions', 'embeddings', 'models', 'responses'];
const OPENAI_RESOURCE = new RegExp(`^(.*?)/(${OPENAI_RESOURCES.join('|')})$`);

/** Ollama client methods llama-stack records, by wire path -> recorder endpoint. */
const OLLAMA_ENDPOINTS: Record<string, string> = {
  '/api/generate': '/api/generate',
  '/api/chat': '/api/chat',
  '/api/embed': '/api/embeddings',
  '/api/embeddings': '/api/embeddings',
  '/api/ps': '/api/ps',
  '/api/pull': '/api/pull',
  '/api/tags': '/api/tags',
};

/** Endpoints whose key leaves the test id out (shared set-up calls). */
export const SHARED_ENDPOINTS = new Set(['/api/tags', '/v1/models', '/v1/openai/v1/models']);

/** Model-list endpoints, answered from the union of their recordings. */
export const MODEL_LIST_ENDPOINTS = new Set(['/api/tags', '/v1/models', '/v1/openai/v1/models']);

interface LlamaStackEndpoint {
  /** The recorder's endpoint constant, stored as request.endpoint. */
  endpoint: string;
  /** The path of the recorder's url: what its key hashes. */
  keyedPath: string;
  /** True when llama-stack records this call (always as POST, arguments as the body). */
  recorded: boolean;
}

export function llamaStackEndpoint(path: string): LlamaStackEndpoint {
  const ollama = OLLAMA_ENDPOINTS[path];
  if (ollama !== undefined) return { endpoint: ollama, keyedPath: ollama, recorded: true };
  const match = OPENAI_RESOURCE.exec(path);
  if (match) {
    const endpoint = `/v1/${match[2]}`;
    return { endpoint, keyedPath: `${match[1]}${endpoint}`, recorded: true };
  }
  return { endpoint: path, keyedPath: path, recorded: false };
}
