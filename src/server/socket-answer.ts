// Answers written straight to a socket, where no route and no reply exist: HTTP that
// Node's parser refused, and CONNECT (a client told to use llm-replay as a forward proxy),
// which Node hands to no route. An error of the catalogue, OpenAI-shaped, then the socket ends.
import { STATUS_CODES, type IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { ERROR_CATALOGUE, type ErrorCode } from '../errors.js';
import { errorBody } from '../wire/error-body.js';

/** Writes the error as a whole HTTP answer (connection: close) and ends the socket. */
export function answerOnSocket(socket: Duplex, code: ErrorCode, message: string, error?: Error): void {
  const { status, type } = ERROR_CATALOGUE[code];
  const text = JSON.stringify(errorBody(`llm-replay: ${message}`, type, code));
  if (socket.writable) socket.write(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Length: ${Buffer.byteLength(text)}\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n${text}`);
  if (error) socket.destroy(error);
  else socket.end();
}

/**
 * CONNECT: the client was pointed at llm-replay as a forward proxy (HTTPS_PROXY), which
 * it is not; without this, Node closes the connection and the client says only that.
 */
export function refuseConnect(request: IncomingMessage, socket: Duplex): void {
  // Node hands the socket over with no error listener of its own: a client that resets it
  // (curl -x does, on reading the 400) would otherwise take the whole server down.
  socket.on('error', () => socket.destroy());
  // The target is host:port, never a credential; cut all the same, as it is the client's text.
  const target = (request.url ?? '').slice(0, 200);
  answerOnSocket(socket, 'llm_replay_bad_path', `CONNECT ${target}: llm-replay is not a forward proxy (a client with HTTPS_PROXY or HTTP_PROXY set to it sends this); point the client's base URL at it instead (OPENAI_BASE_URL=http://<this server>/v1)`);
}
