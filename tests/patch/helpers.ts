// Real temp repositories and a real `git apply` for the patch tests.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export function git(dir: string, args: string[], input?: string): string {
  return execFileSync('git', args, {
    cwd: dir,
    input,
    encoding: 'utf8',
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@e', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@e' },
  });
}

/** A git repository in a temp dir holding `files`, committed. */
export function makeRepo(files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'patch-test-'));
  git(dir, ['init', '-q']);
  git(dir, ['config', 'core.autocrlf', 'false']);
  writeTree(dir, files);
  git(dir, ['add', '-A']);
  git(dir, ['commit', '-q', '-m', 'base']);
  return dir;
}

export function writeTree(dir: string, files: Record<string, string | null>): void {
  for (const [p, content] of Object.entries(files)) {
    const abs = path.join(dir, p);
    if (content === null) rmSync(abs, { force: true });
    else {
      mkdirSync(path.dirname(abs), { recursive: true });
      writeFileSync(abs, content);
    }
  }
}

/**
 * The diff git itself makes for `changes` on top of the repo's HEAD (the working tree is restored
 * afterwards), with extra `git diff` flags such as -U1 or --no-prefix.
 */
export function gitDiff(dir: string, changes: Record<string, string | null>, flags: string[] = []): string {
  writeTree(dir, changes);
  git(dir, ['add', '-A']);
  const diff = git(dir, ['diff', '--cached', '--no-renames', ...flags]);
  git(dir, ['reset', '-q', '--hard', 'HEAD']);
  return diff;
}

/** Every file under dir (including .git unless skipped), path → sha256 of its bytes, for byte-for-byte comparisons. */
export function snapshot(dir: string, skipGit = false): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (rel: string): void => {
    for (const e of readdirSync(path.join(dir, rel), { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (skipGit && r === '.git') continue;
      if (e.isDirectory()) walk(r);
      else if (e.isFile())
        out[r] = createHash('sha256')
          .update(readFileSync(path.join(dir, r)))
          .digest('hex');
      else out[r] = 'symlink';
    }
  };
  walk('');
  return out;
}

export function read(dir: string, p: string): string {
  return readFileSync(path.join(dir, p), 'utf8');
}

/** Layer 1 for real: `git apply` reading the patch on stdin. */
export async function realGitApply(dir: string, patch: string, check: boolean): Promise<{ ok: boolean; error: string }> {
  try {
    execFileSync('git', ['apply', ...(check ? ['--check'] : []), '-'], { cwd: dir, input: patch, stdio: ['pipe', 'pipe', 'pipe'] });
    return { ok: true, error: '' };
  } catch (err) {
    return { ok: false, error: String((err as { stderr?: Buffer }).stderr ?? err) };
  }
}

export function cleanup(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}
