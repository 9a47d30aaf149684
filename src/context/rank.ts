// Which files matter for a task, best first. Pure: search hits, the file list and commit history in,
// scores out.
//
// A file's score is more than its hit count:
// - each term counts by its weight and its rarity in the repository (a word found in half the files
//   says little), and repeated hits in one file count sublinearly;
// - a line that DEFINES a term (fn/struct/enum/trait/impl in Rust, function/class/const/export in
//   TS/JS, def/class in Python, func/type in Go) counts several times a line that mentions it;
// - a file the task names by path, or whose name is a term, is lifted to the top;
// - a test file follows the source it tests, and the source follows its test (tests/foo.rs ↔
//   src/foo.rs, foo.test.ts ↔ foo.ts, test_foo.py ↔ foo.py);
// - files that history shows changing together with the top files are pulled in;
// - lock files, generated and vendored files and prose weigh less.

import type { SearchHit } from '../ports/types.js';
import { CONTEXT_HINTS } from '../toolchains/context-hints.js';
import type { Term } from './terms.js';

export interface LineMark {
  line: number;
  /** How much this line says about the task (term weight × rarity; definitions more). */
  weight: number;
  definition: boolean;
}

export interface RankedFile {
  path: string;
  score: number;
  /** Short notes on where the score came from (for --explain style output and tests). */
  reasons: string[];
  /** The lines worth showing when the whole file does not fit, best first. */
  marks: LineMark[];
}

export interface RankInput {
  terms: Term[];
  hits: SearchHit[];
  /** Every file of the repository (relative paths). Hits outside it are ignored. */
  files: string[];
  /** Files changed together, one array per commit, newest first. */
  history?: string[][];
}

const DEFINITION_BONUS = 3;
const PARTIAL_DEFINITION_BONUS = 1;
const NAMED_PATH_SCORE = 1000;
const NAME_MATCH_FACTOR = 2.5;
const TEST_FOLLOWS_SOURCE = 0.75;
const SOURCE_FOLLOWS_TEST = 0.5;
const COCHANGE_TOP_FILES = 5;
const COCHANGE_FACTOR = 0.6;
// A commit touching many files (a rename, a formatting pass, the initial import) says nothing about
// which files belong together.
const COCHANGE_MAX_COMMIT_FILES = 12;

export function rankFiles(given: RankInput): RankedFile[] {
  // The same files for the same input, whatever order the search and the file listing gave them in:
  // every loop below runs in one canonical order (scores are sums of floats, and pairings and
  // co-change pick the first of equals), and every ranking breaks ties by path.
  const input: RankInput = {
    ...given,
    files: [...given.files].sort(byText),
    hits: [...given.hits].sort((a, b) => byText(a.path, b.path) || a.line - b.line || byText(a.term, b.term) || byText(a.text, b.text)),
  };
  const fileSet = new Set(input.files);
  const total = Math.max(input.files.length, 1);
  const termByText = new Map(input.terms.map((t) => [t.text, t]));

  // Rarity: in how many files each term was found.
  const filesPerTerm = new Map<string, Set<string>>();
  for (const hit of input.hits) {
    if (!fileSet.has(hit.path)) continue;
    let set = filesPerTerm.get(hit.term);
    if (!set) filesPerTerm.set(hit.term, (set = new Set()));
    set.add(hit.path);
  }
  const idf = (term: string): number => Math.log(1 + total / Math.max(filesPerTerm.get(term)?.size ?? 1, 1));

  const entries = new Map<string, { score: number; reasons: string[]; marks: Map<number, LineMark> }>();
  const entry = (path: string) => {
    let e = entries.get(path);
    if (!e) entries.set(path, (e = { score: 0, reasons: [], marks: new Map() }));
    return e;
  };

  // Hits: per (file, term), distinct lines and definitions.
  const byFileTerm = new Map<string, Map<string, SearchHit[]>>();
  for (const hit of input.hits) {
    if (!fileSet.has(hit.path) || !termByText.has(hit.term)) continue;
    let terms = byFileTerm.get(hit.path);
    if (!terms) byFileTerm.set(hit.path, (terms = new Map()));
    let list = terms.get(hit.term);
    if (!list) terms.set(hit.term, (list = []));
    list.push(hit);
  }
  for (const [path, terms] of byFileTerm) {
    const e = entry(path);
    const lang = languageOf(path);
    let definitions = 0;
    for (const [text, hits] of terms) {
      const term = termByText.get(text)!;
      const value = term.weight * idf(text);
      const lines = new Set(hits.map((h) => h.line));
      e.score += value * (1 + Math.log(lines.size));
      // Definitions count once per term and file: a file of twenty `step_n` helpers is not twenty
      // times the home of "step".
      let bestDefinition = 0;
      for (const hit of hits) {
        const def = definitionMatch(hit.text, text, lang);
        const bonus = def === 'exact' ? DEFINITION_BONUS : def === 'partial' ? PARTIAL_DEFINITION_BONUS : 0;
        if (bonus > 0) definitions++;
        bestDefinition = Math.max(bestDefinition, bonus);
        const weight = value * (1 + bonus);
        const old = e.marks.get(hit.line);
        e.marks.set(hit.line, { line: hit.line, weight: (old?.weight ?? 0) + weight, definition: (old?.definition ?? false) || bonus > 0 });
      }
      e.score += value * bestDefinition;
    }
    e.reasons.push(`${terms.size} term(s) found${definitions ? `, ${definitions} definition(s)` : ''}`);
  }

  // Names: paths named in the task, and files or folders named like a term.
  const termKeys = input.terms.map((term) => ({ term, lower: term.text.toLowerCase(), key: normalizeName(term.text) }));
  for (const path of input.files) {
    const lower = path.toLowerCase();
    const segments = lower.split('/');
    const base = segments[segments.length - 1];
    const stemKey = normalizeName(sourceStem(base));
    const dirKeys = new Set(segments.slice(0, -1).map(normalizeName));
    for (const { term, lower: t, key } of termKeys) {
      if (term.kind === 'path') {
        const p = t.replace(/^\.\//, '');
        if (lower === p || lower.endsWith(`/${p}`)) {
          entry(path).score += NAMED_PATH_SCORE;
          entry(path).reasons.push(`named in the task (${term.text})`);
        } else if (segments.slice(0, -1).join('/').endsWith(p) && p.includes('/')) {
          // A folder named in the task: its files rank high, but below a file named outright.
          entry(path).score += NAMED_PATH_SCORE / 10;
          entry(path).reasons.push(`in folder ${term.text}`);
        }
        continue;
      }
      if (key.length < 3) continue;
      if (
        (term.kind === 'symbol' || term.kind === 'module') &&
        term.text.length >= 4 &&
        sourceStem(path.slice(path.lastIndexOf('/') + 1)) === term.text
      ) {
        // Written exactly as the file is named (`README`, `selectContext` for selectContext.ts): the
        // task names the file, if not its folder.
        entry(path).score += NAMED_PATH_SCORE / 10;
        entry(path).reasons.push(`file named ${term.text}`);
      } else if (key === stemKey) {
        entry(path).score += term.weight * idf(term.text) * NAME_MATCH_FACTOR;
        entry(path).reasons.push(`file named like ${term.text}`);
      } else if (dirKeys.has(key)) {
        entry(path).score += term.weight * idf(term.text) * 0.5;
      }
    }
  }

  for (const [path, e] of entries) e.score *= kindFactor(path);

  pairTestsWithSources(input.files, entries, entry);
  if (input.history && input.history.length > 0) applyCoChange(input.history, fileSet, entries, entry);

  return [...entries.entries()]
    .filter(([, e]) => e.score > 0)
    .map(([path, e]) => ({
      path,
      score: Math.round(e.score * 1000) / 1000,
      reasons: e.reasons,
      marks: [...e.marks.values()].sort((a, b) => b.weight - a.weight || a.line - b.line),
    }))
    .sort((a, b) => b.score - a.score || byText(a.path, b.path));
}

function byText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

type Entry = { score: number; reasons: string[]; marks: Map<number, LineMark> };

function pairTestsWithSources(files: string[], entries: Map<string, Entry>, entry: (p: string) => Entry): void {
  const sourcesByStem = new Map<string, string[]>();
  for (const f of files) {
    if (isTestFile(f) || !isCode(f)) continue;
    const key = normalizeName(sourceStem(f.split('/').pop()!));
    const base = key === 'mod' || key === 'index' || key === 'lib' || key === 'init' ? normalizeName(parentDir(f)) : key;
    let list = sourcesByStem.get(base);
    if (!list) sourcesByStem.set(base, (list = []));
    list.push(f);
  }
  // Scores before pairing, so a pair does not feed itself.
  const before = new Map([...entries].map(([p, e]) => [p, e.score]));
  for (const test of files) {
    if (!isTestFile(test)) continue;
    const stem = normalizeName(testStem(test));
    const sources = sourcesByStem.get(stem);
    if (!sources) continue;
    const source = closestSource(test, sources);
    const s = before.get(source) ?? 0;
    const t = before.get(test) ?? 0;
    if (s * TEST_FOLLOWS_SOURCE > t) {
      entry(test).score = Math.max(entry(test).score, s * TEST_FOLLOWS_SOURCE);
      entry(test).reasons.push(`tests ${source}`);
    }
    if (t * SOURCE_FOLLOWS_TEST > s) {
      entry(source).score = Math.max(entry(source).score, t * SOURCE_FOLLOWS_TEST);
      entry(source).reasons.push(`tested by ${test}`);
    }
  }
}

/** The source whose folder is most like the test's (tests/config/load.rs → src/config/load.rs). */
function closestSource(test: string, sources: string[]): string {
  const testDirs = test
    .split('/')
    .slice(0, -1)
    .filter((d) => !/^(tests?|__tests__|spec|src)$/.test(d));
  let best = sources[0];
  let bestScore = -1;
  for (const s of sources) {
    const dirs = s.split('/').slice(0, -1);
    const common = dirs.filter((d) => testDirs.includes(d)).length - dirs.length * 0.01;
    const sameDir = parentDir(s) === parentDir(test) ? 1 : 0;
    const score = common + sameDir;
    if (score > bestScore) {
      best = s;
      bestScore = score;
    }
  }
  return best;
}

function applyCoChange(history: string[][], fileSet: Set<string>, entries: Map<string, Entry>, entry: (p: string) => Entry): void {
  const top = [...entries.entries()]
    .filter(([, e]) => e.score > 0)
    .sort((a, b) => b[1].score - a[1].score || byText(a[0], b[0]))
    .slice(0, COCHANGE_TOP_FILES);
  const bonus = new Map<string, { value: number; from: string }>();
  for (const [path, e] of top) {
    let commits = 0;
    const together = new Map<string, number>();
    for (const commit of history) {
      if (commit.length > COCHANGE_MAX_COMMIT_FILES || !commit.includes(path)) continue;
      commits++;
      for (const other of commit) if (other !== path && fileSet.has(other)) together.set(other, (together.get(other) ?? 0) + 1);
    }
    for (const [other, n] of together) {
      // Smoothed confidence: one shared commit out of one is weaker evidence than four out of five.
      const value = e.score * COCHANGE_FACTOR * (n / (commits + 1));
      const old = bonus.get(other);
      if (!old || old.value < value) bonus.set(other, { value, from: path });
    }
  }
  for (const [path, b] of bonus) {
    entry(path).score += b.value * kindFactor(path);
    entry(path).reasons.push(`changed together with ${b.from}`);
  }
}

// ---------- definitions ----------

// A registered toolchain's id (its context hints know its definitions), or `other`.
type Language = string;

function languageOf(path: string): Language {
  const ext = path.slice(path.lastIndexOf('.') + 1).toLowerCase();
  return CONTEXT_HINTS.find((t) => t.context.extensions.includes(ext))?.id ?? 'other';
}

/** The names a line defines, if it is a definition (`lang`: a toolchain id). */
export function definedNames(line: string, lang: Language): string[] {
  return CONTEXT_HINTS.find((t) => t.id === lang)?.context.definitions(line) ?? [];
}

/** Whether `line` defines `term` exactly, defines a name containing it, or does not define it. */
export function definitionMatch(line: string, term: string, lang: Language): 'exact' | 'partial' | null {
  const names = definedNames(line, lang);
  if (names.length === 0) return null;
  const insensitive = term === term.toLowerCase();
  const t = insensitive ? term.toLowerCase() : term;
  let partial = false;
  for (const name of names) {
    const n = insensitive ? name.toLowerCase() : name;
    if (n === t) return 'exact';
    if (t.length >= 4 && n.includes(t)) partial = true;
  }
  return partial ? 'partial' : null;
}

// ---------- file kinds ----------

// The toolchains' lockfiles, and those of ecosystems with no toolchain folder yet.
const LOCK_FILES = new Set([...CONTEXT_HINTS.flatMap((t) => t.context.lockfiles), 'Gemfile.lock', 'composer.lock']);
// Test file names by the toolchains' conventions, and those of languages with no toolchain folder yet.
const TEST_NAMES = [...CONTEXT_HINTS.flatMap((t) => t.context.testFileNames), /Tests?\.(kt|cs)$/];
const GENERATED = /(^|\/)(dist|build|target|vendor|node_modules|\.next|coverage|__snapshots__)\/|\.min\.(js|css)$|\.map$|\.snap$/;
const CODE_EXT = /\.(rs|ts|tsx|js|jsx|mjs|cjs|mts|cts|py|go|java|kt|rb|php|c|h|cc|cpp|hpp|cs|swift|scala|sql|sh)$/i;

export function isCode(path: string): boolean {
  return CODE_EXT.test(path);
}

function kindFactor(path: string): number {
  if (LOCK_FILES.has(path.slice(path.lastIndexOf('/') + 1))) return 0.05;
  if (GENERATED.test(path)) return 0.1;
  if (isCode(path)) return 1;
  if (/\.(toml|ya?ml|json)$/i.test(path)) return 0.6;
  if (/\.(md|txt|rst|adoc)$/i.test(path) || /(^|\/)(CHANGELOG|LICENSE)/i.test(path)) return 0.4;
  return 0.5;
}

export function isTestFile(path: string): boolean {
  const base = path.split('/').pop()!;
  return /(^|\/)(tests?|__tests__|spec)\//.test(path) || TEST_NAMES.some((pattern) => pattern.test(base));
}

/** The name of what a test file tests: tests/foo_test.rs, foo.test.ts, test_foo.py, FooTest.java → foo. */
export function testStem(path: string): string {
  let base = path.split('/').pop()!;
  base = base.replace(/\.[^.]+$/, '').replace(/\.(test|spec)$/, '');
  base = base
    .replace(/^test_/, '')
    .replace(/_tests?$/, '')
    .replace(/Tests?$/, '');
  if (base === 'mod' || base === 'index' || base === 'main') return parentDir(path);
  return base;
}

/** The stem of a source file name (`load.rs` → `load`, `index.test.ts` → `index`). */
function sourceStem(base: string): string {
  return base.replace(/\.[^.]+$/, '').replace(/\.(test|spec|d)$/, '');
}

function parentDir(path: string): string {
  const parts = path.split('/');
  return parts.length >= 2 ? parts[parts.length - 2] : '';
}

/** `retry_budget`, `retry-budget`, `RetryBudget` → `retrybudget`. */
function normalizeName(name: string): string {
  return name.toLowerCase().replace(/[_\-.]/g, '');
}

// ---------- import graph ----------

const IMPORT_TOP_FILES = 8;
const IMPORT_FACTOR = 0.35;
const JS_EXT = /\.(ts|tsx|js|jsx|mjs|cjs|mts|cts)$/;
const IMPORT_RE = /(?:\bfrom\s*|\bimport\s*\(?\s*|\brequire\s*\(\s*)['"](\.{1,2}\/[^'"]+)['"]/g;

/**
 * The files a JavaScript/TypeScript file imports by relative path (`./x.js` for `x.ts`, `./dir` for
 * `dir/index.ts`), as repository paths that exist in `fileSet`, in order of appearance.
 */
export function relativeImports(path: string, content: string, fileSet: Set<string>): string[] {
  const dir = path.includes('/') ? path.slice(0, path.lastIndexOf('/')) : '';
  const out: string[] = [];
  for (const m of content.matchAll(IMPORT_RE)) {
    const parts = dir ? dir.split('/') : [];
    for (const seg of m[1].split('/')) {
      if (seg === '..') parts.pop();
      else if (seg !== '.' && seg !== '') parts.push(seg);
    }
    const base = parts.join('/');
    const stem = base.replace(/\.([cm]?js|jsx)$/, '');
    const found = [
      base,
      ...['ts', 'tsx', 'js', 'jsx', 'mts', 'cts', 'mjs', 'cjs'].flatMap((e) => [`${stem}.${e}`, `${base}/index.${e}`]),
    ].find((p) => fileSet.has(p));
    if (found && found !== path && !out.includes(found)) out.push(found);
  }
  return out;
}

/**
 * Import-graph neighbours: a JavaScript/TypeScript task often names what a function does, not the
 * file, and the change spans a module and what it imports or what imports it (a test imports the
 * module under test). The best few ranked JS/TS files lift the files they import, and the files
 * among `contents` that import them, to a share of their score. Ties by path, as everywhere.
 */
export function withImportNeighbours(ranked: RankedFile[], contents: Map<string, string>, files: string[]): RankedFile[] {
  const fileSet = new Set(files);
  const byPath = new Map(ranked.map((r) => [r.path, { ...r, reasons: [...r.reasons] }]));
  const top = ranked.filter((r) => JS_EXT.test(r.path)).slice(0, IMPORT_TOP_FILES);
  const topSet = new Set(top.map((r) => r.path));
  const lift = new Map<string, { value: number; from: string; how: string }>();
  const offer = (path: string, value: number, from: string, how: string): void => {
    const old = lift.get(path);
    if (!old || old.value < value || (old.value === value && from < old.from)) lift.set(path, { value, from, how });
  };
  for (const r of top) {
    const content = contents.get(r.path);
    if (content === undefined) continue;
    for (const dep of relativeImports(r.path, content, fileSet))
      offer(dep, r.score * IMPORT_FACTOR * kindFactor(dep), r.path, 'imported by');
  }
  for (const [path, content] of [...contents].sort((a, b) => byText(a[0], b[0]))) {
    if (!JS_EXT.test(path)) continue;
    for (const dep of relativeImports(path, content, fileSet)) {
      if (!topSet.has(dep)) continue;
      const score = byPath.get(dep)!.score;
      offer(path, score * IMPORT_FACTOR * kindFactor(path), dep, 'imports');
    }
  }
  for (const [path, l] of [...lift].sort((a, b) => byText(a[0], b[0]))) {
    const e = byPath.get(path);
    const value = Math.round(l.value * 1000) / 1000;
    if (e) {
      if (e.score >= value) continue;
      e.score = value;
      e.reasons.push(`${l.how} ${l.from}`);
    } else byPath.set(path, { path, score: value, reasons: [`${l.how} ${l.from}`], marks: [] });
  }
  return [...byPath.values()].sort((a, b) => b.score - a.score || byText(a.path, b.path));
}
