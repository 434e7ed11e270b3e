// What a save writes and keeps: the recording saying which occurrence it is, with the
// request's credentials scrubbed from it wherever the answer echoed them, and its bytes.
import { scrubRecorded } from '../secrets/redact.js';
import { hasPlainNumbers, serializeRecording, withPlainNumbers, type Recording } from './recording.js';

/**
 * The recording of `occurrence` as it is written and kept, with its file's bytes. The
 * bytes made for the file tell whether any of `secrets` is in it; only then is the
 * recording walked and made again.
 */
export function storedForm(recording: Recording, occurrence: number, secrets: readonly string[]): { recording: Recording; bytes: Buffer } {
  const numbered = occurrence === 1 ? recording : withOccurrence(recording, occurrence);
  const bytes = Buffer.from(serializeRecording(numbered));
  const scrubbed = secrets.length === 0 ? numbered : scrubRecorded(numbered, secrets, bytes);
  if (scrubbed === numbered) return { recording: numbered, bytes };
  // Only strings change: numbers read by JSON.parse are still.
  const marked = hasPlainNumbers(numbered) ? withPlainNumbers(scrubbed) : scrubbed;
  return { recording: marked, bytes: Buffer.from(serializeRecording(marked)) };
}

/** A later occurrence's recording, saying which it is (after test_id, where a reader looks first). */
function withOccurrence(recording: Recording, occurrence: number): Recording {
  const { test_id, ...rest } = recording;
  const numbered = { test_id, occurrence, ...rest };
  return hasPlainNumbers(recording) ? withPlainNumbers(numbered) : numbered;
}
