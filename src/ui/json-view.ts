// JSON text coloured by token (keys, strings, numbers, literals), in one pass over the
// text; past a size where colouring would slow the page, the rest stays plain.
import { h, shown } from './dom.js';

const HIGHLIGHT_LIMIT = 400 * 1024;

function stringEnd(text: string, start: number): number {
  let i = start + 1;
  while (i < text.length && text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
  return Math.min(i + 1, text.length);
}

/** The JSON text as a <pre> with token spans. */
export function jsonBlock(text: string, className = 'code'): HTMLPreElement {
  const pre = h('pre', { class: `${className} json` });
  const limit = Math.min(text.length, HIGHLIGHT_LIMIT);
  const fragment = document.createDocumentFragment();
  let plain = 0;
  const flush = (to: number) => {
    if (to > plain) fragment.appendChild(document.createTextNode(shown(text.slice(plain, to))));
  };
  const token = (from: number, to: number, kind: string) => {
    flush(from);
    fragment.appendChild(h('span', { class: `j-${kind}` }, text.slice(from, to)));
    plain = to;
  };
  let i = 0;
  while (i < limit) {
    const ch = text[i]!;
    if (ch === '"') {
      const end = stringEnd(text, i);
      let after = end;
      while (after < text.length && (text[after] === ' ' || text[after] === '\n')) after++;
      token(i, end, text[after] === ':' ? 'key' : 'string');
      i = end;
    } else if (ch === '-' || (ch >= '0' && ch <= '9')) {
      let end = i + 1;
      while (end < text.length && /[\d.eE+-]/.test(text[end]!)) end++;
      token(i, end, 'number');
      i = end;
    } else if (text.startsWith('true', i) || text.startsWith('null', i)) {
      token(i, i + 4, 'literal');
      i += 4;
    } else if (text.startsWith('false', i)) {
      token(i, i + 5, 'literal');
      i += 5;
    } else i++;
  }
  flush(text.length);
  pre.appendChild(fragment);
  return pre;
}

/** A value as pretty JSON, coloured. */
export function jsonValue(value: unknown): HTMLPreElement {
  return jsonBlock(JSON.stringify(value, null, 2) ?? 'undefined');
}

/** Text that may be JSON (tool arguments): pretty when it parses, as it is otherwise. */
export function maybeJson(text: string): HTMLPreElement {
  try {
    return jsonValue(JSON.parse(text));
  } catch {
    return h('pre', { class: 'code' }, text);
  }
}
