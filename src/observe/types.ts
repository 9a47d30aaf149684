import type { EngineEvent } from '../engine/types.js';

/**
 * What every observer of a run looks like: the engine calls it once per event, synchronously, and the
 * CLI awaits `close()` after the engine returns (flush files, finish the progress view).
 * A subscriber never throws from the call: a broken progress view or a full disk must not fail the task.
 */
export interface Subscriber {
  (event: EngineEvent): void;
  close(): Promise<void>;
}

/** Scrubs secrets from a string before it is written anywhere. */
export type Redact = (s: string) => string;

export function identity(s: string): string {
  return s;
}

export function makeSubscriber(onEvent: (event: EngineEvent) => void, close: () => Promise<void>): Subscriber {
  return Object.assign((event: EngineEvent) => onEvent(event), { close });
}

/** Fans one event stream out to several subscribers; one that throws does not starve the others. */
export function combineSubscribers(subscribers: Subscriber[]): Subscriber {
  return makeSubscriber(
    (event) => {
      for (const s of subscribers) {
        try {
          s(event);
        } catch {
          // A subscriber bug must not break the engine's emit; the others still get the event.
        }
      }
    },
    async () => {
      const results = await Promise.allSettled(subscribers.map((s) => s.close()));
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) throw failed.reason;
    },
  );
}
