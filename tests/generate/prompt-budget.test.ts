// Context is fitted to its budget with estimated sizes; what the model is then sent must still be
// within the budget by the real encoders' count. Files of every kind (code, minified JavaScript,
// long lines, lock files, unicode, random data) are selected under several budgets and orders, the
// prompt is built as a run builds it, and its code section is counted with o200k_base and cl100k_base.
import { beforeAll, describe, expect, it } from '@jest/globals';
import { estimatingCounter, selectWithinBudget, type Candidate } from '../../src/context/budget.js';
import type { ContextSelection } from '../../src/context/index.js';
import { loadTokenCounter, type ExactCounter } from '../../src/context/tokenizer.js';
import { editFormat } from '../../src/generate/formats/index.js';
import { buildMessages } from '../../src/generate/prompt.js';
import { tokenFixtures } from '../context/token-fixtures.js';

const CODE_HEADER = '# Repository code (selected for this task)\n\n';
let encoders: ExactCounter[];

beforeAll(async () => {
  encoders = await Promise.all([loadTokenCounter('gpt-4o'), loadTokenCounter('gpt-4')]);
});

function candidates(seed: number): Candidate[] {
  // A fixed shuffle per seed, so each budget sees the kinds in several orders.
  let state = seed;
  const random = () => (state = (Math.imul(state, 1103515245) + 12345) >>> 0) / 2 ** 32;
  return tokenFixtures()
    .map((f, i) => {
      const lines = f.text.split('\n').length;
      const marks = Array.from({ length: Math.ceil(lines / 25) }, (_, k) => ({
        line: k * 25 + 1,
        weight: 10 - k / 100,
        definition: k === 0,
      }));
      return { path: `src/${i}-${f.name.replace(/[^\w.]+/g, '-')}`, score: 0, content: f.text, marks, order: random() };
    })
    .sort((a, b) => a.order - b.order)
    .map(({ order: _order, ...c }, i, all): Candidate => ({ ...c, score: all.length - i }));
}

/** The code section of the user message: every file block as the model reads it. */
function codeSection(selection: ContextSelection): string {
  const [, user] = buildMessages({
    task: { title: 'Fix it', description: '' },
    context: selection,
    baseline: { failingTests: [] },
    repair: null,
    format: editFormat('udiff'),
    formatError: null,
  });
  const start = user.content.indexOf(CODE_HEADER);
  expect(start).toBeGreaterThan(0);
  return user.content.slice(start + CODE_HEADER.length);
}

describe('a prompt built from estimated sizes', () => {
  it.each([200, 1000, 3000, 8000])('stays within a budget of %i tokens by the real count', (budget) => {
    for (const seed of [1, 2, 3]) {
      const chosen = selectWithinBudget(candidates(seed), budget, estimatingCounter, { minRelativeScore: 0 });
      expect(chosen.files.length).toBeGreaterThan(0);
      expect(chosen.tokens).toBeLessThanOrEqual(budget);
      const selection: ContextSelection = { ...chosen, budgetTokens: budget, encoding: 'o200k_base', terms: [], ranking: [] };
      const section = codeSection(selection);
      for (const file of chosen.files) expect(section).toContain(file.content.replace(/\n$/, ''));
      for (const encoder of encoders)
        expect({ seed, encoding: encoder.encoding, tokens: encoder.count(section) <= budget }).toEqual({
          seed,
          encoding: encoder.encoding,
          tokens: true,
        });
    }
  });
});
