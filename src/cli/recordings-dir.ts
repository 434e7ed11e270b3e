// The recordings folder a tool command works on: its [dir] argument, or -r/--recordings
// as serve takes it. Both may be given only when they name the same folder.
import path from 'node:path';
import type { Command } from 'commander';

export function defaultRecordingsDir(): string {
  return process.env['LLM_REPLAY_RECORDINGS'] ?? './recordings';
}

/** Adds the [dir] argument and the -r/--recordings option to a command. */
export function withRecordingsDir(command: Command): Command {
  return command
    .argument('[dir]', `the recordings directory (default: ${defaultRecordingsDir()})`)
    .option('-r, --recordings <dir>', 'the recordings directory, as serve takes it (the same as [dir])');
}

/** The folder the command was given; a usage error (exit 2) when [dir] and -r name two folders. */
export function recordingsDirOf(command: Command, dir: string | undefined, option: string | undefined): string {
  if (dir !== undefined && option !== undefined && path.resolve(dir) !== path.resolve(option)) {
    command.error(`error: two recordings directories: ${JSON.stringify(dir)} (the [dir] argument) and ${JSON.stringify(option)} (-r/--recordings); give one`);
  }
  return dir ?? option ?? defaultRecordingsDir();
}
