// The inspector page's files, served by the server itself (no CDN: it works offline):
// the HTML, the stylesheet and the icon from src/ui/, the compiled script from
// dist/page/ui/ (`npm run build`). Read once, on the first request, and kept.
// A handful of fixed files looked up in a table need no static-file plugin.
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { AnswerError } from '../../errors.js';

interface Asset {
  body: Buffer;
  type: string;
  etag: string;
}

const ROOT = new URL('../../../', import.meta.url);
const SOURCES = new URL('src/ui/', ROOT);
const SCRIPTS = new URL('dist/page/ui/', ROOT);

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.svg': 'image/svg+xml',
};

// The page runs only what it was served: no inline script or style, no other origin.
const SECURITY_HEADERS = {
  'content-security-policy': "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  // The page's address may carry ?token=: it never leaves in a Referer.
  'referrer-policy': 'no-referrer',
};

async function loadAssets(): Promise<Map<string, Asset>> {
  const assets = new Map<string, Asset>();
  const add = (name: string, body: Buffer) => {
    const type = TYPES[name.slice(name.lastIndexOf('.'))];
    if (type) assets.set(name, { body, type, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"` });
  };
  for (const name of ['index.html', 'style.css', 'favicon.svg']) add(name, await readFile(new URL(name, SOURCES)));
  for (const name of await readdir(SCRIPTS)) if (name.endsWith('.js')) add(name, await readFile(new URL(name, SCRIPTS)));
  return assets;
}

export const inspectorPage: FastifyPluginAsync = async (app) => {
  let assets: Promise<Map<string, Asset>> | undefined;

  async function serve(name: string, request: FastifyRequest, reply: FastifyReply) {
    assets ??= loadAssets();
    let table: Map<string, Asset>;
    try {
      table = await assets;
    } catch (error) {
      assets = undefined;
      throw new AnswerError('llm_replay_page_not_built', `the inspector page is not built (${(error as Error).message}); run npm run build`);
    }
    const asset = table.get(name);
    if (!asset) throw new AnswerError('llm_replay_unknown_admin_endpoint', `the inspector page has no file ${JSON.stringify(name)}`);
    reply.headers({ ...SECURITY_HEADERS, 'content-type': asset.type, 'cache-control': 'no-cache', etag: asset.etag });
    if (request.headers['if-none-match'] === asset.etag) return reply.code(304).send();
    return reply.send(asset.body);
  }

  // Relative links in the page need the trailing slash; the query (a token) is kept.
  app.get('/ui', async (request, reply) => {
    const query = request.url.indexOf('?');
    return reply.redirect(`${request.url.slice(0, query < 0 ? undefined : query)}/${query < 0 ? '' : request.url.slice(query)}`);
  });
  app.get('/ui/', (request, reply) => serve('index.html', request, reply));
  app.get<{ Params: { file: string } }>('/ui/:file', (request, reply) => serve(request.params.file, request, reply));
};
