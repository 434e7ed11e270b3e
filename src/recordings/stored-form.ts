// What a save writes and keeps: the recording saying which occurrence it is, with the
// request's credentials scrubbed from it wherever the answer echoed them, and its bytes.
import { scrubRecorded } from '../secrets/redact.js';
import { hasPlainNumbers, serializeRecording, withPlainNumbers, type Recording } from './recording.js';

/**
 * The recording of `occurrence` as it is written and kept, with its file's bytes, which
 * are good until the next call (the store writes them at once: its saves are synchronous).
 * The bytes made for the file tell whether any of `secrets` is in it; only then is the
 * recording walked and made again.
 */
export function storedForm(recording: Recording, occurrence: number, secrets: readonly string[]): { recording: Recording; bytes: Buffer } {
  const numbered = occurrence === 1 ? recording : withOccurrence(recording, occurrence);
  const bytes = utf8Of(serializeRecording(numbered));
  const scrubbed = secrets.length === 0 ? numbered : scrubRecorded(numbered, secrets, bytes);
  if (scrubbed === numbered) return { recording: numbered, bytes };
  // Only strings change: numbers read by JSON.parse are still.
  const marked = hasPlainNumbers(numbered) ? withPlainNumbers(scrubbed) : scrubbed;
  return { recording: marked, bytes: utf8Of(serializeRecording(marked)) };
}

/** Recordings up to this size (as text) are encoded into one buffer kept for the next. */
const SCRATCH_LIMIT = 256 * 1024;
let scratch = Buffer.allocUnsafe(16 * 1024);

/**
 * `text` as UTF-8, in the reused buffer when it fits: a new buffer for every recording
 * costs an allocation the garbage collector tracks, and a pass to measure the text first.
 */
function utf8Of(text: string): Buffer {
  if (text.length > SCRATCH_LIMIT) return Buffer.from(text);
  // Three bytes a UTF-16 unit at most (a lone surrogate becomes U+FFFD's three); grown by doubling to what recordings need.
  if (scratch.length < text.length * 3) {
    let size = scratch.length * 2;
    while (size < text.length * 3) size *= 2;
    scratch = Buffer.allocUnsafe(size);
  }
  return scratch.subarray(0, scratch.write(text, 0, 'utf8'));
}

/** A later occurrence's recording, saying which it is (after test_id, where a reader looks first). */
function withOccurrence(recording: Recording, occurrence: number): Recording {
  const { test_id, ...rest } = recording;
  const numbered = { test_id, occurrence, ...rest };
  return hasPlainNumbers(recording) ? withPlainNumbers(numbered) : numbered;
}
