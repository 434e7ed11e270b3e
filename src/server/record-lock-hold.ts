// The record lock is held while the server is in record mode, and a little longer: until
// the exchanges it began in record mode have ended and their writes are on disk. Such a
// write of a first occurrence removes the older sequence's later files, which only the
// lock's holder may do; letting the lock go at the switch would let a second record
// server in while this one still removes files.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ADMIN_PREFIX } from '../request/control-headers.js';

/** The proxied exchanges begun in record mode whose responses have not yet ended. */
export class RecordModeExchanges {
  private open = 0;
  private waiting: Array<() => void> = [];

  /** Counts an exchange until its response closes (sent, or its client hung up). */
  track(reply: FastifyReply): void {
    this.open++;
    reply.raw.once('close', () => {
      if (--this.open > 0) return;
      for (const resolve of this.waiting.splice(0)) resolve();
    });
  }

  /** Resolves once none is open. */
  ended(): Promise<void> {
    return this.open === 0 ? Promise.resolve() : new Promise((resolve) => this.waiting.push(resolve));
  }
}

/** Counts each proxied exchange that begins in record mode (admin requests are not exchanges: a mode switch waits on these). */
export function trackRecordModeExchanges(app: FastifyInstance, exchanges: RecordModeExchanges): void {
  app.addHook('onRequest', (request: FastifyRequest, reply: FastifyReply, done: () => void) => {
    if (app.config.mode === 'record' && !request.url.startsWith(ADMIN_PREFIX)) exchanges.track(reply);
    done();
  });
}

/**
 * The server has left record mode: once the exchanges it began in record mode have
 * ended and every write is on disk, the lock goes, unless the server has switched
 * back to record meanwhile (then it keeps it).
 */
export async function releaseRecordLock(app: FastifyInstance, exchanges: RecordModeExchanges): Promise<void> {
  await exchanges.ended();
  await app.store.drain();
  if (app.config.mode !== 'record') app.store.unlock();
}
