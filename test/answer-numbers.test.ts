// Replay parses a recording with JSON.parse when that gives every number back as
// written, and exactly otherwise: either way the answer's bytes are the same as from
// the exact parse, whatever the numbers' spelling.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { hasPlainNumbers, parseRecording } from '../src/recordings/recording.js';
import { prepareResponse } from '../src/replay/prepare.js';

interface SeedExchange {
  model: string;
  request: Record<string, unknown>;
  response: unknown;
}

const seeds = JSON.parse(readFileSync(new URL('./fixtures/seed-exchanges.json', import.meta.url), 'utf8')) as SeedExchange[];

function recordingText(exchange: SeedExchange): string {
  const recording = {
    test_id: null,
    request: { method: 'POST', url: 'http://127.0.0.1:8080/v1/chat/completions', headers: {}, body: exchange.request, endpoint: '/v1/chat/completions', model: exchange.model },
    response: { body: exchange.response, is_streaming: Array.isArray(exchange.response), status: 200, headers: { 'content-type': 'application/json' } },
    id_normalization_mapping: {},
  };
  return JSON.stringify(recording, null, 2);
}

function answerBytes(text: string, forAnswer: boolean): string {
  const prepared = prepareResponse(parseRecording(text, 'x.json', true, forAnswer));
  return (prepared.body ?? Buffer.concat(prepared.events ?? [])).toString('utf8');
}

describe('an answer read for replay', () => {
  it('is the same text as from the exact parse, for every seed exchange, streams included', () => {
    let plain = 0;
    for (const exchange of seeds) {
      const text = recordingText(exchange);
      expect(answerBytes(text, true)).toBe(answerBytes(text, false));
      if (hasPlainNumbers(parseRecording(text, 'x.json', true, true))) plain++;
    }
    // Numbers in strings (a URL's 127.0.0.1, an id's -0) do not make a recording exact.
    expect(plain).toBe(seeds.length);
  });

  it('keeps numbers JSON.stringify would write otherwise exactly as recorded', () => {
    const spellings = ['1.0', '1e5', '1E+5', '0.10', '-0', '12345678901234567890', '0.30000000000000004000'];
    for (const spelling of spellings) {
      const text = `{"test_id": null, "request": {"method": "POST", "url": "/v1/x", "headers": {}, "body": {}, "endpoint": "/v1/x", "model": ""}, "response": {"body": {"n": ${spelling}, "list": [${spelling}, 2, 0.5]}, "is_streaming": false}, "id_normalization_mapping": {}}`;
      const recording = parseRecording(text, 'x.json', true, true);
      expect(hasPlainNumbers(recording)).toBe(false);
      expect(answerBytes(text, true)).toBe(`{"n":${spelling},"list":[${spelling},2,0.5]}`);
    }
    const plainText = '{"test_id": null, "request": {"method": "POST", "url": "/v1/x", "headers": {}, "body": {}, "endpoint": "/v1/x", "model": ""}, "response": {"body": {"n": 1e+21, "m": [7, -3, 0.5, 123456789012345]}, "is_streaming": false}, "id_normalization_mapping": {}}';
    expect(hasPlainNumbers(parseRecording(plainText, 'x.json', true, true))).toBe(true);
    expect(answerBytes(plainText, true)).toBe('{"n":1e+21,"m":[7,-3,0.5,123456789012345]}');
  });

  it('still refuses a file that is not JSON, naming it', () => {
    expect(() => parseRecording('{"request": {"method": "POST"}, "response": {"body": 1,}}', 'broken.json', true, true)).toThrow(/broken\.json.*not valid JSON/);
  });
});
