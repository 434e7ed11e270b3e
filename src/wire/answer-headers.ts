// What every answer carries that is not the inspector page's own: a recorded or
// forwarded answer is the upstream's content served from this server's origin, and
// a browser opening it (an HTML error page, an SVG) must not run it there, where it
// could call the admin endpoints. `nosniff`: a type is never guessed into HTML;
// `sandbox`: whatever renders gets an opaque origin, no script, no forms.

export const ANSWER_HEADERS: Readonly<Record<string, string>> = {
  'x-content-type-options': 'nosniff',
  'content-security-policy': 'sandbox',
};

/** `headers` with the answer headers set, over any the upstream sent. */
export function withAnswerHeaders<T extends Record<string, unknown>>(headers: T): T {
  return { ...headers, ...ANSWER_HEADERS };
}
