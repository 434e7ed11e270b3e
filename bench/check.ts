// Before any server is measured, it must answer each request with what was
// recorded for that request, not with some default answer: every benchmark request
// says "Question N", the upstream (and the scale corpora) put "[answer N]" at the
// start of the answer's text, and the check reads the text back out of the JSON
// body or the SSE events (which a peer may have re-split into other chunks).

/** The marker the answer to `body` carries. */
export function markerFor(body: string): string | undefined {
  const n = /Question (\d+)/.exec(body)?.[1];
  return n === undefined ? undefined : `[answer ${n}]`;
}

/** The first answer text of a JSON body or SSE event, with the marker in front. */
export function withMarker(text: string, marker: string): string {
  return text.replace('"content":"', `"content":"${marker} `);
}

interface Choice {
  message?: { content?: unknown };
  delta?: { content?: unknown };
}

function contentOf(value: unknown): string {
  const choices = (value as { choices?: Choice[] } | null)?.choices;
  const choice = Array.isArray(choices) ? choices[0] : undefined;
  const content = choice?.message?.content ?? choice?.delta?.content;
  return typeof content === 'string' ? content : '';
}

/** The answer's text: a chat completion's message, or a stream's deltas joined. */
export function answerText(wire: string): string {
  if (!/^(data|event|:)/m.test(wire.trimStart().slice(0, 6))) {
    try {
      return contentOf(JSON.parse(wire));
    } catch {
      return '';
    }
  }
  let text = '';
  for (const line of wire.split(/\r?\n/)) {
    if (!line.startsWith('data:')) continue;
    const data = line.slice(5).trim();
    if (data === '[DONE]') continue;
    try {
      text += contentOf(JSON.parse(data));
    } catch {
      // not JSON: no text
    }
  }
  return text;
}

/** Throws unless each sampled request is answered 200 with its own recorded text. */
export async function checkAnswers(name: string, ask: (body: string) => Promise<{ status: number; text: string }>, bodies: string[], sample: number): Promise<void> {
  const step = Math.max(1, Math.floor(bodies.length / sample));
  const indexes = new Set<number>([0, bodies.length - 1]);
  for (let i = 0; i < bodies.length; i += step) indexes.add(i);
  for (const i of indexes) {
    const body = bodies[i]!;
    const marker = markerFor(body);
    const answer = await ask(body);
    const text = answerText(answer.text);
    if (answer.status !== 200 || marker === undefined || !text.startsWith(marker)) {
      throw new Error(`${name} did not answer request ${i} with its recorded text: status ${answer.status}, text ${JSON.stringify(text.slice(0, 60))}, expected it to start with ${marker}`);
    }
  }
}
