// Symbolic links in patches, as git writes them (`new file mode 120000`, the target as the blob): a
// link may point a later build, scan or commit at a file outside the repository, or carry a write
// out of it. Refused by default; with allowSymlinks only targets that stay inside are applied.
import { afterEach, describe, expect, it } from '@jest/globals';
import { existsSync, lstatSync, mkdtempSync, readlinkSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { applyPatchToDir } from '../../src/patch/apply-dir.js';
import { parsePatch } from '../../src/patch/parse.js';
import { cleanup, git, makeRepo, realGitApply, snapshot, writeTree } from './helpers.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) cleanup(d);
});

function repo(files: Record<string, string>): string {
  const dir = makeRepo(files);
  dirs.push(dir);
  return dir;
}

/** The diff git makes for adding symlinks (and files) on top of HEAD; the tree is restored afterwards. */
function linkDiff(dir: string, links: Record<string, string>, files: Record<string, string> = {}): string {
  writeTree(dir, files);
  for (const [p, target] of Object.entries(links)) symlinkSync(target, path.join(dir, p));
  git(dir, ['add', '-A']);
  const diff = git(dir, ['diff', '--cached', '--no-renames']);
  git(dir, ['reset', '-q', '--hard', 'HEAD']);
  git(dir, ['clean', '-q', '-f', '-d']);
  return diff;
}

const FIX = { 'src/lib.rs': 'pub fn add(a: i32, b: i32) -> i32 {\n    a + b\n}\n' };
const BASE = { 'src/lib.rs': 'pub fn add(a: i32, b: i32) -> i32 {\n    a - b\n}\n', 'docs/guide.md': '# Guide\n' };

describe('symbolic links in patches', () => {
  it("parses git's symlink diffs: new file mode 120000 and a changed target (index … 120000)", () => {
    const dir = repo(BASE);
    const added = linkDiff(dir, { shadow: '/etc/shadow' });
    expect(added).toContain('new file mode 120000');
    expect(parsePatch(added).files.map((f) => [f.newPath, f.symlink])).toEqual([['shadow', true]]);

    symlinkSync('docs/guide.md', path.join(dir, 'guide'));
    git(dir, ['add', '-A']);
    git(dir, ['commit', '-q', '-m', 'link']);
    git(dir, ['rm', '-q', 'guide']);
    symlinkSync('/etc/passwd', path.join(dir, 'guide'));
    git(dir, ['add', '-A']);
    const changed = git(dir, ['diff', '--cached']);
    git(dir, ['reset', '-q', '--hard', 'HEAD']);
    expect(changed).toMatch(/^index [0-9a-f]+\.\.[0-9a-f]+ 120000$/m);
    expect(parsePatch(changed).files.map((f) => [f.newPath, f.symlink, f.isNew])).toEqual([['guide', true, false]]);
    // A plain edit is no link.
    expect(parsePatch('--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\n+b\n').files[0].symlink).toBe(false);
  });

  it.each([
    ['git apply', true],
    ['the text layers', false],
  ])('refuses, by default, a symlink beside a real fix (%s) and changes nothing', async (_layer, useGit) => {
    const dir = repo(BASE);
    const patch = linkDiff(dir, { shadow: '/etc/shadow' }, FIX);
    const before = snapshot(dir);
    const result = await applyPatchToDir(dir, patch, useGit ? { gitApply: realGitApply } : {});
    expect(result.applied).toBe(false);
    expect(result.error).toMatch(/^refused symlink "shadow": .*policy\.allow_symlinks = false/);
    expect(snapshot(dir)).toEqual(before);
    expect(existsSync(path.join(dir, 'shadow'))).toBe(false);
  });

  it('refuses a link to a directory outside and a write through it, and writes nothing there', async () => {
    const dir = repo(BASE);
    const outside = mkdtempSync(path.join(tmpdir(), 'patch-outside-'));
    dirs.push(outside);
    const patch = [
      'diff --git a/out b/out',
      'new file mode 120000',
      '--- /dev/null',
      '+++ b/out',
      '@@ -0,0 +1 @@',
      `+${outside}`,
      '\\ No newline at end of file',
      'diff --git a/out/x.txt b/out/x.txt',
      'new file mode 100644',
      '--- /dev/null',
      '+++ b/out/x.txt',
      '@@ -0,0 +1 @@',
      '+pwned',
      '',
    ].join('\n');
    const before = snapshot(dir);
    // The same through a path spelled differently: `./out/x.txt` is under `out` all the same.
    const respelled = patch.replace(/out\/x\.txt/g, './out/x.txt');
    expect(respelled).toContain('+++ b/./out/x.txt');
    for (const allowSymlinks of [false, true]) {
      const result = await applyPatchToDir(dir, respelled, { allowSymlinks });
      expect(result.error).toMatch(/^refused symlink "out": the patch writes "\.\/out\/x.txt" through a symbolic link it creates/);
    }
    for (const allowSymlinks of [false, true]) {
      for (const gitApply of [realGitApply, undefined]) {
        const result = await applyPatchToDir(dir, patch, { gitApply, allowSymlinks });
        expect(result.applied).toBe(false);
        expect(result.error).toMatch(/^refused symlink "out": the patch writes "out\/x.txt" through a symbolic link it creates/);
      }
    }
    expect(snapshot(dir)).toEqual(before);
    expect(existsSync(path.join(outside, 'x.txt'))).toBe(false);
  });

  it.each([
    ['an absolute target', 'leak', '/etc/shadow', /is an absolute path/],
    ['.. out of the root', 'docs/up', '../../etc/passwd', /leaves the repository/],
    ['a target into .git', 'cfg', '.git/config', /points into \.git/],
  ])('with allowSymlinks, still refuses %s', async (_name, link, target, why) => {
    const dir = repo(BASE);
    const patch = linkDiff(dir, { [link]: target });
    const before = snapshot(dir);
    const result = await applyPatchToDir(dir, patch, { gitApply: realGitApply, allowSymlinks: true });
    expect(result.applied).toBe(false);
    expect(result.error).toMatch(why);
    expect(snapshot(dir)).toEqual(before);
  });

  it('with allowSymlinks, resolves through existing links the way the kernel does (not lexically)', async () => {
    const dir = repo(BASE);
    // deep/a/b/up -> ../../.. is the root; deep/a/b/up/.. is then outside, though lexically it is deep/a.
    writeTree(dir, { 'deep/a/b/keep': '' });
    symlinkSync('../../..', path.join(dir, 'deep/a/b/up'));
    git(dir, ['add', '-A']);
    git(dir, ['commit', '-q', '-m', 'links']);
    const patch = linkDiff(dir, { 'deep/a/b/sneaky': 'up/../etc' });
    const result = await applyPatchToDir(dir, patch, { gitApply: realGitApply, allowSymlinks: true });
    expect(result.applied).toBe(false);
    expect(result.error).toMatch(/^refused symlink "deep\/a\/b\/sneaky": its target "up\/\.\.\/etc" leaves the repository/);
  });

  it('with allowSymlinks, applies a link that stays inside (through git apply, as a real link)', async () => {
    const dir = repo(BASE);
    const patch = linkDiff(dir, { guide: 'docs/guide.md' }, FIX);
    const result = await applyPatchToDir(dir, patch, { gitApply: realGitApply, allowSymlinks: true });
    expect(result.error).toBeNull();
    expect(result.applied).toBe(true);
    expect(lstatSync(path.join(dir, 'guide')).isSymbolicLink()).toBe(true);
    expect(readlinkSync(path.join(dir, 'guide'))).toBe('docs/guide.md');
  });

  it('refuses an edit of an existing symlink by default (editing it as text would write through it)', async () => {
    const dir = repo(BASE);
    symlinkSync('docs/guide.md', path.join(dir, 'guide'));
    git(dir, ['add', '-A']);
    git(dir, ['commit', '-q', '-m', 'link']);
    const patch = '--- a/guide\n+++ b/guide\n@@ -1 +1 @@\n-# Guide\n+# Pwned\n';
    const result = await applyPatchToDir(dir, patch, { gitApply: realGitApply });
    expect(result.applied).toBe(false);
    expect(result.error).toMatch(/^refused symlink "guide"/);
    expect(git(dir, ['status', '--porcelain'])).toBe('');
  });

  it('refuses a new file whose path is an existing symlink (it would be written through the link)', async () => {
    const dir = repo({ ...BASE, 'docs/empty.md': '' });
    symlinkSync('docs/empty.md', path.join(dir, 'notes'));
    git(dir, ['add', '-A']);
    git(dir, ['commit', '-q', '-m', 'link']);
    const patch = '--- /dev/null\n+++ b/notes\n@@ -0,0 +1 @@\n+pwned\n';
    for (const gitApply of [realGitApply, undefined]) {
      const result = await applyPatchToDir(dir, patch, { gitApply });
      expect(result.applied).toBe(false);
      expect(result.error).toMatch(/^refused symlink "notes"/);
    }
    expect(git(dir, ['status', '--porcelain'])).toBe('');
  });

  it('turns a file-system refusal (a file under a file) into "not applied", not a crash', async () => {
    const dir = repo(BASE);
    const before = snapshot(dir);
    const patch = '--- /dev/null\n+++ src/lib.rs/inner.rs\n@@ -0,0 +1 @@\n+x\n';
    const result = await applyPatchToDir(dir, patch, {});
    expect(result.applied).toBe(false);
    expect(result.error).toMatch(/ENOTDIR|EEXIST/);
    expect(snapshot(dir)).toEqual(before);
  });
});
