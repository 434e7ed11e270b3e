// Where the inspector page is, for the start-up line and every miss message.
import { ADMIN_PREFIX } from '../../request/control-headers.js';

/** The page itself, on the server at `base` (http://127.0.0.1:8787). */
export function pageLink(base: string): string {
  return `${base}${ADMIN_PREFIX}/ui/`;
}

/** The page opened on one request of this run's journal (a miss opens to its diff). */
export function missLink(base: string, seq: number): string {
  return `${pageLink(base)}#/run/${seq}`;
}
