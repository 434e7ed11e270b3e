// CopilotKit's aimock as a peer: its own `llmock` command, recording through its own
// record proxy (--record --provider-openai) from the same local upstream, then
// replaying from the fixture files it wrote. It runs pinned like every other server.
import { mkdir, readdir, readFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { sendEach } from './fixtures.js';
import { rssOf, spawnPinned, stopChild, type Child } from './measure.js';

const PACKAGE = new URL('../../node_modules/@copilotkit/aimock/', import.meta.url).pathname;

export async function aimockVersion(): Promise<string> {
  return (JSON.parse(await readFile(path.join(PACKAGE, 'package.json'), 'utf8')) as { version: string }).version;
}

async function llmockCommand(): Promise<string> {
  const bin = (JSON.parse(await readFile(path.join(PACKAGE, 'package.json'), 'utf8')) as { bin: Record<string, string> }).bin;
  return path.join(PACKAGE, bin['llmock'] ?? 'dist/cli.js');
}

/** A port nobody listens on now (llmock takes a port number, not 0). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

async function untilListening(port: number, child: Child['process'], timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`llmock exited ${child.exitCode}`);
    const open = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    await new Promise((done) => setTimeout(done, 10));
  }
  await stopChild(child);
  throw new Error(`llmock did not listen within ${timeoutMs / 1000} s`);
}

/** Starts llmock on `fixtures`; with `recordFrom`, it records what it cannot answer from that upstream. */
export async function spawnAimock(fixtures: string, recordFrom?: string, timeoutMs = 120_000): Promise<Child> {
  const started = performance.now();
  await mkdir(fixtures, { recursive: true });
  const port = await freePort();
  const args = [await llmockCommand(), '--port', String(port), '--host', '127.0.0.1', '--fixtures', fixtures, '--log-level', 'silent'];
  if (recordFrom) args.push('--record', '--provider-openai', recordFrom);
  const child = spawnPinned(args, { ipc: false });
  await untilListening(port, child, timeoutMs);
  return {
    url: `http://127.0.0.1:${port}`,
    process: child,
    startMs: performance.now() - started,
    rss: () => rssOf(child.pid!),
    stop: () => stopChild(child),
  };
}

/** Records `bodies` through llmock's record proxy into `dir`; returns the folder its fixtures are in. */
export async function recordThroughAimock(dir: string, upstream: string, bodies: string[]): Promise<string> {
  const recorder = await spawnAimock(dir, upstream);
  const recorded = path.join(dir, 'recorded');
  try {
    await sendEach('aimock', recorder.url, bodies, 8);
    // llmock relays a stream before it writes the fixture: wait (bounded) for every file before stopping it.
    const deadline = performance.now() + 30_000;
    while ((await readdir(recorded).catch(() => [])).filter((name) => name.endsWith('.json')).length < bodies.length) {
      if (performance.now() > deadline) throw new Error(`llmock wrote fewer fixtures than the ${bodies.length} requests recorded`);
      await new Promise((done) => setTimeout(done, 20));
    }
  } finally {
    await recorder.stop();
  }
  return recorded;
}
