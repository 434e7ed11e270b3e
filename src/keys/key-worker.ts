// The keying thread (key-thread.ts): keys each request it is sent with keyRequest,
// the same function the server and `verify` use, and answers with the key.
import { parentPort, workerData } from 'node:worker_threads';
import { keyRequest } from './index.js';
import type { CompiledRules } from './rules.js';
import type { KeyJob } from './key-thread.js';

const { rules } = workerData as { rules: CompiledRules | undefined };

parentPort!.on('message', async ({ id, scheme, raw, upstreamHost }: KeyJob & { id: number }) => {
  try {
    const body = raw.body === undefined ? undefined : Buffer.from(raw.body.buffer, raw.body.byteOffset, raw.body.byteLength);
    const key = await keyRequest(scheme, { ...raw, ...(body ? { body } : {}) }, { upstreamHost, ...(rules ? { rules } : {}) });
    parentPort!.postMessage({ id, key: key.key });
  } catch (error) {
    parentPort!.postMessage({ id, error: (error as Error).message });
  }
});
