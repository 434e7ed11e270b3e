// Occurrences: the n-th time a test sends the same request is its n-th occurrence,
// answered by the n-th recording of that key. The first keeps the plain name
// `<key>.json` (so llama-stack's files, and its recorder, still find each other);
// later ones are `<key>.<n>.json` and say `"occurrence": n` inside.

/** The name a recording of an occurrence goes by (its file name less `.json`): `<key>` or `<key>.<n>`. */
export function recordingId(key: string, occurrence: number): string {
  return occurrence === 1 ? key : `${key}.${occurrence}`;
}

export function occurrenceFileName(key: string, occurrence: number): string {
  return `${recordingId(key, occurrence)}.json`;
}

const RECORDING_ID = /^([0-9a-f]{64})(?:\.([1-9]\d{0,8}))?$/;

/** The key and occurrence of a recording id (or of a file name less `.json`); undefined when it is not one. */
export function parseRecordingId(id: string): { key: string; occurrence: number } | undefined {
  const match = RECORDING_ID.exec(id);
  if (!match) return undefined;
  return { key: match[1] as string, occurrence: match[2] === undefined ? 1 : Number(match[2]) };
}
