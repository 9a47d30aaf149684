// Selection within a token budget. Sizes are estimated (estimate.ts: one pass over the text, no
// rank table, errs high), so ranking and fitting cost nothing like loading a BPE; the exact encoder
// (tokenizer.ts) is for tests and benchmarks that check the estimate against it.
//
// Selection walks the ranked files best first. A file that fits is shown whole; one that does not is
// shown as line ranges around its definitions and hits (windows merged where they touch), shrunk
// until they fit. No single file may take more than `maxFileShare` of the budget while others wait,
// so one large file does not crowd out the second file a fix needs.

import { estimateTokens } from './estimate.js';
import type { LineMark } from './rank.js';

export interface TokenCounter {
  count(text: string): number;
}

/** The counter selection uses: the estimate, an upper bound of the o200k_base and cl100k_base counts. */
export const estimatingCounter: TokenCounter = { count: estimateTokens };

export interface Candidate {
  path: string;
  score: number;
  content: string;
  /** Lines worth showing when the whole file does not fit, best first (1-based). */
  marks: LineMark[];
}

export interface SelectedFile {
  path: string;
  score: number;
  tokens: number;
  /** Inclusive 1-based line ranges shown, or null when the whole file is. */
  ranges: [number, number][] | null;
  content: string;
}

export interface Selection {
  files: SelectedFile[];
  tokens: number;
}

export interface BudgetOptions {
  /** Largest share of the budget one file may take (default 0.5). */
  maxFileShare?: number;
  /** Tokens charged per file for the header the prompt puts around it (default: path + 8). */
  overhead?: (path: string) => number;
  /** Widest window of lines around a mark (default 30 before and after). */
  maxWindow?: number;
  /** Files scoring below this fraction of the best score are not shown (default 0.02). */
  minRelativeScore?: number;
}

/** Shown between two ranges of one file. */
export const GAP_MARKER = '⋮';
const MIN_USEFUL_TOKENS = 48;
// Source code averages 3-5 characters per token; past 12 a text cannot fit and is not worth encoding.
const CHARS_PER_TOKEN_BOUND = 12;

export function selectWithinBudget(
  candidates: Candidate[],
  budgetTokens: number,
  counter: TokenCounter,
  options: BudgetOptions = {},
): Selection {
  const share = options.maxFileShare ?? 0.5;
  const overhead = options.overhead ?? ((path: string) => counter.count(path) + 8);
  const maxWindow = options.maxWindow ?? 30;
  const best = candidates.reduce((m, c) => Math.max(m, c.score), 0);
  const floor = best * (options.minRelativeScore ?? 0.02);

  const files: SelectedFile[] = [];
  let used = 0;
  for (const candidate of candidates) {
    const remaining = budgetTokens - used;
    if (remaining < MIN_USEFUL_TOKENS) break;
    if (candidate.score < floor || candidate.score <= 0) continue;
    const head = overhead(candidate.path);
    // The cap per file: its share of the budget, or all that is left when it is the last word.
    const cap = Math.min(remaining, Math.max(budgetTokens * share, MIN_USEFUL_TOKENS)) - head;
    if (cap <= 0) continue;

    const whole = candidate.content.length <= cap * CHARS_PER_TOKEN_BOUND ? counter.count(candidate.content) : Infinity;
    if (whole <= cap) {
      files.push({ path: candidate.path, score: candidate.score, tokens: whole + head, ranges: null, content: candidate.content });
      used += whole + head;
      continue;
    }
    const excerpt = fitRanges(candidate, cap, counter, maxWindow);
    if (!excerpt) continue;
    files.push({
      path: candidate.path,
      score: candidate.score,
      tokens: excerpt.tokens + head,
      ranges: excerpt.ranges,
      content: excerpt.content,
    });
    used += excerpt.tokens + head;
  }
  return { files, tokens: used };
}

/** The widest windows around the file's marks that fit in `cap` tokens; fewer marks when even narrow ones do not. */
function fitRanges(
  candidate: Candidate,
  cap: number,
  counter: TokenCounter,
  maxWindow: number,
): { ranges: [number, number][]; content: string; tokens: number } | null {
  if (candidate.marks.length === 0) return null;
  const lines = candidate.content.split('\n');
  const windows = [maxWindow, 15, 8, 4, 1].filter((w) => w <= maxWindow);
  // Marks best first: try all of them, then drop the weakest until something fits.
  let marks = candidate.marks.filter((m) => m.line >= 1 && m.line <= lines.length);
  while (marks.length > 0) {
    for (const w of windows) {
      const ranges = mergeWindows(
        marks.map((m) => m.line),
        w,
        lines.length,
      );
      const content = renderRanges(lines, ranges);
      // Skip the count when the text is plainly too long.
      if (content.length > cap * CHARS_PER_TOKEN_BOUND) continue;
      // The prompt names the ranges beside the path (` (lines 3-40, 52-60)`): charged here too.
      const tokens = counter.count(content) + counter.count(rangesLabel(ranges));
      if (tokens <= cap) return { ranges, content, tokens };
    }
    marks = marks.slice(0, Math.floor(marks.length / 2));
  }
  return null;
}

/** How a prompt names the ranges of an excerpt, after the path. */
export function rangesLabel(ranges: [number, number][]): string {
  return ` (lines ${ranges.map(([a, b]) => `${a}-${b}`).join(', ')})`;
}

/** Windows of `radius` lines around each line, clamped to the file and merged where they overlap or touch. */
export function mergeWindows(lineNumbers: number[], radius: number, lineCount: number): [number, number][] {
  const windows = [...new Set(lineNumbers)]
    .sort((a, b) => a - b)
    .map((n): [number, number] => [Math.max(1, n - radius), Math.min(lineCount, n + radius)]);
  const merged: [number, number][] = [];
  for (const w of windows) {
    const last = merged[merged.length - 1];
    if (last && w[0] <= last[1] + 1) last[1] = Math.max(last[1], w[1]);
    else merged.push([w[0], w[1]]);
  }
  return merged;
}

export function renderRanges(lines: string[], ranges: [number, number][]): string {
  return ranges.map(([a, b]) => lines.slice(a - 1, b).join('\n')).join(`\n${GAP_MARKER}\n`);
}
