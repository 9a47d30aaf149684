import { unquoteGitPath } from '../util/git-path.js';
// Unified diffs as LLMs write them: wrong or missing hunk numbers, no a/ b/ prefixes, no `diff --git`
// line, blank context lines whose leading space was trimmed, CRLF from a chat transport, markdown
// fences around it all. The body of a hunk is the truth; its stated numbers are only a hint.

export type DiffLineKind = ' ' | '-' | '+';

export interface DiffLine {
  kind: DiffLineKind;
  /** The line without its end of line. */
  text: string;
  /** The patch line ended with `\r` (real content for a CRLF file, unless the whole patch was CRLF). */
  cr: boolean;
}

export interface Hunk {
  /** 1-based position of the hunk within its file, as written in the patch. */
  index: number;
  /** The `@@ ... @@` line as written (synthesized when it was missing). */
  header: string;
  /** Numbers as stated by the header; null when absent. Never trusted, only used as a hint. */
  oldStart: number | null;
  newStart: number | null;
  statedOldCount: number | null;
  statedNewCount: number | null;
  /** Counts recomputed from the body. */
  oldCount: number;
  newCount: number;
  lines: DiffLine[];
  /** `\ No newline at end of file` after the last old-side / new-side line. */
  noNewlineOld: boolean;
  noNewlineNew: boolean;
  /** How messages name this edit (`SEARCH/REPLACE block #2`); default `hunk #<index> (<header>)`. */
  label?: string;
  /**
   * The edit carries no line numbers (SEARCH/REPLACE, apply_patch): it must match exactly one place,
   * exactly or else modulo whitespace; it is never placed by the fuzzy layer nor settled by neighbours.
   */
  unique?: boolean;
  /** apply_patch `@@ <line>` anchors: the hunk lies after these lines, found in this order. */
  anchors?: string[];
}

export interface FilePatch {
  /** Repository-relative paths with any a/ b/ prefix removed; null for /dev/null. */
  oldPath: string | null;
  newPath: string | null;
  isNew: boolean;
  isDeleted: boolean;
  isRename: boolean;
  isBinary: boolean;
  /** The paths came with git's a/ b/ prefixes (so `git apply -p1` reads them the same way). */
  gitPrefixed: boolean;
  /** Octal mode from `new file mode` / `new mode`, e.g. '100755'. */
  newMode: string | null;
  /** The new side is a symbolic link (mode 120000 in `new file mode`, `new mode` or the `index` line). */
  symlink: boolean;
  hunks: Hunk[];
  /** The file's complete new content (the `whole` edit format): replaces or creates the file. */
  wholeContent?: string;
}

export interface ParsedPatch {
  files: FilePatch[];
  /** The patch itself came with CRLF line ends (a transport artefact, not file content). */
  crlfTransport: boolean;
}

export class PatchParseError extends Error {
  readonly file: string | null;
  readonly hunk: number | null;
  readonly line: number;
  constructor(message: string, file: string | null, hunk: number | null, line: number) {
    const where = [file ? `file ${file}` : null, hunk ? `hunk #${hunk}` : null, `patch line ${line}`].filter(Boolean).join(', ');
    super(`${message} (${where})`);
    this.name = 'PatchParseError';
    this.file = file;
    this.hunk = hunk;
    this.line = line;
  }
}

/** The path a file patch is about: the new path, or the old one for a deletion. */
export function filePatchPath(file: FilePatch): string {
  return (file.newPath ?? file.oldPath) as string;
}

const HUNK_RE = /^@@+\s*(?:-(\d+)(?:,(\d+))?)?\s*(?:\+(\d+)(?:,(\d+))?)?\s*(?:@@+.*)?$/;

export function parsePatch(text: string): ParsedPatch {
  const raw = text.split('\n');
  if (raw.length > 0 && raw[raw.length - 1] === '') raw.pop();
  // A patch whose header lines end in \r came through a CRLF transport: every \r is noise then.
  // Otherwise a \r on a body line is content (a CRLF file diffed by git) and is kept as a flag.
  const headerish = raw.filter((l) => /^(---|\+\+\+|@@|diff --git)/.test(l));
  const crlfTransport = headerish.length > 0 && headerish.every((l) => l.endsWith('\r'));
  const lines = raw.map((l) => (crlfTransport && l.endsWith('\r') ? l.slice(0, -1) : l));

  const files: FilePatch[] = [];
  let current: FilePatch | null = null;
  // Set by `diff --git` until the ---/+++ pair (or the end of the extended header) settles the paths.
  let gitHeader: { oldPath: string | null; newPath: string | null } | null = null;
  let i = 0;

  const startFile = (oldPath: string | null, newPath: string | null): FilePatch => {
    const f: FilePatch = {
      oldPath,
      newPath,
      isNew: oldPath === null,
      isDeleted: newPath === null,
      isRename: false,
      isBinary: false,
      gitPrefixed: true,
      newMode: null,
      symlink: false,
      hunks: [],
    };
    files.push(f);
    return f;
  };

  const isFileHeaderAt = (k: number): boolean => k + 1 < lines.length && lines[k].startsWith('--- ') && lines[k + 1].startsWith('+++ ');

  while (i < lines.length) {
    const line = lines[i];
    if (line.startsWith('diff --git ')) {
      gitHeader = parseGitHeaderPaths(line.slice('diff --git '.length));
      current = startFile(gitHeader.oldPath, gitHeader.newPath);
      current.isNew = false;
      current.isDeleted = false;
      i++;
      continue;
    }
    if (gitHeader && current) {
      const ext = parseExtendedHeader(line, current);
      if (ext) {
        i++;
        continue;
      }
    }
    if (isFileHeaderAt(i)) {
      const oldRaw = headerPath(lines[i].slice(4));
      const newRaw = headerPath(lines[i + 1].slice(4));
      const [oldPath, newPath] = stripPrefixes(oldRaw, newRaw);
      const prefixed = oldPath !== oldRaw || newPath !== newRaw;
      if (gitHeader && current && current.hunks.length === 0) {
        // The ---/+++ pair is authoritative over the `diff --git` line for the paths.
        current.oldPath = oldPath;
        current.newPath = newPath;
        current.isNew = current.isNew || oldPath === null;
        current.isDeleted = current.isDeleted || newPath === null;
      } else {
        current = startFile(oldPath, newPath);
      }
      current.gitPrefixed = prefixed;
      gitHeader = null;
      i += 2;
      continue;
    }
    if (line.startsWith('@@')) {
      if (!current) throw new PatchParseError('hunk before any file header (--- / +++)', null, null, i + 1);
      if (current.oldPath === null && current.newPath === null) {
        throw new PatchParseError('file header names no path', null, current.hunks.length + 1, i + 1);
      }
      gitHeader = null;
      i = parseHunk(lines, i, current);
      continue;
    }
    if (line.startsWith('Binary files ') || line === 'GIT binary patch') {
      if (current) current.isBinary = true;
      i++;
      continue;
    }
    // Anything else (prose, markdown fences, `index` lines outside a git header) is not diff content.
    i++;
  }

  if (files.length === 0)
    throw new PatchParseError('no file header (--- a/path / +++ b/path) found: is this a unified diff?', null, null, 1);
  for (const f of files) {
    const name = filePatchPath(f) ?? '(unnamed)';
    if (f.oldPath === null && f.newPath === null) throw new PatchParseError('file header names no path', null, null, 1);
    if (f.hunks.length === 0 && !f.isBinary && !f.isRename && !f.isDeleted && !f.isNew && f.newMode === null) {
      throw new PatchParseError('file has a header but no hunk', name, null, 1);
    }
    for (const h of f.hunks) {
      if (h.lines.length === 0) throw new PatchParseError(`hunk ${h.header} has no body`, name, h.index, 1);
      if (h.lines.every((l) => l.kind === ' '))
        throw new PatchParseError(`hunk ${h.header} changes nothing (context lines only)`, name, h.index, 1);
    }
  }
  return { files, crlfTransport };
}

function parseHunk(lines: string[], start: number, file: FilePatch): number {
  const headerLine = lines[start];
  const m = HUNK_RE.exec(headerLine.trim());
  const num = (s: string | undefined): number | null => (s === undefined ? null : Number(s));
  const hunk: Hunk = {
    index: file.hunks.length + 1,
    header: headerLine.trim(),
    oldStart: m ? num(m[1]) : null,
    statedOldCount: m ? (m[1] !== undefined ? (m[2] !== undefined ? Number(m[2]) : 1) : null) : null,
    newStart: m ? num(m[3]) : null,
    statedNewCount: m ? (m[3] !== undefined ? (m[4] !== undefined ? Number(m[4]) : 1) : null) : null,
    oldCount: 0,
    newCount: 0,
    lines: [],
    noNewlineOld: false,
    noNewlineNew: false,
  };
  const countsStated = hunk.statedOldCount !== null && hunk.statedNewCount !== null;
  let i = start + 1;
  const bodyKind = (l: string): DiffLineKind | null => {
    const c = l[0];
    return c === ' ' || c === '-' || c === '+' ? c : null;
  };
  const countsReached = (): boolean =>
    countsStated && hunk.oldCount >= (hunk.statedOldCount as number) && hunk.newCount >= (hunk.statedNewCount as number);
  const push = (kind: DiffLineKind, body: string): void => {
    const cr = body.endsWith('\r');
    hunk.lines.push({ kind, text: cr ? body.slice(0, -1) : body, cr });
    if (kind !== '+') hunk.oldCount++;
    if (kind !== '-') hunk.newCount++;
  };

  while (i < lines.length) {
    const l = lines[i];
    if (l.startsWith('@@') || l.startsWith('diff --git ')) break;
    if (l.startsWith('--- ') && i + 1 < lines.length && lines[i + 1].startsWith('+++ ')) {
      // A removed line `-- x` followed by an added `++ y` looks like a file header; the stated
      // counts (when not yet reached) or a following `@@` decide.
      const nextIsHunk = i + 2 < lines.length && lines[i + 2].startsWith('@@');
      if (nextIsHunk || !countsStated || countsReached()) break;
    }
    if (l.startsWith('\\')) {
      const prev = hunk.lines[hunk.lines.length - 1];
      if (prev) {
        if (prev.kind !== '+') hunk.noNewlineOld = true;
        if (prev.kind !== '-') hunk.noNewlineNew = true;
        // A context line marked this way ends both sides; a '-' marker before '+' lines is old only.
      }
      i++;
      continue;
    }
    const kind = bodyKind(l);
    if (kind) {
      push(kind, l.slice(1));
      i++;
      continue;
    }
    if (l === '' || l === '\r') {
      // A blank context line whose leading space was trimmed — unless it is trailing blank lines
      // after the hunk (then the stated counts, or the next line, tell).
      if (countsStated && countsReached()) break;
      let k = i;
      while (k < lines.length && (lines[k] === '' || lines[k] === '\r')) k++;
      const next = k < lines.length ? lines[k] : null;
      const continues = next !== null && bodyKind(next) !== null && !isHeaderPair(lines, k) && !/^```/.test(next);
      if (!continues && !countsStated) break;
      if (!continues && countsStated) {
        // Take only as many blanks as the stated counts still need.
        while (i < k && !countsReached()) {
          push(' ', '');
          i++;
        }
        break;
      }
      push(' ', '');
      i++;
      continue;
    }
    // A context line that lost its leading space, inside a hunk that goes on: take it as context
    // (the applier verifies it against the file, so a wrong guess fails rather than misapplies).
    const next = i + 1 < lines.length ? lines[i + 1] : null;
    if (!/^```/.test(l) && next !== null && bodyKind(next) !== null && !isHeaderPair(lines, i + 1) && !countsReached()) {
      push(' ', l);
      i++;
      continue;
    }
    break;
  }
  file.hunks.push(hunk);
  return i;
}

function isHeaderPair(lines: string[], k: number): boolean {
  return k + 1 < lines.length && lines[k].startsWith('--- ') && lines[k + 1].startsWith('+++ ');
}

const SYMLINK_MODE = '120000';

function parseExtendedHeader(line: string, file: FilePatch): boolean {
  if (line.startsWith('new file mode ')) {
    file.isNew = true;
    file.newMode = line.slice('new file mode '.length).trim();
    file.symlink = file.newMode === SYMLINK_MODE;
    file.oldPath = null;
    return true;
  }
  if (line.startsWith('deleted file mode ')) {
    file.isDeleted = true;
    file.newPath = null;
    return true;
  }
  if (line.startsWith('new mode ')) {
    file.newMode = line.slice('new mode '.length).trim();
    file.symlink = file.newMode === SYMLINK_MODE;
    return true;
  }
  // A changed symlink says so only here: `index <old>..<new> 120000`.
  const index = /^index [0-9a-f]+\.\.[0-9a-f]+ (\d{6})\s*$/.exec(line);
  if (index) {
    if (index[1] === SYMLINK_MODE) file.symlink = true;
    return true;
  }
  if (line.startsWith('rename from ') || line.startsWith('copy from ')) {
    file.isRename = line.startsWith('rename');
    file.oldPath = unquote(line.slice(line.indexOf(' from ') + 6));
    return true;
  }
  if (line.startsWith('rename to ') || line.startsWith('copy to ')) {
    file.newPath = unquote(line.slice(line.indexOf(' to ') + 4));
    return true;
  }
  return /^(old mode |index |similarity index |dissimilarity index )/.test(line);
}

/** `a/x b/x` from a `diff --git` line; quoted names and names with spaces handled when symmetric. */
function parseGitHeaderPaths(rest: string): { oldPath: string | null; newPath: string | null } {
  const r = rest.trim();
  if (r.startsWith('"')) {
    const end = findClosingQuote(r, 0);
    const a = unquote(r.slice(0, end + 1));
    const b = unquote(r.slice(end + 1).trim());
    const [o, n] = stripPrefixes(a, b);
    return { oldPath: o, newPath: n };
  }
  // Symmetric `a/P b/P`: split in the middle so names with spaces survive.
  const half = (r.length - 1) / 2;
  if (Number.isInteger(half) && r[half] === ' ') {
    const a = r.slice(0, half);
    const b = r.slice(half + 1);
    if (a.replace(/^a\//, '') === b.replace(/^b\//, '')) {
      const [o, n] = stripPrefixes(a, b);
      return { oldPath: o, newPath: n };
    }
  }
  const sp = r.indexOf(' b/');
  const [a, b] = sp >= 0 ? [r.slice(0, sp), r.slice(sp + 1)] : (r.split(/\s+/, 2) as [string, string]);
  const [o, n] = stripPrefixes(a, b ?? a);
  return { oldPath: o, newPath: n };
}

function findClosingQuote(s: string, open: number): number {
  for (let k = open + 1; k < s.length; k++) {
    if (s[k] === '\\') k++;
    else if (s[k] === '"') return k;
  }
  return s.length - 1;
}

/** The path of a ---/+++ line: drops a trailing timestamp (after a tab) and unquotes C-style names. */
function headerPath(rest: string): string | null {
  let p = rest;
  const tab = p.indexOf('\t');
  if (tab >= 0) p = p.slice(0, tab);
  p = p.replace(/\r$/, '').trim();
  if (p.startsWith('"')) p = unquote(p) ?? p;
  // `--- a/x 2024-01-01 12:00:00` without a tab (diff -u output pasted by hand)
  p = p.replace(/\s+\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(\.\d+)?( [+-]\d{4})?$/, '');
  if (p === '/dev/null' || p === 'dev/null') return null;
  return p;
}

function unquote(s: string): string | null {
  const t = s.trim();
  return t === '/dev/null' ? null : unquoteGitPath(t);
}

/**
 * git's a/ and b/ prefixes are dropped when the pair agrees on them (`a/x` with `b/x`, or one side
 * /dev/null). A lone `a/` on both sides is a real directory named `a`, so it stays.
 */
function stripPrefixes(oldPath: string | null, newPath: string | null): [string | null, string | null] {
  const hasA = oldPath === null || oldPath.startsWith('a/');
  const hasB = newPath === null || newPath.startsWith('b/');
  if (hasA && hasB && !(oldPath === null && newPath === null)) {
    return [oldPath === null ? null : oldPath.slice(2), newPath === null ? null : newPath.slice(2)];
  }
  return [oldPath, newPath];
}
