// The code under test: it calls the OpenAI API like any application would, knowing
// nothing of llm-replay. OPENAI_BASE_URL (set by the globalSetup) points it at the proxy.
import OpenAI from 'openai';

const MODEL = 'openai/gpt-5.1-chat';
const FALLBACK_MODEL = 'openai/gpt-5.5';

export async function explain(question: string): Promise<string> {
  const client = new OpenAI();
  const answer = await client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: question }] });
  return answer.choices[0]?.message.content ?? '';
}

export async function explainStreaming(question: string, onText: (text: string) => void): Promise<string> {
  const client = new OpenAI();
  const stream = await client.chat.completions.create({
    model: MODEL,
    messages: [{ role: 'user', content: question }],
    stream: true,
    stream_options: { include_usage: true },
  });
  let text = '';
  for await (const chunk of stream) {
    const delta = chunk.choices[0]?.delta?.content ?? '';
    text += delta;
    if (delta) onText(delta);
  }
  return text;
}

/** Swallows failures, as code under test sometimes does: the miss must still fail the test. */
export async function explainOrNothing(question: string): Promise<string> {
  try {
    return await explain(question);
  } catch {
    return '';
  }
}

/** Asks the main model (the SDK retries it once); when it still fails, asks the fallback model. */
export async function explainWithFallback(question: string): Promise<{ model: string; answer: string }> {
  const client = new OpenAI({ maxRetries: 1 });
  for (const model of [MODEL, FALLBACK_MODEL]) {
    try {
      const answer = await client.chat.completions.create({ model, messages: [{ role: 'user', content: question }] });
      return { model, answer: answer.choices[0]?.message.content ?? '' };
    } catch (error) {
      if (model === FALLBACK_MODEL || !(error instanceof OpenAI.APIError) || (error.status !== undefined && error.status < 500 && error.status !== 429)) throw error;
    }
  }
  throw new Error('unreachable');
}
