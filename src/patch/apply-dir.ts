// Applying a patch to a working tree: `git apply` first when the caller provides it (strict and
// well-known), the text layers when it refuses. Writes are all-or-nothing: every new content is
// computed and every path checked before the first byte is written, and a failing write rolls back.
import { chmod, lstat, mkdir, readFile, readdir, readlink, realpath, rmdir, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { type FileChange, type HunkStrategy, type PatchFailure, applyPatchToFiles } from './apply.js';
import { type EditFormatName, parseEdits } from './edits.js';
import { type FilePatch, type ParsedPatch, PatchParseError, filePatchPath } from './parse.js';
import { checkRepoPath, checkRepoPathReal } from './paths.js';

export type PatchStrategy = 'git-apply' | HunkStrategy;

export interface PatchHunkResult {
  file: string;
  status: 'applied' | 'failed';
  strategy: PatchStrategy | null;
  /** Lines between the stated and the actual place; null when unknown (git apply) or failed. */
  offset: number | null;
}

/** Also the JSON of `autodev patch apply --json`. */
export interface PatchApplyResult {
  /** The patch applied (or, with `check`, would apply). */
  applied: boolean;
  /** Paths the patch touches (created, changed, deleted, renamed to and from). */
  files: string[];
  /** The layer that applied it: git apply, or the loosest text layer any hunk needed. */
  strategy: PatchStrategy | null;
  hunks: PatchHunkResult[];
  /** What failed and where, with the real file's lines around the closest match; null on success. */
  error: string | null;
}

export type GitApplyFn = (dir: string, patch: string, check: boolean) => Promise<{ ok: boolean; error: string }>;

export interface ApplyDirOptions {
  /** Compute and report only: nothing is written. */
  check?: boolean;
  /** Layer 1, e.g. `(d, p, c) => git.apply(d, p, { check: c })` through the git port. */
  gitApply?: GitApplyFn;
  /**
   * Let the patch create or change symbolic links whose target stays inside the repository
   * (`policy.allow_symlinks`). Off by default: every new or changed symlink is refused.
   */
  allowSymlinks?: boolean;
}

export async function applyPatchToDir(dir: string, patchText: string, options: ApplyDirOptions = {}): Promise<PatchApplyResult> {
  const check = options.check === true;
  let parsed: ParsedPatch;
  try {
    // Any edit format (SEARCH/REPLACE, apply_patch, whole files, unified diffs, or a mix) becomes
    // file patches here, so every one goes through the same checks and layers below.
    parsed = parseEdits(patchText);
  } catch (err) {
    if (!(err instanceof PatchParseError)) throw err;
    return { applied: false, files: [], strategy: null, hunks: [], error: `cannot parse the patch: ${err.message}` };
  }
  const touched = unique(parsed.files.flatMap((f) => [f.oldPath, f.newPath].filter((p): p is string => p !== null)));

  // Path safety comes before any layer, git apply included.
  for (const p of touched) {
    const verdict = await checkRepoPathReal(dir, p);
    if (!verdict.ok) {
      return { applied: false, files: touched, strategy: null, hunks: [], error: `refused path ${JSON.stringify(p)}: ${verdict.reason}` };
    }
  }

  // Symlinks next: one can point a later build, scan or commit at a file outside the repository, or
  // carry a write out of it.
  const links = await symlinkChanges(dir, parsed);
  const linkRefusal = await checkSymlinks(dir, links, touched, options.allowSymlinks === true);
  if (linkRefusal) return { applied: false, files: touched, strategy: null, hunks: [], error: linkRefusal };

  let gitError: string | null = null;
  // git apply strips one path component (-p1), takes \r as content and trusts hunk counts: on a
  // patch without a/ b/ prefixes, with CRLF line ends or with counts that disagree with the body it
  // can succeed and still be wrong (a new file in the wrong place, a hunk cut short), so such
  // patches go straight to the text layers.
  const gitReadsItRight =
    !parsed.crlfTransport &&
    parsed.files.every(
      (f) =>
        f.gitPrefixed && f.hunks.every((h) => h.oldStart !== null && h.statedOldCount === h.oldCount && h.statedNewCount === h.newCount),
    );
  if (options.gitApply && gitReadsItRight) {
    const r = await options.gitApply(dir, patchText, check);
    if (r.ok) {
      const hunks = parsed.files.flatMap((f) =>
        f.hunks.map((): PatchHunkResult => ({ file: filePatchPath(f), status: 'applied', strategy: 'git-apply', offset: null })),
      );
      return { applied: true, files: touched, strategy: 'git-apply', hunks, error: null };
    }
    gitError = r.error.trim() || 'git apply failed';
  }

  if (links.size > 0) {
    // The text layers write regular files only: a symlink written as one would be a file holding a path.
    const first = [...links.keys()][0];
    const why = gitError ? `git apply refused the patch: ${firstLine(gitError)}` : 'git apply could not be used for this patch';
    return {
      applied: false,
      files: touched,
      strategy: null,
      hunks: [],
      error: `refused symlink ${JSON.stringify(first)}: only git apply creates symbolic links, and ${why}`,
    };
  }

  const contents = new Map<string, string | null>();
  const reads: Promise<void>[] = touched.map(async (p) => {
    contents.set(p, await readIfFile(path.join(dir, p)));
  });
  await Promise.all(reads);
  const result = applyPatchToFiles(parsed, (p) => (contents.has(p) ? (contents.get(p) as string | null) : null));
  const hunks = result.hunks.map((h): PatchHunkResult => ({ file: h.file, status: h.status, strategy: h.strategy, offset: h.offset }));
  if (!result.ok) {
    const error = describeFailure(result.failure!) + (gitError ? `\n(git apply also refused it: ${firstLine(gitError)})` : '');
    return { applied: false, files: touched, strategy: null, hunks, error };
  }
  if (!check) {
    // Changes may introduce paths the parse did not name (none today), so check again what is written.
    for (const c of result.changes) {
      const verdict = await checkRepoPathReal(dir, c.path);
      if (!verdict.ok)
        return {
          applied: false,
          files: touched,
          strategy: null,
          hunks,
          error: `refused path ${JSON.stringify(c.path)}: ${verdict.reason}`,
        };
    }
    try {
      await writeAll(dir, result.changes, contents);
    } catch (err) {
      // A path the file system cannot hold (a file under a file, a directory where a file goes) is the
      // patch's fault, not ours: everything was rolled back, so it is a patch that did not apply.
      const code = (err as NodeJS.ErrnoException).code;
      if (!code || !WRITE_REFUSALS.has(code)) throw err;
      return {
        applied: false,
        files: touched,
        strategy: null,
        hunks,
        error: `cannot write the patch's files: ${code} (${(err as Error).message.replace(`${dir}/`, '')})`,
      };
    }
  }
  return { applied: true, files: touched, strategy: result.strategy, hunks, error: null };
}

const WRITE_REFUSALS = new Set(['ENOTDIR', 'EISDIR', 'EEXIST', 'ENAMETOOLONG', 'ELOOP']);

/**
 * Every path the patch makes (or keeps) a symbolic link, with the link's new target: new links
 * (mode 120000), links whose target changes, renamed links, and any edit of a path that already is
 * a link (editing it as text would write through it). Deleting a link is not a change to one.
 */
async function symlinkChanges(dir: string, parsed: ParsedPatch): Promise<Map<string, string | null>> {
  const links = new Map<string, string | null>();
  for (const fp of parsed.files) {
    if (fp.isDeleted || fp.newPath === null) continue;
    const existing = fp.oldPath !== null ? await readlink(path.join(dir, fp.oldPath)).catch(() => null) : null;
    // A new file (or a rename) onto a path that is a link would be written through it too.
    const atNewPath = fp.newPath === fp.oldPath ? existing : await readlink(path.join(dir, fp.newPath)).catch(() => null);
    if (!fp.symlink && existing === null && atNewPath === null) continue;
    links.set(normalized(fp.newPath), linkTarget(fp, existing));
  }
  return links;
}

/** The path as the file system will see it (`./a//b` is `a/b`); paths were checked before this. */
function normalized(p: string): string {
  const verdict = checkRepoPath(p);
  return verdict.ok ? verdict.path : p;
}

/** A link's new target: its blob is one line, the new side of the hunk; null when the patch holds no such line. */
function linkTarget(fp: FilePatch, existing: string | null): string | null {
  if (fp.hunks.length === 0) return existing;
  const newSide = fp.hunks.flatMap((h) => h.lines.filter((l) => l.kind !== '-'));
  return newSide.length === 1 ? newSide[0].text : null;
}

async function checkSymlinks(dir: string, links: Map<string, string | null>, touched: string[], allow: boolean): Promise<string | null> {
  const refuse = (p: string, why: string): string => `refused symlink ${JSON.stringify(p)}: ${why}`;
  // Never through a link of the same patch: `out -> /elsewhere` then `out/x` would write outside.
  for (const p of touched) {
    const parts = normalized(p).split('/');
    for (let k = 1; k < parts.length; k++) {
      const parent = parts.slice(0, k).join('/');
      if (links.has(parent)) return refuse(parent, `the patch writes ${JSON.stringify(p)} through a symbolic link it creates`);
    }
  }
  for (const [link, target] of links) {
    const shown = target === null ? '' : ` (-> ${JSON.stringify(target)})`;
    if (!allow) {
      return refuse(
        link,
        `the patch creates or changes a symbolic link${shown}; symbolic links are not allowed (policy.allow_symlinks = false). Change regular files only.`,
      );
    }
    if (target === null) return refuse(link, 'a symbolic link target must be exactly one line');
    const why = await targetEscapes(dir, link, target, links);
    if (why) return refuse(link, `its target ${JSON.stringify(target)} ${why}`);
  }
  return null;
}

/**
 * Why a link at `link` pointing to `target` would leave the repository (null when it stays inside).
 * Resolved the way the kernel will: component by component from the link's directory, following
 * links that already exist (so `x/..` goes where `x` really points), never a link of this patch.
 */
async function targetEscapes(dir: string, link: string, target: string, links: Map<string, string | null>): Promise<string | null> {
  if (target === '' || target.includes('\0')) return 'is empty or holds a NUL byte';
  if (target.startsWith('/') || /^[A-Za-z]:/.test(target)) return 'is an absolute path';
  const root = await realpath(dir);
  let current: string[] = path.posix.dirname(link) === '.' ? [] : path.posix.dirname(link).split('/');
  for (const part of target.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (current.length === 0) return 'leaves the repository';
      current.pop();
      continue;
    }
    const next = [...current, part];
    const rel = next.join('/');
    if (links.has(rel)) return `goes through ${JSON.stringify(rel)}, another symbolic link of the same patch`;
    const abs = path.join(root, rel);
    const st = await lstat(abs).catch(() => null);
    if (st?.isSymbolicLink()) {
      const real = await realpath(abs).catch(() => null);
      if (real === null) return `goes through ${JSON.stringify(rel)}, a dangling symbolic link`;
      const inside = path.relative(root, real);
      if (inside === '..' || inside.startsWith(`..${path.sep}`) || path.isAbsolute(inside))
        return `goes through ${JSON.stringify(rel)}, which leaves the repository`;
      current = inside === '' ? [] : inside.split(path.sep);
    } else {
      current = next;
    }
  }
  if (current.some((part) => /^\.git[. ]*$/i.test(part))) return 'points into .git';
  if (current.length > 0 && !checkRepoPath(current.join('/')).ok) return 'is not a path inside the repository';
  return null;
}

/**
 * The message the repair loop sends back to the model: what failed, where, and what the file really
 * has there, so the next patch can be written against the real text.
 */
export function formatPatchError(result: PatchApplyResult, format: EditFormatName = 'udiff'): string {
  if (result.applied) return 'The patch applied.';
  const applied = result.hunks.filter((h) => h.status === 'applied').length;
  const failed = result.hunks.filter((h) => h.status === 'failed');
  const lines = ['Your patch was NOT applied (no file was changed).', result.error ?? 'unknown error'];
  if (result.hunks.length > 0) {
    lines.push(
      `${applied} of ${result.hunks.length} edits matched; failed in: ${
        failed
          .map((h) => h.file)
          .filter((f, k, a) => a.indexOf(f) === k)
          .join(', ') || 'none'
      }.`,
    );
  }
  lines.push(RETRY_HINT[format]);
  return lines.join('\n');
}

/** How to write the next attempt, in the words of the format the model writes. */
const RETRY_HINT: Record<EditFormatName, string> = {
  udiff:
    'Write a new unified diff against the file content shown above: copy context and removed lines exactly as the file has them, with 3 unchanged lines of context around each change.',
  'search-replace':
    'Write new SEARCH/REPLACE blocks: copy each SEARCH text exactly as the file has it (the numbered lines above, without the numbers), with enough lines that it matches exactly one place.',
  'apply-patch':
    'Write a new apply_patch envelope: copy the " " and "-" lines exactly as the file has them (the numbered lines above, without the numbers), with an "@@" anchor or enough context that each chunk matches one place.',
  whole: 'Write the complete new content of each file again, starting from the file as it is now.',
};

function describeFailure(f: PatchFailure): string {
  const out = [f.message];
  if (f.excerpt.length > 0) {
    out.push(f.kind === 'ambiguous' ? 'The file has it in these places:' : `The file actually has there (${f.file}):`);
    out.push(...f.excerpt.map((l) => `    ${l}`));
  }
  if (f.expected.length > 0 && f.kind !== 'ambiguous') {
    out.push('The patch expected (context and removed lines):');
    out.push(...f.expected.slice(0, 12).map((l) => `    ${l}`));
    if (f.expected.length > 12) out.push(`    … (${f.expected.length - 12} more)`);
  }
  return out.join('\n');
}

async function readIfFile(p: string): Promise<string | null> {
  try {
    const st = await lstat(p);
    if (!st.isFile() && !st.isSymbolicLink()) return null;
    return await readFile(p, 'utf8');
  } catch {
    return null;
  }
}

interface Undo {
  path: string;
  previous: string | null;
}

async function writeAll(dir: string, changes: FileChange[], originals: Map<string, string | null>): Promise<void> {
  const undo: Undo[] = [];
  const createdDirs: string[] = [];
  try {
    for (const c of changes) {
      const abs = path.join(dir, c.path);
      undo.push({ path: abs, previous: originals.has(c.path) ? (originals.get(c.path) as string | null) : await readIfFile(abs) });
      if (c.content === null) {
        await unlink(abs).catch((err: NodeJS.ErrnoException) => {
          if (err.code !== 'ENOENT') throw err;
        });
        continue;
      }
      createdDirs.push(...(await mkdirs(dir, path.dirname(c.path))));
      await writeFile(abs, c.content, 'utf8');
      if (c.mode === '100755') await chmod(abs, 0o755);
      else if (c.mode === '100644' && !c.created) await chmod(abs, 0o644);
    }
  } catch (err) {
    for (const u of undo.reverse()) {
      if (u.previous === null) await unlink(u.path).catch(() => undefined);
      else await writeFile(u.path, u.previous, 'utf8').catch(() => undefined);
    }
    for (const d of createdDirs.reverse()) await rmdir(d).catch(() => undefined);
    throw err;
  }
  // Like git: a deletion that empties a directory removes it.
  for (const c of changes) if (c.content === null) await pruneEmptyDirs(dir, path.dirname(c.path));
}

async function mkdirs(root: string, rel: string): Promise<string[]> {
  const created: string[] = [];
  if (rel === '.' || rel === '') return created;
  let current = root;
  for (const part of rel.split('/')) {
    current = path.join(current, part);
    try {
      await mkdir(current);
      created.push(current);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
  return created;
}

async function pruneEmptyDirs(root: string, rel: string): Promise<void> {
  let current = rel;
  while (current !== '.' && current !== '') {
    const abs = path.join(root, current);
    try {
      if ((await readdir(abs)).length > 0) return;
      await rmdir(abs);
    } catch {
      return;
    }
    current = path.dirname(current);
  }
}

function unique(list: string[]): string[] {
  return [...new Set(list)];
}

function firstLine(s: string): string {
  return s.split('\n')[0];
}
