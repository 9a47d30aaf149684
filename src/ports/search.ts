// Code search over a checkout: ripgrep `--json` when it is on PATH, `git grep` otherwise, both giving
// the same SearchHit shape. Both are read-only, trusted tools, so this port spawns them directly
// (node:child_process) instead of going through the sandboxed exec port.
//
// Matching rules (the same for both engines):
// - every term is a fixed string, never a regex;
// - a term written all in lowercase matches case-insensitively (`retrybudget` finds `RetryBudget`,
//   `retry_budget` finds `RETRY_BUDGET`), a term with any uppercase letter matches exactly;
// - .gitignore is respected, binary files and files over 1 MiB are skipped, hidden files are searched
//   (but never .git/).

import { spawn } from 'node:child_process';
import { accessSync, constants, existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { createInterface } from 'node:readline';
import type { SearchHit, Searcher } from './types.js';

export interface SearcherOptions {
  /** Path of rg; undefined looks it up on PATH, null forces the git grep fallback. */
  rgPath?: string | null;
  /** Path of git (default: `git` on PATH). */
  gitPath?: string;
}

export interface SearchOptions {
  maxHitsPerTerm?: number;
  signal?: AbortSignal;
}

/** A Searcher that can also list the files it would search. */
export interface LocalSearcher extends Searcher {
  listFiles(dir: string, signal?: AbortSignal): Promise<string[]>;
}

const DEFAULT_MAX_HITS_PER_TERM = 200;
// Matching lines read per file (all terms together): bounds the output of generated or vendored files
// while leaving room for a rare term below many lines of a common one.
const MAX_LINES_PER_FILE = 200;
// Hits kept per term and file: a term's budget of hits is spread over many files, so the number of
// files it was found in (its rarity, for ranking) is not decided by the first two files searched.
const MAX_HITS_PER_TERM_AND_FILE = 12;
const MAX_TEXT_CHARS = 400;

export function createSearcher(options: SearcherOptions = {}): LocalSearcher {
  const rg = options.rgPath === undefined ? findOnPath('rg') : options.rgPath;
  const git = options.gitPath ?? 'git';
  if (rg) {
    return {
      engine: 'rg',
      search: (dir, terms, opts) => searchWith(terms, opts, (group, onLine, signal) => runRg(rg, dir, group, onLine, signal), parseRgLine),
      listFiles: (dir, signal) => listWithRg(rg, dir, signal),
    };
  }
  return {
    engine: 'git-grep',
    search: (dir, terms, opts) =>
      searchWith(terms, opts, (group, onLine, signal) => runGitGrep(git, dir, group, onLine, signal), parseGitGrepLine),
    listFiles: (dir, signal) => listWithGit(git, dir, signal),
  };
}

/** Files of `dir` as search sees them (relative paths, sorted): `rg --files`, else `git ls-files`. */
export function listFiles(dir: string, options: SearcherOptions & { signal?: AbortSignal } = {}): Promise<string[]> {
  return createSearcher(options).listFiles(dir, options.signal);
}

interface TermGroup {
  caseInsensitive: boolean;
  terms: string[];
}

type Runner = (group: TermGroup, onLine: (line: string) => boolean, signal?: AbortSignal) => Promise<void>;
/** Parses one output line; `wanted` lists the terms still under their cap, so a line with none can be skipped unparsed. */
type Parser = (line: string, group: TermGroup, wanted: string[]) => SearchHit[];

async function searchWith(terms: string[], opts: SearchOptions | undefined, run: Runner, parse: Parser): Promise<SearchHit[]> {
  const unique = [...new Set(terms.filter((t) => t.trim().length > 0 && !t.includes('\n')))];
  if (unique.length === 0) return [];
  const cap = opts?.maxHitsPerTerm ?? DEFAULT_MAX_HITS_PER_TERM;
  const groups: TermGroup[] = [
    { caseInsensitive: true, terms: unique.filter((t) => t === t.toLowerCase()) },
    { caseInsensitive: false, terms: unique.filter((t) => t !== t.toLowerCase()) },
  ].filter((g) => g.terms.length > 0);

  // Order first, then cap: ripgrep searches files on several threads, so the order its hits arrive
  // in varies from run to run, and a cap applied while streaming kept different hits (and so gave
  // different files) for the same task. The cap per term and file is safe while streaming (one file's
  // lines come in order); the cap per term is applied once every hit is in, taking each file's first
  // hit before any file's second (the widest spread of files, which the ranking's rarity needs),
  // ties broken by path and line.
  const perTermAndFile = new Map<string, number>();
  const found: { hit: SearchHit; nth: number }[] = [];
  await Promise.all(
    groups.map((group) =>
      run(
        group,
        (line) => {
          for (const hit of parse(line, group, group.terms)) {
            const key = `${hit.term}\0${hit.path}`;
            const inFile = perTermAndFile.get(key) ?? 0;
            if (inFile >= MAX_HITS_PER_TERM_AND_FILE) continue;
            perTermAndFile.set(key, inFile + 1);
            found.push({ hit, nth: inFile });
          }
          return true;
        },
        opts?.signal,
      ),
    ),
  );
  found.sort((a, b) => a.nth - b.nth || byPathLineTerm(a.hit, b.hit));
  const perTerm = new Map<string, number>();
  const hits: SearchHit[] = [];
  for (const { hit } of found) {
    const n = perTerm.get(hit.term) ?? 0;
    if (n >= cap) continue;
    perTerm.set(hit.term, n + 1);
    hits.push(hit);
  }
  hits.sort(byPathLineTerm);
  return hits;
}

function byPathLineTerm(a: SearchHit, b: SearchHit): number {
  return a.path < b.path ? -1 : a.path > b.path ? 1 : a.line - b.line || (a.term < b.term ? -1 : a.term > b.term ? 1 : 0);
}

// ---------- ripgrep ----------

function runRg(rg: string, dir: string, group: TermGroup, onLine: (line: string) => boolean, signal?: AbortSignal): Promise<void> {
  const args = [
    '--json',
    '--fixed-strings',
    group.caseInsensitive ? '--ignore-case' : '--case-sensitive',
    '--hidden',
    '--glob',
    '!.git/',
    '--no-require-git',
    '--max-filesize',
    '1M',
    '--max-count',
    String(MAX_LINES_PER_FILE),
    '--no-config',
  ];
  for (const t of group.terms) args.push('-e', t);
  // An explicit path: without one rg would read stdin when it is not a terminal.
  args.push('./');
  return streamLines(rg, args, dir, onLine, signal, [0, 1]);
}

interface RgText {
  text?: string;
  bytes?: string;
}

function rgText(value: RgText | undefined): string {
  if (!value) return '';
  if (typeof value.text === 'string') return value.text;
  return value.bytes ? Buffer.from(value.bytes, 'base64').toString('utf8') : '';
}

function parseRgLine(line: string, group: TermGroup, wanted: string[]): SearchHit[] {
  if (!line.startsWith('{"type":"match"')) return [];
  // Most lines of a big repository match only common terms that already have all their hits:
  // look for a wanted term in the raw JSON before paying for JSON.parse. Terms JSON would escape
  // cannot be looked for this way and always get the line parsed.
  const raw = group.caseInsensitive ? line.toLowerCase() : line;
  if (!wanted.some((t) => /["\\\u0000-\u001f\u007f-\uffff]/.test(t) || raw.includes(group.caseInsensitive ? t.toLowerCase() : t)))
    return [];
  let message: { data: { path: RgText; lines: RgText; line_number: number; submatches: { match: RgText }[] } };
  try {
    message = JSON.parse(line);
  } catch {
    return [];
  }
  const path = stripDotSlash(rgText(message.data.path));
  const full = rgText(message.data.lines);
  // Submatches alone would miss overlapping terms (`retry` inside `retry_budget`): check the line.
  const terms = wanted.filter((t) => containsTerm(full, t, group.caseInsensitive));
  const text = trimText(full);
  return terms.map((term) => ({ path, line: message.data.line_number, text, term }));
}

async function listWithRg(rg: string, dir: string, signal?: AbortSignal): Promise<string[]> {
  const files: string[] = [];
  await streamLines(
    rg,
    ['--files', '--hidden', '--glob', '!.git/', '--no-require-git', '--no-config', './'],
    dir,
    (line) => {
      if (line) files.push(stripDotSlash(line));
      return true;
    },
    signal,
    [0, 1],
  );
  return files.sort();
}

// ---------- git grep ----------

function runGitGrep(git: string, dir: string, group: TermGroup, onLine: (line: string) => boolean, signal?: AbortSignal): Promise<void> {
  const args = ['-c', 'grep.fallbackToNoIndex=true', 'grep', '-n', '-I', '--null', '--fixed-strings', '--no-color'];
  if (group.caseInsensitive) args.push('--ignore-case');
  // Untracked but not ignored files are part of the working tree the model will edit.
  if (existsSync(join(dir, '.git'))) args.push('--untracked');
  else args.push('--exclude-standard');
  args.push('--max-count', String(MAX_LINES_PER_FILE));
  for (const t of group.terms) args.push('-e', t);
  return streamLines(git, args, dir, onLine, signal, [0, 1]);
}

function parseGitGrepLine(line: string, group: TermGroup, wanted: string[]): SearchHit[] {
  const first = line.indexOf('\0');
  const second = first < 0 ? -1 : line.indexOf('\0', first + 1);
  if (second < 0) return [];
  const path = line.slice(0, first);
  const lineNumber = Number(line.slice(first + 1, second));
  const text = trimText(line.slice(second + 1));
  return wanted.filter((t) => containsTerm(text, t, group.caseInsensitive)).map((term) => ({ path, line: lineNumber, text, term }));
}

async function listWithGit(git: string, dir: string, signal?: AbortSignal): Promise<string[]> {
  const files = new Set<string>();
  await streamLines(
    git,
    ['ls-files', '-z', '--cached', '--others', '--exclude-standard'],
    dir,
    (chunk) => {
      for (const f of chunk.split('\0')) if (f && existsSync(join(dir, f))) files.add(f);
      return true;
    },
    signal,
    [0],
  );
  return [...files].sort();
}

// ---------- helpers ----------

function containsTerm(text: string, term: string, caseInsensitive: boolean): boolean {
  return caseInsensitive ? text.toLowerCase().includes(term.toLowerCase()) : text.includes(term);
}

function trimText(text: string): string {
  const line = text.replace(/\r?\n$/, '');
  return line.length > MAX_TEXT_CHARS ? line.slice(0, MAX_TEXT_CHARS) : line;
}

function stripDotSlash(path: string): string {
  return path.startsWith('./') ? path.slice(2) : path;
}

/**
 * Runs `program args` in `dir`, handing stdout to `onLine` line by line; stops the program early when
 * `onLine` returns false. Rejects when the program cannot start or exits with a code not in `okCodes`
 * (ripgrep's and git's 2/128 mean the search itself failed) — unless it already produced output.
 */
function streamLines(
  program: string,
  args: string[],
  dir: string,
  onLine: (line: string) => boolean,
  signal: AbortSignal | undefined,
  okCodes: number[],
): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'], signal });
    let stopped = false;
    let produced = false;
    let stderr = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      if (stderr.length < 4000) stderr += chunk;
    });
    const lines = createInterface({ input: child.stdout, crlfDelay: Infinity });
    lines.on('line', (line) => {
      if (stopped) return;
      produced = true;
      if (!onLine(line)) {
        stopped = true;
        child.kill();
      }
    });
    child.on('error', reject);
    child.on('close', (code) => {
      if (stopped || (code !== null && okCodes.includes(code)) || produced) resolve();
      else reject(new Error(`${program.split('/').pop()} failed in ${dir} (exit ${code}): ${stderr.trim().split('\n')[0] ?? ''}`));
    });
  });
}

function findOnPath(program: string): string | null {
  for (const entry of (process.env.PATH ?? '').split(delimiter)) {
    if (!entry) continue;
    const candidate = join(entry, program);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return null;
}
