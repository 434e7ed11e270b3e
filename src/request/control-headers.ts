// The headers that speak to llm-replay itself. They are read at the edge and are
// never forwarded upstream, never keyed (but for the test id) and never recorded.

/** Which test made the request: part of the key, stored as the recording's test_id. */
export const TEST_ID_HEADER = 'x-test-id';
/** Which run of the suite made it: scopes occurrence counts, never part of the key. */
export const RUN_HEADER = 'x-llm-replay-run';
/** Faults to inject into this request's answer. */
export const FAULT_HEADER = 'x-llm-replay-fault';
/** The admin token, for the admin endpoints (Authorization: Bearer works too). */
export const ADMIN_TOKEN_HEADER = 'x-llm-replay-token';

/** Where the admin endpoints and the inspector page live: never forwarded, never recorded. */
export const ADMIN_PREFIX = '/_llm-replay';

/** Every control header, lower-case: stripped before a request goes upstream. */
export const CONTROL_HEADERS: readonly string[] = [TEST_ID_HEADER, RUN_HEADER, FAULT_HEADER, ADMIN_TOKEN_HEADER];
