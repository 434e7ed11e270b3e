// While the server closes, connections with no request in progress are closed at once:
// those whose last request has finished (else each stays until its client's keep-alive
// gives up) and those that never sent one, such as a spare connection a client's pool
// opened and did not use. Node counts the latter as busy, so close() would wait out
// the headers timeout for each.
import type { Socket } from 'node:net';
import type { FastifyInstance } from 'fastify';

export function closeQuietConnectionsOnClose(app: FastifyInstance): void {
  const connections = new Set<Socket>();
  app.server.on('connection', (socket: Socket) => {
    connections.add(socket);
    socket.once('close', () => connections.delete(socket));
  });
  const sweep = () => {
    app.server.closeIdleConnections();
    for (const socket of connections) if (socket.bytesRead === 0) socket.destroy();
  };
  // Swept again while closing: a connection becomes quiet when its last answer ends.
  let sweeper: NodeJS.Timeout | undefined;
  app.addHook('preClose', async () => {
    sweep();
    sweeper = setInterval(sweep, 25);
  });
  app.addHook('onClose', async () => clearInterval(sweeper));
}
