// Building the page: elements from plain data (text is always text: nothing the
// server sends is ever parsed as HTML), and the small formatters every view shares.

/**
 * Bidirectional controls (embeddings, overrides, isolates, marks): in a prompt, a test
 * id or a file name they would reorder what is shown, "evil" displayed as "live".
 */
const BIDI_CONTROLS = /[\u202A-\u202E\u2066-\u2069\u200E\u200F\u061C]/g;

/** `text` with each bidirectional control shown as its code point ([U+202E]): what was sent, in the order it was sent. */
export function shown(text: string): string {
  return text.replace(BIDI_CONTROLS, (char) => `[U+${char.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}]`);
}

export type Child = Node | string | number | null | undefined | false | Child[];
type AttrValue = string | number | boolean | null | undefined | ((event: never) => void);

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs?: Record<string, AttrValue> | null, ...children: Child[]): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (typeof value === 'function') element.addEventListener(name.slice(2), value as EventListener);
    else if (name === 'class') element.className = String(value);
    // A value is data the page reads back (a filter's value); what is only shown is shown as sent.
    else element.setAttribute(name, value === true ? '' : name === 'value' || name.startsWith('data-') ? String(value) : shown(String(value)));
  }
  append(element, children);
  return element;
}

export function append(parent: Node, children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(parent, child);
    else parent.appendChild(typeof child === 'object' ? child : document.createTextNode(shown(String(child))));
  }
}

export function replace(parent: Element, ...children: Child[]): void {
  parent.replaceChildren();
  append(parent, children);
}

/** "1 miss", "2 misses". */
export function plural(count: number, one: string, many = `${one}s`): string {
  return `${count} ${count === 1 ? one : many}`;
}

export function bytes(count: number): string {
  if (count < 1024) return `${count} B`;
  if (count < 1024 * 1024) return `${(count / 1024).toFixed(1)} KB`;
  return `${(count / 1024 / 1024).toFixed(1)} MB`;
}

export function duration(ms: number | undefined): string {
  if (ms === undefined) return '…';
  if (ms < 10) return `${ms.toFixed(1)} ms`;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  return `${(ms / 1000).toFixed(2)} s`;
}

export function ago(epochMs: number | undefined, now = Date.now()): string {
  if (epochMs === undefined) return '';
  const seconds = Math.max(0, Math.round((now - epochMs) / 1000));
  if (seconds < 5) return 'just now';
  if (seconds < 60) return `${seconds} s ago`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ago`;
  if (seconds < 2 * 86400) return `${Math.floor(seconds / 3600)} h ago`;
  return `${Math.floor(seconds / 86400)} days ago`;
}

export function clock(epochMs: number): string {
  const date = new Date(epochMs);
  const pad = (n: number, width = 2) => String(n).padStart(width, '0');
  return `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}.${pad(date.getMilliseconds(), 3)}`;
}

export function statusClass(status: number | undefined): string {
  if (status === undefined) return 'status';
  return `status s${Math.floor(status / 100)}xx`;
}

/** A test id as "file::name", the name stressed; in a narrow list, the name first. */
export function testLabel(testId: string | null, nameFirst = false): HTMLElement {
  if (testId === null) return h('span', { class: 'test muted' }, 'no test id');
  const at = testId.indexOf('::');
  if (at < 0) return h('span', { class: 'test', title: testId }, testId);
  const name = h('span', { class: 'test-name' }, testId.slice(at + 2));
  if (nameFirst) return h('span', { class: 'test', title: testId }, name, h('span', { class: 'test-file' }, ` ${testId.slice(0, at)}`));
  return h('span', { class: 'test', title: testId }, h('span', { class: 'test-file' }, testId.slice(0, at + 2)), name);
}

/** A button that copies `text`, and says so. */
export function copyButton(text: string, label = 'Copy'): HTMLButtonElement {
  const button = h('button', { class: 'copy', type: 'button', title: `Copy ${text.length > 60 ? 'to the clipboard' : text}` }, label);
  button.addEventListener('click', (event) => {
    event.stopPropagation();
    void copyText(text).then((done) => {
      button.textContent = done ? 'Copied' : 'Select and copy';
      button.classList.toggle('done', done);
      setTimeout(() => {
        button.textContent = label;
        button.classList.remove('done');
      }, 1200);
    });
  });
  return button;
}

export async function copyText(text: string): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    // No clipboard permission (a page served over plain HTTP to another host): fall back to a selection.
    const area = h('textarea', { class: 'offscreen', readonly: true });
    area.value = text;
    document.body.appendChild(area);
    area.select();
    const done = document.execCommand('copy');
    area.remove();
    return done;
  }
}

/** A row of tabs over panels; returns the element and a way to move between tabs. */
export function tabs(items: Array<{ id: string; label: Child; render: () => Child }>, initial?: string, onChange?: (id: string) => void): { element: HTMLElement; step(by: number): void } {
  const bar = h('div', { class: 'subtabs', role: 'tablist' });
  const body = h('div', { class: 'subtab-body' });
  let current = items.find((item) => item.id === initial) ?? items[0];
  const show = (id: string) => {
    current = items.find((item) => item.id === id) ?? current;
    if (!current) return;
    for (const button of bar.children) button.setAttribute('aria-selected', String((button as HTMLElement).dataset['tab'] === current.id));
    replace(body, current.render());
    onChange?.(current.id);
  };
  for (const item of items) bar.appendChild(h('button', { type: 'button', role: 'tab', 'data-tab': item.id, onclick: () => show(item.id) }, item.label));
  if (current) show(current.id);
  return {
    element: h('div', { class: 'subtabbed' }, bar, body),
    step(by) {
      const index = items.findIndex((item) => item.id === current?.id);
      const next = items[(index + by + items.length) % items.length];
      if (next) show(next.id);
    },
  };
}
