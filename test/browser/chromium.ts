// Debian's Chromium, launched by playwright-core: no browser is ever downloaded.
// CHROMIUM may point at another binary.
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM = process.env['CHROMIUM'] ?? '/usr/bin/chromium';

const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** A fresh browser profile; close() also removes it. */
export async function launch(options: { colorScheme?: 'light' | 'dark' } = {}): Promise<{ context: BrowserContext; close(): Promise<void> }> {
  if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: on Debian, apt-get install -y chromium (or set CHROMIUM)`);
  const profile = await mkdtemp(path.join(tmpdir(), 'llm-replay-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ARGS,
    viewport: { width: 1440, height: 860 },
    deviceScaleFactor: 1,
    colorScheme: options.colorScheme ?? 'light',
  });
  return {
    context,
    async close() {
      await context.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}

/** Console errors and warnings, page errors and failed requests of `page`, pushed onto `problems` (a test then expects none). */
export function watchProblems(page: Page, problems: string[]): void {
  page.on('console', (message) => {
    if (message.type() === 'error' || message.type() === 'warning') problems.push(`console ${message.type()}: ${message.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('requestfailed', (request) => {
    // net::ERR_ABORTED is a cancellation by the browser's side: the page dropping a load a
    // newer one replaced, or a reload or navigation (a test's own) cutting the fetches the
    // page had in flight, which is a matter of timing. A server that fails shows another
    // code (reset, empty response, incomplete chunked body). The live journal's stream is
    // cut when the page goes away; anything else failing is a problem.
    const errorText = request.failure()?.errorText;
    if (errorText === 'net::ERR_ABORTED' || request.url().includes('/journal/events')) return;
    problems.push(`request failed: ${request.url()} ${errorText}`);
  });
}
