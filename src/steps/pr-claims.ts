// What the model's rationale claims about files and tests, held against the diff and the test
// results: a claim they contradict is flagged in the pull request, so a reviewer never takes the
// model's word for what the tool can check.
import type { TestVerdict } from '../toolchains/compare.js';

export interface ClaimFacts {
  /** Files the change touches. */
  files: string[];
  /** Every test with its verdict; null when the tests were not judged. */
  verdicts: TestVerdict[] | null;
}

// A sentence claims an edit when it says so with one of these verbs.
const EDIT_VERB = /\b(?:chang|modif|updat|add|edit|fix|rewr|creat|delet|remov|renam|touch|patch|implement|introduc|refactor)\w*/i;
const NEGATED = /\b(?:not|never|without|no)\b|n't\b/i;
const PASS_CLAIM = /\b(?:pass(?:es|ed|ing)?|fix(?:es|ed)?|green|succeed\w*|work(?:s|ing)?)\b/i;
const ALL_PASS = /\ball (?:the )?(?:existing |other )?tests (?:now )?(?:pass|are passing|succeed|are green)\b/i;
const ADDED_TEST = /\b(?:add(?:s|ed)?|wr(?:o|i)te|writ(?:es|ten)|new)\b[^.]*\btests?\b/i;
// A path: segments with a slash, or a name with a source-like extension.
const PATH =
  /(?:[\w.-]+\/)+[\w.-]+\.\w+|\b[\w-]+\.(?:rs|py|ts|tsx|js|jsx|mjs|go|java|kt|toml|json|ya?ml|lock|cfg|ini|xml|gradle|sql|md)\b/g;

/** Flags, one line each, for claims of the rationale the diff or the results contradict. */
export function contradictedClaims(rationale: string, facts: ClaimFacts): string[] {
  const flags: string[] = [];
  const sentences = rationale
    .replace(/\r/g, '')
    .split(/(?<=[.!?])\s+|\n+/)
    .map((s) => s.trim())
    .filter(Boolean);
  const touched = new Set(facts.files);
  const touches = (claimed: string) => touched.has(claimed) || facts.files.some((f) => f.endsWith(`/${claimed}`) || f === claimed);
  const seenFiles = new Set<string>();
  for (const sentence of sentences) {
    // "I did not change Cargo.toml" claims no edit.
    if (!EDIT_VERB.test(sentence) || NEGATED.test(sentence)) continue;
    for (const claimed of sentence.match(PATH) ?? []) {
      const file = claimed.replace(/^\.\//, '');
      if (seenFiles.has(file) || touches(file)) continue;
      seenFiles.add(file);
      flags.push(`says it edits \`${file}\`, which the change does not touch`);
    }
  }
  const verdicts = facts.verdicts;
  if (!verdicts) return flags;
  const failing = verdicts.filter(
    (v) => v.verdict === 'regressed' || v.verdict === 'still_failing' || v.verdict === 'gone' || v.verdict === 'flaky',
  );
  for (const sentence of sentences) {
    if (!PASS_CLAIM.test(sentence)) continue;
    for (const v of failing) {
      const leaf = leafOf(v.name);
      if (leaf.length < 3 || !new RegExp(`(?:^|[^\\w])${escape(leaf)}(?:$|[^\\w])`).test(sentence)) continue;
      const what = v.verdict === 'gone' ? 'no longer runs' : v.verdict === 'flaky' ? 'is flaky' : 'still fails';
      const flag = `says \`${leaf}\` passes or is fixed, but \`${v.name}\` ${what}`;
      if (!flags.includes(flag)) flags.push(flag);
    }
  }
  if (
    sentences.some((s) => ALL_PASS.test(s)) &&
    verdicts.some((v) => v.head === 'failed' || v.verdict === 'flaky' || v.verdict === 'gone')
  ) {
    const bad = verdicts.filter((v) => v.head === 'failed' || v.verdict === 'flaky' || v.verdict === 'gone').length;
    flags.push(`says all tests pass, but ${bad} test(s) fail, are flaky or no longer run (see the table)`);
  }
  if (sentences.some((s) => ADDED_TEST.test(s)) && !verdicts.some((v) => v.verdict === 'new')) {
    flags.push('says it adds a test, but no new test ran');
  }
  return flags;
}

function leafOf(name: string): string {
  return (
    name
      .replace(/ \(line \d+\)$/, '')
      .replace(/\[[^\]]*\]$/, '')
      .split(/::|#|\s>\s|\s-\s|\/|\./)
      .pop()
      ?.trim() ?? name
  );
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
