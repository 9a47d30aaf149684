// The one home of child processes (the only module that imports execa).
//
// Every child is the leader of its own process group (detached), so a timeout, an AbortSignal or
// the end of the command can signal the whole tree: SIGTERM to the group, SIGKILL after a grace.
// A finished command is data: a non-zero exit, a signal or a program that cannot start never throws.
//
// Output capping keeps the HEAD and the TAIL of each stream (half of maxOutputBytes each) with a
// marker line between them: compiler output states the first error at the top and the summary
// ("could not compile", "test result: FAILED") at the bottom, and both matter to the repair loop.
// `onLine` still sees every line, capped or not.

import { constants as fsConstants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import path from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import type { Readable } from 'node:stream';
import { execa } from 'execa';
import type { Exec, ExecOptions, ExecResult } from './types.js';

export const DEFAULT_MAX_OUTPUT_BYTES = 4 * 1024 * 1024;
const DEFAULT_KILL_GRACE_MS = 2000;
// A "line" longer than this is handed to onLine in pieces so a newline-free stream cannot grow memory.
const MAX_PENDING_LINE_CHARS = 64 * 1024;

export interface CreateExecOptions {
  /** Time between SIGTERM and SIGKILL to the process group on timeout or cancel. */
  killGraceMs?: number;
}

// Groups still running, killed if this process exits first (execa's own cleanup is off for detached children).
const liveGroups = new Set<number>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const pgid of liveGroups) killTree(pgid, 'SIGKILL');
  });
}

/** Signals every process of the group led by `pid`; false when none is left (or not permitted). */
export function killTree(pid: number, signal: NodeJS.Signals = 'SIGTERM'): boolean {
  try {
    process.kill(-pid, signal);
    return true;
  } catch {
    return false;
  }
}

/** Keeps the first and the last `limit / 2` bytes of a stream and counts what fell in between. */
class HeadTailBuffer {
  private readonly headLimit: number;
  private readonly tailLimit: number;
  private readonly head: Buffer[] = [];
  private headBytes = 0;
  private tail: Buffer[] = [];
  private tailBytes = 0;
  private dropped = 0;

  constructor(limit: number) {
    this.headLimit = Math.ceil(limit / 2);
    this.tailLimit = Math.floor(limit / 2);
  }

  get truncated(): boolean {
    return this.dropped > 0;
  }

  push(chunk: Buffer): void {
    let rest = chunk;
    if (this.headBytes < this.headLimit) {
      const take = Math.min(this.headLimit - this.headBytes, rest.length);
      this.head.push(rest.subarray(0, take));
      this.headBytes += take;
      rest = rest.subarray(take);
    }
    if (rest.length === 0) return;
    this.tail.push(rest);
    this.tailBytes += rest.length;
    while (this.tailBytes > this.tailLimit) {
      const first = this.tail[0];
      const excess = this.tailBytes - this.tailLimit;
      if (first.length <= excess) {
        this.tail.shift();
        this.tailBytes -= first.length;
        this.dropped += first.length;
      } else {
        this.tail[0] = first.subarray(excess);
        this.tailBytes -= excess;
        this.dropped += excess;
      }
    }
  }

  text(): string {
    const head = Buffer.concat(this.head);
    const tail = Buffer.concat(this.tail);
    if (!this.truncated) return Buffer.concat([head, tail]).toString('utf8');
    // Cut at character boundaries so neither side ends in a replacement character.
    let headEnd = head.length;
    while (headEnd > 0 && headEnd > head.length - 4 && (head[headEnd - 1] & 0xc0) === 0x80) headEnd--;
    if (headEnd > 0 && head[headEnd - 1] >= 0xc0) headEnd--;
    let tailStart = 0;
    while (tailStart < tail.length && tailStart < 4 && (tail[tailStart] & 0xc0) === 0x80) tailStart++;
    const omitted = this.dropped + (head.length - headEnd) + tailStart;
    return (
      head.subarray(0, headEnd).toString('utf8') +
      `\n[... ${omitted} bytes omitted by autodev ...]\n` +
      tail.subarray(tailStart).toString('utf8')
    );
  }
}

/** Splits a byte stream into lines for onLine, across chunk boundaries and multi-byte characters. */
class LineSplitter {
  private readonly decoder = new StringDecoder('utf8');
  private pending = '';

  constructor(private readonly emit: (line: string) => void) {}

  push(chunk: Buffer): void {
    this.pending += this.decoder.write(chunk);
    let newline = this.pending.indexOf('\n');
    while (newline !== -1) {
      this.emit(stripCr(this.pending.slice(0, newline)));
      this.pending = this.pending.slice(newline + 1);
      newline = this.pending.indexOf('\n');
    }
    while (this.pending.length > MAX_PENDING_LINE_CHARS) {
      this.emit(this.pending.slice(0, MAX_PENDING_LINE_CHARS));
      this.pending = this.pending.slice(MAX_PENDING_LINE_CHARS);
    }
  }

  end(): void {
    this.pending += this.decoder.end();
    if (this.pending.length > 0) this.emit(stripCr(this.pending));
    this.pending = '';
  }
}

function stripCr(line: string): string {
  return line.endsWith('\r') ? line.slice(0, -1) : line;
}

function collect(
  stream: Readable | null | undefined,
  limit: number,
  emit: ((line: string) => void) | null,
): { buffer: HeadTailBuffer; done: Promise<void> } {
  const buffer = new HeadTailBuffer(limit);
  const splitter = emit ? new LineSplitter(safe(emit)) : null;
  if (!stream) return { buffer, done: Promise.resolve() };
  const done = new Promise<void>((resolve) => {
    stream.on('data', (chunk: Buffer | string) => {
      const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      buffer.push(bytes);
      splitter?.push(bytes);
    });
    const finish = () => {
      splitter?.end();
      resolve();
    };
    stream.once('end', finish);
    stream.once('close', finish);
    stream.once('error', finish);
  });
  return { buffer, done };
}

// A throwing listener must not break the run (the run never throws).
function safe(emit: (line: string) => void): (line: string) => void {
  return (line) => {
    try {
      emit(line);
    } catch {
      // the caller's problem; the command keeps running
    }
  };
}

function abortedResult(command: string[], startedAt: number): ExecResult {
  return {
    command,
    exitCode: null,
    signal: null,
    stdout: '',
    stderr: '',
    timedOut: false,
    cancelled: true,
    truncated: false,
    durationMs: Date.now() - startedAt,
  };
}

async function runCommand(command: string[], options: ExecOptions, killGraceMs: number): Promise<ExecResult> {
  const startedAt = Date.now();
  if (command.length === 0 || command[0] === '') {
    return { ...abortedResult(command, startedAt), cancelled: false, spawnError: 'empty command' };
  }
  if (options.signal?.aborted) return abortedResult(command, startedAt);

  const [file, ...args] = command;
  const limit = Math.max(0, options.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES);
  const subprocess = execa(file, args, {
    cwd: options.cwd,
    env: options.env ?? {},
    extendEnv: options.inheritEnv === true,
    detached: true,
    reject: false,
    buffer: false,
    stripFinalNewline: false,
    windowsHide: true,
    ...(options.input !== undefined ? { input: options.input } : { stdin: 'ignore' as const }),
  });

  const pid = subprocess.pid;
  if (pid !== undefined) {
    installExitHook();
    liveGroups.add(pid);
  }

  const onLine = options.onLine;
  const out = collect(subprocess.stdout, limit, onLine ? (line) => onLine('stdout', line) : null);
  const err = collect(subprocess.stderr, limit, onLine ? (line) => onLine('stderr', line) : null);

  let timedOut = false;
  let cancelled = false;
  let forceTimer: NodeJS.Timeout | undefined;
  const stop = () => {
    if (pid === undefined || forceTimer) return;
    killTree(pid, 'SIGTERM');
    forceTimer = setTimeout(() => killTree(pid, 'SIGKILL'), killGraceMs);
  };
  const timeoutTimer =
    options.timeoutMs !== undefined && options.timeoutMs > 0
      ? setTimeout(() => {
          timedOut = true;
          stop();
        }, options.timeoutMs)
      : undefined;
  const onAbort = () => {
    cancelled = true;
    stop();
  };
  options.signal?.addEventListener('abort', onAbort, { once: true });

  // Once the leader exits, whatever it left running in its group (daemons, background jobs that
  // hold our pipes open) goes too: a finished command leaves nothing behind.
  subprocess.once('exit', () => {
    if (pid !== undefined) killTree(pid, 'SIGKILL');
  });

  try {
    const result = await subprocess;
    await Promise.all([out.done, err.done]);
    const exitCode = typeof result.exitCode === 'number' ? result.exitCode : null;
    const signal = result.signal ?? null;
    const spawnFailed = exitCode === null && signal === null && result.failed;
    return {
      command,
      exitCode,
      signal,
      stdout: out.buffer.text(),
      stderr: err.buffer.text(),
      timedOut,
      cancelled: cancelled && !timedOut,
      truncated: out.buffer.truncated || err.buffer.truncated,
      durationMs: Date.now() - startedAt,
      ...(spawnFailed && !timedOut && !cancelled ? { spawnError: describeSpawnError(result.code, result.originalMessage, file) } : {}),
    };
  } finally {
    if (timeoutTimer) clearTimeout(timeoutTimer);
    if (forceTimer) clearTimeout(forceTimer);
    options.signal?.removeEventListener('abort', onAbort);
    if (pid !== undefined) {
      killTree(pid, 'SIGKILL');
      liveGroups.delete(pid);
    }
  }
}

// Names the program and the cause only: the arguments and the environment stay out of messages.
function describeSpawnError(code: string | undefined, message: string | undefined, file: string): string {
  const firstLine = (message ?? '').split('\n')[0].trim();
  if (code === 'ENOENT' && firstLine.startsWith('spawn ')) return `${file}: program not found (ENOENT)`;
  if (code === 'EACCES') return `${file}: permission denied (EACCES)`;
  return firstLine || `${file}: could not be started${code ? ` (${code})` : ''}`;
}

async function isExecutableFile(candidate: string): Promise<boolean> {
  try {
    const info = await stat(candidate);
    if (!info.isFile()) return false;
    await access(candidate, fsConstants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Absolute path of `program` on `searchPath` (default: this process's PATH), or null. */
export async function which(program: string, searchPath: string | undefined = process.env.PATH): Promise<string | null> {
  if (program === '') return null;
  if (program.includes('/')) {
    const absolute = path.resolve(program);
    return (await isExecutableFile(absolute)) ? absolute : null;
  }
  for (const dir of (searchPath ?? '').split(path.delimiter)) {
    if (!path.isAbsolute(dir)) continue; // "." or empty entries would resolve against our cwd
    const candidate = path.join(dir, program);
    if (await isExecutableFile(candidate)) return candidate;
  }
  return null;
}

export function createExec(options: CreateExecOptions = {}): Exec {
  const killGraceMs = options.killGraceMs ?? DEFAULT_KILL_GRACE_MS;
  return {
    run: (command, runOptions = {}) => runCommand(command, runOptions, killGraceMs),
    which: (program) => which(program),
  };
}
