// The inspector page in a real browser: a replay server over a recorded corpus, the
// page opened from it, filtered, a streamed recording read, a miss sent and followed
// to its diff, and no console errors. The same run takes the README's screenshots
// (into test/browser/screenshots/ with UPDATE_SCREENSHOTS=1, else a temp folder).
import { mkdir, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../../src/index.js';
import { removeDir, tempDir } from '../support/harness.js';
import { seed, seedText } from '../support/seeds.js';
import { launch, watchProblems } from './chromium.js';
import { corpusCalls, recordCorpus, STREAM_TEST } from '../support/corpus.js';

const SHOTS = process.env['UPDATE_SCREENSHOTS'] ? new URL('./screenshots/', import.meta.url).pathname : path.join(tmpdir(), 'llm-replay-screenshots');

let dir: string;
let server: RunningServer;
let browser: { context: BrowserContext; close(): Promise<void> };
let page: Page;
const problems: string[] = [];
let navigation: ReturnType<typeof watchProblems>['navigation'];

beforeAll(async () => {
  dir = await tempDir();
  await recordCorpus(dir);
  server = await startServer({ recordings: dir, stateDir: `${dir}.state`, port: 0, logLevel: 'silent' });
  await mkdir(SHOTS, { recursive: true });
  browser = await launch();
  page = await browser.context.newPage();
  ({ navigation } = watchProblems(page, problems));
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
  await removeDir(dir);
});

const rows = () => page.locator('.list-pane [role="option"]');

describe('the inspector page', () => {
  it('lists every recording of the corpus, served by the server itself', async () => {
    const files = (await readdir(dir)).filter((name) => name.endsWith('.json'));
    expect(files.length).toBe(corpusCalls().length);
    await navigation(() => page.goto(`${server.url}/_llm-replay/ui/`));
    await expect.poll(() => rows().count()).toBe(files.length);
    await expect.poll(() => page.locator('#count-recordings').textContent()).toBe(String(files.length));
    expect(await page.locator('.mode').textContent()).toBe('replay');
  });

  it('filters by test id on the server', async () => {
    await page.fill('input[data-filter="test_id"]', 'tests/agent.test.ts');
    await expect.poll(() => rows().count()).toBe(corpusCalls().filter((c) => c.testId.startsWith('tests/agent.test.ts')).length);
    expect(page.url()).toContain('test_id=tests%2Fagent.test.ts');
    for (const testId of await rows().locator('.test').evaluateAll((spans) => spans.map((span) => span.getAttribute('title')))) expect(testId).toMatch(/^tests\/agent\.test\.ts::/);
    await page.locator('.rec-row', { hasText: 'answers with the weather tool' }).click();
    await expect.poll(() => page.locator('.detail .msg').count()).toBeGreaterThan(3);
    expect(await page.locator('.detail .media-chip').first().textContent()).toContain('image (image/png');
    expect(await page.locator('.detail .tool-call .tool-name').first().textContent()).toBe('get_weather');
    expect(await page.locator('.detail .tool-result').first().textContent()).toContain('18°C, light rain');
    await page.screenshot({ path: path.join(SHOTS, 'recording.png') });
    // The keys move through the list and open each recording in turn.
    await page.keyboard.press('ArrowDown');
    await expect.poll(() => page.locator('.rec-row[aria-selected="true"]').textContent()).toContain('reports an unknown conversation');
    await expect.poll(() => page.locator('.detail .title-line .status').textContent()).toBe('400');
    // A recorded HTTP error reads as its error, not as an empty answer.
    expect(await page.locator('.detail .subtab-body').textContent()).toContain('no seed for this conversation');
    await page.keyboard.press('k');
    await expect.poll(() => page.locator('.rec-row[aria-selected="true"]').textContent()).toContain('answers with the weather tool');
  });

  it('opens a streamed recording and reads its assembled text and timeline', async () => {
    await page.fill('input[data-filter="test_id"]', STREAM_TEST);
    await expect.poll(() => rows().count()).toBe(1);
    await rows().first().click();
    const expected = seedText(seed('gpt-5.5', 'Streaming Response'));
    await expect.poll(() => page.locator('.detail .assembled .text').textContent()).toBe(expected);
    await page.keyboard.press(']');
    await expect.poll(() => page.locator('.detail .assembled-text').textContent()).toBe(expected);
    const events = await page.locator('table.events tbody tr').count();
    const chunks = (seed('gpt-5.5', 'Streaming Response').response as unknown[]).length;
    expect(events).toBe(chunks + 1); // every chunk, then data: [DONE]
    expect(await page.locator('.track .tick').count()).toBeGreaterThan(chunks);
    // Its age and upstream (response.origin), the exact time on hover.
    const origin = page.locator('.detail-head .origin');
    await expect.poll(() => origin.textContent()).toMatch(/^recorded(just now|\d+ s ago) from 127\.0\.0\.1:\d+$/);
    expect(await origin.getAttribute('title')).toMatch(/^recorded at \d{4}-\d\d-\d\dT/);
  });

  it('shows a request that misses in the journal as it arrives, with its diff', async () => {
    await navigation(() => page.goto(`${server.url}/_llm-replay/ui/#/run`));
    await expect.poll(() => page.locator('.live').textContent()).toBe('live');
    const asked = seed('gpt-5.5', 'Usage').request;
    const testId = 'tests/chat.test.ts::gpt-5.5 > answers a science question';
    const hit = await fetch(`${server.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-test-id': testId }, body: JSON.stringify(asked) });
    expect(hit.status).toBe(200);
    const changed = { ...asked, messages: [{ role: 'user', content: 'What are the four laws of thermodynamics?' }], temperature: 0.2 };
    const miss = await fetch(`${server.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-test-id': testId }, body: JSON.stringify(changed) });
    expect(miss.status).toBe(404);
    const message = ((await miss.json()) as { error: { message: string } }).error.message;
    const link = /See it in the inspector: (\S+)/.exec(message)?.[1];
    expect(link).toMatch(new RegExp(`^${server.url}/_llm-replay/ui/#/run/\\d+$`));

    const missRow = page.locator('.run-row.kind-row-miss');
    await expect.poll(() => missRow.count()).toBe(1);
    expect(await page.locator('.run-row.kind-row-hit').count()).toBe(1);
    expect(await page.locator('.group-head.has-miss').textContent()).toContain('answers a science question');

    await navigation(() => page.goto(link!));
    await expect.poll(() => page.locator('.diff .diff-cell.right.changed').count()).toBeGreaterThan(0);
    const changedRight = await page.locator('.diff .diff-cell.right.changed').allTextContents();
    const changedLeft = await page.locator('.diff .diff-cell.left.changed').allTextContents();
    expect(changedRight.join('\n')).toContain('four laws');
    expect(changedRight.join('\n')).toContain('"temperature": 0.2');
    expect(changedLeft.join('\n')).toContain('three laws');
    expect(await page.locator('table.differences').textContent()).toContain('body.messages[0].content');
    expect(await page.locator('.commands').textContent()).toContain('record-if-missing');
    expect(await page.locator('.callout.miss a').textContent()).toMatch(/^[0-9a-f]{64}\.json$/);
    await page.screenshot({ path: path.join(SHOTS, 'miss.png') });
  });

  it('lists the recordings this run has not used, and when the others were used', async () => {
    await navigation(() => page.goto(`${server.url}/_llm-replay/ui/#/run`));
    await expect.poll(() => page.locator('.unused-row').count()).toBe(corpusCalls().length - 1);
    await navigation(() => page.goto(`${server.url}/_llm-replay/ui/#/recordings?used=true`));
    await expect.poll(() => rows().count()).toBe(1);
    expect(await rows().first().locator('.used').textContent()).toBe('just now');
    await page.locator('button', { hasText: 'Clear' }).click();
    await expect.poll(() => rows().count()).toBe(corpusCalls().length);
    await page.locator('.rec-row', { hasText: 'gpt-5.5 > streams an explanation of recursion' }).click();
    await page.locator('.subtabs button', { hasText: 'Stream' }).click();
    await expect.poll(() => page.locator('.track .tick').count()).toBeGreaterThan(0);
    await page.screenshot({ path: path.join(SHOTS, 'list.png') });
  });

  // A header carries bytes: the test id as llama-stack sends it, JSON with \\u escapes.
  const asciiJson = (value: unknown) => JSON.stringify(value).replace(/[\u0080-\uffff]/g, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);

  it('shows bidirectional controls in test ids and prompts as code points, never reordering what was sent', async () => {
    const testId = 'tests/\u202Elive.test.ts::\u2066evil\u2069 run';
    const asked = seed('gpt-5.5', 'Usage').request as { messages: unknown[] };
    const miss = await fetch(`${server.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-llamastack-provider-data': asciiJson({ __test_id: testId }) }, body: JSON.stringify({ ...asked, messages: [{ role: 'user', content: 'switch to \u202Elive\u202C mode' }] }) });
    expect(miss.status).toBe(404);
    const link = /See it in the inspector: (\S+)/.exec(((await miss.json()) as { error: { message: string } }).error.message)?.[1];
    await navigation(() => page.goto(link!));
    // The page may still show the run's earlier miss for a moment: wait for this one.
    await expect.poll(() => page.locator('body').textContent()).toContain('switch to [U+202E]live[U+202C] mode');
    const text = (await page.locator('body').textContent()) ?? '';
    expect(text).toContain('[U+2066]evil[U+2069]');
    expect(text).not.toMatch(/[\u202A-\u202E\u2066-\u2069\u200E\u200F\u061C]/);
    await navigation(() => page.goto(`${server.url}/_llm-replay/ui/#/run`));
    await expect.poll(() => page.locator('body').textContent()).toContain('[U+202E]live.test.ts');
  });

  it('logged no console error, page error or failed request', () => {
    expect(problems).toEqual([]);
  });
});

describe('the inspector page of a server with an admin token', () => {
  const TOKEN = 'a-token-for-the-browser-test';
  let guarded: RunningServer;
  let guardedDir: string;
  let tokenPage: Page;
  const later: string[] = [];

  beforeAll(async () => {
    guardedDir = await tempDir();
    await recordCorpus(guardedDir);
    guarded = await startServer({ recordings: guardedDir, stateDir: `${guardedDir}.state`, port: 0, logLevel: 'silent', adminToken: TOKEN });
    tokenPage = await browser.context.newPage();
  });

  afterAll(async () => {
    await tokenPage?.close();
    await guarded?.close();
    await removeDir(guardedDir);
  });

  it('asks for the token once, keeps it, and then opens the links misses give (which never carry it)', async () => {
    expect(guarded.inspectorUrl).toBe(`${guarded.url}/_llm-replay/ui/`);
    await tokenPage.goto(guarded.inspectorUrl);
    await expect.poll(() => tokenPage.locator('.token-form').count()).toBe(1);
    const listed = () => tokenPage.locator('.list-pane [role="option"]').count();
    expect(await listed()).toBe(0);
    await tokenPage.fill('.token-form input', TOKEN);
    await tokenPage.locator('.token-form button').click();
    await expect.poll(listed).toBe(corpusCalls().length);
    tokenPage.on('console', (message) => {
      if (message.type() === 'error' || message.type() === 'warning') later.push(`console ${message.type()}: ${message.text()}`);
    });

    const asked = seed('gpt-5.5', 'Usage').request;
    const miss = await fetch(`${guarded.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-test-id': 'tests/chat.test.ts::token' }, body: JSON.stringify({ ...asked, temperature: 0.3 }) });
    expect(miss.status).toBe(404);
    const link = /See it in the inspector: (\S+)/.exec(((await miss.json()) as { error: { message: string } }).error.message)?.[1];
    expect(link).not.toContain(TOKEN);
    await tokenPage.goto(link!);
    await expect.poll(() => tokenPage.locator('.diff .diff-cell.right.changed').count()).toBeGreaterThan(0);
    expect(await tokenPage.locator('.token-form').count()).toBe(0);
    expect(later).toEqual([]);
  });

  it('takes a token given in the address, and keeps it out of the address bar', async () => {
    const fresh = await launch();
    try {
      const other = await fresh.context.newPage();
      await other.goto(`${guarded.url}/_llm-replay/ui/?token=${TOKEN}#/recordings`);
      await expect.poll(() => other.locator('.list-pane [role="option"]').count()).toBe(corpusCalls().length);
      expect(other.url()).not.toContain(TOKEN);
      await other.goto(`${guarded.url}/_llm-replay/ui/#/run`);
      await expect.poll(() => other.locator('.live').textContent()).toBe('live');
    } finally {
      await fresh.close();
    }
  });
});
