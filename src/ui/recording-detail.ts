// One recording, as a person reads it: the conversation and the answer; for a stream,
// the assembled text and a timeline of its events; for embeddings, their shape; and
// the raw file, with its key and path to copy.
import type { Answer, Part, RecordingView } from '../server/inspector/contract.js';
import { ago, bytes, copyButton, h, statusClass, tabs, testLabel, type Child } from './dom.js';
import { jsonBlock, jsonValue, maybeJson } from './json-view.js';

type Message = { role: string; parts: Part[] };

function part(p: Part): Child {
  switch (p.kind) {
    case 'text':
      return h('div', { class: 'text' }, p.text);
    case 'thinking':
      return h('details', { class: 'thinking' }, h('summary', null, 'Thinking'), h('div', { class: 'text' }, p.text));
    case 'media':
      return h('div', null, h('span', { class: 'media-chip' }, p.label));
    case 'tool-call':
      return h('div', { class: 'tool tool-call' }, h('div', { class: 'tool-head' }, h('span', { class: 'arrow' }, '→'), h('span', { class: 'tool-name' }, p.name), p.id && h('span', { class: 'muted mono' }, p.id)), maybeJson(p.arguments));
    case 'tool-result':
      return h('div', { class: 'tool tool-result' }, h('div', { class: 'tool-head' }, h('span', { class: 'arrow' }, '←'), h('span', null, 'result'), p.name && h('span', { class: 'tool-name' }, p.name), p.id && h('span', { class: 'muted mono' }, p.id)), maybeJson(p.text));
  }
}

export function messageList(messages: Message[]): HTMLElement {
  return h(
    'div',
    { class: 'messages' },
    messages.map((message) => h('div', { class: `msg role-${message.role.replace(/[^\w-]/g, '')}` }, h('div', { class: 'msg-role' }, message.role), message.parts.length > 0 ? message.parts.map(part) : h('div', { class: 'muted' }, '(empty)'))),
  );
}

function answerSection(view: RecordingView): Child[] {
  const { stream, answer, embeddings, response } = view;
  const head = (label: string, ...extra: Child[]) => h('div', { class: 'section-head' }, h('span', null, label), ...extra);
  if (response.error !== undefined) return [head('Error', h('span', { class: statusClass(response.status) }, response.status)), jsonValue(response.error)];
  if (response.binary) return [head('Answer'), h('div', { class: 'card' }, `Binary body: ${bytes(response.binary.bytes)} of ${response.binary.contentType}`)];
  if (embeddings) {
    return [
      head('Answer'),
      h('div', { class: 'card shape' }, h('strong', null, `${embeddings.vectors} vector${embeddings.vectors === 1 ? '' : 's'} × ${embeddings.dimensions.join(' / ')} dimensions`), h('span', { class: 'muted' }, ` · ${embeddings.encoding} · for ${embeddings.inputs} input${embeddings.inputs === 1 ? '' : 's'}`)),
    ];
  }
  if (stream) {
    const parts: Part[] = [];
    if (stream.text) parts.push({ kind: 'text', text: stream.text });
    for (const call of stream.toolCalls) parts.push({ kind: 'tool-call', ...(call.id ? { id: call.id } : {}), name: call.name ?? 'tool', arguments: call.arguments });
    return [head('Answer', h('span', { class: 'tag' }, `assembled from ${stream.chunks} chunks`)), h('div', { class: 'assembled' }, messageList([{ role: 'assistant', parts }]))];
  }
  if (answer) return [head('Answer', ...answerFacts(answer)), messageList(answer.messages)];
  return [head('Response body'), jsonValue(response.body)];
}

function answerFacts(answer: Answer): Child[] {
  return [
    answer.stop && h('span', { class: 'tag' }, answer.stop),
    ...Object.entries(answer.usage ?? {})
      .filter(([name]) => /tokens|count|Token/.test(name))
      .slice(0, 4)
      .map(([name, count]) => h('span', { class: 'tag muted' }, `${name.replace(/_/g, ' ')} ${count}`)),
  ];
}

function conversationTab(view: RecordingView): Child {
  const { conversation } = view;
  if (!conversation) return h('div', { class: 'pane-scroll' }, h('div', { class: 'section-head' }, 'Request body'), jsonValue(view.request.body), ...answerSection(view));
  const settings = [...conversation.settings.map((s) => h('span', { class: 'tag' }, `${s.name} ${s.value}`)), ...conversation.tools.map((name) => h('span', { class: 'tag tool-tag' }, `tool ${name}`))];
  return h('div', { class: 'pane-scroll' }, settings.length > 0 && h('div', { class: 'settings' }, settings), h('div', { class: 'section-head' }, conversation.api === 'embeddings' ? 'Inputs' : 'Conversation'), messageList(conversation.messages), ...answerSection(view));
}

function timelineTab(view: RecordingView): Child {
  const stream = view.stream!;
  const { events, headMs } = stream.timeline;
  const timed = events.filter((e) => e.ms !== undefined);
  const end = Math.max(1, ...timed.map((e) => e.ms!));
  const track = h('div', { class: 'track', 'aria-hidden': 'true' });
  // Positions through the CSSOM: the page's CSP allows no inline style attributes.
  const tick = (ms: number, className: string, title: string) => {
    const element = track.appendChild(h('div', { class: className, title }));
    element.style.left = `${(ms / end) * 100}%`;
  };
  if (headMs !== undefined) tick(headMs, 'tick head', `response head at ${headMs} ms`);
  for (const event of timed) tick(event.ms!, `tick${event.text ? ' text' : ''}`, `${event.ms} ms ${event.label}`);
  const summary = timed.length > 0 ? `${events.length} events over ${end} ms · head at ${headMs ?? '?'} ms · ${stream.format}` : `${events.length} events · ${stream.format} · no timing recorded (recorded with --no-record-timing, or by llama-stack)`;
  let previous = headMs ?? 0;
  const rows = events.slice(0, 3000).map((event, i) => {
    const delta = event.ms === undefined ? '' : `+${event.ms - previous}`;
    if (event.ms !== undefined) previous = event.ms;
    return h('tr', null, h('td', { class: 'num muted' }, i + 1), h('td', { class: 'num' }, event.ms ?? ''), h('td', { class: 'num muted' }, delta), h('td', { class: 'label' }, event.label), h('td', { class: 'delta-text' }, event.text));
  });
  return h(
    'div',
    { class: 'pane-scroll' },
    h('div', { class: 'section-head' }, 'Assembled text'),
    h('div', { class: 'assembled-text text' }, stream.text || h('span', { class: 'muted' }, '(no text)')),
    h('div', { class: 'section-head' }, 'Timeline', h('span', { class: 'muted' }, summary)),
    timed.length > 0 && h('div', { class: 'track-wrap' }, track, h('div', { class: 'track-scale' }, h('span', null, '0 ms'), h('span', null, `${end} ms`))),
    h('table', { class: 'events' }, h('thead', null, h('tr', null, h('th', null, '#'), h('th', null, 'ms'), h('th', null, 'Δ'), h('th', null, 'event'), h('th', null, 'text'))), h('tbody', null, rows)),
  );
}

function rawTab(view: RecordingView): Child {
  return h(
    'div',
    { class: 'pane-scroll raw' },
    h('div', { class: 'raw-bar' }, h('span', { class: 'muted' }, `${bytes(view.raw.bytes)}${view.raw.truncated ? ' · showing the first 1 MB' : ''}`), copyButton(view.raw.text, 'Copy file')),
    jsonBlock(view.raw.text),
  );
}

/** Its age and upstream, so a stale recording shows before drift says so; the exact time, model and versions on hover. */
function originFact({ origin }: RecordingView): HTMLElement {
  if (!origin) return h('span', { class: 'muted origin', title: 'no response.origin: recorded by an older llm-replay or by llama-stack' }, 'age unknown');
  const at = origin.recordedAt === undefined ? undefined : Date.parse(origin.recordedAt);
  const title = [origin.recordedAt && `recorded at ${origin.recordedAt}`, origin.model && `answered by ${origin.model}`, ...Object.entries(origin.versionHeaders ?? {}).map(([name, value]) => `${name}: ${value}`)].filter(Boolean).join('\n');
  return h('span', { class: 'origin', title }, h('span', { class: 'fact-name' }, 'recorded'), `${at === undefined ? 'at a time not kept' : ago(at)} from ${origin.upstream}`);
}

export function recordingHeader(view: RecordingView): HTMLElement {
  const { row } = view;
  const use = row.recorded ? 'recorded this run' : row.lastUsedMs !== undefined ? `used ${ago(row.lastUsedMs)} · ${row.hits}×` : 'unused this run';
  return h(
    'div',
    { class: 'detail-head' },
    h(
      'div',
      { class: 'title-line' },
      h('span', { class: 'method' }, row.method),
      h('span', { class: 'endpoint' }, row.endpoint),
      h('span', { class: statusClass(row.status) }, row.status),
      row.streaming && h('span', { class: 'tag stream-tag' }, `stream · ${view.stream?.chunks ?? 0} chunks`),
      row.occurrence > 1 && h('span', { class: 'tag' }, `occurrence ${row.occurrence}`),
    ),
    h('div', { class: 'facts' }, h('span', null, h('span', { class: 'fact-name' }, 'model'), row.model || '—'), h('span', null, h('span', { class: 'fact-name' }, 'test'), testLabel(row.testId)), h('span', null, h('span', { class: 'fact-name' }, 'size'), bytes(row.bytes)), h('span', { class: row.lastUsedMs !== undefined || row.recorded ? 'used' : 'muted' }, use), originFact(view)),
    h('div', { class: 'ids' }, h('span', { class: 'fact-name' }, 'key'), h('code', { class: 'key', title: row.key }, row.key), copyButton(row.key, 'Copy key'), h('span', { class: 'fact-name' }, 'file'), h('code', { class: 'path', title: view.path }, row.file), copyButton(view.path, 'Copy path')),
  );
}

export function recordingDetail(view: RecordingView, tab?: string, onTab?: (id: string) => void): { element: HTMLElement; step(by: number): void } {
  const items = [{ id: 'conversation', label: view.conversation?.api === 'embeddings' ? 'Embeddings' : 'Conversation', render: () => conversationTab(view) }];
  if (view.stream) items.push({ id: 'timeline', label: `Stream · ${view.stream.timeline.events.length} events`, render: () => timelineTab(view) });
  items.push({ id: 'raw', label: 'Raw file', render: () => rawTab(view) });
  const tabbed = tabs(items, tab, onTab);
  return { element: h('div', { class: 'detail' }, recordingHeader(view), tabbed.element), step: tabbed.step };
}
