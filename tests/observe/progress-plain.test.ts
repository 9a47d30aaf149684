import { describe, expect, it } from '@jest/globals';
import { createPlainProgress, escapeControls, formatPlainEvent, shouldUsePlain } from '../../src/observe/progress-plain.js';
import { captureStream, scripter } from './helpers.js';

// ESC, CSI and other C0 controls: none may reach a plain log.
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f\u009b]/;

describe('createPlainProgress', () => {
  function run(verbose: boolean): string[] {
    const s = scripter('t1');
    const events = [
      s.status('planning'),
      s.status('executing'),
      s.started('clone'),
      s.output('clone', "Cloning into '/tmp/ws'..."),
      s.finished('clone', 'ok', 1234, { summary: 'cloned acme/widgets at 1a2b3c4' }),
      s.started('build', { mode: 'baseline' }),
      s.finished('build', 'ok', 420, { mode: 'baseline' }),
      s.log('debug', 'prompt has 12 files'),
      s.started('codegen'),
      s.usage(1200, 300, 0.0123),
      s.finished('codegen', 'ok', 65_000, { summary: 'patch touches 2 files' }),
      s.started('build'),
      s.output('build', '\u001b[1m\u001b[31merror[E0308]\u001b[0m: mismatched types\r'),
      s.finished('build', 'failed', 2500, { summary: 'error[E0308]: mismatched types\n  --> src/lib.rs:3:5' }),
      s.repair(1, 2, 'build', 'error[E0308]: mismatched types\n  --> src/lib.rs:3:5'),
      s.started('codegen', { round: 1 }),
      s.finished('codegen', 'ok', 3000, { round: 1 }),
      s.started('pr'),
      s.finished('pr', 'failed', 800, { summary: 'HTTP 502' }),
      s.retry('pr', 2, 1000, 'HTTP 502 Bad Gateway'),
      s.started('pr', { attempt: 2 }),
      s.finished('pr', 'ok', 900, { attempt: 2, summary: 'opened #7' }),
      s.log('warn', 'token sk-live-abc123 expires soon'),
      s.status('denied', 'high_risk_needs_review,secrets_found'),
    ];
    const cap = captureStream();
    const sub = createPlainProgress({ stream: cap.stream, verbose, redact: (x) => x.replaceAll('sk-live-abc123', '[REDACTED]') });
    for (const e of events) sub(e);
    return cap.text().split('\n').slice(0, -1);
  }

  it('prints one exact line per step start/finish, retry, repair round, status and log', async () => {
    expect(run(false)).toEqual([
      'task t1: planning',
      'task t1: executing',
      'clone [change, round 0, attempt 1]: started',
      'clone [change, round 0, attempt 1]: ok in 1.2s: cloned acme/widgets at 1a2b3c4',
      'build [baseline, round 0, attempt 1]: started',
      'build [baseline, round 0, attempt 1]: ran in 420ms',
      'codegen [change, round 0, attempt 1]: started',
      'codegen [change, round 0, attempt 1]: ok in 1m05s: patch touches 2 files',
      'build [change, round 0, attempt 1]: started',
      'build [change, round 0, attempt 1]: failed in 2.5s: error[E0308]: mismatched types',
      'repair: build failed; starting repair round 1 of 2: error[E0308]: mismatched types',
      'codegen [change, round 1, attempt 1]: started',
      'codegen [change, round 1, attempt 1]: ok in 3.0s',
      'pr [change, round 0, attempt 1]: started',
      'pr [change, round 0, attempt 1]: failed in 800ms: HTTP 502',
      'pr: retrying (attempt 2) in 1.0s: HTTP 502 Bad Gateway',
      'pr [change, round 0, attempt 2]: started',
      'pr [change, round 0, attempt 2]: ok in 900ms: opened #7',
      'warn: token [REDACTED] expires soon',
      'task t1: denied (high_risk_needs_review,secrets_found)',
    ]);
  });

  it('adds debug logs, tool output and LLM usage when verbose, still without control characters', () => {
    const lines = run(true);
    expect(lines).toContain("  clone | Cloning into '/tmp/ws'...");
    expect(lines).toContain('  build | error[E0308]: mismatched types');
    expect(lines).toContain('debug: prompt has 12 files');
    expect(lines).toContain('llm: 1200 prompt + 300 completion tokens, $0.0123');
    expect(lines).toHaveLength(24);
    for (const line of lines) expect(line).not.toMatch(CONTROL);
  });

  it('says what a base with failing tests is, rather than "ok"', () => {
    const s = scripter('t1');
    const line = formatPlainEvent(
      s.finished('test', 'ok', 307, { mode: 'baseline', summary: 'base: 1 test failing (lib::tests::adds); 1 passed, 1 failed' }),
      false,
    );
    expect(line).toBe('test [baseline, round 0, attempt 1]: ran in 307ms: base: 1 test failing (lib::tests::adds); 1 passed, 1 failed');
    // A change run keeps its verdict.
    expect(formatPlainEvent(s.finished('test', 'ok', 307, { summary: '2 passed' }), false)).toBe(
      'test [change, round 0, attempt 1]: ok in 307ms: 2 passed',
    );
  });

  it('shows the error a repair round is about, not a header ending in a colon', () => {
    const s = scripter('t1');
    const feedback =
      'The build failed with 1 error:\n\nerror[E0308]: mismatched types\n --> src/lib.rs:5:5\n  |\n5 |     (a as i64) + (b as i64)\n';
    expect(formatPlainEvent(s.repair(1, 2, 'build', feedback), false)).toBe(
      'repair: build failed; starting repair round 1 of 2: The build failed with 1 error: error[E0308]: mismatched types',
    );
  });

  it('stops writing, without throwing, once the stream is gone', async () => {
    const cap = captureStream();
    const sub = createPlainProgress({ stream: cap.stream });
    cap.stream.destroy();
    const s = scripter();
    expect(() => {
      sub(s.status('planning'));
      sub(s.status('executing'));
    }).not.toThrow();
    await expect(sub.close()).resolves.toBeUndefined();
  });
});

describe('shouldUsePlain', () => {
  it.each([
    [{ isTTY: false, env: {} }, true],
    [{ isTTY: undefined, env: {} }, true],
    [{ isTTY: true, env: {} }, false],
    [{ isTTY: true, env: { CI: 'true' } }, true],
    [{ isTTY: true, env: { CI: '1' } }, true],
    [{ isTTY: true, env: { CI: 'false' } }, false],
    [{ isTTY: true, env: { NO_COLOR: '1' } }, true],
    [{ isTTY: true, env: { NO_COLOR: '' } }, false],
    [{ isTTY: true, env: { TERM: 'dumb' } }, true],
    [{ isTTY: true, env: { TERM: 'xterm-256color' } }, false],
  ])('%j → %s', (input, expected) => {
    expect(shouldUsePlain(input)).toBe(expected);
  });
});

describe('escapeControls', () => {
  it('makes newlines, escapes, C1 controls, line separators and bidi overrides visible', () => {
    expect(escapeControls('a\ntask FAKE: pr_created')).toBe('a\\ntask FAKE: pr_created');
    expect(escapeControls('\u001b[31mred\r')).toBe('\\x1b[31mred\\r');
    expect(escapeControls('x\u009b2Ky\u2028z\u202eevil')).toBe('x\\x9b2Ky\\u2028z\\u202eevil');
    expect(escapeControls('tab\tand ünïcode stay')).toBe('tab\tand ünïcode stay');
  });

  it('keeps a value that tries to forge a line on the one line of plain progress', () => {
    const s = scripter('t1');
    const cap = captureStream();
    const sub = createPlainProgress({ stream: cap.stream });
    // U+2028 and NEL (U+0085) end a line for many log viewers.
    sub(s.log('warn', 'real\u2028task FAKE: pr_created\u0085task FAKE: merged'));
    sub(s.status('failed', 'boom\ntask FAKE: pr_created'));
    const out = cap.text().split('\n').slice(0, -1);
    expect(out).toHaveLength(2);
    expect(out.every((line) => !line.startsWith('task FAKE'))).toBe(true);
    expect(out[0]).toBe('warn: real\\u2028task FAKE: pr_created\\x85task FAKE: merged');
  });
});
