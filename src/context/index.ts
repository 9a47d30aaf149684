// What the model is shown for a task: terms → search → ranking → token budget. The pipeline's search
// step and `autodev context` call selectContext. Processes stay behind the Searcher and listFiles
// given in; this module only reads the files it ranks.

import { open, realpath } from 'node:fs/promises';
import { join, sep } from 'node:path';
import type { Searcher } from '../ports/types.js';
import { estimatingCounter, selectWithinBudget, type BudgetOptions, type Candidate, type SelectedFile } from './budget.js';
import { rankFiles, withImportNeighbours, type LineMark } from './rank.js';
import { extractTerms, type Term } from './terms.js';
import { encodingForModel, type EncodingName } from './tokenizer.js';

// The exact encoder is re-exported for benchmarks; importing it loads no rank table.
export { loadTokenCounter } from './tokenizer.js';
export { estimateTokens } from './estimate.js';
export type { BudgetOptions, SelectedFile } from './budget.js';
export type { EncodingName } from './tokenizer.js';
export type { Term } from './terms.js';

export interface SelectContextOptions {
  /** The repository checkout. */
  dir: string;
  title: string;
  description?: string;
  budgetTokens: number;
  /** The model name; names the encoding the budget is meant for (see encodingForModel). */
  model: string;
  searcher: Searcher;
  listFiles: (dir: string) => Promise<string[]>;
  /**
   * Files changed together, one array per commit, newest first (Git.history); empty on a shallow
   * clone. A promise may be given, so `git log` runs while the files are listed and searched.
   */
  history?: string[][] | Promise<string[][]>;
  signal?: AbortSignal;
  /** How many of the best-ranked files are read and offered to the budget (default 60). */
  maxCandidates?: number;
  budget?: BudgetOptions;
}

export interface ContextSelection {
  files: SelectedFile[];
  /** Estimated (estimate.ts): at least what the model's encoder counts, so within budgetTokens. */
  tokens: number;
  budgetTokens: number;
  encoding: EncodingName;
  terms: Term[];
  /** The whole ranking, best first (also the files that did not fit), for explanations and benchmarks. */
  ranking: { path: string; score: number; reasons: string[] }[];
}

/** The JSON that `autodev context --json` prints. */
export interface ContextJson {
  files: { path: string; score: number; tokens: number; ranges: [number, number][] | null }[];
  tokens: number;
}

const MAX_FILE_BYTES = 512 * 1024;
const MAX_HITS_PER_TERM = 300;

export async function selectContext(options: SelectContextOptions): Promise<ContextSelection> {
  const terms = extractTerms(options.title, options.description ?? '');
  const [files, hits, history] = await Promise.all([
    options.listFiles(options.dir),
    options.searcher.search(
      options.dir,
      terms.filter((t) => t.kind !== 'path').map((t) => t.text),
      { maxHitsPerTerm: MAX_HITS_PER_TERM, signal: options.signal },
    ),
    options.history,
  ]);
  options.signal?.throwIfAborted();
  const max = options.maxCandidates ?? 60;
  const root = await realpath(options.dir);
  const contents = new Map<string, string | null>();
  const readAll = async (paths: string[]): Promise<void> => {
    const missing = paths.filter((p) => !contents.has(p));
    const texts = await Promise.all(missing.map((p) => readText(root, p)));
    missing.forEach((p, i) => contents.set(p, texts[i]));
  };
  const first = rankFiles({ terms, hits, files, history });
  await readAll(first.slice(0, max).map((r) => r.path));
  // The files the best JS/TS files import, and those that import them (a second read for the few
  // that were not among the first candidates).
  const texts = new Map([...contents].filter((e): e is [string, string] => e[1] !== null));
  const ranked = withImportNeighbours(first, texts, files);
  const top = ranked.slice(0, max);
  await readAll(top.map((r) => r.path));
  const candidates: Candidate[] = [];
  top.forEach((r) => {
    const content = contents.get(r.path) ?? null;
    if (content === null) return;
    candidates.push({ path: r.path, score: r.score, content, marks: withStructuralMarks(r.path, content, r.marks) });
  });

  // Estimated, not encoded: the estimate errs high, so the selection fits the model's real count too.
  const selection = selectWithinBudget(candidates, options.budgetTokens, estimatingCounter, options.budget);
  return {
    ...selection,
    budgetTokens: options.budgetTokens,
    encoding: encodingForModel(options.model),
    terms,
    ranking: ranked.map((r) => ({ path: r.path, score: r.score, reasons: r.reasons })),
  };
}

export function toContextJson(selection: ContextSelection): ContextJson {
  return {
    files: selection.files.map((f) => ({ path: f.path, score: f.score, tokens: f.tokens, ranges: f.ranges })),
    tokens: selection.tokens,
  };
}

/**
 * Besides the hits, an excerpt should show the file's head (imports, `use` lines) and, in a Rust file
 * with inline tests, where `mod tests` starts, so the model sees where a new test goes. Both rank below
 * every hit, so they are the first dropped when space is short.
 */
function withStructuralMarks(path: string, content: string, marks: LineMark[]): LineMark[] {
  if (marks.length === 0) return marks;
  const least = Math.min(...marks.map((m) => m.weight));
  const extra: LineMark[] = [{ line: 1, weight: least * 0.5, definition: false }];
  if (path.endsWith('.rs')) {
    const lines = content.split('\n');
    const i = lines.findIndex((l) => /^\s*(pub\s+)?mod\s+tests?\s*\{/.test(l));
    if (i >= 0) extra.push({ line: i + 1, weight: least * 0.6, definition: false });
  }
  const seen = new Set(marks.map((m) => m.line));
  return [...marks, ...extra.filter((m) => !seen.has(m.line)).sort((a, b) => b.weight - a.weight)];
}

/**
 * The file as UTF-8 text, or null when it is missing, too big, binary, or a symbolic link (itself or
 * through a directory) that leads out of the repository: a link to /etc/shadow in a repository must
 * not put the host's file in front of the model.
 */
async function readText(root: string, file: string): Promise<string | null> {
  let handle;
  try {
    const real = await realpath(join(root, file));
    if (!real.startsWith(root + sep)) return null;
    handle = await open(real, 'r');
    const stat = await handle.stat();
    if (!stat.isFile() || stat.size > MAX_FILE_BYTES) return null;
    const buffer = await handle.readFile();
    if (buffer.subarray(0, 8000).includes(0)) return null;
    return buffer.toString('utf8');
  } catch {
    return null;
  } finally {
    await handle?.close();
  }
}
