// Upstreams that end their response 30 ms after the last event (a keep-alive between,
// as real APIs can) and never before the client under test has hung up: the order in
// which a proxy that counts a hang-up as a broken stream loses the recording, made
// certain whatever the machine's load.
import { expect } from 'vitest';
import type { RunningServer } from '../../src/index.js';
import type { StreamScript } from './fake-upstream.js';

export class HangUps {
  private readonly waiting: Array<() => void> = [];

  /** A fake upstream's stream script; `keepAlive` is what it writes 10 ms after the last event. */
  script(keepAlive: string): () => StreamScript {
    return () => ({ lingerMs: 30, keepAlive, lingerUntil: new Promise<void>((resolve) => this.waiting.push(resolve)) });
  }

  /** The client has hung up: the upstreams' responses end 20 ms later. */
  hungUp(): void {
    for (const release of this.waiting.splice(0)) release();
  }
}

/** Waits (bounded) until the server has concluded `count` exchanges, recorded or not: a client that hung up does not wait for the write. */
export async function concluded(server: RunningServer, count: number): Promise<void> {
  const done = () => server.app.journal.entries().filter((entry) => entry.kind === 'recorded' || entry.kind === 'failed').length >= count;
  for (let i = 0; i < 1000 && !done(); i++) await new Promise((resolve) => setTimeout(resolve, 5));
  expect(done()).toBe(true);
}
