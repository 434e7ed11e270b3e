// Where a new recording is written inside the recordings directory. A test id can
// choose a folder (llama-stack keeps recordings beside the test file) but can never
// lead outside the directory, nor into a folder the index does not read: anything odd
// falls back to the top folder.

export const LAYOUTS = ['flat', 'by-test-file'] as const;
export type Layout = (typeof LAYOUTS)[number];

const SAFE_SEGMENT = /^[A-Za-z0-9_][A-Za-z0-9_.+=@-]{0,127}$/;
const MAX_DEPTH = 32;
/**
 * A path from the root or a drive's root, or through '..' (either separator). A colon alone
 * (x:y.py, drive-relative on Windows) is refused below, as a name no folder may have.
 */
const LEADS_OUTSIDE = /^(?:[\\/]|[A-Za-z]:[\\/])|(?:^|[\\/])\.\.(?:[\\/]|$)/;

/** Folders the index does not read (hidden ones, node_modules): no recording is ever written into one. */
export function isUnreadFolder(name: string): boolean {
  return name.startsWith('.') || name === 'node_modules';
}

/** Where a recording goes (relative to the recordings directory, '' for the top folder), and why not beside its test file when its test id names one that cannot have a folder. */
export interface RecordingPlace {
  dir: string;
  refused?: string;
}

/** `tests/x/test_a.py::test_b` -> `tests/x/recordings` under the by-test-file layout. */
export function recordingPlace(layout: Layout, testId: string | null): RecordingPlace {
  if (layout !== 'by-test-file' || testId === null) return { dir: '' };
  const testFile = testId.split('::')[0] ?? '';
  if (!testFile.includes('.py') && !/\.(test|spec)\.[cm]?[jt]sx?$/.test(testFile)) return { dir: '' };
  if (LEADS_OUTSIDE.test(testFile)) return { dir: '', refused: 'its test file would lead outside the recordings directory' };
  const segments = testFile.split('/');
  if (segments.length > MAX_DEPTH + 1) return { dir: '', refused: `its test file is more than ${MAX_DEPTH} folders deep` };
  // The file's name too: a Windows path (C:\x\test_a.py) is one odd name, not a test file at the top.
  const odd = segments.find((segment) => !SAFE_SEGMENT.test(segment) || isUnreadFolder(segment));
  if (odd !== undefined) return { dir: '', refused: `its test file's path has ${JSON.stringify(odd)}, not a plain name of a folder the index reads` };
  return { dir: [...segments.slice(0, -1), 'recordings'].join('/') };
}
