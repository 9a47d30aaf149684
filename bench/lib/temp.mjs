// Temp dirs and child processes a bench owns, removed/stopped on every way out: a normal end, an
// exception (the 'exit' event still fires), Ctrl-C and kill (SIGINT/SIGTERM/SIGHUP, which would
// otherwise end node without running any finally block). BENCH_KEEP=1 keeps the dirs and says where.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const dirs = new Set();
const children = new Set();
let installed = false;
let signalled = false;

function stopChildren() {
  const running = [...children].filter((child) => child.exitCode === null && child.signalCode === null);
  for (const child of running) {
    try {
      // Negative pid: the child's whole process group (cargo, rustc, bwrap under autodev).
      process.kill(child.detachedGroup ? -child.pid : child.pid, 'SIGTERM');
    } catch {
      // Already gone.
    }
  }
  children.clear();
  return running;
}

function removeDirs() {
  for (const dir of dirs) {
    if (process.env.BENCH_KEEP) console.error(`kept ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }
  dirs.clear();
}

function install() {
  if (installed) return;
  installed = true;
  // Normal end or an exception: nothing can be awaited here, so children get SIGTERM and the dirs go.
  process.on('exit', () => {
    stopChildren();
    removeDirs();
  });
  for (const [signal, code] of [
    ['SIGINT', 130],
    ['SIGTERM', 143],
    ['SIGHUP', 129],
  ]) {
    process.on(signal, () => {
      signalled = true;
      // Let the children (autodev cleaning up its own sandbox and workspace) end before their
      // dirs are removed, but not forever.
      const running = stopChildren();
      const ended = running.map(
        (child) =>
          new Promise((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve() : child.once('exit', resolve))),
      );
      const timer = setTimeout(() => {
        for (const child of running) {
          try {
            process.kill(child.detachedGroup ? -child.pid : child.pid, 'SIGKILL');
          } catch {
            // Already gone.
          }
        }
      }, 5000);
      Promise.all(ended).then(() => {
        clearTimeout(timer);
        removeDirs();
        process.exit(code);
      });
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
 * True once a signal asked the bench to stop: a child that ends now was stopped, not finished, so
 * callers leave its promise pending instead of reporting figures from it.
 */
export function stopping() {
  return signalled;
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
