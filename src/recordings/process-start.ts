// When a process started, as the kernel counts it: with its pid, an identity that pid
// reuse cannot fake. A pid alone names whichever process has it now (after a crash, an
// unrelated one; in a container, any). Linux only (/proc/<pid>/stat); elsewhere undefined.
import { readFileSync } from 'node:fs';

/**
 * Field 22 (starttime, clock ticks since boot) of a /proc/<pid>/stat line. Field 2 is
 * the command name in parentheses, which may itself hold spaces and parentheses: the
 * fields are counted from after the last ')'.
 */
export function startTimeOfStat(stat: string): string | undefined {
  const close = stat.lastIndexOf(')');
  if (close < 0) return undefined;
  // After ')' come fields 3 (state) onwards: starttime is the 20th of them.
  const value = stat.slice(close + 1).trim().split(/\s+/)[19];
  return value !== undefined && /^\d+$/.test(value) ? value : undefined;
}

/** The start time of a running process, or undefined where it cannot be read (no /proc, no such pid). */
export function processStartTime(pid: number): string | undefined {
  try {
    return startTimeOfStat(readFileSync(`/proc/${pid}/stat`, 'latin1'));
  } catch {
    return undefined;
  }
}
