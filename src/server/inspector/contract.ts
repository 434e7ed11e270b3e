// The inspector's JSON API, as the server sends it and the page reads it. The page's
// script is compiled against this file, so it imports types only from modules that
// import nothing of Node (the page has none).
import type { Answer, Conversation, EmbeddingShape, Part, Timeline } from '../../recordings/conversation.js';
import type { RecordingFacts } from '../../recordings/recording-facts.js';
import type { DriftedRecording, DriftGroup, DriftReport, GroupedFinding } from '../../drift/report.js';

export type { Answer, Conversation, DriftedRecording, DriftGroup, DriftReport, EmbeddingShape, GroupedFinding, Part, Timeline };

/** A recording file's facts, as the catalogue keeps them. */
export type RecordingRow = RecordingFacts;

/** A row as listed: with what this run did with it. */
export interface ListedRecording extends RecordingRow {
  /** Epoch ms this run last answered from or wrote it. */
  lastUsedMs?: number;
  /** Times this run answered from it. */
  hits: number;
  /** This run wrote it. */
  recorded: boolean;
  /**
   * Why the file cannot be used (not JSON, or not a recording): it is listed all the same, so
   * the list counts every file; its facts other than key, occurrence and file are then empty.
   */
  unreadable?: string;
}

export interface Facet {
  value: string;
  count: number;
}

/** GET /_llm-replay/api/recordings */
export interface RecordingPage {
  rows: ListedRecording[];
  /** The cursor of the next page; null at the end. */
  next: number | null;
  /** Rows matching the filter; null when a text search has not read them all. */
  total: number | null;
  /** Files a text search read for this page. */
  scanned?: number;
  /** The list is complete when done equals total. */
  indexing: { done: number; total: number };
  facets: { endpoints: Facet[]; models: Facet[]; statuses: Facet[] };
}

/** GET /_llm-replay/api/recording?file= */
export interface RecordingView {
  row: ListedRecording;
  /** Absolute path of the file. */
  path: string;
  request: { method: string; endpoint: string; url: string; model: string; body: unknown };
  conversation?: Conversation;
  response: { status: number; streaming: boolean; headers: Record<string, string>; body?: unknown; error?: unknown; binary?: { bytes: number; contentType: string } };
  answer?: Answer;
  stream?: { format: string; chunks: number; text: string; toolCalls: Array<{ id?: string; name?: string; arguments: string }>; timeline: Timeline };
  embeddings?: EmbeddingShape;
  /** When and against what it was recorded (`response.origin`); older files and llama-stack's have none. */
  origin?: { recordedAt?: string; upstream: string; model?: string; versionHeaders?: Record<string, string> };
  raw: { text: string; truncated: boolean; bytes: number };
}

export type JournalKind = 'hit' | 'recorded' | 'miss' | 'fault' | 'forwarded' | 'failed';

/** One request of this run, as the journal notes it. */
export interface JournalRecord {
  seq: number;
  /** Epoch ms when the request arrived. */
  at: number;
  kind: JournalKind;
  method: string;
  path: string;
  testId: string | null;
  key?: string;
  status?: number;
  /** Undefined while its answer is still being sent. */
  durationMs?: number;
  message?: string;
  /** The model the request named (its body's `model`), on a failed entry. */
  model?: string;
}

/** One request of this run, as GET /_llm-replay/api/journal lists it. */
export interface JournalItem extends JournalRecord {
  /** The recording it was answered from or written to. */
  file?: string;
  /** A miss's nearest recording and how many fields differ. */
  nearest?: { file: string; differences: number };
}

export interface JournalPage {
  items: JournalItem[];
  /** The sequence number the next request will get. */
  next: number;
  mode: string;
  url: string;
  recordingsDir: string;
  startedAt: string;
}

/** One line of a side-by-side diff: a line of each body's pretty JSON, aligned. */
export interface DiffLine {
  left?: string;
  right?: string;
  /** Same place in both, different value; or only on one side. */
  changed: boolean;
}

/** GET /_llm-replay/api/journal/:seq */
export interface JournalDetail {
  item: JournalItem;
  miss?: {
    message: string;
    differences: Array<{ path: string; recorded?: string; requested?: string }>;
    /** The body the client sent; undefined once the journal no longer keeps it, null when it was not JSON. */
    requested?: unknown;
    nearest?: { file: string; key: string; testId: string | null };
    diff?: DiffLine[];
    commands: Array<{ label: string; command: string }>;
  };
}

/** GET /_llm-replay/api/drift[?file=] */
export interface DriftView {
  /** Where the server looks for the latest report. */
  path: string;
  /** Absent when there is none yet, or when `problem` says why the file is not one. */
  report?: DriftReport;
  problem?: string;
  /** This server's recordings directory, when the report checked another one (its links may then lead nowhere). */
  serverDir?: string;
  /** With ?file=: that recording's recorded shape (left) and live shape (right), lined up. */
  shapes?: DiffLine[];
}
