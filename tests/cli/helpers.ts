// Runs the built CLI (`node bin/autodev.js`) as a real process with a clean environment: its own
// HOME, TMPDIR and XDG dirs, no AUTODEV_* or credentials unless a test adds them.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, readlink, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const BIN = path.join(ROOT, 'bin', 'autodev.js');

export function assertBuilt(): void {
  if (!existsSync(path.join(ROOT, 'dist', 'cli', 'index.js'))) {
    throw new Error('dist/ is missing: run `npm run build` before the CLI tests');
  }
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface Sandbox {
  /** The temp root; removed by cleanup(). */
  root: string;
  /** The cwd the CLI runs in. */
  cwd: string;
  /** TMPDIR of the child, to see what temp dirs it leaves. */
  tmp: string;
  env: Record<string, string>;
  cleanup(): Promise<void>;
}

/** A temp root with cwd, home, tmp and XDG dirs, and the clean environment pointing at them. */
export async function makeSandbox(): Promise<Sandbox> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'clitest-'));
  const dirs = { cwd: 'work', home: 'home', tmp: 'tmp', config: 'xdg-config', state: 'xdg-state', cache: 'xdg-cache' };
  for (const d of Object.values(dirs)) await mkdir(path.join(root, d));
  const at = (d: string) => path.join(root, d);
  const realHome = os.homedir();
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: at(dirs.home),
    TMPDIR: at(dirs.tmp),
    XDG_CONFIG_HOME: at(dirs.config),
    XDG_STATE_HOME: at(dirs.state),
    XDG_CACHE_HOME: at(dirs.cache),
    // cargo is often a rustup proxy that finds its toolchains through these
    RUSTUP_HOME: process.env.RUSTUP_HOME ?? path.join(realHome, '.rustup'),
    CARGO_HOME: process.env.CARGO_HOME ?? path.join(realHome, '.cargo'),
    GIT_CONFIG_NOSYSTEM: '1',
    NO_COLOR: '1',
    LANG: 'C',
  };
  return { root, cwd: at(dirs.cwd), tmp: at(dirs.tmp), env, cleanup: () => rm(root, { recursive: true, force: true }) };
}

export function runCli(args: string[], options: { cwd: string; env: Record<string, string>; input?: string }): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: options.cwd, env: options.env, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') }));
    child.stdin.end(options.input ?? '');
  });
}

/** Every file, directory and symlink under `dir` (.git included): path, kind, mode and bytes. */
export async function hashTree(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  async function walk(rel: string): Promise<void> {
    const full = path.join(dir, rel);
    const entries = await readdir(full, { withFileTypes: true });
    for (const entry of entries) {
      const childRel = path.join(rel, entry.name);
      const childFull = path.join(dir, childRel);
      const info = await stat(childFull).catch(() => null);
      if (entry.isSymbolicLink()) {
        out.set(childRel, `link ${await readlink(childFull)}`);
      } else if (entry.isDirectory()) {
        out.set(childRel, `dir ${info?.mode}`);
        await walk(childRel);
      } else {
        const digest = createHash('sha256')
          .update(await readFile(childFull))
          .digest('hex');
        out.set(childRel, `file ${info?.mode} ${digest}`);
      }
    }
  }
  await walk('');
  return out;
}

/** The stderr lines, without the trailing newline. */
export function lines(text: string): string[] {
  return text.split('\n').filter((l) => l.trim() !== '');
}
