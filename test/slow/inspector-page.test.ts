// The inspector page's files as the server serves them: its scripts are built into
// dist/page/ui/ (npm run build), so this belongs to the slow tier, which builds first.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../../src/index.js';
import { removeDir, tempDir } from '../support/harness.js';

let dir: string;
let server: RunningServer;

beforeAll(async () => {
  dir = await tempDir();
  server = await startServer({ recordings: dir, stateDir: `${dir}.state`, port: 0, logLevel: 'silent' });
});

afterAll(async () => {
  await server?.close();
  await removeDir(dir);
});

describe('the page', () => {
  it('is served by the server itself with a strict content security policy, and /ui redirects keeping the token', async () => {
    const page = await fetch(`${server.url}/_llm-replay/ui/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(page.headers.get('referrer-policy')).toBe('no-referrer');
    const html = await page.text();
    for (const asset of ['style.css', 'main.js', 'favicon.svg']) {
      expect(html).toContain(asset);
      expect((await fetch(`${server.url}/_llm-replay/ui/${asset}`)).status, asset).toBe(200);
    }
    expect(html).not.toMatch(/https?:\/\//);
    const etag = page.headers.get('etag')!;
    expect((await fetch(`${server.url}/_llm-replay/ui/`, { headers: { 'if-none-match': etag } })).status).toBe(304);
    const redirect = await fetch(`${server.url}/_llm-replay/ui?token=abc`, { redirect: 'manual' });
    expect(redirect.status).toBe(302);
    expect(redirect.headers.get('location')).toBe('/_llm-replay/ui/?token=abc');
    expect((await fetch(`${server.url}/_llm-replay/ui/nope.js`)).status).toBe(404);
    expect((await fetch(`${server.url}/_llm-replay/ui/..%2Fpackage.json`)).status).toBe(404);
  });
});
