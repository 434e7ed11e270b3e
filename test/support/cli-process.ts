// Runs the built CLI as a child process and waits for its start-up line.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';

export const BIN = new URL('../../bin/llm-replay.js', import.meta.url).pathname;

export interface CliServer {
  child: ChildProcessWithoutNullStreams;
  url: string;
  stderr: () => string;
  /** All it wrote to stdout: the start-up line, then its log. */
  stdout: () => string;
  exited: Promise<number | null>;
}

/** `bin`: another llm-replay than this checkout's (an installed package's). */
export async function startCli(args: string[], { bin = BIN, cwd }: { bin?: string; cwd?: string } = {}): Promise<CliServer> {
  const child = spawn(process.execPath, [bin, 'serve', '--port', '0', '--log-level', 'warn', ...args], { cwd });
  let stderr = '';
  child.stderr.on('data', (part: Buffer) => (stderr += part.toString()));
  // On close, not exit: its output is all read by then.
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  let out = '';
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (part: Buffer) => {
      out += part.toString();
      const match = /listening on (\S+)/.exec(out);
      if (match) resolve(match[1]!);
    });
    void exited.then((code) => reject(new Error(`llm-replay exited ${code} before starting: ${stderr}`)));
  });
  return { child, url, stderr: () => stderr, stdout: () => out, exited };
}
