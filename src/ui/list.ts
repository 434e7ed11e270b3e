// The left-hand list of both views: rows you can click or walk with the arrow keys
// (or j/k), headings between them that are not selectable, and a call for more rows
// when the end scrolls into sight.
import { h } from './dom.js';

export interface ListRow {
  /** Selectable rows have an id; headings have none. */
  id?: string;
  element: HTMLElement;
}

export class SelectableList {
  readonly element: HTMLElement;
  private readonly body: HTMLElement;
  private readonly sentinel: HTMLElement;
  private rows: ListRow[] = [];
  private selected: string | undefined;

  constructor(
    header: HTMLElement | null,
    private readonly onSelect: (id: string) => void,
    onEnd?: () => void,
  ) {
    this.body = h('div', { class: 'list-body', role: 'listbox', tabindex: 0, 'aria-label': 'rows' });
    this.sentinel = h('div', { class: 'list-end' });
    this.element = h('div', { class: 'list' }, header, this.body);
    this.body.appendChild(this.sentinel);
    this.body.addEventListener('click', (event) => {
      const row = (event.target as HTMLElement).closest<HTMLElement>('[data-id]');
      if (row?.dataset['id']) this.select(row.dataset['id']);
    });
    if (onEnd) new IntersectionObserver((seen) => seen.some((e) => e.isIntersecting) && onEnd(), { root: this.body, rootMargin: '200px' }).observe(this.sentinel);
  }

  /** Replaces the rows, keeping the selection when its row is still there. */
  set(rows: ListRow[]): void {
    this.rows = [];
    this.body.replaceChildren(this.sentinel);
    this.add(rows);
  }

  add(rows: ListRow[]): void {
    for (const row of rows) {
      if (row.id !== undefined) {
        row.element.dataset['id'] = row.id;
        row.element.setAttribute('role', 'option');
        row.element.setAttribute('aria-selected', String(row.id === this.selected));
      }
      this.body.insertBefore(row.element, this.sentinel);
    }
    this.rows.push(...rows);
  }

  get selectedId(): string | undefined {
    return this.selected;
  }

  /** Marks a row selected (without telling the view, unless `notify`). */
  mark(id: string | undefined, notify = false): void {
    this.selected = id;
    for (const row of this.rows) if (row.id !== undefined) row.element.setAttribute('aria-selected', String(row.id === id));
    const element = this.rows.find((row) => row.id === id)?.element;
    element?.scrollIntoView({ block: 'nearest' });
    if (notify && id !== undefined) this.onSelect(id);
  }

  select(id: string): void {
    this.mark(id, true);
  }

  /** Moves the selection by `by` selectable rows. */
  move(by: number): void {
    const ids = this.rows.filter((row) => row.id !== undefined).map((row) => row.id!);
    if (ids.length === 0) return;
    const at = this.selected === undefined ? -1 : ids.indexOf(this.selected);
    const next = ids[Math.min(ids.length - 1, Math.max(0, at < 0 ? 0 : at + by))];
    if (next !== undefined && next !== this.selected) this.select(next);
  }

  focus(): void {
    this.body.focus();
  }

  get size(): number {
    return this.rows.filter((row) => row.id !== undefined).length;
  }
}
