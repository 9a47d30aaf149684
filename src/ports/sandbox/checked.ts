// A sandbox's usability, checked once: each check is a trial run (a bubblewrap sandbox doing
// nothing, a container engine's `info`), which cost a run hundreds of milliseconds before anything
// of the task showed. Within a process a kind that passed is not tried again; bubblewrap's pass is
// also kept per machine (`machineFile`), under a fingerprint of what decides it: the bwrap binary,
// the boot, the user and the kernel's user-namespace switches. Anything of these changing, the
// trial runs again. A failure is never kept, so a fixed machine is seen at once; docker and podman
// are not kept across processes, since their daemons come and go with no file to tell.

import { readFile, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import writeFileAtomic from 'write-file-atomic';

import type { Exec, Sandbox } from '../types.js';

/** Where a machine's kept checks live, in the cache dir. */
export function sandboxChecksFile(cacheDir: string): string {
  return path.join(cacheDir, 'sandbox-checks.json');
}

/** Passed checks of this process, by kind and image. */
const passed = new Map<string, Promise<string | null>>();

// The switches that allow or forbid unprivileged user namespaces, which bubblewrap needs.
const USERNS_SWITCHES = [
  '/proc/sys/kernel/unprivileged_userns_clone',
  '/proc/sys/user/max_user_namespaces',
  '/proc/sys/kernel/apparmor_restrict_unprivileged_userns',
];

interface MachineChecks {
  bwrap?: string;
}

/**
 * `sandbox.check()`, at most once per process for a kind that passes, and for bwrap at most once
 * per machine state when `machineFile` is given. Null: usable; else what is wrong.
 */
export function checkOnce(
  sandbox: Sandbox,
  options: { exec: Exec; image?: string | null; machineFile?: string | null },
): Promise<string | null> {
  const key = JSON.stringify([sandbox.kind, options.image ?? null]);
  let check = passed.get(key);
  if (!check) {
    check =
      sandbox.kind === 'bwrap' && options.machineFile ? checkBwrapOnMachine(sandbox, options.exec, options.machineFile) : sandbox.check();
    passed.set(key, check);
    void check.then(
      (problem) => (problem === null ? undefined : passed.delete(key)),
      () => passed.delete(key),
    );
  }
  return check;
}

/** Forgets this process's passed checks (for tests that change the machine under a running process). */
export function forgetChecks(): void {
  passed.clear();
}

async function checkBwrapOnMachine(sandbox: Sandbox, exec: Exec, file: string): Promise<string | null> {
  const fingerprint = await bwrapFingerprint(exec);
  if (fingerprint !== null) {
    const known = await readChecks(file);
    if (known.bwrap === fingerprint) return null;
  }
  const problem = await sandbox.check();
  if (problem === null && fingerprint !== null) {
    const known = await readChecks(file);
    await writeFileAtomic(file, JSON.stringify({ ...known, bwrap: fingerprint })).catch(() => undefined);
  }
  return problem;
}

async function readChecks(file: string): Promise<MachineChecks> {
  try {
    const data = JSON.parse(await readFile(file, 'utf8')) as unknown;
    return data && typeof data === 'object' ? (data as MachineChecks) : {};
  } catch {
    return {};
  }
}

/** What decides whether bwrap works here; null when it cannot be told (then the trial always runs). */
export async function bwrapFingerprint(exec: Exec): Promise<string | null> {
  const found = await exec.which('bwrap');
  if (!found) return null;
  try {
    const real = await realpath(found);
    const info = await stat(real);
    const boot = (await readFile('/proc/sys/kernel/random/boot_id', 'utf8')).trim();
    const switches = await Promise.all(
      USERNS_SWITCHES.map((f) =>
        readFile(f, 'utf8').then(
          (t) => t.trim(),
          () => '-',
        ),
      ),
    );
    return JSON.stringify([path.resolve(real), info.size, info.mtimeMs, info.ino, boot, process.getuid?.() ?? null, switches]);
  } catch {
    return null;
  }
}
