// The inspector API's route schemas: its query strings (coerced by fastify's ajv: "5"
// is 5, "true" is true) and the replies the page asks for most, serialized by their
// schemas: the journal page it polls and a page of the recordings list (up to 500
// rows). A reply schema's type must be contract.ts's, exactly.
import Type, { type Static } from 'typebox';
import type { JournalItem, JournalPage, ListedRecording, RecordingPage } from './contract.js';

const MAX_LIMIT = 500;

export const listQuery = Type.Object({
  test_id: Type.Optional(Type.String()),
  endpoint: Type.Optional(Type.String()),
  model: Type.Optional(Type.String()),
  status: Type.Optional(Type.String({ pattern: '^([1-5]([xX]{2}|[0-9]{2}))?$', description: 'a status code (404) or a class (4xx)' })),
  streaming: Type.Optional(Type.Boolean()),
  occurrence: Type.Optional(Type.Integer({ minimum: 1 })),
  q: Type.Optional(Type.String()),
  used: Type.Optional(Type.Boolean()),
  cursor: Type.Integer({ minimum: 0, default: 0 }),
  limit: Type.Integer({ minimum: 1, maximum: MAX_LIMIT, default: 100 }),
});

export const fileQuery = Type.Object({ file: Type.String() });

/** Entries after this sequence number. */
export const afterQuery = Type.Object({ after: Type.Integer({ minimum: 0, default: 0 }) });

export const seqParams = Type.Object({ seq: Type.Integer({ minimum: 0 }) });

const journalKind = Type.Union([Type.Literal('hit'), Type.Literal('recorded'), Type.Literal('miss'), Type.Literal('fault'), Type.Literal('forwarded'), Type.Literal('failed')]);

const journalItem = Type.Object({
  seq: Type.Integer(),
  at: Type.Number(),
  kind: journalKind,
  method: Type.String(),
  path: Type.String(),
  testId: Type.Union([Type.String(), Type.Null()]),
  key: Type.Optional(Type.String()),
  status: Type.Optional(Type.Integer()),
  durationMs: Type.Optional(Type.Number()),
  message: Type.Optional(Type.String()),
  model: Type.Optional(Type.String()),
  file: Type.Optional(Type.String()),
  nearest: Type.Optional(Type.Object({ file: Type.String(), differences: Type.Integer() })),
});

export const journalPage = Type.Object({
  items: Type.Array(journalItem),
  next: Type.Integer(),
  mode: Type.String(),
  url: Type.String(),
  recordingsDir: Type.String(),
  startedAt: Type.String(),
});

const facet = Type.Object({ value: Type.String(), count: Type.Integer() });

const listedRecording = Type.Object({
  key: Type.String(),
  occurrence: Type.Integer(),
  file: Type.String(),
  method: Type.String(),
  endpoint: Type.String(),
  model: Type.String(),
  testId: Type.Union([Type.String(), Type.Null()]),
  status: Type.Integer(),
  streaming: Type.Boolean(),
  bytes: Type.Integer(),
  mtimeMs: Type.Number(),
  lastUsedMs: Type.Optional(Type.Number()),
  hits: Type.Integer(),
  recorded: Type.Boolean(),
  unreadable: Type.Optional(Type.String()),
});

export const recordingPage = Type.Object({
  rows: Type.Array(listedRecording),
  next: Type.Union([Type.Integer(), Type.Null()]),
  total: Type.Union([Type.Integer(), Type.Null()]),
  scanned: Type.Optional(Type.Integer()),
  indexing: Type.Object({ done: Type.Integer(), total: Type.Integer() }),
  facets: Type.Object({ endpoints: Type.Array(facet), models: Type.Array(facet), statuses: Type.Array(facet) }),
});

// A field the contract gains and the schema lacks would be dropped from the reply: the compiler says so.
type Same<A, B> = [A, keyof A] extends [B, keyof B] ? ([B, keyof B] extends [A, keyof A] ? true : false) : false;
type Checked = [Same<Static<typeof journalPage>, JournalPage>, Same<Static<typeof journalItem>, JournalItem>, Same<Static<typeof recordingPage>, RecordingPage>, Same<Static<typeof listedRecording>, ListedRecording>];
const sameAsContract: Checked = [true, true, true, true];
void sameAsContract;
