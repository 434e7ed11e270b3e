// The facts about a recording file that the catalogue keeps and the inspector page
// lists. This module imports nothing: the page's script uses the type as it is.

export interface RecordingFacts {
  /** The request key the file is named by. */
  key: string;
  /** Which answer this is for repeated identical requests: 1 unless the file says otherwise. */
  occurrence: number;
  /** Relative to the recordings directory, with '/' separators. */
  file: string;
  method: string;
  endpoint: string;
  /** The request's model, '' when none. */
  model: string;
  testId: string | null;
  /** The status replay answers with. */
  status: number;
  streaming: boolean;
  /** The file's size. */
  bytes: number;
  mtimeMs: number;
}
