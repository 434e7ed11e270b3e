// Sends a prepared answer: whole and at once, or a stream at its recorded pace.
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyReply } from 'fastify';
import type { PreparedResponse } from './prepare.js';
import { payloadFor } from '../wire/bodiless.js';

/** A stream's events, each sent when it was recorded to have been sent (divided by `factor`). */
function pacedEvents(events: Buffer[], offsets: number[], factor: number, startedAt: number): Readable {
  async function* paced() {
    for (const [i, event] of events.entries()) {
      const due = startedAt + (offsets[i] ?? offsets[offsets.length - 1] ?? 0) / factor - performance.now();
      if (due > 1) await sleep(due);
      yield event;
    }
  }
  return Readable.from(paced(), { objectMode: false });
}

/** A prepared answer's wire events (a whole body: one), at its recorded pace when asked. */
export function answerEvents(prepared: PreparedResponse, paceFactor: number, startedAt: number): Iterable<Buffer> | AsyncIterable<Buffer> {
  const events = prepared.events ?? [prepared.body ?? Buffer.alloc(0)];
  if (paceFactor === 0 || prepared.body || !prepared.offsets || prepared.offsets.length === 0) return events;
  return pacedEvents(events, prepared.offsets, paceFactor, startedAt);
}

/** Sends a prepared answer whole, at once. */
export function sendNow(reply: FastifyReply, prepared: PreparedResponse): FastifyReply {
  reply.code(prepared.status).headers(prepared.headers);
  prepared.wire ??= prepared.body ?? Buffer.concat(prepared.events ?? []);
  return reply.send(payloadFor(prepared.status, prepared.wire));
}

/** Sends a prepared answer: at once, or for a stream with recorded timing, at its recorded pace. */
export async function sendPrepared(reply: FastifyReply, prepared: PreparedResponse, paceFactor: number, startedAt: number): Promise<FastifyReply> {
  if (paceFactor === 0 || prepared.body || !prepared.offsets || prepared.offsets.length === 0) return sendNow(reply, prepared);
  reply.code(prepared.status).headers(prepared.headers);
  const headDue = startedAt + (prepared.headMs ?? 0) / paceFactor - performance.now();
  if (headDue > 1) await sleep(headDue);
  return reply.send(pacedEvents(prepared.events ?? [], prepared.offsets, paceFactor, startedAt));
}
