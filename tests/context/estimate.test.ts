// The token estimate against the real encoders (js-tiktoken, both encodings a model may use): never
// below either count on any text (random data, emoji and CJK included), and not far above on code and prose,
// or the budget would be wasted.
import { beforeAll, describe, expect, it } from '@jest/globals';
import { estimateTokens } from '../../src/context/estimate.js';
import { loadTokenCounter, type ExactCounter } from '../../src/context/tokenizer.js';
import { tokenFixtures } from './token-fixtures.js';

let o200k: ExactCounter;
let cl100k: ExactCounter;
const fixtures = tokenFixtures();

beforeAll(async () => {
  [o200k, cl100k] = await Promise.all([loadTokenCounter('gpt-4o'), loadTokenCounter('gpt-4')]);
});

function exact(text: string): number {
  return Math.max(o200k.count(text), cl100k.count(text));
}

describe('estimateTokens', () => {
  it('is never below the o200k_base or cl100k_base count, whole texts and pieces of them', () => {
    const below: string[] = [];
    for (const f of fixtures) {
      // Whole, and cut into excerpts of about 40 lines or 1,500 characters as a selection would.
      const lines = f.text.split('\n');
      const pieces = [f.text];
      for (let i = 0; i < lines.length; i += 40) pieces.push(lines.slice(i, i + 40).join('\n'));
      for (let i = 0; i < f.text.length; i += 1500) pieces.push(f.text.slice(i, i + 1500));
      for (const piece of pieces) {
        const real = exact(piece);
        if (estimateTokens(piece) < real)
          below.push(`${f.name}: estimate ${estimateTokens(piece)} < ${real} for ${JSON.stringify(piece.slice(0, 60))}`);
      }
    }
    expect(below).toEqual([]);
  });

  it('stays within 2× of the real count on each code or prose text, and within 1.6× over all of them', () => {
    let estimated = 0;
    let real = 0;
    const far: string[] = [];
    for (const f of fixtures.filter((x) => x.kind !== 'high')) {
      const e = estimateTokens(f.text);
      const x = exact(f.text);
      estimated += e;
      real += x;
      if (e > 2 * x) far.push(`${f.name}: ${e} vs ${x}`);
    }
    expect(far).toEqual([]);
    expect(estimated / real).toBeLessThanOrEqual(1.6);
    expect(estimated / real).toBeGreaterThanOrEqual(1);
  });

  it('counts nothing as nothing and short texts as at least one token', () => {
    expect(estimateTokens('')).toBe(0);
    for (const text of ['a', ' ', '\n', '{', '7', 'é', '中', '🚀']) expect(estimateTokens(text)).toBeGreaterThanOrEqual(exact(text));
  });
});
