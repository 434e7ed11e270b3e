// Answers that carry no body whatever their headers say (RFC 9110 9.3.2, 15.3.5,
// 15.3.6, 15.4.5): to HEAD, and a 204, 205 or 304.

export function hasNoBody(method: string, status: number): boolean {
  return method === 'HEAD' || status === 204 || status === 205 || status === 304;
}

/**
 * The payload to hand fastify for an answer's bytes: none for a 304, whose
 * content-length may only be the 200's (fastify gives any payload, even an empty one,
 * its length, and no payload none).
 */
export function payloadFor(status: number, bytes: Buffer): Buffer | undefined {
  return status === 304 ? undefined : bytes;
}
