// The proxy: every body read as raw bytes (the proxy keys and forwards exactly what
// the client sent), every method Node's parser accepts, and one catch-all route
// (forwarding goes through the server's undici agent, app.upstream). An encapsulated
// plugin: its raw-body parser is its own, so the admin plugin parses JSON as fastify does.
import { METHODS } from 'node:http';
import type { FastifyPluginAsync } from 'fastify';
import { createHandler } from './handler.js';
import { refuseUnsafePaths } from './proxy-path.js';
import { requireLocalRequest } from './admin-access.js';

export const proxyPlugin: FastifyPluginAsync = async (app) => {
  const { config } = app;
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));
  // Every method Node's parser accepts is forwarded (WebDAV's PROPFIND, PURGE ...), not only fastify's defaults.
  for (const method of METHODS) {
    if (method !== 'CONNECT' && !app.supportedMethods.includes(method)) app.addHttpMethod(method, { hasBody: true });
  }
  app.all('/*', { onRequest: [refuseUnsafePaths, requireLocalRequest(config.host, config.allowHosts)] }, createHandler(app));
};
