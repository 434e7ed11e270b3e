import { describe, expect, it } from 'vitest';
import { explain, explainOrNothing, explainStreaming } from './src/explain.js';

describe('explain', () => {
  it('answers a physics question', async () => {
    const answer = await explain('What are the three laws of thermodynamics?');
    expect(answer).toContain('First Law');
    expect(answer).toContain('entropy');
  });

  it('streams an answer piece by piece', async () => {
    const pieces: string[] = [];
    const answer = await explainStreaming('Explain the concept of recursion with a simple example.', (text) => pieces.push(text));
    expect(pieces.length).toBeGreaterThan(10);
    expect(answer).toContain('base case');
  });

  it('keeps going when the API fails', async () => {
    expect(await explainOrNothing('How do I read a JSON file in Python?')).toContain('json');
  });
});
