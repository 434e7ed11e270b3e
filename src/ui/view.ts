// What main.ts asks of each view.
import type { JournalItem } from '../server/inspector/contract.js';

export interface View {
  element: HTMLElement;
  /** Shows what the address says (the part after #/<view>?). */
  route(params: URLSearchParams, rest: string): void;
  /** Handles a key pressed outside a text field; true when it did something. */
  key(event: KeyboardEvent): boolean;
  /** A request of this run has been answered. */
  onJournal(item: JournalItem): void;
  /** The view has come into sight: it may update the status bar. */
  shown(): void;
}
