import { describe, expect, it } from 'vitest';
import { BoundedScopes } from '../src/server/scopes.js';

interface Counts {
  n: number;
}

function scopesOf(budget: number) {
  const scopes = new BoundedScopes<Counts>(budget, (value) => value.n);
  const use = (test: string) => {
    const value = scopes.ensure('', test, () => ({ n: 0 }));
    value.n++;
    scopes.weigh(value, 1);
    return value;
  };
  return { scopes, use };
}

describe('bounded scopes', () => {
  it('drops the scope used longest ago, however often the latest one is used again', () => {
    const { scopes, use } = scopesOf(3);
    use('a');
    use('b');
    use('b');
    expect(scopes.get('', 'a')).toBeDefined();
    // a is now the most recent: b goes first.
    use('c');
    use('c');
    expect(scopes.get('', 'b')).toBeUndefined();
    expect(scopes.get('', 'a')?.n).toBe(1);
    expect(scopes.get('', 'c')?.n).toBe(2);
  });

  it('forgets a reset scope, and a scope made again after its reset is kept and ordered', () => {
    const { scopes, use } = scopesOf(2);
    use('a');
    expect(scopes.reset({ testId: 'a' })).toBe(1);
    expect(scopes.get('', 'a')).toBeUndefined();
    const again = use('a');
    expect(again.n).toBe(1);
    use('b');
    use('a');
    // Over budget (3 > 2): the least recent whole scope goes, and a (just used) stays.
    expect(scopes.get('', 'b')).toBeUndefined();
    expect(scopes.get('', 'a')).toBe(again);
    expect(scopes.size).toBe(1);
  });
});
