// Temp dirs and child processes a bench owns, removed/stopped on every way out: a normal end, an
// exception (the 'exit' event still fires), Ctrl-C and kill (SIGINT/SIGTERM/SIGHUP, which would
// otherwise end node without running any finally block). BENCH_KEEP=1 keeps the dirs and says where.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const dirs = new Set();
const children = new Set();
let installed = false;

function removeAll() {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) {
      try {
        // Negative pid: the child's whole process group (cargo, rustc, bwrap under autodev).
        process.kill(child.detachedGroup ? -child.pid : child.pid, 'SIGTERM');
      } catch {
        // Already gone.
      }
    }
  }
  children.clear();
  for (const dir of dirs) {
    if (process.env.BENCH_KEEP) console.error(`kept ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }
  dirs.clear();
}

function install() {
  if (installed) return;
  installed = true;
  process.on('exit', removeAll);
  for (const [signal, code] of [
    ['SIGINT', 130],
    ['SIGTERM', 143],
    ['SIGHUP', 129],
  ]) {
    process.on(signal, () => {
      removeAll();
      process.exit(code);
    });
  }
}

/**
 * A fresh temp dir removed however the bench ends; under `base`, default $BENCH_TMPDIR or the OS
 * temp dir (BENCH_TMPDIR=/dev/shm keeps file system noise out of the figures where /tmp is slow).
 */
export function tempDir(prefix, base = process.env.BENCH_TMPDIR || tmpdir()) {
  install();
  const dir = mkdtempSync(path.join(base, prefix));
  dirs.add(dir);
  return dir;
}

/** Removes a dir made by tempDir now (unless BENCH_KEEP) and forgets it. */
export function removeDir(dir) {
  if (!dirs.delete(dir)) return;
  if (process.env.BENCH_KEEP) console.error(`kept ${dir}`);
  else rmSync(dir, { recursive: true, force: true });
}

/**
 * Stops a spawned child if the bench is interrupted. Pass `{ group: true }` when the child was
 * spawned with `detached: true` so that its whole process group goes with it.
 */
export function ownChild(child, { group = false } = {}) {
  install();
  child.detachedGroup = group;
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}
