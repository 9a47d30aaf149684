// Which verified candidate wins: the criteria in order, each deciding only between candidates the
// earlier ones left equal (issue 16): it applies → it builds → the fewest tests that passed on the
// base and fail with it (counted from the least among the candidates, so a test broken by the
// environment costs every candidate equally) → the reproduction test passes → the tests the task
// names pass → it adds no lint → the most candidates wrote the same change (a vote among patches
// normalized for whitespace and diff headers) → the smallest diff. Ties left after that go to the
// normalized patch's text, then to the order the candidates came in: the same facts rank the
// same way, whatever order they are given in.

/** What verifying one candidate showed (src/steps/select.ts gathers it). */
export interface CandidateFacts {
  id: string;
  /** Position in the order the candidates were generated: the last tie-break. */
  order: number;
  applies: boolean;
  /** True when no build is planned. */
  builds: boolean;
  /** Tests passing on the base that fail with it; null when its tests did not run (or did not compile). */
  newFailures: number | null;
  /** Null when the task has no reproduction test (the criterion is then neutral). */
  reproductionPasses: boolean | null;
  /** Null when the task names no failing test (neutral). */
  targetTestsPass: boolean | null;
  /** Lint diagnostics it adds; null when no lint ran. */
  newLint: number | null;
  /** The change as git committed it ('' when it did not apply). */
  diff: string;
}

export interface RankedCandidate extends CandidateFacts {
  rank: number;
  /** Candidates (this one included) whose normalized patch is the same. */
  votes: number;
  diffLines: number;
  /** Why it ranks where it does: for the first, what put it ahead of the second; for the others, what put the first ahead of it. */
  why: string;
}

interface Criterion {
  name: string;
  /** Lower is better. */
  score(c: Scored, pool: Scored[]): number;
  explain(better: Scored, worse: Scored): string;
}

type Scored = CandidateFacts & { votes: number; diffLines: number; normalized: string };

const CRITERIA: Criterion[] = [
  { name: 'applies', score: (c) => (c.applies ? 0 : 1), explain: () => 'it applies, the other does not' },
  { name: 'builds', score: (c) => (c.builds ? 0 : 1), explain: () => 'it builds, the other does not' },
  {
    name: 'new failures',
    score: (c, pool) => {
      const least = Math.min(...pool.map((p) => p.newFailures ?? Infinity));
      return c.newFailures === null ? Infinity : c.newFailures - (Number.isFinite(least) ? least : 0);
    },
    explain: (b, w) => `fewer tests newly failing (${b.newFailures ?? 'not run'} vs ${w.newFailures ?? 'tests did not run'})`,
  },
  {
    name: 'reproduction',
    score: (c) => (c.reproductionPasses === false ? 1 : 0),
    explain: () => 'the reproduction test passes with it, not with the other',
  },
  {
    name: 'named tests',
    score: (c) => (c.targetTestsPass === false ? 1 : 0),
    explain: () => 'the tests the task names pass with it, not with the other',
  },
  {
    name: 'lint',
    score: (c) => (c.newLint !== null && c.newLint > 0 ? 1 : 0),
    explain: (_b, w) => `it adds no lint (the other adds ${w.newLint})`,
  },
  { name: 'vote', score: (c) => -c.votes, explain: (b, w) => `more candidates wrote the same change (${b.votes} vs ${w.votes})` },
  {
    name: 'size',
    score: (c) => c.diffLines,
    explain: (b, w) => `a smaller diff (${b.diffLines} vs ${w.diffLines} changed lines)`,
  },
];

/** The candidates best first, each with its rank, its votes and why it ranks there. */
export function rankCandidates(candidates: CandidateFacts[]): RankedCandidate[] {
  const normalized = candidates.map((c) => (c.applies ? normalizePatch(c.diff) : ''));
  const scored: Scored[] = candidates.map((c, i) => ({
    ...c,
    normalized: normalized[i],
    votes: normalized[i] ? normalized.filter((n) => n === normalized[i]).length : 0,
    diffLines: changedLines(c.diff),
  }));
  const compare = (a: Scored, b: Scored): number => {
    for (const criterion of CRITERIA) {
      const d = criterion.score(a, scored) - criterion.score(b, scored);
      if (d !== 0 && !Number.isNaN(d)) return d;
    }
    if (a.normalized !== b.normalized) return a.normalized < b.normalized ? -1 : 1;
    return a.order - b.order;
  };
  const sorted = [...scored].sort(compare);
  return sorted.map((c, i) => {
    const { normalized: _normalized, ...facts } = c;
    let why: string;
    if (sorted.length === 1) why = 'the only candidate';
    else if (i === 0) why = `ahead of ${sorted[1].id}: ${deciding(c, sorted[1], scored)}`;
    else why = `behind ${sorted[0].id}: ${deciding(sorted[0], c, scored)}`;
    return { ...facts, rank: i + 1, why };
  });
}

/** The first criterion that tells `better` from `worse`, said in words. */
function deciding(better: Scored, worse: Scored, pool: Scored[]): string {
  for (const criterion of CRITERIA) {
    const d = criterion.score(better, pool) - criterion.score(worse, pool);
    if (d !== 0 && !Number.isNaN(d)) return criterion.explain(better, worse);
  }
  return better.normalized === worse.normalized ? 'the same change (the earlier candidate is kept)' : 'a tie, broken by the patch text';
}

/**
 * The change without what does not change it: diff headers, index lines, hunk positions, context
 * lines and whitespace inside lines. Two candidates that wrote the same edit (in any format, at
 * any indentation drift the applier accepted) normalize alike.
 */
export function normalizePatch(diff: string): string {
  const out: string[] = [];
  for (const line of diff.split('\n')) {
    const file = /^diff --git a\/(\S+) b\/(\S+)/.exec(line);
    if (file) {
      out.push(`file ${file[2]}`);
      continue;
    }
    if (line.startsWith('+++') || line.startsWith('---')) continue;
    if (line.startsWith('+') || line.startsWith('-')) {
      const body = line.slice(1).trim().replace(/\s+/g, ' ');
      if (body) out.push(`${line[0]}${body}`);
    }
  }
  return out.join('\n');
}

/** Added and removed lines of a unified diff (headers not counted). */
export function changedLines(diff: string): number {
  return diff.split('\n').filter((l) => (l.startsWith('+') || l.startsWith('-')) && !l.startsWith('+++') && !l.startsWith('---')).length;
}
