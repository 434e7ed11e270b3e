// Each resource the server holds with its own shutdown, as its own plugin: the store's
// writes, the id journal (opened at start, or later when the mode switches to a record
// mode), the upstream agent, the keying worker, and the fault registry, whose injected
// delays end at once when the server starts closing. Fastify runs onClose hooks last
// registered first, so app.ts adds the usage file's before these: it is written once
// every write has landed.
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import type { ProxyState } from './state.js';

function resource(name: string, hooks: { preClose?: () => unknown; onClose?: () => unknown }): FastifyPluginAsync {
  const plugin: FastifyPluginAsync = async (app) => {
    const { preClose, onClose } = hooks;
    if (preClose) app.addHook('preClose', async () => void (await preClose()));
    if (onClose) app.addHook('onClose', async () => void (await onClose()));
  };
  Object.defineProperty(plugin, 'name', { value: `llm-replay ${name}` });
  return plugin;
}

export async function registerResources(app: FastifyInstance, state: ProxyState): Promise<void> {
  await app.register(resource('store', { onClose: () => state.store.drain().finally(() => state.store.unlock()) }));
  await app.register(resource('id journal', { onClose: () => state.ids?.drain() }));
  // Closed after every client connection has: a request still waiting on the upstream is one whose client has gone.
  await app.register(resource('upstream agent', { onClose: () => state.upstream.destroy() }));
  await app.register(resource('key worker', { onClose: () => state.keyThread.close() }));
  // Injected delays and stalls would otherwise hold the close until their clients gave up.
  await app.register(resource('fault registry', { preClose: () => state.faults.close() }));
}
