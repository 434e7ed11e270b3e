// Where a request's test id comes from: X-Test-Id, else llama-stack's provider-data
// headers; and why a provider-data header gave none, for the log.
import { describe, expect, it } from 'vitest';
import { testIdFrom } from '../src/request/test-id.js';

describe('the test id of a request', () => {
  it('is X-Test-Id, else the provider data\'s "__test_id"', () => {
    expect(testIdFrom({ 'x-test-id': 'a', 'x-llamastack-provider-data': '{"__test_id": "b"}' })).toEqual({ testId: 'a' });
    expect(testIdFrom({ 'x-llamastack-provider-data': '{"__test_id": "b", "openai_api_key": "sk-x"}' })).toEqual({ testId: 'b' });
    expect(testIdFrom({ 'x-ogx-provider-data': '{"__test_id": "c"}' })).toEqual({ testId: 'c' });
    // Provider data with no test id in it is no problem: it carries keys and settings too.
    expect(testIdFrom({ 'x-llamastack-provider-data': '{"openai_api_key": "sk-x"}' })).toEqual({ testId: null });
    expect(testIdFrom({})).toEqual({ testId: null });
  });

  it('says why provider data gave none: not JSON, or a "__test_id" that is not a name', () => {
    expect(testIdFrom({ 'x-llamastack-provider-data': "{'__test_id': 'x'}" })).toEqual({ testId: null, unread: 'x-llamastack-provider-data is not JSON' });
    const why = (id: string) => testIdFrom({ 'x-llamastack-provider-data': `{"__test_id": ${id}}` }).unread;
    expect(why('5')).toBe('x-llamastack-provider-data\'s "__test_id" is a number, not a string');
    expect(why('null')).toBe('x-llamastack-provider-data\'s "__test_id" is null, not a string');
    expect(why('["a"]')).toBe('x-llamastack-provider-data\'s "__test_id" is an array, not a string');
    expect(why('""')).toBe('x-llamastack-provider-data\'s "__test_id" is empty');
  });
});
