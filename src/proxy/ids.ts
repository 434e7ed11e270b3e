// Deterministic ids for stateful APIs. The upstream makes response, conversation,
// item, file, tool-call ... ids at random; in record modes each new one is replaced,
// for the client and in the recording, by an id derived from the request's key and
// its position, keeping its prefix (resp_, conv_, msg_, file-, call_ ...). Later
// requests carry the deterministic ids; they are swapped back for the real ones
// before forwarding. The real ids are upstream state, not test data: they are kept
// in a journal outside the recordings directory, so re-recording a flow from scratch
// writes byte-identical files, and the mapping survives restarts.
import { closeSync, openSync, writeSync } from 'node:fs';
// node:timers' own, not the global: a test faking timers must not stop the journal.
import { setImmediate as atTurnEnd } from 'node:timers';
import { readFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { isJsonObject, type JsonValue } from '../json/lossless.js';
import { recordedId } from './response-normalize.js';
import { hasKeyShape } from '../secrets/catalogue.js';
import { writeAtomically } from '../recordings/atomic-write.js';
import { makeDirs } from '../recordings/make-dirs.js';
import { replaceIdsInJson, replaceIdsInJsonBytes, replaceIdStrings, replaceIdValues, replaceWholeIdValues } from './id-strings.js';

/** One body's or event's id replacements: in a text that carries it, and in its parsed value (in place). */
export interface IdReplacement {
  inText(text: string): string;
  /** inText for a text that is JSON as a whole (a body, an NDJSON line): the same result, most often for far less. */
  inJson(text: string): string;
  /** inJson's result as UTF-8, given the text's UTF-8 `bytes`: most often those bytes with the ids replaced in place. */
  inJsonBytes(text: string, bytes: Buffer): Buffer;
  inValue(value: JsonValue): void;
  /** A whole answer: inJsonBytes, and inValue on `value` (its text parsed), looking in it only where the text's search found the ids. */
  inAnswer(text: string, bytes: Buffer, value: JsonValue): Buffer;
}

/** An id the upstream made: a short lower-case prefix, a separator, then at least 8 letters or digits. */
const ID_SHAPE = /^([a-z]{2,12}[-_])[A-Za-z0-9]{8,}$/;
/** Ids mapped (in memory and in the journal once compacted); past it, the oldest are forgotten. */
const IDS_KEPT = 100_000;
/** A deterministic id as minted here. */
const MINTED = /(?<![A-Za-z0-9_-])(?:rec-[0-9a-f]{12}|[a-z]{2,12}[-_][0-9a-f]{40})(?![A-Za-z0-9_-])/g;

function isIdField(name: string): boolean {
  return name === 'id' || name.endsWith('_id') || name.endsWith('_ids') || name === 'conversation' || name === 'previous_response_id';
}

export class IdMapper {
  private readonly minted = new Map<string, string>(); // deterministic -> real
  private readonly known = new Map<string, string>(); // real -> deterministic
  private constructor(
    private readonly journal: string | undefined,
    private readonly onWriteError: (error: NodeJS.ErrnoException) => void,
  ) {}

  /**
   * Loads the journal of earlier sessions; `journal` undefined keeps the mapping in memory
   * only. `onWriteError` hears each write that fails (the ids it held will not outlive a
   * restart): the exchange still records, so nothing else would say it.
   */
  static async open(journal: string | undefined, onWriteError: (error: NodeJS.ErrnoException) => void = () => undefined): Promise<IdMapper> {
    const mapper = new IdMapper(journal, onWriteError);
    if (!journal) return mapper;
    let text = '';
    try {
      text = await readFile(journal, 'utf8');
    } catch {
      return mapper;
    }
    const lines = text.split('\n').filter((line) => line !== '');
    for (const line of lines) {
      try {
        const { id, upstream } = JSON.parse(line) as { id: string; upstream: string };
        // Ids journaled before key-shaped ones were kept out are dropped on the way in.
        if (typeof id === 'string' && typeof upstream === 'string' && !hasKeyShape(upstream)) mapper.remember(id, upstream);
      } catch {
        // a torn last line from a crash: the rest is still good
      }
    }
    // Compacted when it holds more than it gives: ids past the limit, torn or key-shaped lines.
    const rewritten = lines.length > mapper.size && (await mapper.compact());
    // Ending inside a line (a crash mid-append, even one cut just before its line break) and not rewritten: the next line starts on its own.
    if (!rewritten && text !== '' && !text.endsWith('\n')) mapper.torn = true;
    return mapper;
  }

  get size(): number {
    return this.minted.size;
  }

  private remember(deterministic: string, real: string): void {
    this.minted.set(deterministic, real);
    this.known.set(real, deterministic);
    // Bounded: the flows begun longest ago can no longer be continued.
    if (this.minted.size > IDS_KEPT) {
      const [oldest, oldestReal] = this.minted.entries().next().value as [string, string];
      this.minted.delete(oldest);
      this.known.delete(oldestReal);
    }
  }

  /** Rewrites the journal with the ids kept, in order (atomically: a crash leaves the old one); whether it could. */
  private async compact(): Promise<boolean> {
    const lines = [...this.minted].map(([id, upstream]) => JSON.stringify({ id, upstream }) + '\n');
    return writeAtomically(this.journal as string, lines.join('')).then(
      () => true,
      () => false,
    );
  }

  /** Swaps deterministic ids for the upstream's real ones, anywhere in a path, query or body. */
  toUpstream(text: string): string {
    if (this.minted.size === 0) return text;
    return text.replace(MINTED, (id) => this.minted.get(id) ?? id);
  }

  /**
   * The id rewriting of one exchange: new ids are numbered in the order they appear.
   * `stored`: the request asked the upstream to keep its answer (`"store": true`).
   */
  session(key: string, forwarded: string, stored = false): IdSession {
    return new IdSession(this, key, forwarded, stored);
  }

  /** @internal */
  mint(key: string, real: string, position: number, topLevel: boolean, stored: boolean): string {
    const existing = this.known.get(real);
    if (existing) return existing;
    const prefix = ID_SHAPE.exec(real)?.[1] ?? '';
    const stateful = topLevel ? STATEFUL_TOP_LEVEL.has(prefix) : true;
    const deterministic = stateful
      ? `${prefix}${createHash('sha256').update(`${key}:${position}`).digest('hex').slice(0, 40)}`
      : recordedId(key);
    this.remember(deterministic, real);
    // An id shaped like a key (an API that lists keys) is kept in memory only: no credential reaches a file.
    if (this.journal && !hasKeyShape(real) && (stored || !(topLevel && real.startsWith(UNSTORED_PREFIX)))) this.queue(JSON.stringify({ id: deterministic, upstream: real, key }) + '\n');
    return deterministic;
  }

  /** A line to append: written at the end of this turn of the event loop with the others of the turn, unless flush() comes first. */
  private queue(line: string): void {
    if (this.queued.push(line) === 1) atTurnEnd(this.flushQueued);
  }

  private readonly flushQueued = (): void => this.flush();

  /** The journal, open for appending once the first id is minted (null: it cannot be, for `openFailure`). */
  private fd: number | null | undefined;
  private openFailure: unknown;

  /** Lines minted since the last flush. */
  private queued: string[] = [];

  /** A write failed part-way (a full disk): the journal may end inside a line, which the next write must not extend. */
  private torn = false;

  /**
   * Appends the lines minted so far, in one write: at the end of the turn in which they
   * were minted (the answers that ended together, about two a turn under load, share
   * one system call), or sooner for an answer about to go on (a stream's event) that
   * carries a new id. Synchronous, as a recording is (a few hundred bytes into the page
   * cache cost less at once than a trip through libuv's thread pool and its promises).
   */
  flush(): void {
    if (this.queued.length === 0) return;
    // After a torn write, a line of its own: the reader skips the torn one and reads this.
    const bytes = Buffer.from((this.torn ? '\n' : '') + this.queued.join(''));
    this.queued = [];
    const journal = this.journal as string;
    try {
      if (this.fd === undefined) {
        makeDirs(path.dirname(journal));
        this.fd = openSync(journal, 'a');
      }
      // It could not be opened: each batch lost is still heard.
      if (this.fd === null) throw this.openFailure;
      this.torn = true;
      // A short write goes on from where it stopped.
      for (let at = 0; at < bytes.length; ) at += writeSync(this.fd, bytes, at);
      this.torn = false;
    } catch (error) {
      // Losing the journal only costs continuing this flow after a restart; the exchange still records.
      if (this.fd === undefined) {
        this.fd = null;
        this.openFailure = error;
      }
      this.onWriteError(error as NodeJS.ErrnoException);
    }
  }

  /** Writes what is left and closes the journal (on shutdown). */
  drain(): void {
    this.flush();
    try {
      if (typeof this.fd === 'number') closeSync(this.fd);
    } catch {
      // what was written stays written
    }
    this.fd = undefined;
  }

  /** @internal */
  lookup(real: string): string | undefined {
    return this.known.get(real);
  }
}

/**
 * Top-level ids that name server-side state keep their prefix; others (a chat
 * completion's chatcmpl-...) become rec-<key>, as llama-stack writes them.
 */
const STATEFUL_TOP_LEVEL = new Set(['resp_', 'conv_', 'msg_', 'file-', 'file_', 'batch_', 'vs_', 'vsfb_', 'asst_', 'thread_', 'run_', 'step_', 'ftjob-', 'item_', 'fc_', 'rs_', 'call_']);

/**
 * A chat completion's id: OpenAI keeps the completion only when the request said `"store":
 * true` (llama-stack keeps every one). Each is mapped back while the server runs, but only
 * a stored one is journaled to outlive a restart: most recorded exchanges are chat
 * completions, and each line is a write before the client has its answer.
 */
const UNSTORED_PREFIX = 'chatcmpl-';

export class IdSession {
  private position = 0;

  constructor(
    private readonly mapper: IdMapper,
    private readonly key: string,
    /** What was sent upstream: ids found there came from the client and stay as they are. */
    private readonly forwarded: string,
    private readonly stored: boolean,
  ) {}

  /** The replacements (real -> deterministic) that the ids in a value need. */
  private pairs(value: JsonValue, isTop: boolean, out: Map<string, string>): void {
    if (Array.isArray(value)) {
      for (const item of value) this.pairs(item, false, out);
      return;
    }
    if (!isJsonObject(value)) return;
    const isModel = value['object'] === 'model';
    for (const name in value) {
      const item = value[name];
      if (typeof item === 'object' && item !== null) {
        if (name.endsWith('_ids') && Array.isArray(item)) {
          for (const id of item) if (typeof id === 'string') this.consider(id, false, out);
        } else {
          this.pairs(item, false, out);
        }
        continue;
      }
      if (typeof item !== 'string' || !isIdField(name) || (isModel && name === 'id')) continue;
      this.consider(item, isTop && name === 'id', out);
    }
  }

  private consider(id: string, topLevel: boolean, out: Map<string, string>): void {
    if (out.has(id)) return;
    const known = this.mapper.lookup(id);
    if (known) {
      out.set(id, known);
      return;
    }
    // A top-level id is always replaced (rec-<key> at least), as llama-stack does;
    // a nested one only when it looks like an id the upstream made.
    if ((!topLevel && !ID_SHAPE.test(id)) || this.forwarded.includes(id)) return;
    out.set(id, this.mapper.mint(this.key, id, this.position++, topLevel, this.stored));
  }

  /**
   * Writes the journal's lines for the ids minted so far, now: called before an answer
   * carrying them goes on to the client, so that a server killed after it has them can
   * still map them back. The turn-end write is not enough on its own: a stream's event
   * goes on before the turn ends, and a whole answer's save may have been queued (by
   * another answer) before the journal's write, and so have let it go first.
   */
  journaled(): void {
    this.mapper.flush();
  }

  /**
   * The id replacements one JSON body or chunk needs, undefined when none: over texts
   * that carry it (its data, or the whole SSE frame around it), and in the parsed value
   * itself. Ids are replaced in string values only, never in keys or as parts of other words.
   */
  replacer(value: JsonValue): IdReplacement | undefined {
    const pairs = new Map<string, string>();
    this.pairs(value, true, pairs);
    for (const [real, deterministic] of pairs) if (real === deterministic) pairs.delete(real);
    if (pairs.size === 0) return undefined;
    // An upstream-shaped id (a prefix and 8+ letters or digits) inside a string is that id (a URL naming it); any other only as a whole string.
    const shaped = new Map<string, string>();
    for (const [real, deterministic] of pairs) if (ID_SHAPE.test(real)) shaped.set(real, deterministic);
    return {
      inText: (text) => replaceIdStrings(text, pairs, shaped),
      inJson: (text) => replaceIdsInJson(text, pairs, shaped),
      inJsonBytes: (text, bytes) => replaceIdsInJsonBytes(text, bytes, pairs, shaped).bytes,
      inValue: (parsed) => replaceIdValues(parsed, pairs, shaped),
      inAnswer: (text, bytes, parsed) => {
        const replaced = replaceIdsInJsonBytes(text, bytes, pairs, shaped);
        if (replaced.plain) replaceWholeIdValues(parsed, pairs);
        else replaceIdValues(parsed, pairs, shaped);
        return replaced.bytes;
      },
    };
  }
}
