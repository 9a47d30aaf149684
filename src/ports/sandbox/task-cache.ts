// A task's own copy of a cache shared by the tasks of one repository (Cargo's target dir). Code
// the model wrote must never write into what the next task builds with (a build.rs could plant
// objects or scripts there), so such code builds in a copy; the copy keeps the shared cache's
// warmth (cargo reuses artifacts by their fingerprints and mtimes, which `cp -a` keeps), and it
// goes away with the task's workspace.
//
// bubblewrap 0.8 has no --overlay, so this is a copy: `cp -a --reflink=auto` shares the blocks on
// filesystems that can (btrfs, xfs) and copies them elsewhere.

import { cp, mkdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Exec } from '../types.js';

export interface PrivateCopy {
  dir: string;
  /** How the directory came to be: copied now, kept from an earlier run of the task, or started empty. */
  how: 'copied' | 'reused' | 'empty';
  /** Why it is empty when the copy failed (the task still builds, only from scratch). */
  problem?: string;
  durationMs: number;
}

/** `dest` as a copy of `shared`, made on the task's first call and reused by its later ones. */
export async function privateCopy(exec: Exec, shared: string, dest: string): Promise<PrivateCopy> {
  const started = Date.now();
  const done = (how: PrivateCopy['how'], problem?: string): PrivateCopy => ({
    dir: dest,
    how,
    durationMs: Date.now() - started,
    ...(problem ? { problem } : {}),
  });
  if (await isDirectory(dest)) return done('reused');
  if (!(await isDirectory(shared))) {
    await mkdir(dest, { recursive: true });
    return done('empty');
  }
  // Copied beside its final name and renamed, so a copy cut short is never taken for a whole one.
  const partial = `${dest}.partial-${process.pid}-${Date.now()}`;
  await mkdir(path.dirname(dest), { recursive: true });
  let problem: string | undefined;
  const result = await exec.run(['cp', '-a', '--reflink=auto', '--', shared, partial], {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
    timeoutMs: 15 * 60_000,
  });
  if (result.exitCode !== 0) {
    // Not GNU cp (no --reflink): node's own copy keeps timestamps too, only slower.
    await rm(partial, { recursive: true, force: true });
    try {
      await cp(shared, partial, { recursive: true, preserveTimestamps: true, verbatimSymlinks: true });
    } catch (error) {
      problem = `${result.stderr.trim().split('\n')[0] || result.spawnError || `cp exit ${result.exitCode}`}; ${(error as Error).message}`;
    }
  }
  if (problem) {
    await rm(partial, { recursive: true, force: true });
    await mkdir(dest, { recursive: true });
    return done('empty', problem);
  }
  await rename(partial, dest);
  return done('copied');
}

async function isDirectory(dir: string): Promise<boolean> {
  try {
    return (await stat(dir)).isDirectory();
  } catch {
    return false;
  }
}
