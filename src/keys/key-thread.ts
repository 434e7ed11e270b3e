// Keys of large bodies, computed on a worker thread: keying is linear in the body but
// not free (a 10 MB body of decimals takes seconds in the llama-stack scheme), and on
// the server's own thread it would hold up every other request meanwhile. One worker,
// started on the first large body; the key it returns is the one computeKey gives,
// since it runs the same keyRequest over the same bytes.
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

/** The worker's script: built beside this module; vitest runs src/ as TypeScript, where the built one is used. */
function workerScript(): URL {
  const here = import.meta.url;
  return here.endsWith('.ts') ? new URL('../../dist/keys/key-worker.js', here) : new URL('./key-worker.js', here);
}

export class KeyThread {
  private worker: Worker | undefined;
  private next = 0;
  private readonly pending = new Map<number, { resolve(key: string): void; reject(error: Error): void }>();

  constructor(private readonly context: Omit<KeyContext, 'upstreamHost'>) {}

  /** How many keys are being computed now. */
  get busy(): number {
    return this.pending.size;
  }

  key(job: KeyJob): Promise<string> {
    const worker = this.started();
    const id = ++this.next;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      if (this.pending.size === 1) worker.ref();
      worker.postMessage({ id, ...job });
    });
  }

  private started(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(workerScript(), { workerData: { rules: this.context.rules } });
    worker.on('message', (answer: Answer) => {
      const waiting = this.pending.get(answer.id);
      if (!waiting) return;
      this.settled(answer.id);
      if ('key' in answer) waiting.resolve(answer.key);
      else waiting.reject(new Error(answer.error));
    });
    worker.on('error', (error) => this.failAll(error));
    worker.on('exit', (code) => {
      this.worker = undefined;
      this.failAll(new Error(`the keying thread stopped (exit code ${code})`));
    });
    // Idle, it must not keep the process alive.
    worker.unref();
    return (this.worker = worker);
  }

  private settled(id: number): void {
    this.pending.delete(id);
    if (this.pending.size === 0) this.worker?.unref();
  }

  private failAll(error: Error): void {
    for (const [id, waiting] of this.pending) {
      this.pending.delete(id);
      waiting.reject(error);
    }
  }

  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    if (worker) await worker.terminate();
  }
}
