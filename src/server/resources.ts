// The server's resources, decorated on the fastify instance, each by its own plugin with
// its own shutdown: this run's usage (its file written once every write has landed, so
// registered first: fastify runs onClose hooks last registered first), the recordings
// (the store drains its writes), the id journal of the record modes, the upstream agent,
// the keying worker, and the fault registry (injected delays end as soon as closing
// starts). A module takes the few it needs as a Pick of the instance; a request is its
// own value (its context).
import path from 'node:path';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import type { Agent } from 'undici';
import { isRecordingMode } from '../config/schema.js';
import type { ServerConfig } from '../config/options.js';
import { FaultRegistry } from '../faults/registry.js';
import { KeyThread } from '../keys/key-thread.js';
import { upstreamAgent, type ForwardOutcome } from '../proxy/forward.js';
import { IdMapper } from '../proxy/ids.js';
import { RecordingCatalogue } from '../recordings/catalogue.js';
import { cannotWriteIn } from '../recordings/atomic-write.js';
import { makeDirs } from '../recordings/make-dirs.js';
import type { RecordingStore } from '../recordings/store.js';
import { ReplayAnswers } from '../replay/answers.js';
import { Journal } from './journal.js';
import { OccurrenceCounts } from './occurrences.js';
import { RecordModeExchanges } from './record-lock-hold.js';
import { Usage } from './usage.js';

declare module 'fastify' {
  interface FastifyInstance {
    config: ServerConfig;
    /** The URL the server listens on (http://127.0.0.1:8787); '' until it listens. */
    url: string;
    usage: Usage;
    store: RecordingStore;
    catalogue: RecordingCatalogue;
    answers: ReplayAnswers;
    upstreamIds: UpstreamIds;
    /** The agent every forwarded request goes through. */
    upstream: Agent;
    keyThread: KeyThread;
    faults: FaultRegistry;
    journal: Journal;
    /** How often each test has sent each request, per run scope; zero at every start. */
    occurrences: OccurrenceCounts;
    /** Record-if-missing: the recording in flight per occurrence (`<key>` or `<key>.<n>`), so runs sharing the server record it once. */
    inflight: Map<string, Promise<ForwardOutcome>>;
    /** Causes of unrecorded answers already logged (a refused key ...): each is logged once at warn level. */
    loggedCauses: Set<string>;
    /** Which run and test last recorded each key on this server: a sequence recorded by two is warned of once per change of hands. */
    recordedBy: Map<string, string>;
    /** Record mode: each occurrence in flight (per run, test, key and occurrence), resolving to whether it was recorded; the next occurrence's write waits for it. */
    sequenceSteps: Map<string, Promise<boolean>>;
    /** The exchanges begun in record mode still open: the record lock outlives the mode until they end. */
    recordModeExchanges: RecordModeExchanges;
  }
}

/** The record modes' deterministic ids: opened at start in a record mode, or when the mode switches to one; never with --no-stateful-ids. */
class UpstreamIds {
  mapper: IdMapper | undefined;
  private opening: Promise<IdMapper> | undefined;

  constructor(
    private readonly file: string | undefined,
    private readonly log: FastifyBaseLogger,
    /** Whether a failing journal has been said at warn (start-up says so of a state folder that cannot be written). */
    private warned = false,
  ) {}

  /**
   * A journal write failed (a full disk, a path that is not a file): said at warn the
   * first time (unless start-up said the state folder cannot be written), then at debug
   * for each batch of ids lost.
   */
  private readonly writeError = (error: NodeJS.ErrnoException): void => {
    const level = this.warned ? 'debug' : 'warn';
    this.warned = true;
    this.log[level]({ file: this.file }, `llm-replay: the id journal ${this.file} cannot be written (${error.code ?? error.message}): ids minted now may not outlive a restart (a stateful flow recorded now may not be continued after one), though recordings are still written; --state-dir names another folder`);
  };

  async open(): Promise<void> {
    if (!this.file) return;
    this.opening ??= IdMapper.open(this.file, this.writeError).catch((error: unknown) => {
      this.opening = undefined;
      throw error;
    });
    this.mapper = await this.opening;
  }
}

type Register = (app: FastifyInstance) => void | Promise<void>;

/** A plugin that is not encapsulated (fastify's skip-override, as fastify-plugin sets): its decorators and hooks are the whole server's. */
function resource(name: string, register: Register) {
  const plugin = async (app: FastifyInstance) => register(app);
  Object.defineProperty(plugin, 'name', { value: `llm-replay ${name}` });
  return Object.assign(plugin, { [Symbol.for('skip-override')]: true });
}

const usageFile = resource('usage', (app) => {
  const usage = new Usage();
  app.decorate('usage', usage);
  let served = false;
  app.addHook('onListen', async () => void (served = true));
  app.addHook('onClose', async () => {
    if (!served) return;
    const { usageDir, mode, recordingsDir } = app.config;
    await usage.write(usageDir, mode, recordingsDir).catch((error: Error) => app.log.warn(`llm-replay: cannot write the usage file to ${usageDir}: ${error.message}`));
  });
});

/** Whether `dir` is `parent` or a folder under it (not a sibling named '..x', nor on another drive). */
function inside(parent: string, dir: string): boolean {
  const relative = path.relative(parent, dir);
  return relative === '' || (relative !== '..' && !relative.startsWith(`..${path.sep}`) && !path.isAbsolute(relative));
}

/**
 * A state folder that cannot be written loses, without a word, what is to outlive the run:
 * the ids the record modes mint (a flow continued after a restart) and the usage file. Said
 * once at start; the server records all the same.
 */
function sayUnwritableStateDir(app: FastifyInstance): boolean {
  const { stateDir, usageDir, statefulIds } = app.config;
  const lost = [...(statefulIds ? ['the ids this run mints will not outlive a restart (a Responses or files flow cannot be continued after one)'] : []), ...(inside(stateDir, usageDir) ? ['the usage file will not be saved'] : [])];
  if (lost.length === 0) return false;
  let cannot: string | undefined;
  try {
    makeDirs(stateDir);
    cannot = cannotWriteIn(stateDir);
  } catch (error) {
    cannot = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
  }
  if (cannot === undefined) return false;
  app.log.warn(`llm-replay: the state folder ${stateDir} cannot be written (${cannot}): ${lost.join(', and ')}; --state-dir names another`);
  return true;
}

const idJournal = resource('id journal', async (app) => {
  const { config } = app;
  const recording = isRecordingMode(config.mode);
  const ids = new UpstreamIds(config.statefulIds ? path.join(config.stateDir, 'upstream-ids.jsonl') : undefined, app.log, recording && sayUnwritableStateDir(app));
  if (recording) await ids.open();
  app.decorate('upstreamIds', ids);
  app.addHook('onClose', async () => ids.mapper?.drain());
});

const upstream = resource('upstream agent', (app) => {
  const agent = upstreamAgent(app.config.upstreamTimeoutMs);
  app.decorate('upstream', agent);
  // Destroyed, not closed, once every client connection has: a request still waiting on the upstream is one whose client has gone.
  app.addHook('onClose', () => agent.destroy());
});

const keyWorker = resource('key worker', (app) => {
  const keyThread = new KeyThread(app.config.rules ? { rules: app.config.rules } : {});
  app.decorate('keyThread', keyThread);
  app.addHook('onClose', () => keyThread.close());
});

const faultRegistry = resource('fault registry', (app) => {
  const faults = new FaultRegistry(app.config.faults);
  app.decorate('faults', faults);
  // Injected delays and stalls would otherwise hold the close until their clients gave up.
  app.addHook('preClose', async () => faults.close());
});

function recordings(store: RecordingStore) {
  return resource('recordings', (app) => {
    app.decorate('store', store);
    // Record mode's only removal (the store's removeOlderSequence): a file that vanished from the directory is found in the log by name.
    store.onRemoved((removed, removedHere) => {
      if (!removedHere) return;
      const file = path.relative(store.dir, removed);
      app.log.info({ file }, `llm-replay: removed ${file}: a later occurrence of an older recording of this request, which record mode records anew from its first occurrence`);
    });
    app.decorate('catalogue', new RecordingCatalogue(store));
    app.decorate('answers', new ReplayAnswers(store));
    app.addHook('onClose', () => store.drain().finally(() => store.unlock()));
    app.decorate('recordModeExchanges', new RecordModeExchanges());
  });
}

export async function registerResources(app: FastifyInstance, config: ServerConfig, store: RecordingStore): Promise<void> {
  app.decorate('config', config);
  app.decorate('url', {
    getter(this: FastifyInstance) {
      const address = this.server.address();
      const host = config.host.includes(':') ? `[${config.host}]` : config.host;
      return address && typeof address === 'object' ? `http://${host}:${address.port}` : '';
    },
  });
  app.decorate('journal', new Journal());
  app.decorate('occurrences', new OccurrenceCounts());
  app.decorate('inflight', new Map<string, Promise<ForwardOutcome>>());
  app.decorate('loggedCauses', new Set<string>());
  app.decorate('recordedBy', new Map<string, string>());
  app.decorate('sequenceSteps', new Map<string, Promise<boolean>>());
  await app.register(usageFile);
  await app.register(recordings(store));
  await app.register(idJournal);
  await app.register(upstream);
  await app.register(keyWorker);
  await app.register(faultRegistry);
}
