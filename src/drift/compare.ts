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

function comparePaths(recorded: PathTypes, live: PathTypes, prefix: string, out: Finding[]): void {
  const types = (list: string[] | undefined) => (list ?? []).join('|');
  for (const path of new Set([...Object.keys(recorded), ...Object.keys(live)])) {
    const was = recorded[path];
    const now = live[path];
    const where = `${prefix}${path}`;
    // A path whose parent is new or gone is said once, at the parent.
    if (!was && now) out.push({ where, change: 'added', live: types(now) });
    else if (was && !now) out.push({ where, change: 'removed', recorded: types(was) });
    else if (types(was) !== types(now)) out.push({ where, change: 'retyped', recorded: types(was), live: types(now) });
  }
  dropChildrenOfReported(out);
}

/** `a.b: added` already says `a.b.c` and `a.b[]` are new. */
function dropChildrenOfReported(findings: Finding[]): void {
  const whole = new Set(findings.filter((f) => f.change === 'added' || f.change === 'removed').map((f) => `${f.change} ${f.where}`));
  for (let i = findings.length - 1; i >= 0; i--) {
    const { where, change } = findings[i]!;
    const parent = where.replace(/(\[\]|\.[^.[\]]*)$/, '');
    if (parent !== where && (change === 'added' || change === 'removed') && hasAncestor(whole, change, parent)) findings.splice(i, 1);
  }
}

function hasAncestor(whole: Set<string>, change: string, path: string): boolean {
  for (let p = path; p !== ''; ) {
    if (whole.has(`${change} ${p}`)) return true;
    const next = p.replace(/(\[\]|\.[^.[\]]*)$/, '');
    if (next === p) break;
    p = next;
  }
  return false;
}

export function compareShapes(recorded: AnswerShape, live: AnswerShape): Finding[] {
  const out: Finding[] = [];
  const scalar = (where: string, a: string, b: string) => {
    if (a !== b) out.push({ where, change: 'changed', recorded: a, live: b });
  };
  scalar('status', String(recorded.status), String(live.status));
  scalar('content type', recorded.contentType || '(none)', live.contentType || '(none)');
  scalar('streaming', String(recorded.streaming), String(live.streaming));
  if (recorded.streaming !== live.streaming) return out;
  scalar('finish reasons', recorded.finishReasons.join(', ') || '(none)', live.finishReasons.join(', ') || '(none)');
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
