// The This-run view: every request of this run as it is answered, grouped by test
// (a miss opens to its diff, a hit to the recording that answered it), and the
// recordings this run has not used.
import type { JournalItem, ListedRecording } from '../server/inspector/contract.js';
import { api } from './api.js';
import { clock, duration, h, plural, replace, statusClass, testLabel } from './dom.js';
import { SelectableList, type ListRow } from './list.js';
import { entryHeader, kindBadge, missDetail } from './miss-detail.js';
import { recordingDetail } from './recording-detail.js';
import type { View } from './view.js';

const KINDS = [
  { value: '', label: 'All' },
  { value: 'miss', label: 'Misses' },
  { value: 'hit', label: 'Hits' },
  { value: 'recorded', label: 'Recorded' },
  { value: 'fault', label: 'Faults' },
];
const UNUSED_SHOWN = 200;

function entryRow(item: JournalItem): HTMLElement {
  return h(
    'div',
    { class: `row run-row kind-row-${item.kind}` },
    h('span', { class: 'cell mono muted' }, clock(item.at)),
    h('span', { class: 'cell' }, kindBadge(item.kind)),
    h('span', { class: 'cell' }, h('span', { class: 'method' }, item.method), h('span', { class: 'endpoint' }, item.path)),
    h('span', { class: 'cell' }, item.status !== undefined && h('span', { class: statusClass(item.status) }, item.status)),
    h('span', { class: 'cell num muted' }, duration(item.durationMs)),
  );
}

export interface RunView extends View {
  /** Lists the unused recordings (the journal comes through onJournal). */
  start(): Promise<void>;
  setLive(state: 'live' | 'reconnecting'): void;
}

export function runView(setStatus: (text: string) => void, setCounts: (requests: number, misses: number) => void): RunView {
  const items = new Map<number, JournalItem>();
  let unused: ListedRecording[] = [];
  let unusedTotal: number | null = 0;
  const collapsed = new Set<string>();
  let kind = '';
  let text = '';
  let selected: string | undefined;
  let stepTab: ((by: number) => void) | undefined;

  const kindButtons = KINDS.map((k) => h('button', { type: 'button', 'data-kind': k.value, 'aria-pressed': String(k.value === kind) }, k.label));
  const search = h('input', { type: 'search', placeholder: 'Filter by test or path  /', 'aria-label': 'Filter by test or path' });
  const live = h('span', { class: 'live', title: 'Requests appear as they are answered' }, 'connecting');
  const toolbar = h('div', { class: 'toolbar' }, h('div', { class: 'segmented', role: 'group', 'aria-label': 'Kind' }, kindButtons), search, h('span', { class: 'spacer' }), live);
  const detail = h('section', { class: 'detail-pane', 'aria-label': 'Request' }, h('div', { class: 'empty' }, 'Select a request'));
  const list = new SelectableList(h('div', { class: 'row run-row list-head' }, ['Time', 'Kind', 'Request', 'Status', 'Took'].map((name, i) => h('span', { class: `cell${i === 4 ? ' num' : ''}` }, name))), (id) => {
    history.replaceState(null, '', `#/run/${id.startsWith('seq:') ? id.slice(4) : `?file=${encodeURIComponent(id.slice(5))}`}`);
    void open(id);
  });
  const element = h('div', { class: 'split' }, h('section', { class: 'list-pane', 'aria-label': 'This run' }, toolbar, list.element), detail);

  function visible(item: JournalItem): boolean {
    if (kind && item.kind !== kind) return false;
    return !text || `${item.testId ?? ''} ${item.path}`.toLowerCase().includes(text);
  }

  let frame: number | undefined;
  /** Rebuilds the list once per frame, however many requests arrived. */
  function render(): void {
    if (frame !== undefined) return;
    frame = requestAnimationFrame(() => {
      frame = undefined;
      const groups = new Map<string, JournalItem[]>();
      for (const item of items.values()) {
        if (!visible(item)) continue;
        const name = item.testId ?? '';
        let group = groups.get(name);
        if (!group) groups.set(name, (group = []));
        group.push(item);
      }
      const rows: ListRow[] = [];
      for (const [name, group] of groups) {
        const misses = group.filter((i) => i.kind === 'miss').length;
        const took = group.reduce((sum, i) => sum + (i.durationMs ?? 0), 0);
        const toggle = () => {
          if (collapsed.has(name)) collapsed.delete(name);
          else collapsed.add(name);
          render();
        };
        rows.push({
          element: h(
            'div',
            { class: `group-head${collapsed.has(name) ? ' collapsed' : ''}${misses > 0 ? ' has-miss' : ''}`, onclick: toggle },
            h('span', { class: 'chevron' }, '▾'),
            testLabel(name === '' ? null : name),
            h('span', { class: 'spacer' }),
            misses > 0 && h('span', { class: 'count miss' }, plural(misses, 'miss', 'misses')),
            h('span', { class: 'muted' }, `${plural(group.length, 'request')} · ${duration(took)}`),
          ),
        });
        if (!collapsed.has(name)) rows.push(...group.map((item) => ({ id: `seq:${item.seq}`, element: entryRow(item) })));
      }
      if (rows.length === 0) rows.push({ element: h('div', { class: 'empty' }, items.size === 0 ? 'No requests yet. Point a client at this server and they appear here as they are answered.' : 'No request matches') });
      const shownUnused = unused.filter((row) => !text || `${row.testId ?? ''} ${row.endpoint}`.toLowerCase().includes(text));
      if (!kind) {
        rows.push({ element: h('div', { class: 'group-head unused-head' }, h('span', null, 'Unused recordings'), h('span', { class: 'spacer' }), h('span', { class: 'muted' }, unusedTotal === null ? `${unused.length}+` : String(unusedTotal))) });
        rows.push(
          ...shownUnused.map((row) => ({
            id: `file:${row.file}`,
            element: h('div', { class: 'row unused-row' }, h('span', { class: 'cell' }, testLabel(row.testId, true)), h('span', { class: 'cell' }, h('span', { class: 'method' }, row.method), h('span', { class: 'endpoint' }, row.endpoint))),
          })),
        );
        if (unusedTotal !== null && unusedTotal > unused.length) rows.push({ element: h('a', { class: 'more', href: '#/recordings?used=false' }, `All ${unusedTotal} unused recordings in the Recordings view`) });
      }
      list.set(rows);
      list.mark(selected);
      const all = [...items.values()];
      const misses = all.filter((i) => i.kind === 'miss').length;
      setCounts(all.length, misses);
      if (element.isConnected) showStatus();
    });
  }

  function showStatus(): void {
    const all = [...items.values()];
    const count = (k: string) => all.filter((i) => i.kind === k).length;
    const unusedCount = unusedTotal === null ? `${unused.length}+ recordings` : plural(unusedTotal, 'recording');
    setStatus(`${plural(all.length, 'request')} this run · ${plural(count('hit'), 'hit')} · ${plural(count('miss'), 'miss', 'misses')} · ${count('recorded')} recorded${count('fault') ? ` · ${plural(count('fault'), 'fault')}` : ''} · ${unusedCount} unused`);
  }

  let refreshingUnused: number | undefined;
  async function loadUnused(): Promise<void> {
    const page = await api.recordings({ used: 'false', limit: UNUSED_SHOWN });
    unused = page.rows;
    unusedTotal = page.total;
    render();
    if (page.indexing.done < page.indexing.total) setTimeout(() => void loadUnused(), 1000);
  }

  let opening = 0;
  async function open(id: string): Promise<void> {
    selected = id;
    list.mark(id);
    const ticket = ++opening;
    stepTab = undefined;
    try {
      if (id.startsWith('file:')) {
        const shown = recordingDetail(await api.recording(id.slice(5)));
        if (ticket !== opening) return;
        stepTab = shown.step;
        replace(detail, shown.element);
        return;
      }
      const entry = await api.journalEntry(Number(id.slice(4)));
      if (ticket !== opening) return;
      if (entry.miss) return replace(detail, missDetail(entry));
      if (entry.item.file && (entry.item.kind === 'hit' || entry.item.kind === 'recorded')) {
        const shown = recordingDetail(await api.recording(entry.item.file));
        if (ticket !== opening) return;
        stepTab = shown.step;
        // A replayed error says so, with its file, above the recording.
        const note = entry.item.message ? h('pre', { class: 'code' }, entry.item.message) : null;
        return replace(detail, h('div', { class: 'detail stacked' }, entryHeader(entry.item), note, shown.element));
      }
      replace(detail, h('div', { class: 'detail' }, entryHeader(entry.item), h('div', { class: 'pane-scroll' }, entry.item.message ? h('pre', { class: 'code' }, entry.item.message) : h('div', { class: 'muted' }, 'Passed through to the upstream; nothing was read or written.'))));
    } catch (error) {
      if (ticket === opening) replace(detail, h('div', { class: 'empty error' }, (error as Error).message));
    }
  }

  for (const button of kindButtons) {
    button.addEventListener('click', () => {
      kind = button.dataset['kind'] ?? '';
      for (const b of kindButtons) b.setAttribute('aria-pressed', String(b === button));
      render();
    });
  }
  search.addEventListener('input', () => {
    text = search.value.trim().toLowerCase();
    render();
  });
  search.addEventListener('keydown', (event) => {
    if (event.key === 'Escape') {
      search.value = '';
      text = '';
      render();
      list.focus();
    } else if (event.key === 'ArrowDown') {
      event.preventDefault();
      list.focus();
      list.move(0);
    }
  });

  return {
    element,
    route(params, rest) {
      const file = params.get('file');
      const id = rest ? `seq:${rest}` : file ? `file:${file}` : undefined;
      if (id && id !== selected) void open(id);
    },
    key(event) {
      if (event.key === '/') search.focus();
      else if (event.key === 'ArrowDown' || event.key === 'j') list.move(1);
      else if (event.key === 'ArrowUp' || event.key === 'k') list.move(-1);
      else if (event.key === ']') stepTab?.(1);
      else if (event.key === '[') stepTab?.(-1);
      else return false;
      return true;
    },
    onJournal(item) {
      items.set(item.seq, item);
      if (item.kind === 'hit' || item.kind === 'recorded') {
        clearTimeout(refreshingUnused);
        refreshingUnused = window.setTimeout(() => void loadUnused().catch(() => undefined), 300);
      }
      render();
      if (item.kind === 'miss' && selected === `seq:${item.seq}`) void open(selected);
    },
    shown() {
      showStatus();
    },
    start: () => loadUnused().catch(() => undefined),
    setLive(state) {
      live.classList.toggle('on', state === 'live');
      replace(live, state === 'live' ? 'live' : 'reconnecting…');
    },
  };
}
