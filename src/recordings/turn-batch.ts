// Work asked for in one turn of the event loop, done together at its end, one piece
// after the other, each settling its own promise. What is still to be done counts for
// a drain (a server closing right after an answer ended).
// node:timers' own, not the global: a test faking timers must not stop the work.
import { setImmediate as atTurnEnd } from 'node:timers';

export class TurnBatch {
  private readonly queued: Array<() => void> = [];
  private readonly pending = new Set<Promise<void>>();

  /** Does `work` at the end of this turn: resolves when it has returned, rejects with what it threw. */
  run(work: () => void): Promise<void> {
    const done = new Promise<void>((resolve, reject) => {
      const step = () => {
        try {
          work();
          resolve();
        } catch (error) {
          reject(error);
        }
      };
      if (this.queued.push(step) === 1) atTurnEnd(this.runQueued);
    });
    this.pending.add(done);
    void done.catch(() => undefined).finally(() => this.pending.delete(done));
    return done;
  }

  private readonly runQueued = (): void => {
    for (const step of this.queued.splice(0)) step();
  };

  /** Waits until nothing is queued or running, work queued meanwhile included (bounded). */
  async drain(): Promise<void> {
    for (let round = 0; round < 100 && this.pending.size > 0; round++) await Promise.allSettled([...this.pending]);
  }
}
