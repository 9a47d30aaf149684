// Is the process recorded as a task's owner still there, and is it ours? A pid can be reused by an
// unrelated process after a crash, so `tasks cancel` signals only a live process whose command line
// names autodev.
import { readFileSync } from 'node:fs';

export function isAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else (so it is not our run either, see isAutodevProcess).
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** True when `pid` is alive and its command line mentions autodev; where /proc is missing, alive is enough. */
export function isAutodevProcess(pid: number): boolean {
  if (!isAlive(pid)) return false;
  let cmdline: string;
  try {
    cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    // No procfs (macOS, BSD): trust the pid. The process vanished in between: not ours.
    return code !== 'ENOENT' || process.platform !== 'linux';
  }
  return /autodev/i.test(cmdline.replace(/\0/g, ' '));
}
