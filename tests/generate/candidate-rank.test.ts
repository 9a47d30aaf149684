// Ranking candidates: each criterion decides only what the earlier ones left equal, the same facts
// rank the same way in any order, and the reason given names the criterion that decided.
import { describe, expect, it } from '@jest/globals';
import { normalizePatch, rankCandidates, type CandidateFacts } from '../../src/generate/candidate-rank.js';

const FIX =
  'diff --git a/src/lib.rs b/src/lib.rs\nindex 1..2 100644\n--- a/src/lib.rs\n+++ b/src/lib.rs\n@@ -4,3 +4,3 @@\n fn add() {\n-    a - b\n+    a + b\n }\n';

function facts(id: string, over: Partial<CandidateFacts> = {}): CandidateFacts {
  return {
    id,
    order: 0,
    applies: true,
    builds: true,
    newFailures: 0,
    reproductionPasses: null,
    targetTestsPass: null,
    newLint: 0,
    diff: FIX,
    ...over,
  };
}

/** Every order of `items`. */
function permutations<T>(items: T[]): T[][] {
  if (items.length <= 1) return [items];
  return items.flatMap((item, i) => permutations([...items.slice(0, i), ...items.slice(i + 1)]).map((rest) => [item, ...rest]));
}

describe('rankCandidates', () => {
  const breaksBuild = facts('breaks-build', {
    builds: false,
    newFailures: null,
    newLint: null,
    diff: FIX.replace('a + b', '(a as i64) + b'),
  });
  const breaksTest = facts('breaks-test', { newFailures: 1, diff: `${FIX}@@ -9,3 +9,3 @@\n fn mul() {\n-    a * b\n+    a * b + 1\n }\n` });
  const correct = facts('correct');

  it('puts the correct candidate first whatever the order of the three', () => {
    for (const order of permutations([breaksBuild, breaksTest, correct])) {
      const ranked = rankCandidates(order.map((c, i) => ({ ...c, order: i })));
      expect(ranked.map((r) => r.id)).toEqual(['correct', 'breaks-test', 'breaks-build']);
      expect(ranked[0].why).toBe('ahead of breaks-test: fewer tests newly failing (0 vs 1)');
      expect(ranked[2].why).toBe('behind correct: it builds, the other does not');
    }
  });

  it('ranks by each criterion in turn', () => {
    const cases: [Partial<CandidateFacts>, Partial<CandidateFacts>, string][] = [
      [{ applies: true }, { applies: false, builds: false, newFailures: null, diff: '' }, 'it applies'],
      [{ builds: true }, { builds: false, newFailures: null }, 'it builds'],
      [{ newFailures: 0 }, { newFailures: 2 }, 'fewer tests newly failing'],
      [{ newFailures: 1 }, { newFailures: null }, 'fewer tests newly failing'],
      [{ reproductionPasses: true }, { reproductionPasses: false }, 'reproduction test passes'],
      [{ targetTestsPass: true }, { targetTestsPass: false }, 'tests the task names pass'],
      [{ newLint: 0 }, { newLint: 3 }, 'adds no lint'],
      [{ diff: FIX }, { diff: `${FIX}+// extra\n` }, 'smaller diff'],
    ];
    for (const [good, bad, reason] of cases) {
      // The worse one comes first in the input, so the order alone cannot put the better first.
      const ranked = rankCandidates([facts('bad', { ...bad, order: 0 }), facts('good', { ...good, order: 1 })]);
      expect(ranked.map((r) => r.id)).toEqual(['good', 'bad']);
      expect(ranked[0].why).toContain(reason);
    }
  });

  it('an earlier criterion outweighs every later one', () => {
    // Fewer new failures beats a passing reproduction, lint and size.
    const ranked = rankCandidates([
      facts('lints-but-no-new-failure', { order: 0, newFailures: 0, newLint: 5, reproductionPasses: false, diff: `${FIX}+x\n+y\n` }),
      facts('new-failure', { order: 1, newFailures: 1, reproductionPasses: true }),
    ]);
    expect(ranked[0].id).toBe('lints-but-no-new-failure');
  });

  it('counts new failures from the least among the candidates: an environment failure costs all alike', () => {
    const ranked = rankCandidates([facts('a', { order: 0, newFailures: 1, diff: `${FIX}+x\n` }), facts('b', { order: 1, newFailures: 1 })]);
    // Equal on new failures, so the smaller diff decides.
    expect(ranked.map((r) => r.id)).toEqual(['b', 'a']);
    expect(ranked[0].why).toContain('smaller diff');
  });

  it('votes for the change most candidates wrote, across whitespace and diff headers', () => {
    const drifted = FIX.replace('index 1..2 100644\n', '')
      .replace('+    a + b', '+\ta  +  b')
      .replace('@@ -4,3 +4,3 @@', '@@ -5,3 +5,3 @@');
    const other = FIX.replace('a + b', 'b + a');
    const ranked = rankCandidates([
      facts('other', { order: 0, diff: other }),
      facts('fix', { order: 1, diff: FIX }),
      facts('fix-drifted', { order: 2, diff: drifted }),
    ]);
    expect(ranked[0].votes).toBe(2);
    expect(ranked.slice(0, 2).map((r) => r.id)).toEqual(['fix', 'fix-drifted']);
    expect(ranked[2]).toMatchObject({ id: 'other', votes: 1 });
    expect(ranked[2].why).toContain('more candidates wrote the same change (2 vs 1)');
  });

  it('breaks a full tie by the patch, then by order, the same way for any input order', () => {
    const one = facts('one', { diff: FIX.replace('a + b', 'a.wrapping_add(b)') });
    const two = facts('two', { diff: FIX.replace('a + b', 'b.wrapping_add(a)') });
    const first = rankCandidates([
      { ...one, order: 0 },
      { ...two, order: 1 },
    ]).map((r) => r.id);
    const second = rankCandidates([
      { ...two, order: 0 },
      { ...one, order: 1 },
    ]).map((r) => r.id);
    expect(first).toEqual(second);
  });
});

describe('normalizePatch', () => {
  it('keeps the files and the changed lines, without headers, positions, context or whitespace runs', () => {
    expect(normalizePatch(FIX)).toBe('file src/lib.rs\n-a - b\n+a + b');
  });
});
