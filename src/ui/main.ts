// The inspector page: three views (Recordings, This run, Drift) chosen by the address, the
// server's facts in the top bar, this run's requests followed live, and the keys.
import { api, ApiError, followJournal, setToken } from './api.js';
import { h, plural, replace } from './dom.js';
import { driftView } from './drift.js';
import { recordingsView } from './recordings.js';
import { runView } from './run.js';
import type { View } from './view.js';

const main = document.getElementById('view')!;
const status = document.getElementById('status')!;
const setStatus = (text: string) => replace(status, text);
const setRecordingCount = (count: number) => replace(document.getElementById('count-recordings')!, String(count));

let current: View | undefined;
const views = {
  recordings: recordingsView(
    (text) => current === views.recordings && setStatus(text),
    setRecordingCount,
  ),
  run: runView(
    (text) => current === views.run && setStatus(text),
    (requests, misses) => {
      replace(document.getElementById('count-run')!, String(requests));
      const badge = document.getElementById('count-misses')!;
      badge.hidden = misses === 0;
      replace(badge, plural(misses, 'miss', 'misses'));
    },
  ),
  drift: driftView(
    (text) => current === views.drift && setStatus(text),
    (drifted) => replace(document.getElementById('count-drift')!, drifted > 0 ? String(drifted) : ''),
  ),
};

/** #/recordings?test_id=x, #/run/12, #/run?file=..., #/drift?finding=0.1 */
function route(): void {
  const hash = location.hash.replace(/^#\/?/, '');
  const [path = '', query = ''] = hash.split('?');
  const [name, ...rest] = path.split('/');
  const shown = name === 'run' || name === 'drift' ? name : 'recordings';
  const view = views[shown];
  if (view !== current) {
    current = view;
    main.replaceChildren(view.element);
    for (const link of document.querySelectorAll<HTMLElement>('.views a')) link.setAttribute('aria-current', String(link.dataset['view'] === shown));
    view.shown();
  }
  view.route(new URLSearchParams(query), rest.join('/'));
}

function typing(target: EventTarget | null): boolean {
  return target instanceof HTMLInputElement || target instanceof HTMLSelectElement || target instanceof HTMLTextAreaElement;
}

document.addEventListener('keydown', (event) => {
  if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) return;
  if (event.key === '1') location.hash = '#/recordings';
  else if (event.key === '2') location.hash = '#/run';
  else if (event.key === '3') location.hash = '#/drift';
  else if (!current?.key(event)) return;
  event.preventDefault();
});

window.addEventListener('hashchange', route);
route();

async function start(): Promise<void> {
  const journal = await api.journal();
  const server = document.getElementById('server')!;
  replace(server, h('span', { class: `mode mode-${journal.mode}`, title: 'The mode the server runs in' }, journal.mode), h('span', { class: 'muted mono', title: journal.recordingsDir }, journal.recordingsDir), h('span', { class: 'muted mono' }, new URL(journal.url || location.origin).host));
  for (const item of journal.items) {
    views.run.onJournal(item);
    views.recordings.onJournal(item);
  }
  void views.run.start();
  // The Recordings tab's count, whichever view opened first.
  void api.recordings({ limit: 1 }).then((page) => setRecordingCount(page.indexing.total), () => undefined);
  // From the first request still being answered: it is sent again once it has been.
  const pending = journal.items.find((item) => item.durationMs === undefined);
  followJournal((pending?.seq ?? journal.next) - 1, (item) => {
    views.run.onJournal(item);
    views.recordings.onJournal(item);
  }, (state) => views.run.setLive(state));
}

/** The server wants its admin token: ask for it once; the browser keeps it for this server. */
function askForToken(message: string): void {
  const input = h('input', { type: 'password', name: 'token', autocomplete: 'current-password', placeholder: 'admin token', 'aria-label': 'Admin token', required: true });
  const form = h(
    'form',
    { class: 'token-form' },
    h('h2', null, 'This server asks for its admin token'),
    h('p', { class: 'muted' }, 'It was given at start (--admin-token, LLM_REPLAY_ADMIN_TOKEN), or made and printed in the start-up warning. This browser keeps it for this server.'),
    h('div', { class: 'token-row' }, input, h('button', { type: 'submit' }, 'Open')),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    setToken(input.value.trim());
    location.reload();
  });
  main.replaceChildren(form);
  setStatus(message);
  input.focus();
}

start().catch((error: Error) => {
  if (error instanceof ApiError && error.needsToken) askForToken(error.message);
  else setStatus(`Cannot reach the server: ${error.message}`);
});
