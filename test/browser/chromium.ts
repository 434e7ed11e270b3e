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

/**
 * Console errors and warnings, page errors and failed requests of `page`, pushed onto
 * `problems` (a test then expects none). A test that reloads the page or opens another
 * document does it through `navigation`: the fetches the page had in flight then are
 * cut by the browser (net::ERR_ABORTED), which says nothing of the page.
 */
export function watchProblems(page: Page, problems: string[]): { navigation<T>(navigate: () => Promise<T>): Promise<T> } {
  let navigating = 0;
  page.on('console', (message) => {
    if (message.type() === 'error' || message.type() === 'warning') problems.push(`console ${message.type()}: ${message.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('requestfailed', (request) => {
    const errorText = request.failure()?.errorText;
    // The live journal's stream is cut whenever the page goes away; anything else failing is a problem.
    if (request.url().includes('/journal/events') || (navigating > 0 && errorText === 'net::ERR_ABORTED')) return;
    problems.push(`request failed: ${request.url()} ${errorText}`);
  });
  return {
    async navigation(navigate) {
      navigating++;
      try {
        return await navigate();
      } finally {
        navigating--;
      }
    },
  };
}
