// Keys of large bodies, computed on a worker thread: keying is linear in the body but
// not free (a 10 MB body of decimals takes seconds in the llama-stack scheme), and on
// the server's own thread it would hold up every other request meanwhile. One worker,
// started on the first large body; the key it returns is the one computeKey gives,
// since it runs the same keyRequest over the same bytes.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { KeyContext, KeyScheme, RawRequest } from './index.js';

/** Bodies from this size are keyed on the worker; below it, hopping threads costs more than keying. */
export const OFF_THREAD_BYTES = 256 * 1024;

export interface KeyJob {
  scheme: KeyScheme;
  raw: RawRequest;
  upstreamHost: string;
}

type Answer = { id: number; key: string } | { id: number; error: string };

/**
 * The worker's script: built beside this module. Where this module runs as TypeScript
 * (vitest over src/, after `npm test` has built dist/) it is the built one; where
 * there is none, keys are computed on the server's thread as before.
 */
function workerScript(): URL | undefined {
  const here = import.meta.url;
  const script = here.endsWith('.ts') ? new URL('../../dist/keys/key-worker.js', here) : new URL('./key-worker.js', here);
  return existsSync(fileURLToPath(script)) ? script : undefined;
}

export class KeyThread {
  private worker: Worker | undefined;
  private next = 0;
  private readonly pending = new Map<number, (key: string | undefined) => void>();
  private unavailable = false;

  constructor(private readonly context: Omit<KeyContext, 'upstreamHost'>) {}

  /** How many keys are being computed now. */
  get busy(): number {
    return this.pending.size;
  }

  /**
   * The key, from the worker; undefined when there is no worker to ask (no built
   * script) or it failed: the caller then keys on its own thread, so a request is
   * never lost to the thread.
   */
  key(job: KeyJob): Promise<string | undefined> {
    const worker = this.started();
    if (!worker) return Promise.resolve(undefined);
    const id = ++this.next;
    return new Promise((resolve) => {
      this.pending.set(id, resolve);
      if (this.pending.size === 1) worker.ref();
      worker.postMessage({ id, ...job });
    });
  }

  private started(): Worker | undefined {
    if (this.worker || this.unavailable) return this.worker;
    const script = workerScript();
    if (!script) {
      this.unavailable = true;
      return undefined;
    }
    const worker = new Worker(script, { workerData: { rules: this.context.rules } });
    worker.on('message', (answer: Answer) => {
      const waiting = this.pending.get(answer.id);
      if (!waiting) return;
      this.pending.delete(answer.id);
      if (this.pending.size === 0) worker.unref();
      waiting('key' in answer ? answer.key : undefined);
    });
    // A worker that fails ends: what it was asked is keyed on the server's thread, and the next large body starts another.
    worker.on('error', () => undefined);
    worker.on('exit', () => {
      if (this.worker !== worker) return;
      this.worker = undefined;
      for (const [id, waiting] of this.pending) {
        this.pending.delete(id);
        waiting(undefined);
      }
    });
    // Idle, it must not keep the process alive.
    worker.unref();
    return (this.worker = worker);
  }

  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    if (worker) await worker.terminate();
  }
}
