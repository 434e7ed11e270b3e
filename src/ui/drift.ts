// The Drift view: the latest report of `llm-replay drift`, its findings per endpoint
// and model on the left (each with how many recordings it touches), and on the right
// the chosen finding's recordings or one recording's recorded and live shapes side by
// side. Its state lives in the address (#/drift?finding=0.1, #/drift?file=...).
import type { DriftGroup, DriftView, GroupedFinding } from '../server/inspector/contract.js';
import { api } from './api.js';
import { clock, h, plural, replace, type Child } from './dom.js';
import { SelectableList } from './list.js';
import { diffGrid } from './miss-detail.js';
import type { View } from './view.js';

const recordingLink = (file: string) => h('a', { href: `#/recordings?file=${encodeURIComponent(file)}`, class: 'mono', title: 'Open the recording' }, file);
const shapesLink = (file: string, label: Child = 'shapes') => h('a', { href: `#/drift?file=${encodeURIComponent(file)}`, title: 'Its recorded and live shapes, side by side' }, label);

function findingRow(finding: GroupedFinding): HTMLElement {
  return h(
    'div',
    { class: 'row drift-row' },
    h('span', { class: 'cell' }, h('span', { class: `change change-${finding.change}` }, finding.change)),
    h('span', { class: 'cell mono', title: finding.text }, finding.text),
    h('span', { class: 'cell num muted' }, plural(finding.files.length, 'recording')),
  );
}

function groupHead(group: DriftGroup): HTMLElement {
  const files = new Set(group.findings.flatMap((f) => f.files));
  return h('div', { class: 'group-head' }, h('span', { class: 'endpoint' }, group.endpoint), h('span', { class: 'muted mono' }, group.model), h('span', { class: 'spacer' }), h('span', { class: 'muted' }, plural(files.size, 'recording')));
}

function findingDetail(group: DriftGroup, finding: GroupedFinding): HTMLElement {
  return h(
    'div',
    { class: 'detail' },
    h('div', { class: 'detail-head' }, h('div', { class: 'title-line' }, h('span', { class: `change change-${finding.change}` }, finding.change), h('span', { class: 'mono' }, finding.text)), h('div', { class: 'facts' }, h('span', null, h('span', { class: 'fact-name' }, 'endpoint'), group.endpoint), h('span', null, h('span', { class: 'fact-name' }, 'model'), group.model))),
    h(
      'div',
      { class: 'pane-scroll' },
      h('div', { class: 'section-head' }, `Touches ${plural(finding.files.length, 'recording')}`),
      h('table', { class: 'differences drift-files' }, h('tbody', null, finding.files.map((file) => h('tr', null, h('td', null, recordingLink(file)), h('td', null, shapesLink(file)))))),
    ),
  );
}

function shapesDetail(view: DriftView, file: string): HTMLElement {
  const drifted = view.report?.drifted.find((one) => one.file === file);
  return h(
    'div',
    { class: 'detail' },
    h('div', { class: 'detail-head' }, h('div', { class: 'title-line' }, h('span', { class: 'endpoint' }, drifted?.endpoint ?? ''), h('span', { class: 'muted mono' }, drifted?.model ?? '')), h('div', { class: 'ids' }, h('span', { class: 'fact-name' }, 'file'), recordingLink(file))),
    h(
      'div',
      { class: 'pane-scroll' },
      h('div', { class: 'section-head' }, 'Findings'),
      h('ul', { class: 'drift-findings' }, (drifted?.findings ?? []).map((text) => h('li', { class: 'mono' }, text))),
      h('div', { class: 'section-head' }, 'Shape', h('span', { class: 'muted' }, 'recorded ↔ live')),
      diffGrid(view.shapes ?? [], 'Recorded', 'Live'),
    ),
  );
}

export function driftView(setStatus: (text: string) => void, setCount: (count: number) => void): View {
  const summary = h('span', { class: 'muted' }, 'Loading the drift report…');
  const reload = h('button', { type: 'button', class: 'ghost', title: 'Read the report again' }, 'Reload');
  const toolbar = h('div', { class: 'toolbar' }, summary, h('span', { class: 'spacer' }), reload);
  const detail = h('section', { class: 'detail-pane', 'aria-label': 'Drift' }, h('div', { class: 'empty' }, 'Select a finding'));
  let view: DriftView | undefined;
  let params = new URLSearchParams();
  let status = '';
  let ticket = 0;

  const list = new SelectableList(h('div', { class: 'row drift-row list-head' }, ['Change', 'Finding', 'Touches'].map((name, i) => h('span', { class: `cell${i === 2 ? ' num' : ''}` }, name))), (id) => {
    history.replaceState(null, '', `#/drift?finding=${id}`);
    route(new URLSearchParams({ finding: id }));
  });
  const element = h('div', { class: 'split' }, h('section', { class: 'list-pane', 'aria-label': 'Drift findings' }, toolbar, list.element), detail);

  function say(text: string): void {
    status = text;
    setStatus(text);
  }

  function showReport(loaded: DriftView): void {
    const { report } = loaded;
    if (!report) {
      const why = loaded.problem
        ? h('div', { class: 'callout miss' }, h('strong', null, 'The drift report cannot be read. '), loaded.problem)
        : h('div', { class: 'empty' }, 'No drift report yet. ', h('code', null, 'llm-replay drift'), ' writes one to ', h('code', null, loaded.path), '.');
      list.set([{ element: why }]);
      replace(summary, 'No report');
      replace(detail, h('div', { class: 'empty' }, loaded.problem ? 'Run llm-replay drift again to write a new report.' : 'Nothing to show'));
      setCount(0);
      return say(loaded.problem ? 'The drift report cannot be read' : 'No drift report yet');
    }
    const rows = report.groups.flatMap((group, g) => [{ element: groupHead(group) }, ...group.findings.map((finding, f) => ({ id: `${g}.${f}`, element: findingRow(finding) }))]);
    list.set(rows.length > 0 ? rows : [{ element: h('div', { class: 'empty' }, 'No drift: every answer had its recording\'s shape.') }]);
    if (loaded.serverDir) list.add([{ element: h('div', { class: 'callout other-dir' }, 'This report checked ', h('code', null, report.recordingsDir), ', not this server\'s ', h('code', null, loaded.serverDir), ': its recordings may not be here.') }]);
    replace(summary, `Checked ${new Date(report.checkedAt).toLocaleDateString()} ${clock(Date.parse(report.checkedAt))} · ${report.sent} sent · ${report.drifted.length} drifted · ${report.unchanged} unchanged`);
    setCount(report.drifted.length);
    say(`${plural(report.drifted.length, 'recording')} drifted of ${report.sent} checked · report ${loaded.path}`);
  }

  async function load(): Promise<void> {
    try {
      view = await api.drift();
      showReport(view);
      void show();
    } catch (error) {
      say(`Cannot read the drift report: ${(error as Error).message}`);
    }
  }

  async function show(): Promise<void> {
    const mine = ++ticket;
    const report = view?.report;
    if (!report) return;
    const file = params.get('file');
    if (file) {
      list.mark(undefined);
      try {
        const withShapes = await api.drift(file);
        if (mine === ticket) replace(detail, shapesDetail(withShapes, file));
      } catch (error) {
        if (mine === ticket) replace(detail, h('div', { class: 'empty error' }, (error as Error).message));
      }
      return;
    }
    const [g, f] = (params.get('finding') ?? '0.0').split('.').map(Number);
    const group = report.groups[g ?? 0];
    const finding = group?.findings[f ?? 0];
    if (!group || !finding) return replace(detail, h('div', { class: 'empty' }, report.groups.length > 0 ? 'Select a finding' : 'Nothing drifted'));
    list.mark(`${g}.${f}`);
    replace(detail, findingDetail(group, finding));
  }

  function route(next: URLSearchParams): void {
    params = next;
    void show();
  }

  reload.addEventListener('click', () => void load());
  let loaded = false;

  return {
    element,
    route(query) {
      params = query;
      if (!loaded) {
        loaded = true;
        void load();
      } else void show();
    },
    key(event) {
      if (event.key === 'ArrowDown' || event.key === 'j') list.move(1);
      else if (event.key === 'ArrowUp' || event.key === 'k') list.move(-1);
      else if (event.key === 'r') void load();
      else return false;
      return true;
    },
    onJournal: () => undefined,
    shown: () => status && setStatus(status),
  };
}
