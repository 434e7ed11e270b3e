// What the kernel says of a process in /proc/<pid>/stat (Linux only; elsewhere undefined):
// when it started, with its pid an identity that pid reuse cannot fake (a pid alone names
// whichever process has it now: after a crash, an unrelated one; in a container, any),
// and whether it has ended though its pid still answers kill(0) (a zombie its parent
// has not reaped).
import { readFileSync } from 'node:fs';

/**
 * The fields after field 2 of a /proc/<pid>/stat line: field 2 is the command name in
 * parentheses, which may itself hold spaces and parentheses, so they are counted from
 * after the last ')'. The first of them is field 3 (state).
 */
function fieldsAfterName(stat: string): string[] | undefined {
  const close = stat.lastIndexOf(')');
  return close < 0 ? undefined : stat.slice(close + 1).trim().split(/\s+/);
}

/** Field 22 (starttime, clock ticks since boot) of a /proc/<pid>/stat line. */
export function startTimeOfStat(stat: string): string | undefined {
  const value = fieldsAfterName(stat)?.[19];
  return value !== undefined && /^\d+$/.test(value) ? value : undefined;
}

/** Whether a /proc/<pid>/stat line's state (field 3) says the process has ended: Z (zombie, not yet reaped) or X (dead). */
export function endedInStat(stat: string): boolean {
  const state = fieldsAfterName(stat)?.[0];
  return state === 'Z' || state === 'X';
}

function readStat(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'latin1');
  } catch {
    return undefined;
  }
}

/** The start time of a running process, or undefined where it cannot be read (no /proc, no such pid). */
export function processStartTime(pid: number): string | undefined {
  const stat = readStat(pid);
  return stat === undefined ? undefined : startTimeOfStat(stat);
}

/** Whether /proc says the process has ended though its pid is still taken; false where /proc cannot tell. */
export function processEnded(pid: number): boolean {
  const stat = readStat(pid);
  return stat !== undefined && endedInStat(stat);
}
