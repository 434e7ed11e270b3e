// A local stand-in for an LLM API: real wire bytes, scriptable pauses and faults,
// and a log of what it received. Listens on 127.0.0.1 only.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedRequest {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

export type Handler = (request: ReceivedRequest, res: ServerResponse) => void | Promise<void>;

export class FakeUpstream {
  readonly received: ReceivedRequest[] = [];
  private readonly routes: Array<{ method: string; path: string | RegExp; handler: Handler }> = [];
  private server: Server | undefined;
  url = '';

  on(method: string, path: string | RegExp, handler: Handler): this {
    this.routes.unshift({ method, path, handler });
    return this;
  }

  calls(path?: string): number {
    return this.received.filter((r) => path === undefined || r.url.split('?')[0] === path).length;
  }

  /** Listens on 127.0.0.1 (a free port unless one is given: a rerun can reuse the last one). */
  async start(port = 0): Promise<this> {
    this.server = createServer((req, res) => {
      const parts: Buffer[] = [];
      req.on('data', (part: Buffer) => parts.push(part));
      req.on('end', () => {
        const received: ReceivedRequest = { method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headers, body: Buffer.concat(parts).toString('utf8') };
        this.received.push(received);
        const path = received.url.split('?')[0] ?? '/';
        const route = this.routes.find((r) => r.method === received.method && (typeof r.path === 'string' ? r.path === path : r.path.test(path)));
        if (!route) {
          sendJson(res, 404, { error: { message: `fake upstream: no route for ${received.method} ${path}` } });
          return;
        }
        Promise.resolve(route.handler(received, res)).catch((error: Error) => {
          if (!res.headersSent) sendJson(res, 500, { error: { message: error.message } });
          else res.destroy();
        });
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(port, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    if (!this.server) return;
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
    this.server = undefined;
  }
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const bytes = Buffer.from(JSON.stringify(body));
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': String(bytes.length), ...headers });
  res.end(bytes);
}

export interface StreamScript {
  /** Pause between events, ms. */
  pauseMs?: number;
  /** Before sending event i, wait for this promise (to hold the stream mid-way). */
  holdBefore?: { index: number; until: Promise<void> };
  /** Destroy the connection after this many events. */
  breakAfter?: number;
  contentType?: string;
  /** Keep the response open this long after the last event, as an upstream that ends it a little later. */
  lingerMs?: number;
  /** Written a third of the way through the linger (an SSE comment, a blank line): what a client that has hung up answers with a reset. */
  keepAlive?: string;
  /** With lingerMs: the rest of the linger starts only once this settles (the test's client has hung up), so the end comes after the hang-up whatever the load. */
  lingerUntil?: Promise<void>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Writes raw wire events one by one, as a real API streams them. */
export async function sendEvents(res: ServerResponse, events: string[], script: StreamScript = {}): Promise<void> {
  res.writeHead(200, { 'content-type': script.contentType ?? 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' });
  res.flushHeaders();
  for (let i = 0; i < events.length; i++) {
    if (script.breakAfter !== undefined && i === script.breakAfter) {
      res.socket?.destroy();
      return;
    }
    if (script.holdBefore && script.holdBefore.index === i) await script.holdBefore.until;
    if (script.pauseMs) await sleep(script.pauseMs);
    res.write(events[i]);
  }
  if (script.lingerMs) {
    await sleep(script.lingerMs / 3);
    if (script.keepAlive) res.write(script.keepAlive);
    await script.lingerUntil;
    await sleep((script.lingerMs * 2) / 3);
  }
  res.end();
}

/** OpenAI chat/completions framing: `data: {json}` per chunk, then `data: [DONE]`. */
export function openAiSse(chunks: unknown[]): string[] {
  return [...chunks.map((chunk) => `data: ${JSON.stringify(chunk)}\n\n`), 'data: [DONE]\n\n'];
}

/** Responses / Messages framing: `event: <type>` then `data: {json}`, no [DONE]. */
export function typedSse(chunks: Array<{ type: string }>): string[] {
  return chunks.map((chunk) => `event: ${chunk.type}\ndata: ${JSON.stringify(chunk)}\n\n`);
}
