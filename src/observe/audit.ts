import { closeSync, fstatSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import type { EngineEvent } from '../engine/types.js';
import { auditFile } from './paths.js';
import { makeSubscriber, type Redact, type Subscriber } from './types.js';

export interface AuditOptions {
  /** From `stateDir(env)`; the trail goes to `<stateDir>/audit/<taskId>.jsonl`. */
  stateDir: string;
  /** Required on purpose: the audit trail outlives the run, so nothing reaches it unredacted. */
  redact: Redact;
  /** For tests; the wall clock otherwise. */
  now?: () => Date;
}

export interface AuditSubscriber extends Subscriber {
  /** Files written so far (one per task id seen). */
  readonly files: readonly string[];
}

/**
 * The version of the event lines' schema (`v` on every line of the audit trail and of `--events`):
 * raised when a field changes meaning or goes away, not when one is added.
 */
export const EVENT_SCHEMA_VERSION = 1;

/**
 * The line for one event: `{"v": 1, "ts": ..., "taskId": ..., "type": ..., ...}`.
 * Redaction runs over every string value before serialising rather than over the finished line, so a
 * secret that JSON escaping would have changed (a quote or backslash in it) is still caught, and the
 * redactor can never produce invalid JSON by eating a quote.
 */
export function auditLine(event: EngineEvent, redact: Redact, now: Date = new Date()): string {
  const { taskId, ...rest } = event;
  return JSON.stringify(redactDeep({ v: EVENT_SCHEMA_VERSION, ts: now.toISOString(), taskId, ...rest }, redact));
}

function redactDeep(value: unknown, redact: Redact): unknown {
  if (typeof value === 'string') return redact(value);
  if (Array.isArray(value)) return value.map((v) => redactDeep(v, redact));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redactDeep(v, redact)]));
  }
  return value;
}

/**
 * Appends every event to the task's JSONL file. Writes are synchronous appends on an open descriptor: an
 * audit trail that loses its last lines when the process is killed (the very case worth auditing) would
 * be worth little, and events are few enough that this costs nothing noticeable.
 * A write failure stops the trail for that task and is reported by `close()`, never thrown at the engine.
 */
export function createAuditTrail(options: AuditOptions): AuditSubscriber {
  const { stateDir, redact } = options;
  const now = options.now ?? (() => new Date());
  const fds = new Map<string, number>();
  const failed = new Map<string, string>();
  const files: string[] = [];

  function fdFor(taskId: string): number | null {
    const open = fds.get(taskId);
    if (open !== undefined) return open;
    if (failed.has(taskId)) return null;
    const file = auditFile(stateDir, taskId);
    try {
      // The trail holds prompts and tool output: readable by its owner only.
      mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
      const fd = openSync(file, 'a', 0o600);
      fds.set(taskId, fd);
      files.push(file);
      return fd;
    } catch (err) {
      failed.set(taskId, `cannot open audit file ${file}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
      return null;
    }
  }

  function onEvent(event: EngineEvent): void {
    const fd = fdFor(event.taskId);
    if (fd === null) return;
    try {
      writeSync(fd, `${auditLine(event, redact, now())}\n`);
    } catch (err) {
      failed.set(event.taskId, `cannot write audit file: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
      fds.delete(event.taskId);
      try {
        closeSync(fd);
      } catch {
        // Already broken; the failure is recorded above.
      }
    }
  }

  async function close(): Promise<void> {
    for (const fd of fds.values()) {
      try {
        closeSync(fd);
      } catch {
        // Nothing left to save on a descriptor that will not close.
      }
    }
    fds.clear();
    if (failed.size > 0) throw new Error(`audit trail incomplete: ${[...failed.values()].join('; ')}`);
  }

  const subscriber = makeSubscriber(onEvent, close);
  return Object.defineProperty(subscriber, 'files', { get: () => [...files] }) as AuditSubscriber;
}

export interface JsonlStreamOptions {
  /** Usually process.stderr (`--events jsonl`). */
  stream: NodeJS.WritableStream;
  redact: Redact;
  now?: () => Date;
}

/** The same lines as the audit trail, on a stream, for tools that follow a run live. */
export function createJsonlStream(options: JsonlStreamOptions): Subscriber {
  const { stream, redact } = options;
  const now = options.now ?? (() => new Date());
  let broken = false;
  // A closed pipe reports EPIPE as an 'error' event; unhandled, that would kill the process mid-task.
  const onError = () => {
    broken = true;
  };
  stream.on('error', onError);
  return makeSubscriber(
    (event) => {
      if (broken) return;
      try {
        stream.write(`${auditLine(event, redact, now())}\n`);
      } catch {
        broken = true;
      }
    },
    async () => {
      stream.removeListener('error', onError);
    },
  );
}

export interface JsonlFileOptions {
  /** `--events-file`: a path (appended to) or the number of a descriptor the process inherited. */
  target: string;
  redact: Redact;
  now?: () => Date;
}

/**
 * The `--events` lines written to a file or an inherited descriptor, synchronously (as the audit
 * trail is), so stderr can keep the human progress. Opening fails loudly (the caller turns it into a
 * usage error); a later write failure stops the stream silently, as on a closed pipe.
 */
export function createJsonlFile(options: JsonlFileOptions): Subscriber {
  const { target, redact } = options;
  const now = options.now ?? (() => new Date());
  const inherited = /^\d+$/.test(target);
  const fd = inherited ? Number(target) : openSync(target, 'a', 0o600);
  // A descriptor the process did not inherit fails here (EBADF), not silently at the first event.
  if (inherited) fstatSync(fd);
  let broken = false;
  return makeSubscriber(
    (event) => {
      if (broken) return;
      try {
        writeSync(fd, `${auditLine(event, redact, now())}\n`);
      } catch {
        broken = true;
      }
    },
    async () => {
      if (inherited) return;
      try {
        closeSync(fd);
      } catch {
        // Nothing left to save.
      }
    },
  );
}
