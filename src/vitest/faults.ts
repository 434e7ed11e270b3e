// injectFaults('status=429;on=1'): faults for the current test only, cleared when
// it finishes. Plain requests to the admin API: nothing of the server is loaded.
import { onTestFinished } from 'vitest';
import { ADMIN_PREFIX } from '../request/control-headers.js';
import { currentRun, currentTestId } from './current-test.js';
import { adminHeaders, URL_VARIABLE } from '../request/runner-env.js';

const FAULTS_PATH = `${ADMIN_PREFIX}/faults`;

async function admin(url: string, init: RequestInit): Promise<void> {
  const response = await fetch(url, { ...init, headers: { ...(init.headers as Record<string, string> | undefined), ...adminHeaders() } });
  if (response.ok) return;
  const text = await response.text();
  let message = text;
  try {
    message = (JSON.parse(text) as { error: { message: string } }).error.message;
  } catch {
    // not llm-replay's error body: the text as it is
  }
  throw new Error(`${init.method} ${FAULTS_PATH}: ${response.status} ${message}`);
}

/**
 * Sets faults (the x-llm-replay-fault grammar, one rule or a list) for every request
 * of the current test in this run, from now until it finishes. A rule's on=n counts
 * the test's requests from its start, as the recordings' occurrences do.
 */
export async function injectFaults(faults: string | string[]): Promise<void> {
  const base = process.env[URL_VARIABLE];
  if (!base) throw new Error(`llm-replay: injectFaults needs the server of llm-replay's globalSetup (${URL_VARIABLE} is not set)`);
  const testId = currentTestId();
  if (!testId) throw new Error('llm-replay: injectFaults must be called inside a test');
  await admin(`${base}${FAULTS_PATH}`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ test_id: testId, run: currentRun, faults }) });
  onTestFinished(() => admin(`${base}${FAULTS_PATH}?${new URLSearchParams({ test_id: testId, run: currentRun })}`, { method: 'DELETE' }));
}
