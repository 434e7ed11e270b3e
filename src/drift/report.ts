// A drift report, as `drift --json` prints it and as it is kept on disk for the
// inspector: the schema is the one definition of its shape (report-file.ts checks a
// file against it; the page is compiled against its types, so this imports no more
// than TypeBox).
import Type, { type Static } from 'typebox';

/** Member path -> the JSON types seen there, sorted ("null", "string", ...). */
const PathTypes = Type.Record(Type.String(), Type.Array(Type.String()));
export type PathTypes = Static<typeof PathTypes>;

const AnswerShape = Type.Object({
  status: Type.Integer(),
  /** The media type, without parameters; '' when none. */
  contentType: Type.String(),
  streaming: Type.Boolean(),
  /** A JSON body's paths (errors included). */
  body: Type.Optional(PathTypes),
  /** A stream's kinds of event, in the order each first came. */
  events: Type.Optional(Type.Array(Type.String())),
  /** Each kind of event's paths. */
  kinds: Type.Optional(Type.Record(Type.String(), PathTypes)),
  /** finish_reason / stop_reason / finishReason / done_reason values seen, sorted. */
  finishReasons: Type.Array(Type.String()),
});
export type AnswerShape = Static<typeof AnswerShape>;

export const CHANGES = ['added', 'removed', 'retyped', 'new', 'gone', 'changed'] as const;
export type Change = (typeof CHANGES)[number];

const findingFields = {
  /** The path (`choices[].message.refusal`), `event <kind>`, `event <kind>: <path>`, or status, content type, streaming, events order, finish reasons. */
  where: Type.String(),
  change: Type.Enum(CHANGES),
  /** What the recording had and what the live answer has, when both say something. */
  recorded: Type.Optional(Type.String()),
  live: Type.Optional(Type.String()),
};
const Finding = Type.Object(findingFields);
export type Finding = Static<typeof Finding>;

/** A finding of one endpoint and model, said once, with every recording it touches. */
const GroupedFinding = Type.Object({ ...findingFields, text: Type.String(), files: Type.Array(Type.String()) });
export type GroupedFinding = Static<typeof GroupedFinding>;

const DriftGroup = Type.Object({ endpoint: Type.String(), model: Type.String(), findings: Type.Array(GroupedFinding) });
export type DriftGroup = Static<typeof DriftGroup>;

const DriftedRecording = Type.Object({
  /** Relative to the recordings directory. */
  file: Type.String(),
  endpoint: Type.String(),
  model: Type.String(),
  findings: Type.Array(Type.String()),
  recorded: AnswerShape,
  live: AnswerShape,
});
export type DriftedRecording = Static<typeof DriftedRecording>;

/** A recording the check could not compare (the key refused, the API down, an answer cut short): exit 2, not drift. */
const FailedRecording = Type.Object({ file: Type.String(), reason: Type.String() });
export type FailedRecording = Static<typeof FailedRecording>;

export const DriftReport = Type.Object({
  checkedAt: Type.String(),
  /** The recordings directory checked, absolute. */
  recordingsDir: Type.String(),
  /** Requests sent (a failed one included). */
  sent: Type.Integer({ minimum: 0 }),
  unchanged: Type.Integer({ minimum: 0 }),
  groups: Type.Array(DriftGroup),
  drifted: Type.Array(DriftedRecording),
  failed: Type.Array(FailedRecording),
  /** Selected but never sent: the check stopped after a failure no later request could get past. */
  notSent: Type.Integer({ minimum: 0 }),
});
export type DriftReport = Static<typeof DriftReport>;
