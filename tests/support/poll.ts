// The one way tests wait for something that happens in another process or on a timer: ask again
// every `intervalMs` until the answer is a value, and fail with what was awaited when time runs out.
import { setTimeout as sleep } from 'node:timers/promises';

/** A check's "not yet": anything else is the value `until` resolves with. */
type NotYet = undefined | null | false;

/**
 * Polls `check` until it returns something other than undefined, null or false, and resolves with it.
 * A check that throws ends the wait with its error (e.g. "the process exited first"). `what` may be a
 * function so the timeout message can show state gathered while waiting (stderr so far).
 */
export async function until<T>(
  what: string | (() => string),
  check: () => T | NotYet | Promise<T | NotYet>,
  timeoutMs = 120_000,
  intervalMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== null && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${typeof what === 'string' ? what : what()}`);
    await sleep(intervalMs);
  }
}
