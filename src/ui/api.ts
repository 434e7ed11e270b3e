// Talking to the server: every call carries the admin token, as a header; the
// journal's live events are read from a streamed fetch (EventSource cannot send
// headers) and resume where they stopped after a break.
import type { DriftView, JournalDetail, JournalItem, JournalPage, RecordingPage, RecordingView } from '../server/inspector/contract.js';

const API = new URL('../api/', location.href);
// The browser keeps it per origin, so per server.
const TOKEN_KEY = 'llm-replay-token';

/**
 * The token comes with the address once (?token=, as the start-up line prints it) or
 * is typed into the page; it is kept for this server in the browser, so the links in
 * miss messages (which never carry it) open too, and it leaves the address bar.
 */
function initialToken(): string | null {
  const url = new URL(location.href);
  const given = url.searchParams.get('token');
  if (given === null) return localStorage.getItem(TOKEN_KEY);
  localStorage.setItem(TOKEN_KEY, given);
  url.searchParams.delete('token');
  history.replaceState(history.state, '', url);
  return given;
}

const headers: Record<string, string> = {};
const token = initialToken();
if (token) headers['x-llm-replay-token'] = token;

export function setToken(value: string): void {
  localStorage.setItem(TOKEN_KEY, value);
  headers['x-llm-replay-token'] = value;
}

export class ApiError extends Error {
  constructor(
    message: string,
    /** The server wants the admin token (401). */
    readonly needsToken = false,
  ) {
    super(message);
  }
}

async function get<T>(path: string, params: Record<string, string | number | undefined> = {}, signal?: AbortSignal): Promise<T> {
  const url = new URL(path, API);
  for (const [name, value] of Object.entries(params)) if (value !== undefined && value !== '') url.searchParams.set(name, String(value));
  const response = await fetch(url, { headers, ...(signal ? { signal } : {}) });
  const body = (await response.json().catch(() => null)) as (T & { error?: { message?: string } }) | null;
  if (!response.ok || body === null) throw new ApiError(body?.error?.message ?? `${response.status} ${response.statusText}`, response.status === 401);
  return body;
}

export const api = {
  recordings: (params: Record<string, string | number | undefined>, signal?: AbortSignal) => get<RecordingPage>('recordings', params, signal),
  recording: (file: string, signal?: AbortSignal) => get<RecordingView>('recording', { file }, signal),
  journal: (after = 0) => get<JournalPage>('journal', { after }),
  journalEntry: (seq: number, signal?: AbortSignal) => get<JournalDetail>(`journal/${seq}`, {}, signal),
  drift: (file?: string) => get<DriftView>('drift', { file }),
};

export type LiveState = 'live' | 'reconnecting';

/** Calls `onItem` with each journal item from `after` on, for as long as the page is open. */
export function followJournal(after: number, onItem: (item: JournalItem) => void, onState: (state: LiveState) => void): void {
  let last = after;
  const connect = async () => {
    try {
      const response = await fetch(new URL(`journal/events?after=${last}`, API), { headers });
      if (!response.ok || !response.body) throw new ApiError(String(response.status));
      onState('live');
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value;
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const event = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const data = event.split('\n').filter((line) => line.startsWith('data: ')).map((line) => line.slice(6)).join('\n');
          if (!data) continue;
          const item = JSON.parse(data) as JournalItem;
          last = Math.max(last, item.seq - 1);
          onItem(item);
        }
      }
    } catch {
      // The server went away or restarts: try again shortly.
    }
    onState('reconnecting');
    setTimeout(() => void connect(), 2000);
  };
  void connect();
}
