// Where a new recording is written inside the recordings directory. A test id can
// choose a folder (llama-stack keeps recordings beside the test file) but can never
// lead outside the directory, nor into a folder the index does not read: anything odd
// falls back to the top folder.

export const LAYOUTS = ['flat', 'by-test-file'] as const;
export type Layout = (typeof LAYOUTS)[number];

const SAFE_SEGMENT = /^[A-Za-z0-9_][A-Za-z0-9_.+=@-]{0,127}$/;
const MAX_DEPTH = 32;

/** Folders the index does not read (hidden ones, node_modules): no recording is ever written into one. */
export function isUnreadFolder(name: string): boolean {
  return name.startsWith('.') || name === 'node_modules';
}

/** `tests/x/test_a.py::test_b` -> `tests/x/recordings` under the by-test-file layout. */
export function recordingDirFor(layout: Layout, testId: string | null): string {
  if (layout !== 'by-test-file' || testId === null) return '';
  const testFile = testId.split('::')[0] ?? '';
  if (!testFile.includes('.py') && !/\.(test|spec)\.[cm]?[jt]sx?$/.test(testFile)) return '';
  const segments = testFile.split('/');
  // The file's name too: a Windows path (C:\x\test_a.py) is one odd name, not a test file at the top.
  if (segments.length > MAX_DEPTH + 1 || !segments.every((segment) => SAFE_SEGMENT.test(segment) && !isUnreadFolder(segment))) {
    return '';
  }
  return [...segments.slice(0, -1), 'recordings'].join('/');
}
