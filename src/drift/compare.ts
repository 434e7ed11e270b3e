// Where a live answer's shape and its recording's disagree, one finding per path or
// event: `choices[].message.refusal: added (null)`, `event response.x: new`.
import type { AnswerShape, Finding, PathTypes } from './report.js';

export function describeFinding(finding: Finding): string {
  const { where, change, recorded, live } = finding;
  if (change === 'added') return `${where}: added (${live})`;
  if (change === 'removed') return `${where}: removed (${recorded})`;
  if (change === 'new' || change === 'gone') return `${where}: ${change}`;
  return `${where}: ${change} (${recorded} -> ${live})`;
}

/** The path one step up (`a.b[]` or `a.b[type=x]` -> `a.b`, `a.b` -> `a`). */
const parentOf = (path: string) => path.replace(/(\[[^\]]*\]|\.[^.[\]]*)$/, '');

/**
 * Whether the side without `path` said nothing about it: its nearest ancestor there
 * was only ever null, or an array only ever empty (`annotations: []` against one
 * citation). Its elements' members are unknown there, not removed.
 */
function unknownOn(side: PathTypes, path: string): boolean {
  let child = path;
  for (let at = parentOf(path); at !== child; child = at, at = parentOf(at)) {
    const types = side[at];
    if (!types) continue;
    return types.every((t) => t === 'null') || (child.startsWith(`${at}[`) && types.includes('array') && !Object.keys(side).some((p) => p.startsWith(`${at}[`)));
  }
  return false;
}

function comparePaths(recorded: PathTypes, live: PathTypes, prefix: string, out: Finding[]): void {
  const types = (list: string[] | undefined) => (list ?? []).join('|');
  // null goes with any type: a field null in one answer and a string in the next (content, refusal, system_fingerprint) is the same shape.
  const typed = (list: string[]) => list.filter((t) => t !== 'null');
  const found: Finding[] = [];
  for (const path of new Set([...Object.keys(recorded), ...Object.keys(live)])) {
    const was = recorded[path];
    const now = live[path];
    const where = `${prefix}${path}`;
    if (!was && now) {
      if (!unknownOn(recorded, path)) found.push({ where, change: 'added', live: types(now) });
    } else if (was && !now) {
      if (!unknownOn(live, path)) found.push({ where, change: 'removed', recorded: types(was) });
    } else if (was && now && typed(was).length > 0 && typed(now).length > 0 && types(typed(was)) !== types(typed(now))) {
      found.push({ where, change: 'retyped', recorded: types(was), live: types(now) });
    }
  }
  out.push(...withoutChildrenOfReported(found));
}

/** `a.b: added` already says `a.b.c` and `a.b[]` are new: a path whose parent is new or gone is said once, at the parent. */
function withoutChildrenOfReported(findings: Finding[]): Finding[] {
  const whole = new Set(findings.filter((f) => f.change === 'added' || f.change === 'removed').map((f) => `${f.change} ${f.where}`));
  return findings.filter(({ where, change }) => {
    if (change !== 'added' && change !== 'removed') return true;
    for (let p = parentOf(where), last = where; p !== last && p !== ''; last = p, p = parentOf(p)) if (whole.has(`${change} ${p}`)) return false;
    return true;
  });
}

/**
 * Where the live shape differs from the recorded one. A finish reason is drift only when
 * it is not among `knownFinish` (the API's documented ones and those its endpoint's
 * recordings gave; without it, the recording's own).
 */
export function compareShapes(recorded: AnswerShape, live: AnswerShape, knownFinish: ReadonlySet<string> = new Set(recorded.finishReasons)): Finding[] {
  const out: Finding[] = [];
  const scalar = (where: string, a: string, b: string) => {
    if (a !== b) out.push({ where, change: 'changed', recorded: a, live: b });
  };
  scalar('status', String(recorded.status), String(live.status));
  scalar('content type', recorded.contentType || '(none)', live.contentType || '(none)');
  scalar('streaming', String(recorded.streaming), String(live.streaming));
  if (recorded.streaming !== live.streaming) return out;
  for (const reason of live.finishReasons) if (!knownFinish.has(reason)) out.push({ where: `finish reason ${reason}`, change: 'new' });
  if (recorded.body || live.body) {
    const paths: Finding[] = [];
    comparePaths(recorded.body ?? {}, live.body ?? {}, '', paths);
    out.push(...paths);
  }
  if (recorded.events || live.events) {
    const was = recorded.events ?? [];
    const now = live.events ?? [];
    for (const kind of now) if (!was.includes(kind)) out.push({ where: `event ${kind}`, change: 'new' });
    for (const kind of was) if (!now.includes(kind)) out.push({ where: `event ${kind}`, change: 'gone' });
    const common = (list: string[], other: string[]) => list.filter((kind) => other.includes(kind)).join(', ');
    scalar('events order', common(was, now), common(now, was));
    for (const kind of was.filter((k) => now.includes(k))) {
      const paths: Finding[] = [];
      comparePaths(recorded.kinds?.[kind] ?? {}, live.kinds?.[kind] ?? {}, `event ${kind}: `, paths);
      out.push(...paths);
    }
  }
  return out;
}
