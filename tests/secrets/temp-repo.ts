import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/** A real git repository in a temp dir: commit a base tree, write changes, read `git diff`. */
export class TempRepo {
  readonly dir: string;

  constructor(base: Record<string, string> = { 'README.md': '# fixture\n' }) {
    this.dir = mkdtempSync(join(tmpdir(), 'autodev-secrets-test-'));
    this.git('init', '-q', '-b', 'main');
    this.write(base);
    this.git('add', '-A');
    this.git('-c', 'user.name=t', '-c', 'user.email=t@example.invalid', 'commit', '-q', '-m', 'base');
  }

  git(...args: string[]): string {
    return execFileSync('git', args, {
      cwd: this.dir,
      encoding: 'utf8',
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: this.dir, GIT_CONFIG_NOSYSTEM: '1' },
    });
  }

  write(files: Record<string, string>): void {
    for (const [path, content] of Object.entries(files)) {
      const full = join(this.dir, path);
      mkdirSync(dirname(full), { recursive: true });
      writeFileSync(full, content);
    }
  }

  /** The working tree's change against HEAD, new files included. */
  diff(): string {
    this.git('add', '-A', '-N');
    return this.git('diff', 'HEAD');
  }

  cleanup(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}
