// The Recordings view: filters on top (each one a query to the server, which filters
// and pages), the list on the left, the open recording on the right. Its state lives
// in the address (#/recordings?test_id=...&file=...), so a link or a reload keeps it.
import type { Facet, JournalItem, ListedRecording, RecordingPage } from '../server/inspector/contract.js';
import { api } from './api.js';
import { ago, bytes, h, replace, statusClass, testLabel } from './dom.js';
import { SelectableList } from './list.js';
import { recordingDetail } from './recording-detail.js';
import type { View } from './view.js';

const FILTERS = ['q', 'test_id', 'endpoint', 'model', 'status', 'streaming', 'occurrence', 'used'] as const;
type FilterName = (typeof FILTERS)[number];
const PAGE = 100;

export function recordingRow(row: ListedRecording): HTMLElement {
  if (row.unreadable !== undefined) return h('div', { class: 'row rec-row' }, h('span', { class: 'cell mono' }, row.file), h('span', { class: 'cell unreadable', title: row.unreadable }, `unreadable: ${row.unreadable}`));
  const used = row.recorded ? h('span', { class: 'used' }, 'recorded') : row.lastUsedMs !== undefined ? h('span', { class: 'used', title: `${row.hits} hit(s) this run` }, ago(row.lastUsedMs), row.hits > 1 ? h('span', { class: 'muted' }, ` ×${row.hits}`) : null) : h('span', { class: 'muted' }, '—');
  return h(
    'div',
    { class: 'row rec-row' },
    // The occurrence first: a long test name must not push it out of sight.
    h('span', { class: 'cell' }, row.occurrence > 1 && h('span', { class: 'tag occurrence-tag', title: `occurrence ${row.occurrence}: answers identical request number ${row.occurrence} of its test` }, `#${row.occurrence}`), testLabel(row.testId, true)),
    h('span', { class: 'cell' }, h('span', { class: 'method' }, row.method), h('span', { class: 'endpoint' }, row.endpoint)),
    h('span', { class: 'cell mono muted' }, row.model || '—'),
    h('span', { class: 'cell' }, h('span', { class: statusClass(row.status) }, row.status)),
    h('span', { class: 'cell' }, row.streaming && h('span', { class: 'tag stream-tag' }, 'stream')),
    h('span', { class: 'cell num muted' }, bytes(row.bytes)),
    h('span', { class: 'cell num' }, used),
  );
}

export function recordingsHeader(): HTMLElement {
  return h('div', { class: 'row rec-row list-head' }, ['Test', 'Request', 'Model', 'Status', '', 'Size', 'Last used'].map((name, i) => h('span', { class: `cell${i >= 5 ? ' num' : ''}` }, name)));
}

function select(name: FilterName, label: string): HTMLSelectElement {
  return h('select', { 'data-filter': name, 'aria-label': label, title: label }, h('option', { value: '' }, label));
}

function setOptions(element: HTMLSelectElement, label: string, facets: Facet[], current: string): void {
  const options = [h('option', { value: '' }, label), ...facets.map((f) => h('option', { value: f.value }, `${f.value || '(none)'}  ·  ${f.count}`))];
  if (current && !facets.some((f) => f.value === current)) options.push(h('option', { value: current }, current));
  element.replaceChildren(...options);
  element.value = current;
}

export function recordingsView(setStatus: (text: string) => void, setCount: (count: number) => void): View {
  const inputs = {
    q: h('input', { type: 'search', 'data-filter': 'q', placeholder: 'Search text in recordings  /', 'aria-label': 'Search text', class: 'search' }),
    test_id: h('input', { type: 'search', 'data-filter': 'test_id', placeholder: 'Test id', 'aria-label': 'Test id', class: 'test-filter' }),
    endpoint: select('endpoint', 'All endpoints'),
    model: select('model', 'All models'),
    status: select('status', 'Any status'),
    streaming: h('select', { 'data-filter': 'streaming', 'aria-label': 'Streaming' }, h('option', { value: '' }, 'Stream or not'), h('option', { value: 'true' }, 'Streams'), h('option', { value: 'false' }, 'Whole answers')),
    occurrence: h('input', { type: 'number', min: 1, 'data-filter': 'occurrence', placeholder: 'Occ.', title: 'Occurrence: the n-th identical request of its test', 'aria-label': 'Occurrence', class: 'narrow' }),
    used: h('select', { 'data-filter': 'used', 'aria-label': 'Used this run' }, h('option', { value: '' }, 'Used or not'), h('option', { value: 'true' }, 'Used this run'), h('option', { value: 'false' }, 'Unused this run')),
  };
  const clear = h('button', { type: 'button', class: 'ghost', title: 'Clear the filters (Esc in a filter)' }, 'Clear');
  const toolbar = h(
    'div',
    { class: 'toolbar stacked' },
    h('div', { class: 'toolbar-row' }, inputs.q, inputs.test_id, clear),
    h('div', { class: 'toolbar-row selects' }, inputs.endpoint, inputs.model, inputs.status, inputs.streaming, inputs.used, inputs.occurrence),
  );
  const detail = h('section', { class: 'detail-pane', 'aria-label': 'Recording' }, h('div', { class: 'empty' }, 'Select a recording'));
  let params = new URLSearchParams();
  let page: RecordingPage | undefined;
  let loaded: ListedRecording[] = [];
  let scanned = 0;
  let loading: AbortController | undefined;
  let openFile: string | undefined;
  let stepTab: ((by: number) => void) | undefined;

  const list = new SelectableList(recordingsHeader(), (file) => navigate({ file }), () => void loadMore());
  const element = h('div', { class: 'split' }, h('section', { class: 'list-pane', 'aria-label': 'Recordings' }, toolbar, list.element), detail);

  function filterParams(from: URLSearchParams): Record<string, string> {
    const out: Record<string, string> = {};
    for (const name of FILTERS) if (from.get(name)) out[name] = from.get(name)!;
    return out;
  }

  function navigate(change: Record<string, string | undefined>): void {
    const next = new URLSearchParams(params);
    for (const [name, value] of Object.entries(change)) {
      if (value) next.set(name, value);
      else next.delete(name);
    }
    history.replaceState(null, '', `#/recordings${next.size > 0 ? `?${next}` : ''}`);
    route(next);
  }

  function status(): void {
    if (!page) return;
    const { indexing, total } = page;
    const count = total === null ? `${loaded.length}${page.next !== null ? '+' : ''} matching` : `${loaded.length} of ${total}`;
    const index = indexing.done < indexing.total ? ` · reading recordings ${indexing.done}/${indexing.total}` : '';
    setStatus(`${count} recordings${page.scanned !== undefined ? ` · searched ${scanned} files` : ''}${index}`);
  }

  let generation = 0;
  async function load(reset: boolean): Promise<void> {
    loading?.abort();
    const controller = (loading = new AbortController());
    const mine = reset ? ++generation : generation;
    const cursor = reset ? 0 : (page?.next ?? 0);
    try {
      const result = await api.recordings({ ...filterParams(params), cursor, limit: PAGE }, controller.signal);
      if (controller.signal.aborted) return;
      page = result;
      // A text search reads the files a page at a time: count what all of its pages read.
      scanned = (reset ? 0 : scanned) + (result.scanned ?? 0);
      const empty = reset || loaded.length === 0;
      loaded = reset ? result.rows : [...loaded, ...result.rows];
      const rows = result.rows.map((row) => ({ id: row.file, element: recordingRow(row) }));
      if (empty) list.set(rows);
      else list.add(rows);
      if (loaded.length === 0) list.set([{ element: h('div', { class: 'empty' }, result.next !== null ? 'No match yet: searching on…' : 'No recording matches these filters') }]);
      list.mark(openFile);
      setOptions(inputs.endpoint, 'All endpoints', result.facets.endpoints, params.get('endpoint') ?? '');
      setOptions(inputs.model, 'All models', result.facets.models, params.get('model') ?? '');
      setOptions(inputs.status, 'Any status', result.facets.statuses, params.get('status') ?? '');
      setCount(result.indexing.total);
      status();
      // Still indexing: look again shortly, so the list fills in.
      if (result.indexing.done < result.indexing.total) setTimeout(() => void (generation === mine && !loading && load(true)), 500);
      // A text search reads a bounded number of files a request: go on until a page is full or all are read.
      else if (result.total === null && result.next !== null && loaded.length < PAGE) setTimeout(() => void (generation === mine && !loading && load(false)));
    } catch (error) {
      if (!controller.signal.aborted) setStatus(`Cannot list recordings: ${(error as Error).message}`);
    } finally {
      if (loading === controller) loading = undefined;
    }
  }

  async function loadMore(): Promise<void> {
    if (!loading && page?.next !== null && page !== undefined) await load(false);
  }

  let opening: AbortController | undefined;
  async function open(file: string | undefined, tab: string | undefined): Promise<void> {
    opening?.abort();
    openFile = file;
    list.mark(file);
    if (!file) {
      replace(detail, h('div', { class: 'empty' }, 'Select a recording'));
      stepTab = undefined;
      return;
    }
    const controller = (opening = new AbortController());
    try {
      const view = await api.recording(file, controller.signal);
      const shown = recordingDetail(view, tab, (id) => history.replaceState(null, '', `#/recordings?${new URLSearchParams({ ...Object.fromEntries(params), tab: id })}`));
      stepTab = shown.step;
      replace(detail, shown.element);
    } catch (error) {
      if (!controller.signal.aborted) replace(detail, h('div', { class: 'empty error' }, (error as Error).message));
    }
  }

  function route(next: URLSearchParams): void {
    const filtersChanged = JSON.stringify(filterParams(next)) !== JSON.stringify(filterParams(params)) || page === undefined;
    const fileChanged = next.get('file') !== (openFile ?? null);
    params = next;
    for (const name of FILTERS) {
      const input = inputs[name];
      if (document.activeElement !== input) input.value = next.get(name) ?? '';
    }
    if (filtersChanged) void load(true);
    if (fileChanged) void open(next.get('file') ?? undefined, next.get('tab') ?? undefined);
  }

  let typing: number | undefined;
  for (const name of FILTERS) {
    const input = inputs[name];
    const apply = () => navigate({ [name]: input.value.trim() });
    input.addEventListener(input instanceof HTMLSelectElement ? 'change' : 'input', () => {
      clearTimeout(typing);
      typing = window.setTimeout(apply, input instanceof HTMLSelectElement ? 0 : 200);
    });
    input.addEventListener('keydown', (event: Event) => {
      const { key } = event as KeyboardEvent;
      if (key === 'Escape') {
        input.value = '';
        apply();
        list.focus();
      } else if (key === 'ArrowDown' || key === 'Enter') {
        event.preventDefault();
        list.focus();
        list.move(0);
      }
    });
  }
  clear.addEventListener('click', () => navigate(Object.fromEntries(FILTERS.map((name) => [name, undefined]))));

  // This run's hits and recordings change the "last used" column: refresh the rows shown, at most every second.
  let refresh: number | undefined;
  const onJournal = (item: JournalItem) => {
    if ((item.kind !== 'hit' && item.kind !== 'recorded') || refresh !== undefined || !element.isConnected) return;
    refresh = window.setTimeout(() => {
      refresh = undefined;
      if (!loading && loaded.length <= PAGE) void load(true);
    }, 1000);
  };

  return {
    element,
    route: (query) => route(query),
    key(event) {
      if (event.key === '/') {
        inputs.q.focus();
        return true;
      }
      if (event.key === 'ArrowDown' || event.key === 'j') list.move(1);
      else if (event.key === 'ArrowUp' || event.key === 'k') list.move(-1);
      else if (event.key === ']') stepTab?.(1);
      else if (event.key === '[') stepTab?.(-1);
      else if (event.key === 'c' && openFile) (detail.querySelector('.ids .copy') as HTMLButtonElement | null)?.click();
      else return false;
      return true;
    },
    onJournal,
    shown: () => status(),
  };
}
