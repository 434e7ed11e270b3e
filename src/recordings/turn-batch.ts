// Work asked for in one turn of the event loop, done together at its end, one piece
// after the other, each settling its own promise. What is still to be done counts for
// a drain (a server closing right after an answer ended).
// node:timers' own, not the global: a test faking timers must not stop the work.
import { setImmediate as atTurnEnd } from 'node:timers';

export class TurnBatch {
  private queued: Array<() => void> = [];

  /**
   * Does `work` at the end of this turn: resolves when it has returned, rejects with what
   * it threw. The caller handles the rejection (every save's is awaited where it is asked
   * for): nothing here does, so that a save costs one promise.
   */
  run(work: () => void): Promise<void> {
    // One promise a piece of work: it is made on every recorded exchange.
    return new Promise<void>((resolve, reject) => {
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
  }

  private readonly runQueued = (): void => {
    const steps = this.queued;
    this.queued = [];
    for (const step of steps) step();
  };

  /**
   * Waits until nothing is queued, work queued meanwhile included (bounded): each wait
   * is a turn's end, after the queued work has run and its promises' callers have gone on.
   */
  async drain(): Promise<void> {
    for (let round = 0; round < 100 && this.queued.length > 0; round++) await new Promise<void>((resolve) => atTurnEnd(resolve));
  }
}
