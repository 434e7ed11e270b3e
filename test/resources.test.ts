// The server's resources are decorators of the fastify instance, each registered by its
// own plugin with its own shutdown: closing the server drains and closes every one.
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { LOCK_FILE } from '../src/recordings/record-lock.js';
import { workspace } from './support/harness.js';

const ws = workspace();

describe('the server\'s resources', () => {
  it('are each their own plugin, and each is closed when the server closes', async () => {
    const server = await ws.start({ mode: 'replay' });
    const { app } = server;
    const plugins = app.printPlugins();
    for (const name of ['usage', 'recordings', 'id journal', 'upstream agent', 'key worker', 'fault registry']) expect(plugins).toContain(`llm-replay ${name}`);
    // The id journal opens when the mode switches to a record mode, and record mode locks the directory.
    expect(app.upstreamIds.mapper).toBeUndefined();
    expect((await app.inject({ method: 'PUT', url: '/_llm-replay/mode', payload: { mode: 'record' } })).statusCode).toBe(200);
    expect(app.upstreamIds.mapper).toBeDefined();
    expect(existsSync(path.join(ws.dir, LOCK_FILE))).toBe(true);
    expect(app.faults.closed.aborted).toBe(false);
    expect(app.upstream.destroyed).toBe(false);
    await server.close();
    expect(app.faults.closed.aborted).toBe(true);
    expect(app.upstream.destroyed).toBe(true);
    expect(existsSync(path.join(ws.dir, LOCK_FILE))).toBe(false);
    expect((await readdir(server.config.usageDir)).some((name) => name.startsWith('usage'))).toBe(true);
  });
});
