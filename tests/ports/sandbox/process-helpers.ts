// Reads /proc to see which processes are still alive, so kill tests check the real process table.

import { readdirSync, readFileSync } from 'node:fs';
import { until } from '../../support/poll.js';

export interface LiveProcess {
  pid: number;
  pgrp: number;
  state: string;
  argv: string[];
}

export function liveProcesses(): LiveProcess[] {
  const found: LiveProcess[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const state = fields[0];
      if (state === 'Z' || state === 'X') continue; // dead, only waiting to be reaped
      const argv = readFileSync(`/proc/${entry}/cmdline`, 'utf8')
        .split('\0')
        .filter((part) => part.length > 0);
      found.push({ pid: Number(entry), pgrp: Number(fields[2]), state, argv });
    } catch {
      // exited while we were reading
    }
  }
  return found;
}

/** Polls until `predicate` matches no live process (or the deadline passes) and returns the matches left. */
export async function waitUntilGone(predicate: (process: LiveProcess) => boolean, deadlineMs = 5000): Promise<LiveProcess[]> {
  // A timeout is not an error here: the caller asserts on what is left, which names the survivors.
  await until('the processes to be gone', () => liveProcesses().filter(predicate).length === 0, deadlineMs, 50).catch(() => undefined);
  return liveProcesses().filter(predicate);
}

/** A sleep duration no other process on the machine is likely to use, so tests can find their own. */
export function uniqueSleepSeconds(): string {
  return `${900 + Math.floor(Math.random() * 90)}.${Math.floor(Math.random() * 1e6)}`;
}
