import { describe, expect, it } from '@jest/globals';
import { mkdtempSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { checkRepoPath, checkRepoPathReal } from '../../src/patch/paths.js';

describe('checkRepoPath', () => {
  it('accepts and normalizes paths inside the repository', () => {
    expect(checkRepoPath('src/main.rs')).toEqual({ ok: true, path: 'src/main.rs' });
    expect(checkRepoPath('src/../lib/x.ts')).toEqual({ ok: true, path: 'lib/x.ts' });
    expect(checkRepoPath('.github/workflows/ci.yml').ok).toBe(true);
    expect(checkRepoPath('docs/.gitignore').ok).toBe(true);
  });

  it.each([
    ['/etc/passwd', /absolute/],
    ['C:\\Windows\\x', /absolute/],
    ['../outside.txt', /escapes/],
    ['src/../../outside.txt', /escapes/],
    ['..\\outside.txt', /escapes/],
    ['.git/config', /\.git/],
    ['sub/.git/hooks/pre-commit', /\.git/],
    ['.GIT/config', /\.git/],
    ['', /empty/],
    ['src/', /directory/],
  ])('refuses %j', (p, reason) => {
    const v = checkRepoPath(p);
    expect(v.ok).toBe(false);
    if (!v.ok) expect(v.reason).toMatch(reason);
  });
});

describe('checkRepoPathReal', () => {
  it('refuses a path through a symlink that leaves the repository, accepts one that stays', async () => {
    const base = mkdtempSync(path.join(tmpdir(), 'patch-paths-'));
    try {
      const repo = path.join(base, 'repo');
      const outside = path.join(base, 'outside');
      mkdirSync(path.join(repo, 'src'), { recursive: true });
      mkdirSync(outside);
      writeFileSync(path.join(repo, 'src', 'a.txt'), 'a\n');
      symlinkSync(outside, path.join(repo, 'escape'));
      symlinkSync(path.join(repo, 'src'), path.join(repo, 'inner'));
      symlinkSync('/etc/hostname', path.join(repo, 'host-link'));

      const escaped = await checkRepoPathReal(repo, 'escape/new.txt');
      expect(escaped.ok).toBe(false);
      if (!escaped.ok) expect(escaped.reason).toMatch(/symlink that leaves the repository/);
      expect((await checkRepoPathReal(repo, 'host-link')).ok).toBe(false);
      expect(await checkRepoPathReal(repo, 'inner/a.txt')).toEqual({ ok: true, path: 'inner/a.txt' });
      expect(await checkRepoPathReal(repo, 'src/new/deep.txt')).toEqual({ ok: true, path: 'src/new/deep.txt' });
      expect((await checkRepoPathReal(repo, '../outside/x')).ok).toBe(false);
    } finally {
      rmSync(base, { recursive: true, force: true });
    }
  });
});
