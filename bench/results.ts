// The figures of one run by name ("replay.10.ours.rps"), each a median with min
// and max over its runs, plus the notes each section leaves for the report
// (errors seen, targets that could not be measured and why).
import { summarize, type Sample } from './report.js';

export class Results {
  readonly samples: Record<string, Sample> = {};
  readonly notes: Record<string, string> = {};

  note(name: string, values: number[]): void {
    this.samples[name] = summarize(values);
  }

  get(name: string): Sample {
    return this.samples[name] ?? { median: NaN, min: NaN, max: NaN };
  }

  median(name: string): number {
    return this.get(name).median;
  }

  /** A sentence for the report about `topic`. */
  say(topic: string, text: string): void {
    this.notes[topic] = this.notes[topic] ? `${this.notes[topic]} ${text}` : text;
  }
}

/** What every section is given. */
export interface Bench {
  results: Results;
  /** A folder for this run's recordings, removed at the end. */
  scratch: string;
  log(line: string): void;
}
