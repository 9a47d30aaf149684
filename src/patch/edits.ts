// Every edit format a model may write, read into the applier's one representation (file patches),
// so all of them get the same path checks, symlink rules, layers and all-or-nothing writes:
// - udiff: unified diffs (parse.ts);
// - search-replace: a path line, then `<<<<<<< SEARCH` / `=======` / `>>>>>>> REPLACE` blocks
//   (an empty SEARCH creates the file); each block is applied after the ones before it;
// - apply-patch: OpenAI's `*** Begin Patch` … `*** End Patch` envelope (Add / Update / Delete File,
//   `*** Move to:`, `@@ anchor` lines, ` `/`-`/`+` lines, no line numbers);
// - whole: a path line, then the file's complete new content in a fenced block.
// The format is told by the text's own markers (at the start of a line: indented, they are a diff's
// context), so a reply in another format than the one asked for, or in several, is read all the same.
import { type DiffLine, type FilePatch, type Hunk, type ParsedPatch, PatchParseError, parsePatch } from './parse.js';

export type EditFormatName = 'udiff' | 'search-replace' | 'apply-patch' | 'whole';

export interface ParsedEdits extends ParsedPatch {
  /** The formats the text used, in order of first appearance. */
  formats: EditFormatName[];
}

const SEARCH_RE = /^<{5,9} ?SEARCH\s*$/;
const DIVIDER_RE = /^={5,9}\s*$/;
const REPLACE_RE = /^>{5,9} ?REPLACE\s*$/;
const BEGIN_RE = /^\*\*\* Begin Patch\s*$/;
const END_RE = /^\*\*\* End Patch\s*$/;
const FENCE_RE = /^(`{3,}|~{3,})\s*([\w.+#-]*)\s*$/;

/** Which formats a text uses (udiff when it cannot be read at all: the applier reports why). */
export function detectEditFormats(text: string): EditFormatName[] {
  if (isPlainDiff(text)) return ['udiff'];
  try {
    return parseEdits(text).formats;
  } catch {
    return [/^\*\*\* Begin Patch\s*$/m.test(text) ? 'apply-patch' : /^<{5,9} ?SEARCH\s*$/m.test(text) ? 'search-replace' : 'whole'];
  }
}

/** Parse edits in any format (or a mixture); throws PatchParseError naming what is wrong. */
export function parseEdits(text: string): ParsedEdits {
  // A plain unified diff is read exactly as before (its \r are information, git apply may take it).
  if (isPlainDiff(text)) return { ...parsePatch(text), formats: ['udiff'] };
  const lines = text.replace(/\r\n/g, '\n').split('\n');
  const scan = new Scanner();
  scan.run(lines, null);
  if (scan.files.length === 0) throw new PatchParseError('no edit found', null, null, 1);
  return { files: scan.files, crlfTransport: false, formats: scan.formats };
}

/** The text has no marker of another format than the unified diff. */
export function isPlainDiff(text: string): boolean {
  const lines = text.replace(/\r\n/g, '\n').split('\n');
  return !lines.some((l) => SEARCH_RE.test(l) || BEGIN_RE.test(l)) && !hasWholeBlock(lines);
}

/** A fenced block after a path line that is not a diff: a whole file. */
function hasWholeBlock(lines: string[]): boolean {
  for (let i = 1; i < lines.length; i++) {
    const m = FENCE_RE.exec(lines[i]);
    if (!m || (pathOf(lines[i - 1]) ?? bareName(lines[i - 1], lines[i])) === null) continue;
    const close = closingFence(lines, i, m[1]);
    if (!isDiff(m[2], lines.slice(i + 1, close))) return true;
  }
  return false;
}

function closingFence(lines: string[], open: number, fence: string): number {
  for (let k = open + 1; k < lines.length; k++) {
    const t = lines[k].trim();
    if (t.startsWith(fence) && t.slice(fence.length).replace(/[`~]/g, '') === '') return k;
  }
  return lines.length;
}

function isDiff(lang: string, inner: string[]): boolean {
  if (/^(diff|patch|udiff)$/i.test(lang)) return true;
  return inner.some((l, k) => (l.startsWith('--- ') && inner[k + 1]?.startsWith('+++ ')) || l.startsWith('diff --git '));
}

/**
 * A line that names a file: `src/a.ts`, `**src/a.ts**`, `` `src/a.ts` ``, `### src/a.ts`,
 * `File: src/a.ts`, `src/a.ts:`. It must look like a path (a dot or a slash, no spaces).
 */
function pathOf(line: string): string | null {
  // Markers, fences and path lines start at the line's start: an indented one is a diff's context line.
  if (/^\s/.test(line)) return null;
  let t = line.trim();
  if (!t || t.length > 300) return null;
  t = t.replace(/^#{1,6}\s+/, '').replace(/^(?:file|path)\s*:\s*/i, '');
  t = t
    .replace(/^\*\*(.*)\*\*$/, '$1')
    .replace(/^`(.*)`$/, '$1')
    .replace(/:$/, '')
    .trim();
  t = t.replace(/^\*\*(.*)\*\*$/, '$1').replace(/^`(.*)`$/, '$1');
  if (!t || /\s/.test(t) || !/[./]/.test(t) || /^[-+@<>=*`~]/.test(t)) return null;
  return t;
}

// Files named without a dot or a slash that a fenced whole file may name.
const BARE_FILE_NAMES =
  /^(Makefile|GNUmakefile|Dockerfile|Containerfile|Jenkinsfile|Vagrantfile|Gemfile|Rakefile|Procfile|LICENSE|NOTICE|AUTHORS|COPYING|CODEOWNERS|README)$/;

/**
 * A file name without a dot or a slash (`LICENSE`, `Makefile`): a path only right before a SEARCH
 * marker (which needs one), or, for the usual such names, before a fence.
 */
function bareName(line: string, next: string | undefined): string | null {
  if (/^\s/.test(line) || next === undefined) return null;
  const t = line
    .trim()
    .replace(/^\*\*(.*)\*\*$/, '$1')
    .replace(/^`(.*)`$/, '$1')
    .replace(/:$/, '');
  if (!/^[A-Za-z0-9_][\w-]*$/.test(t)) return null;
  if (SEARCH_RE.test(next)) return t;
  return FENCE_RE.test(next) && BARE_FILE_NAMES.test(t) ? t : null;
}

class Scanner {
  readonly files: FilePatch[] = [];
  readonly formats: EditFormatName[] = [];
  private blocks = 0;

  private used(format: EditFormatName): void {
    if (!this.formats.includes(format)) this.formats.push(format);
  }

  run(lines: string[], inheritedPath: string | null): void {
    let path = inheritedPath;
    let i = 0;
    while (i < lines.length) {
      const line = lines[i];
      if (BEGIN_RE.test(line)) {
        i = this.applyPatch(lines, i);
        continue;
      }
      if (SEARCH_RE.test(line)) {
        i = this.searchReplace(lines, i, path);
        continue;
      }
      const fence = FENCE_RE.exec(line);
      if (fence) {
        const close = closingFence(lines, i, fence[1]);
        const inner = lines.slice(i + 1, close);
        if (inner.some((l) => SEARCH_RE.test(l) || BEGIN_RE.test(l))) this.run(inner, path);
        else if (isDiff(fence[2], inner)) this.udiff(inner.join('\n'));
        else if (path !== null) {
          this.whole(path, inner);
          path = null;
        }
        // A fenced block with no path before it is prose (an example, a command): not an edit.
        i = close + 1;
        continue;
      }
      if (line.startsWith('diff --git ') || (line.startsWith('--- ') && lines[i + 1]?.startsWith('+++ '))) {
        let end = i + 1;
        while (end < lines.length && !FENCE_RE.test(lines[end]) && !SEARCH_RE.test(lines[end]) && !BEGIN_RE.test(lines[end])) end++;
        this.udiff(lines.slice(i, end).join('\n'));
        i = end;
        continue;
      }
      const named = pathOf(line) ?? bareName(line, lines[i + 1]);
      if (named !== null) path = named;
      i++;
    }
  }

  private udiff(text: string): void {
    this.files.push(...parsePatch(text).files);
    this.used('udiff');
  }

  private whole(path: string, inner: string[]): void {
    this.files.push({ ...filePatch(path, path), wholeContent: inner.length ? `${inner.join('\n')}\n` : '' });
    this.used('whole');
  }

  /** Blocks from a SEARCH marker on; returns the index after the last REPLACE marker. */
  private searchReplace(lines: string[], start: number, path: string | null): number {
    const number = ++this.blocks;
    const label = `SEARCH/REPLACE block #${number}`;
    if (path === null) throw new PatchParseError(`${label} has no file path on the line before it`, null, number, start + 1);
    let k = start + 1;
    const search: string[] = [];
    while (k < lines.length && !DIVIDER_RE.test(lines[k])) {
      if (SEARCH_RE.test(lines[k]) || REPLACE_RE.test(lines[k]))
        throw new PatchParseError(`${label} for ${path}: "=======" missing after the SEARCH text`, path, number, k + 1);
      search.push(lines[k++]);
    }
    if (k >= lines.length) throw new PatchParseError(`${label} for ${path}: "=======" missing`, path, number, start + 1);
    k++;
    const replace: string[] = [];
    while (k < lines.length && !REPLACE_RE.test(lines[k])) {
      if (SEARCH_RE.test(lines[k]) || DIVIDER_RE.test(lines[k]))
        throw new PatchParseError(`${label} for ${path}: ">>>>>>> REPLACE" missing after the REPLACE text`, path, number, k + 1);
      replace.push(lines[k++]);
    }
    if (k >= lines.length) throw new PatchParseError(`${label} for ${path}: ">>>>>>> REPLACE" missing`, path, number, start + 1);
    this.used('search-replace');
    if (search.every((l) => l.trim() === '')) {
      // An empty SEARCH creates the file.
      const fp = filePatch(null, path);
      if (replace.length)
        fp.hunks.push(
          hunk(
            number,
            label,
            replace.map((t) => line('+', t)),
          ),
        );
      this.files.push(fp);
      return k + 1;
    }
    // Lines both sides share at the ends are context: the file keeps its own text there.
    let lead = 0;
    while (lead < search.length && lead < replace.length && search[lead] === replace[lead]) lead++;
    let trail = 0;
    while (
      trail < search.length - lead &&
      trail < replace.length - lead &&
      search[search.length - 1 - trail] === replace[replace.length - 1 - trail]
    )
      trail++;
    const body = [
      ...search.slice(0, lead).map((t) => line(' ', t)),
      ...search.slice(lead, search.length - trail).map((t) => line('-', t)),
      ...replace.slice(lead, replace.length - trail).map((t) => line('+', t)),
      ...search.slice(search.length - trail).map((t) => line(' ', t)),
    ];
    const fp = filePatch(path, path);
    fp.hunks.push({ ...hunk(number, label, body), unique: true });
    this.files.push(fp);
    return k + 1;
  }

  /** One `*** Begin Patch` envelope; returns the index after `*** End Patch`. */
  private applyPatch(lines: string[], start: number): number {
    this.used('apply-patch');
    let k = start + 1;
    let current: FilePatch | null = null;
    let chunk: { anchors: string[]; lines: DiffLine[] } | null = null;
    const flush = (): void => {
      if (!current || !chunk) return;
      const body = chunk.lines;
      if (current.isNew) {
        if (body.length) current.hunks.push(hunk(1, `"*** Add File: ${current.newPath}"`, body));
      } else {
        // Blank lines the model left at a chunk's end are not context it meant.
        while (body.length > 1 && body[body.length - 1].kind === ' ' && body[body.length - 1].text === '') body.pop();
        if (body.length > 0 || chunk.anchors.length > 0) {
          const n = current.hunks.length + 1;
          const where = chunk.anchors.length ? ` (@@ ${chunk.anchors.join(' / ')})` : '';
          current.hunks.push({
            ...hunk(n, `chunk #${n}${where} of "*** Update File: ${current.oldPath}"`, body),
            unique: true,
            anchors: chunk.anchors,
          });
        }
      }
      chunk = null;
    };
    for (; k < lines.length; k++) {
      const l = lines[k];
      if (END_RE.test(l)) break;
      const op = /^\*\*\* (Add|Update|Delete) File:\s*(.+?)\s*$/.exec(l);
      if (op) {
        flush();
        const p = op[2];
        current = op[1] === 'Add' ? filePatch(null, p) : op[1] === 'Delete' ? { ...filePatch(p, null), isDeleted: true } : filePatch(p, p);
        this.files.push(current);
        if (op[1] === 'Add') chunk = { anchors: [], lines: [] };
        continue;
      }
      if (!current) {
        if (l.trim() === '') continue;
        throw new PatchParseError(`apply_patch: "${l.trim()}" before any "*** Add/Update/Delete File:" line`, null, null, k + 1);
      }
      const move = /^\*\*\* Move to:\s*(.+?)\s*$/.exec(l);
      if (move) {
        current.newPath = move[1];
        current.isRename = current.oldPath !== move[1];
        continue;
      }
      if (/^\*\*\* End of File\s*$/.test(l)) continue;
      if (current.isNew) {
        if (!l.startsWith('+') && l !== '')
          throw new PatchParseError(
            `apply_patch: every line of "*** Add File: ${current.newPath}" must start with "+"`,
            current.newPath,
            null,
            k + 1,
          );
        if (l.startsWith('+')) chunk!.lines.push(line('+', l.slice(1)));
        continue;
      }
      if (current.isDeleted) {
        if (l.trim() !== '')
          throw new PatchParseError(`apply_patch: "*** Delete File: ${current.oldPath}" takes no lines`, current.oldPath, null, k + 1);
        continue;
      }
      if (l.startsWith('@@')) {
        // Consecutive `@@` lines narrow the place step by step; after body lines one starts a new chunk.
        if (chunk && chunk.lines.length > 0) flush();
        chunk ??= { anchors: [], lines: [] };
        const anchor = l.slice(2).trim();
        if (anchor) chunk.anchors.push(anchor);
        continue;
      }
      chunk ??= { anchors: [], lines: [] };
      const kind = l[0];
      if (kind === ' ' || kind === '-' || kind === '+') chunk.lines.push(line(kind, l.slice(1)));
      else if (l === '') chunk.lines.push(line(' ', ''));
      else
        throw new PatchParseError(
          `apply_patch: "${l}" in "*** Update File: ${current.oldPath}" is not a " ", "-", "+" or "@@" line`,
          current.oldPath,
          current.hunks.length + 1,
          k + 1,
        );
    }
    if (k >= lines.length) throw new PatchParseError('apply_patch: "*** End Patch" missing', null, null, start + 1);
    flush();
    return k + 1;
  }
}

function filePatch(oldPath: string | null, newPath: string | null): FilePatch {
  return {
    oldPath,
    newPath,
    isNew: oldPath === null,
    isDeleted: newPath === null,
    isRename: false,
    isBinary: false,
    gitPrefixed: false,
    newMode: null,
    symlink: false,
    hunks: [],
  };
}

function line(kind: DiffLine['kind'], text: string): DiffLine {
  return { kind, text, cr: false };
}

function hunk(index: number, label: string, lines: DiffLine[]): Hunk {
  return {
    index,
    header: '@@',
    label,
    oldStart: null,
    newStart: null,
    statedOldCount: null,
    statedNewCount: null,
    oldCount: lines.filter((l) => l.kind !== '+').length,
    newCount: lines.filter((l) => l.kind !== '-').length,
    lines,
    noNewlineOld: false,
    noNewlineNew: false,
  };
}
