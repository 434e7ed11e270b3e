// A miss: what differs from the nearest recording, the two request bodies side by
// side with the changed lines marked, and the commands that would record it.
import type { DiffLine, JournalDetail, JournalItem } from '../server/inspector/contract.js';
import { clock, copyButton, duration, h, statusClass, testLabel, type Child } from './dom.js';
import { jsonValue } from './json-view.js';

export function kindBadge(kind: JournalItem['kind']): HTMLElement {
  const labels: Record<JournalItem['kind'], string> = { hit: 'HIT', recorded: 'REC', miss: 'MISS', fault: 'FAULT', forwarded: 'LIVE', failed: 'FAIL' };
  return h('span', { class: `kind kind-${kind}` }, labels[kind]);
}

/** The journal entry's own line: what, when, how long, for which test. */
export function entryHeader(item: JournalItem): HTMLElement {
  return h(
    'div',
    { class: 'detail-head' },
    h('div', { class: 'title-line' }, kindBadge(item.kind), h('span', { class: 'method' }, item.method), h('span', { class: 'endpoint' }, item.path), item.status !== undefined && h('span', { class: statusClass(item.status) }, item.status)),
    h('div', { class: 'facts' }, h('span', null, h('span', { class: 'fact-name' }, 'test'), testLabel(item.testId)), h('span', null, h('span', { class: 'fact-name' }, 'at'), clock(item.at)), h('span', null, h('span', { class: 'fact-name' }, 'took'), duration(item.durationMs)), h('span', { class: 'muted' }, `request #${item.seq}`)),
  );
}

/** Two texts' lines side by side, the changed ones marked (the drift view shows shapes with it). */
export function diffGrid(lines: DiffLine[], leftTitle: Child, rightTitle: Child): HTMLElement {
  const cell = (text: string | undefined, side: 'left' | 'right', changed: boolean) => h('div', { class: `diff-cell ${side}${changed ? ' changed' : ''}${text === undefined ? ' gap' : ''}` }, text ?? '');
  return h(
    'div',
    { class: 'diff' },
    h('div', { class: 'diff-title' }, leftTitle),
    h('div', { class: 'diff-title' }, rightTitle),
    lines.flatMap((line) => [cell(line.left, 'left', line.changed), cell(line.right, 'right', line.changed)]),
  );
}

export function missDetail(detail: JournalDetail): HTMLElement {
  const { item } = detail;
  const miss = detail.miss!;
  const nearest = miss.nearest;
  const openNearest = nearest && h('a', { href: `#/recordings?file=${encodeURIComponent(nearest.file)}`, class: 'mono' }, nearest.file);
  const summary = nearest
    ? h('div', { class: 'callout miss' }, h('strong', null, 'No recording matches this request.'), ' The nearest is ', openNearest, `, which differs in ${miss.differences.length} place${miss.differences.length === 1 ? '' : 's'}.`)
    : h('div', { class: 'callout miss' }, h('strong', null, 'No recording matches this request,'), ` and none has ${item.method} ${item.path} at all.`);
  const differences =
    miss.differences.length > 0 &&
    h(
      'table',
      { class: 'differences' },
      h('thead', null, h('tr', null, h('th', null, 'Field'), h('th', null, 'Recorded'), h('th', null, 'Requested'))),
      h('tbody', null, miss.differences.slice(0, 50).map((d) => h('tr', null, h('td', { class: 'mono' }, d.path), h('td', { class: 'mono removed' }, d.recorded ?? (d.requested === undefined ? '' : '(absent)')), h('td', { class: 'mono added' }, d.requested ?? (d.recorded === undefined ? '' : '(absent)'))))),
    );
  let bodies: Child;
  if (miss.diff) bodies = diffGrid(miss.diff, h('span', null, 'Nearest recording ', h('span', { class: 'muted mono' }, nearest?.file ?? '')), 'This request');
  else if (miss.requested !== undefined) bodies = [h('div', { class: 'muted' }, 'The request body:'), jsonValue(miss.requested)];
  else bodies = h('div', { class: 'muted' }, 'The request body is no longer kept (the journal keeps the bodies of recent misses only).');
  return h(
    'div',
    { class: 'detail' },
    entryHeader(item),
    h(
      'div',
      { class: 'pane-scroll' },
      summary,
      differences,
      h('div', { class: 'section-head' }, 'Request body', h('span', { class: 'muted' }, 'nearest recording ↔ this request')),
      bodies,
      h('div', { class: 'section-head' }, 'Record it'),
      h('div', { class: 'commands' }, miss.commands.map((c) => h('div', { class: 'command' }, h('div', { class: 'command-label' }, c.label), h('div', { class: 'command-line' }, h('code', null, c.command), copyButton(c.command))))),
      h('details', { class: 'diagnostic' }, h('summary', null, 'The diagnostic, as the client and the log got it'), h('pre', { class: 'code' }, miss.message)),
    ),
  );
}
