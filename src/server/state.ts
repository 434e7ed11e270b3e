// What the server's parts share, decorated on the fastify instance as `llmReplay`:
// the resolved options, the recordings and their catalogue, the prepared answers,
// the id mapper of the record modes, this run's usage and journal, occurrence counts,
// record-if-missing's requests in flight, and the faults to inject.
import type { Dispatcher } from 'undici';
import type { KeyThread } from '../keys/key-thread.js';
import type { FastifyBaseLogger } from 'fastify';
import type { ServerConfig } from '../config/options.js';
import type { FaultRegistry } from '../faults/registry.js';
import type { IdMapper } from '../proxy/ids.js';
import type { RecordingCatalogue } from '../recordings/catalogue.js';
import type { RecordingStore } from '../recordings/store.js';
import type { ReplayAnswers } from '../replay/answers.js';
import type { Journal } from './journal.js';
import type { OccurrenceCounts } from './occurrences.js';
import type { ForwardOutcome } from '../proxy/forward.js';
import type { Usage } from './usage.js';

export interface ProxyState {
  config: ServerConfig;
  store: RecordingStore;
  /** A few facts about every recording, read in the background after start-up. */
  catalogue: RecordingCatalogue;
  answers: ReplayAnswers;
  /** Deterministic ids in record modes; undefined when switched off. */
  ids: IdMapper | undefined;
  log: FastifyBaseLogger;
  /** Record-if-missing: the recording in flight per occurrence (`<key>` or `<key>.<n>`), so runs sharing the server record it once. */
  inflight: Map<string, Promise<ForwardOutcome>>;
  /** How often each test has sent each request, per run scope. */
  occurrences: OccurrenceCounts;
  usage: Usage;
  /** The faults in force and those injected. */
  faults: FaultRegistry;
  /** This run's requests, for the inspector page. */
  journal: Journal;
  /** The agent every forwarded request goes through. */
  upstream: Dispatcher;
  /** Keys large bodies off the server's thread. */
  keyThread: KeyThread;
  /** Causes of unrecorded answers already logged (a refused key ...): each is logged once at warn level. */
  loggedCauses: Set<string>;
  /** Whether the admin endpoints want a token (given, or made because the server listens beyond loopback). */
  needsAdminToken: boolean;
  /** The URL the server listens on (http://127.0.0.1:8787), once it listens. */
  url: string;
}

declare module 'fastify' {
  interface FastifyInstance {
    llmReplay: ProxyState;
  }
}

export function isRecordingMode(mode: ServerConfig['mode']): boolean {
  return mode === 'record' || mode === 'record-if-missing';
}
