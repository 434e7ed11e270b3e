// The inspector's Drift view in a real browser: recordings made from a fake upstream,
// a drift check after the upstream changed its answers' shape, the report the check
// kept shown per endpoint and model, a finding followed to its recordings and one
// recording's shapes side by side; then no report, and a report that is not one.
// A report file is rewritten between tests: they run in order.
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../src/index.js';
import { checkDrift } from '../../src/drift/check.js';
import { driftReportPath, saveDriftReport } from '../../src/drift/report-file.js';
import { selectRecordings } from '../../src/drift/select.js';
import type { DriftReport } from '../../src/drift/report.js';
import { DriftingUpstream, MISSING_MODEL } from '../support/drifting-upstream.js';
import { removeDir, serve, tempDir } from '../support/harness.js';
import { launch, watchProblems } from './chromium.js';

const REQUESTS: Array<[string, unknown]> = [
  ['/v1/chat/completions', { model: 'gpt-4o', messages: [{ role: 'user', content: 'rings?' }] }],
  ['/v1/chat/completions', { model: 'gpt-4o', messages: [{ role: 'user', content: 'moons?' }] }],
  // Two answers the change leaves alone.
  ['/v1/responses', { model: MISSING_MODEL, input: 'rings?' }],
  ['/v1/messages', { model: MISSING_MODEL, max_tokens: 100, messages: [{ role: 'user', content: 'rings?' }] }],
];

let dir: string;
let upstream: DriftingUpstream;
let server: RunningServer;
let browser: { context: BrowserContext; close(): Promise<void> };
let page: Page;
const problems: string[] = [];
let navigation: ReturnType<typeof watchProblems>['navigation'];
let report: DriftReport;
const stateDir = () => `${dir}.state`;
// As the inspector's own browser test: UPDATE_SCREENSHOTS=1 keeps them for the README.
const SHOTS = process.env['UPDATE_SCREENSHOTS'] ? new URL('./screenshots/', import.meta.url).pathname : path.join(tmpdir(), 'llm-replay-screenshots');

beforeAll(async () => {
  dir = await tempDir();
  upstream = await new DriftingUpstream().start();
  const recorder = await serve({ mode: 'record', recordings: dir, upstream: upstream.url });
  for (const [endpoint, body] of REQUESTS) {
    const answer = await fetch(`${recorder.url}${endpoint}`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer sk-record' }, body: JSON.stringify(body) });
    await answer.arrayBuffer();
  }
  await recorder.close();
  upstream.variant = 'added';
  const { selected } = await selectRecordings(dir, {}, Date.now());
  report = await checkDrift(selected, { recordingsDir: dir, upstream: new URL(upstream.url), concurrency: 2, timeoutMs: 10_000, env: { OPENAI_API_KEY: 'sk-x', ANTHROPIC_API_KEY: 'sk-ant-x' } });
  await saveDriftReport(stateDir(), report);
  server = await serve({ recordings: dir });
  browser = await launch();
  page = await browser.context.newPage();
  ({ navigation } = watchProblems(page, problems));
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
  await upstream?.stop();
  await removeDir(dir);
});

describe('the Drift view', () => {
  it('shows the findings of the latest report per endpoint and model, with how many recordings each touches', async () => {
    await navigation(() => page.goto(`${server.url}/_llm-replay/ui/#/drift`));
    await expect.poll(() => page.locator('.list-pane .group-head').allTextContents()).toEqual([expect.stringMatching(/^\/v1\/chat\/completions\s*gpt-4o\s*2 recordings$/)]);
    const rows = page.locator('.list-pane [role="option"]');
    await expect.poll(() => rows.count()).toBe(1);
    expect(await rows.first().textContent()).toBe('addedchoices[].message.refusal: added (null)2 recordings');
    expect(await page.locator('#count-drift').textContent()).toBe('2');
    expect(await page.locator('.views a[aria-current="true"]').textContent()).toContain('Drift');
    expect(await page.locator('.toolbar').textContent()).toContain('4 sent · 2 drifted · 2 unchanged');
  });

  it('lists the recordings a finding touches, links each to its recording, and shows one recording\'s shapes side by side', async () => {
    await page.locator('.list-pane [role="option"]').first().click();
    const links = page.locator('.detail table.drift-files a[href^="#/recordings"]');
    await expect.poll(() => links.count()).toBe(2);
    const file = (await links.first().textContent())!;
    await page.locator('.detail table.drift-files a[href^="#/drift"]').first().click();
    await expect.poll(() => page.locator('.detail .diff-title').allTextContents()).toEqual(['Recorded', 'Live']);
    expect(await page.locator('.detail .drift-findings li').allTextContents()).toEqual(['choices[].message.refusal: added (null)']);
    // The path only the live answer has faces a gap on the recorded side, marked.
    expect(await page.locator('.diff-cell.right.changed').allTextContents()).toEqual(['    "choices[].message.refusal": "null",']);
    expect(await page.locator('.diff-cell.left.changed.gap').count()).toBe(1);
    await mkdir(SHOTS, { recursive: true });
    await page.screenshot({ path: path.join(SHOTS, 'drift.png') });
    expect(await page.locator('.diff-cell.left:not(.changed)', { hasText: '"choices[].message.content": "string"' }).count()).toBe(1);
    await page.locator('.detail .ids a').click();
    await expect.poll(() => page.url()).toContain(`#/recordings?file=${encodeURIComponent(file)}`);
    await expect.poll(() => page.locator('.detail .ids .path').textContent()).toBe(file);
  });

  it('says when a report checked another directory than the server\'s', async () => {
    await saveDriftReport(stateDir(), { ...report, recordingsDir: '/elsewhere/recordings' });
    await navigation(() => page.goto(`${server.url}/_llm-replay/ui/#/drift`));
    await page.locator('.toolbar button', { hasText: 'Reload' }).click();
    await expect.poll(() => page.locator('.list-pane .callout.other-dir').textContent()).toBe(`This report checked /elsewhere/recordings, not this server's ${dir}: its recordings may not be here.`);
    expect(await page.locator('.list-pane [role="option"]').count()).toBe(1);
  });

  it('says when there is no report yet, and names what is wrong with a report file that is not one', async () => {
    await rm(driftReportPath(stateDir()));
    await navigation(() => page.goto(`${server.url}/_llm-replay/ui/#/drift`));
    await navigation(() => page.reload());
    await expect.poll(() => page.locator('.list-pane .empty').textContent()).toContain('No drift report yet');
    await writeFile(driftReportPath(stateDir()), '{"checkedAt": "2026-12-');
    await page.locator('.toolbar button', { hasText: 'Reload' }).click();
    await expect.poll(() => page.locator('.list-pane .callout').textContent()).toMatch(/cannot be read.*drift-report\.json is not JSON/);
    expect(await page.locator('#status').textContent()).toBe('The drift report cannot be read');
  });

  it('logged no console error, page error or failed request', () => {
    expect(problems).toEqual([]);
  });
});
