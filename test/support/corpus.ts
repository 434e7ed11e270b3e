// A recordings directory like a real suite's, made the way users make one: a
// record-mode server in front of local fake upstreams (OpenAI with the seeds' real
// answers, Anthropic, Ollama, Gemini), called with test ids, then stopped.
import { startServer } from '../../src/index.js';
import type { FakeUpstream } from './fake-upstream.js';
import { fakeAnthropic, fakeGemini, fakeOllama } from './providers.js';
import { fakeOpenAi, seedExchanges } from './seeds.js';

export const STREAM_TEST = 'tests/chat.test.ts::gpt-5.5 > streams an explanation of recursion';

// A 1x1 PNG, as a client would attach a screenshot.
const PIXEL = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';

function testIdOf(model: string, title: string): string {
  const name = title === 'Streaming Response' ? 'streams an explanation of recursion' : title.toLowerCase().replace(/^usage$/, 'answers a science question');
  return `tests/chat.test.ts::${model} > ${name}`;
}

/** The calls the corpus is recorded from: path, test id, body. */
export function corpusCalls(): Array<{ path: string; testId: string; body: unknown }> {
  const calls: Array<{ path: string; testId: string; body: unknown }> = seedExchanges.map((exchange) => ({ path: '/v1/chat/completions', testId: testIdOf(exchange.model, exchange.title), body: exchange.request }));
  calls.push(
    { path: '/v1/embeddings', testId: 'tests/search.test.ts::embeds the query', body: { model: 'text-embedding-3-small', input: ['How do rings form around planets?'] } },
    { path: '/v1/responses', testId: 'tests/agent.test.ts::streams a Responses answer', body: { model: 'gpt-4o', input: 'Name the largest moon of Saturn.', stream: true } },
    {
      path: '/anthropic/v1/messages',
      testId: 'tests/agent.test.ts::answers with the weather tool',
      body: {
        model: 'claude-sonnet-4-5-20250929',
        max_tokens: 1024,
        stream: true,
        system: 'You are a concise assistant. Use tools when they help.',
        tools: [{ name: 'get_weather', description: 'Current weather for a city', input_schema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } }],
        messages: [
          { role: 'user', content: [{ type: 'image', source: { type: 'base64', media_type: 'image/png', data: PIXEL } }, { type: 'text', text: 'What is the weather where this photo was taken? It looks like Paris.' }] },
          { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_01A09q90qw90lq917835lq9', name: 'get_weather', input: { city: 'Paris' } }] },
          { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_01A09q90qw90lq917835lq9', content: '18°C, light rain' }] },
        ],
      },
    },
    { path: '/ollama/api/chat', testId: 'tests/local.test.ts::chats with a local model', body: { model: 'llama3.2:3b', messages: [{ role: 'user', content: 'Which planet has the most famous rings?' }] } },
    { path: '/gemini/v1beta/models/gemini-2.0-flash:streamGenerateContent', testId: 'tests/gemini.test.ts::streams from Gemini', body: { contents: [{ role: 'user', parts: [{ text: 'Which planet has the most famous rings?' }] }] } },
    { path: '/v1/chat/completions', testId: 'tests/agent.test.ts::reports an unknown conversation', body: { model: 'openai/gpt-5.5', messages: [{ role: 'user', content: 'This conversation has no seed.' }] } },
  );
  return calls;
}

/** Records the corpus into `dir`; resolves once every file is written. */
export async function recordCorpus(dir: string): Promise<void> {
  const upstreams: FakeUpstream[] = [
    // Streams arrive a few milliseconds apart, so their timelines have a shape.
    await fakeOpenAi(() => ({ pauseMs: 2 })).start(),
    await fakeAnthropic(() => ({ pauseMs: 15 })).start(),
    await fakeOllama(() => ({ pauseMs: 10 })).start(),
    await fakeGemini().start(),
  ];
  const [openai, anthropic, ollama, gemini] = upstreams.map((u) => u.url);
  const server = await startServer({
    mode: 'record',
    recordings: dir,
    stateDir: `${dir}.state`,
    port: 0,
    logLevel: 'silent',
    upstream: openai!,
    routes: { '/anthropic': anthropic!, '/ollama': ollama!, '/gemini': gemini! },
  });
  try {
    for (const call of corpusCalls()) {
      const response = await fetch(`${server.url}${call.path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-test-id': call.testId, authorization: 'Bearer sk-test-not-a-real-key', 'x-api-key': 'sk-test', 'anthropic-version': '2023-06-01' },
        body: JSON.stringify(call.body),
      });
      await response.arrayBuffer();
    }
  } finally {
    await server.close();
    for (const upstream of upstreams) await upstream.stop();
  }
}
