// A patch may only touch files inside the repository and never git's own metadata. The lexical check
// is pure; the real check also follows symlinks that already exist under the repository root.
import { lstat, realpath } from 'node:fs/promises';
import path from 'node:path';

export type PathVerdict = { ok: true; path: string } | { ok: false; path: string; reason: string };

/** Lexical safety of a repository-relative path: returns the normalized path or why it is refused. */
export function checkRepoPath(p: string): PathVerdict {
  const refuse = (reason: string): PathVerdict => ({ ok: false, path: p, reason });
  if (p.length === 0) return refuse('empty path');
  if (p.includes('\0')) return refuse('path contains a NUL byte');
  // Backslashes count as separators for the checks: a Windows-style `..\x` must not slip through.
  const unified = p.replace(/\\/g, '/');
  if (unified.startsWith('/') || /^[A-Za-z]:/.test(unified) || unified.startsWith('~')) {
    return refuse('absolute path (must be relative to the repository root)');
  }
  const parts = unified.split('/');
  let depth = 0;
  for (const part of parts) {
    if (part === '..') {
      depth--;
      if (depth < 0) return refuse('path escapes the repository through ..');
    } else if (part !== '' && part !== '.') depth++;
    // `.git`, also with case or trailing dots/spaces that some filesystems fold away.
    if (/^\.git[. ]*$/i.test(part)) return refuse('path is inside a .git directory');
  }
  const normalized = path.posix.normalize(unified);
  if (normalized === '.' || normalized.endsWith('/') || depth === 0) return refuse('path names the repository root or a directory');
  return { ok: true, path: normalized };
}

/**
 * The lexical check plus the file system: no existing component of the path (directories, or the
 * file itself) may be a symlink that resolves outside the repository root.
 */
export async function checkRepoPathReal(root: string, p: string): Promise<PathVerdict> {
  const lexical = checkRepoPath(p);
  if (!lexical.ok) return lexical;
  const realRoot = await realpath(root);
  const parts = lexical.path.split('/');
  let current = realRoot;
  for (let k = 0; k < parts.length; k++) {
    const next = path.join(current, parts[k]);
    let st;
    try {
      st = await lstat(next);
    } catch {
      return lexical; // the rest does not exist yet: nothing to follow
    }
    if (st.isSymbolicLink()) {
      let target: string;
      try {
        target = await realpath(next);
      } catch {
        return { ok: false, path: p, reason: `${parts.slice(0, k + 1).join('/')} is a dangling symlink` };
      }
      if (!isInside(realRoot, target)) {
        return { ok: false, path: p, reason: `${parts.slice(0, k + 1).join('/')} is a symlink that leaves the repository` };
      }
      if (/(^|\/)\.git(\/|$)/i.test(path.relative(realRoot, target).split(path.sep).join('/'))) {
        return { ok: false, path: p, reason: `${parts.slice(0, k + 1).join('/')} is a symlink into .git` };
      }
      current = target;
    } else {
      current = next;
    }
  }
  return lexical;
}

function isInside(root: string, target: string): boolean {
  const rel = path.relative(root, target);
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel));
}
