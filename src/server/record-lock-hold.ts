// The record lock is held while the server is in record mode, and a little longer: until
// the exchanges it began in record mode have ended and their writes are on disk. Such a
// write of a first occurrence removes the older sequence's later files, which only the
// lock's holder may do; letting the lock go at the switch would let a second record
// server in while this one still removes files.
import type { FastifyInstance } from 'fastify';

/** The exchanges begun in record mode that have not yet ended. */
export class RecordModeExchanges {
  private open = 0;
  private waiting: Array<() => void> = [];

  /** Counts an exchange until it has ended, its write included: a client that hung up does not end it, as the upstream call and the write go on. */
  hold<T>(exchange: Promise<T>): Promise<T> {
    this.open++;
    const ended = () => {
      if (--this.open > 0) return;
      for (const resolve of this.waiting.splice(0)) resolve();
    };
    exchange.then(ended, ended);
    return exchange;
  }

  /** Resolves once none is open, or when the mode changes (a release then looks again at whether it is still wanted). */
  ended(): Promise<void> {
    return this.open === 0 ? Promise.resolve() : new Promise((resolve) => this.waiting.push(resolve));
  }

  /** The server switched modes: whoever waits on ended() looks again. */
  modeChanged(): void {
    for (const resolve of this.waiting.splice(0)) resolve();
  }

  get count(): number {
    return this.open;
  }
}

/**
 * The server has left record mode: once the exchanges it began in record mode have
 * ended and every write is on disk, the lock goes, unless the server has switched
 * back to record meanwhile (then it keeps it).
 */
export async function releaseRecordLock(app: FastifyInstance, exchanges: RecordModeExchanges): Promise<void> {
  // Each round ends when the last exchange does or the mode changes; back in record mode, the lock stays and this answer comes at once.
  for (let round = 0; round < 10_000 && exchanges.count > 0; round++) {
    if (app.config.mode === 'record') return;
    await exchanges.ended();
  }
  await app.store.drain();
  if (app.config.mode !== 'record') app.store.unlock();
}

/** Takes the recordings directory's record lock for this server, saying in the log whose lock it took over, if any. Throws RecordLockError while another server holds it. */
export function takeRecordLock(app: FastifyInstance): void {
  const takenOver = app.store.lockForRecording();
  if (takenOver) app.log.warn(`llm-replay: ${takenOver}`);
}
