// A client that hangs up: its connection ended before its response was written in full.
import type { ServerResponse } from 'node:http';

/** Calls `then` once if the client's connection ends before the response has been written in full (at once if it already has). */
export function onHangUp(response: ServerResponse, then: () => void): void {
  const judge = () => {
    if (!response.writableFinished) then();
  };
  if (response.destroyed) judge();
  else response.once('close', judge);
}
