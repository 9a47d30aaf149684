// Token counting and selection within a budget. Counting uses the model family's real BPE
// (js-tiktoken), loaded on first use; only the one rank table needed is imported.
//
// Selection walks the ranked files best first. A file that fits is shown whole; one that does not is
// shown as line ranges around its definitions and hits (windows merged where they touch), shrunk
// until they fit. No single file may take more than `maxFileShare` of the budget while others wait,
// so one large file does not crowd out the second file a fix needs.

import type { Tiktoken } from 'js-tiktoken/lite';
import type { LineMark } from './rank.js';

export type EncodingName = 'o200k_base' | 'cl100k_base';

export interface TokenCounter {
  encoding: EncodingName;
  count(text: string): number;
}

/**
 * The encoding for a model name. o200k_base for the GPT-4o generation and later (gpt-4o, gpt-4.1,
 * gpt-4.5, gpt-5, o1/o3/o4, chatgpt-4o); cl100k_base for gpt-4, gpt-3.5 and embeddings, and for
 * models of other vendors (Llama, Qwen, Mistral...), whose tokenizers are closer to cl100k's token
 * counts on code than to o200k's, so the budget errs on the safe side.
 */
export function encodingForModel(model: string): EncodingName {
  const name = model.toLowerCase().split('/').pop()!.trim();
  if (/^(gpt-4o|gpt-4\.1|gpt-4\.5|gpt-5|chatgpt-|o[1-9](-|$)|gpt-oss|codex)/.test(name)) return 'o200k_base';
  return 'cl100k_base';
}

const encoders = new Map<EncodingName, Promise<Tiktoken>>();

async function loadEncoder(encoding: EncodingName): Promise<Tiktoken> {
  const { Tiktoken } = await import('js-tiktoken/lite');
  const ranks =
    encoding === 'o200k_base'
      ? (await import('js-tiktoken/ranks/o200k_base')).default
      : (await import('js-tiktoken/ranks/cl100k_base')).default;
  return new Tiktoken(ranks);
}

/** A counter for `model`'s encoding; the rank table is loaded once per process. */
export async function loadTokenCounter(model: string): Promise<TokenCounter> {
  const encoding = encodingForModel(model);
  let pending = encoders.get(encoding);
  if (!pending) {
    pending = loadEncoder(encoding);
    encoders.set(encoding, pending);
    pending.catch(() => encoders.delete(encoding));
  }
  const encoder = await pending;
  return {
    encoding,
    // Special-token text inside a source file (`<|endoftext|>`) is counted as ordinary text.
    count: (text) => encoder.encode(text, [], []).length,
  };
}

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
      const tokens = counter.count(content);
      if (tokens <= cap) return { ranges, content, tokens };
    }
    marks = marks.slice(0, Math.floor(marks.length / 2));
  }
  return null;
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
