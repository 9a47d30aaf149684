import { closeSync, openSync } from 'node:fs';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { createAuditTrail, createJsonlFile, createJsonlStream } from '../../src/observe/audit.js';
import { cacheDir, configDir, stateDir } from '../../src/observe/paths.js';
import { captureStream, scripter } from './helpers.js';

const SECRET = 'ghp_abcdefghijklmnopqrstuvwxyz0123456789';
const redact = (s: string) => s.replaceAll(SECRET, '[REDACTED]');
const fixedNow = () => new Date('2026-05-06T07:08:09.000Z');

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'autodev-audit-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function events() {
  const a = scripter('task-a');
  const b = scripter('task-b');
  return [
    a.status('planning'),
    a.started('clone'),
    a.output('clone', `remote: using token ${SECRET}`),
    // A quote and a backslash beside the secret: JSON escaping must not hide it from the redactor.
    a.log('error', `push failed: "https://x:${SECRET}@github.com" \\ retry`),
    b.status('planning'),
    a.finished('clone', 'ok', 10, { summary: 'cloned' }),
    a.repair(1, 2, 'build', `feedback with ${SECRET}`),
    a.status('failed', 'build'),
  ];
}

describe('createAuditTrail', () => {
  it('appends every event, redacted, as one JSON line per event to <stateDir>/audit/<taskId>.jsonl', async () => {
    const audit = createAuditTrail({ stateDir: dir, redact, now: fixedNow });
    for (const e of events()) audit(e);
    await audit.close();

    const fileA = join(dir, 'audit', 'task-a.jsonl');
    expect(audit.files).toEqual([fileA, join(dir, 'audit', 'task-b.jsonl')]);
    const text = await readFile(fileA, 'utf8');
    expect(text).not.toContain(SECRET);
    expect(text.endsWith('\n')).toBe(true);
    const lines = text
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.map((l) => l.type)).toEqual([
      'task.status',
      'step.started',
      'step.output',
      'log',
      'step.finished',
      'repair.round',
      'task.status',
    ]);
    for (const l of lines) {
      expect(l.v).toBe(1);
      expect(l.taskId).toBe('task-a');
      expect(l.ts).toBe('2026-05-06T07:08:09.000Z');
    }
    expect(lines[2]).toMatchObject({ stream: 'stdout', line: 'remote: using token [REDACTED]' });
    expect(lines[3]).toMatchObject({ level: 'error', message: 'push failed: "https://x:[REDACTED]@github.com" \\ retry' });
    expect(lines[6]).toMatchObject({ status: 'failed', reason: 'build' });

    const b = (await readFile(join(dir, 'audit', 'task-b.jsonl'), 'utf8')).trimEnd().split('\n');
    expect(b).toHaveLength(1);
    // Owner-only: the trail holds prompts and tool output.
    expect((await stat(fileA)).mode & 0o777).toBe(0o600);
    expect((await stat(join(dir, 'audit'))).mode & 0o777).toBe(0o700);
  });

  it('appends to an existing trail across runs and keeps task ids inside the audit folder', async () => {
    const first = createAuditTrail({ stateDir: dir, redact });
    first(scripter('t1').status('planning'));
    await first.close();
    const second = createAuditTrail({ stateDir: dir, redact });
    second(scripter('t1').status('merged'));
    second(scripter('../../escape').status('planning'));
    await second.close();
    const lines = (await readFile(join(dir, 'audit', 't1.jsonl'), 'utf8')).trimEnd().split('\n');
    expect(lines.map((l) => (JSON.parse(l) as { status: string }).status)).toEqual(['planning', 'merged']);
    expect(second.files[1]).toBe(join(dir, 'audit', '.._.._escape.jsonl'));
  });

  it('never throws at the engine when the trail cannot be written, and reports it on close', async () => {
    const blocker = join(dir, 'not-a-dir');
    await writeFile(blocker, 'x');
    const audit = createAuditTrail({ stateDir: blocker, redact });
    expect(() => audit(scripter('t1').status('planning'))).not.toThrow();
    await expect(audit.close()).rejects.toThrow(/audit trail incomplete: cannot open audit file .*ENOTDIR/);
  });
});

describe('createJsonlStream', () => {
  it('writes the same redacted lines to a stream', async () => {
    const cap = captureStream();
    const sub = createJsonlStream({ stream: cap.stream, redact, now: fixedNow });
    const audit = createAuditTrail({ stateDir: dir, redact, now: fixedNow });
    for (const e of events()) {
      sub(e);
      audit(e);
    }
    await sub.close();
    await audit.close();
    const streamed = cap.text().trimEnd().split('\n');
    expect(streamed).toHaveLength(8);
    for (const l of streamed) expect(() => JSON.parse(l)).not.toThrow();
    expect(cap.text()).not.toContain(SECRET);
    const fromFile = (await readFile(join(dir, 'audit', 'task-a.jsonl'), 'utf8')).trimEnd().split('\n');
    expect(streamed.filter((l) => l.includes('"taskId":"task-a"'))).toEqual(fromFile);
  });
});

describe('createJsonlFile', () => {
  it('appends the same lines to a path, and to a descriptor given by its number (left open for its owner)', async () => {
    const file = join(dir, 'events.jsonl');
    await writeFile(file, '{"earlier":true}\n');
    const byPath = createJsonlFile({ target: file, redact, now: fixedNow });
    for (const e of events()) byPath(e);
    await byPath.close();
    const cap = captureStream();
    const streamed = createJsonlStream({ stream: cap.stream, redact, now: fixedNow });
    for (const e of events()) streamed(e);
    await streamed.close();
    expect(await readFile(file, 'utf8')).toBe(`{"earlier":true}\n${cap.text()}`);

    const other = join(dir, 'fd.jsonl');
    const fd = openSync(other, 'w');
    const byFd = createJsonlFile({ target: String(fd), redact, now: fixedNow });
    byFd(events()[0]);
    await byFd.close();
    closeSync(fd); // still open after close(): the descriptor belongs to whoever passed it
    expect(await readFile(other, 'utf8')).toBe(cap.text().split('\n')[0] + '\n');
  });

  it('fails at once on a descriptor that is not open or a path it cannot create', () => {
    expect(() => createJsonlFile({ target: '987', redact })).toThrow(/EBADF/);
    expect(() => createJsonlFile({ target: join(dir, 'no', 'such', 'dir.jsonl'), redact })).toThrow(/ENOENT/);
  });
});

describe('paths', () => {
  it('follows XDG variables, falls back to HOME, and ignores relative values', () => {
    expect(stateDir({ XDG_STATE_HOME: '/x/state', HOME: '/home/u' })).toBe('/x/state/autodev');
    expect(stateDir({ HOME: '/home/u' })).toBe('/home/u/.local/state/autodev');
    expect(stateDir({ XDG_STATE_HOME: 'relative', HOME: '/home/u' })).toBe('/home/u/.local/state/autodev');
    expect(cacheDir({ XDG_CACHE_HOME: '/x/cache', HOME: '/home/u' })).toBe('/x/cache/autodev');
    expect(cacheDir({ HOME: '/home/u' })).toBe('/home/u/.cache/autodev');
    expect(configDir({ XDG_CONFIG_HOME: '/x/config' })).toBe('/x/config/autodev');
    expect(configDir({ HOME: '/home/u' })).toBe('/home/u/.config/autodev');
  });
});
