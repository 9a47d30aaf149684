// Reproduce first, the pure parts: the request, the reply reader and the verdict on a run of the test
// on the base. The step that runs them is tested in tests/steps/reproduce.test.ts.
import { describe, expect, it } from '@jest/globals';
import { buildMessages } from '../../src/generate/prompt.js';
import { buildReproduceMessages, parseReproduction } from '../../src/generate/reproduce.js';
import { judgeReproduction, rejection, type RunReading } from '../../src/generate/reproduce-verdict.js';
import { editFormat } from '../../src/generate/formats/index.js';
import { ReplyFormatError } from '../../src/generate/types.js';
import { python } from '../../src/toolchains/python/index.js';
import { rust } from '../../src/toolchains/rust/index.js';
import type { Diagnostic } from '../../src/toolchains/types.js';

const TASK = { title: 'Fix add', description: 'add(2, 3) returns -1.' };

describe('parseReproduction', () => {
  it('reads the path and the fenced content', () => {
    const reply =
      'Here:\n\n## Test file\n`./tests/repro.rs`\n\n## Test\n```rust\nuse calc::add;\n#[test]\nfn t() { assert_eq!(add(2, 3), 5); }\n```\n';
    expect(parseReproduction(reply)).toEqual({
      file: 'tests/repro.rs',
      content: 'use calc::add;\n#[test]\nfn t() { assert_eq!(add(2, 3), 5); }\n',
    });
  });

  it.each([
    ['no heading', 'a test:\n```\nx\n```\n', /no "## Test file" heading/],
    ['no path', '## Test file\n\n## Test\n```\nx\n```\n', /not followed by a path/],
    ['no fence', '## Test file\ntests/a.rs\n\n## Test\nfn t() {}\n', /no fenced code block/],
    ['an empty file', '## Test file\ntests/a.rs\n## Test\n```\n\n```\n', /empty/],
    ['a path escaping the repository', '## Test file\n../x/tests/a.rs\n## Test\n```\nx\n```\n', /not a path inside the repository/],
    ['a path under .git', '## Test file\n.git/hooks/tests/a.rs\n## Test\n```\nx\n```\n', /inside a \.git directory/],
  ])('refuses %s with a reason the model can act on', (_name, reply, reason) => {
    expect(() => parseReproduction(reply)).toThrow(ReplyFormatError);
    expect(() => parseReproduction(reply)).toThrow(reason);
  });
});

describe('buildReproduceMessages', () => {
  it('asks for one failing test with the task, the test idiom and the code, and quotes a rejected try', () => {
    const messages = buildReproduceMessages({
      task: TASK,
      context: { files: [{ path: 'src/lib.rs', content: 'pub fn add() {}\n', ranges: null }] } as never,
      toolchain: { language: 'Rust', conventions: 'tests/<name>.rs' },
      previous: { file: 'tests/a.rs', content: 'fn t() {}\n', problem: 'it passes on the base' },
    });
    expect(messages.map((m) => m.role)).toEqual(['system', 'user']);
    expect(messages[0].content).toContain('FAIL there');
    const user = messages[1].content;
    expect(user).toContain('# Task\nFix add');
    expect(user).toContain('# How tests are written here (Rust)\ntests/<name>.rs');
    expect(user).toContain('## src/lib.rs');
    expect(user).toContain('It was tests/a.rs:\n```\nfn t() {}\n```');
    expect(user).toContain('Why: it passes on the base');
  });
});

describe('the codegen prompt with a reproduction', () => {
  it('shows the test, how it fails on the base, and that it must pass untouched', () => {
    const messages = buildMessages({
      task: TASK,
      context: null,
      baseline: { failingTests: [] },
      repair: null,
      format: editFormat('udiff'),
      formatError: null,
      reproduction: {
        file: 'tests/repro.rs',
        content: 'assert_eq!(add(2, 3), 5);\n',
        tests: ['tests/repro.rs::t'],
        baseFailure: 't: left: -1',
      },
    });
    const user = messages[1].content;
    expect(user).toContain('# Reproduction test: tests/repro.rs');
    expect(user).toContain('- tests/repro.rs::t\nHow it fails: t: left: -1');
    expect(user).toContain('assert_eq!(add(2, 3), 5);');
    expect(user).toContain('your change must make it pass. Do not edit, move or delete tests/repro.rs');
    const without = buildMessages({
      task: TASK,
      context: null,
      baseline: { failingTests: [] },
      repair: null,
      format: editFormat('udiff'),
      formatError: null,
    });
    expect(without[1].content).not.toContain('Reproduction');
  });
});

const error = (message: string, file: string): Diagnostic => ({
  level: 'error',
  code: 'E0432',
  message,
  file,
  line: 1,
  column: 1,
  rendered: `error: ${message}`,
});
const reading = (tests: RunReading['tests'], diagnostics: Diagnostic[] = []): RunReading => ({
  diagnostics,
  tests,
  summary: tests?.summary ?? 'failed',
});
const report = (passed: string[], failed: string[]) => ({
  passed,
  failed: failed.map((name) => ({ name, output: `${name} panicked\nleft: -1` })),
  ignored: 0,
  summary: `${passed.length} passed, ${failed.length} failed`,
});
const BASE = reading(report(['lib::tests::multiplies'], ['lib::tests::broken']));

describe('judgeReproduction', () => {
  it('keeps the new tests that ran and failed, with the first failure as the reason', () => {
    const verdict = judgeReproduction({
      file: 'tests/r.rs',
      base: BASE,
      run: reading(report(['lib::tests::multiplies', 'tests/r.rs::ok'], ['lib::tests::broken', 'tests/r.rs::sums'])),
    });
    // A test failing on the base already is not the reproduction's.
    expect(verdict).toEqual({
      kind: 'reproduces',
      tests: ['tests/r.rs::sums'],
      failure: 'tests/r.rs::sums: tests/r.rs::sums panicked',
      passing: ['tests/r.rs::ok'],
    });
  });

  it('rejects a test that does not compile, not counting errors the base has too', () => {
    const baseBroken = reading(BASE.tests, [error('old error', 'src/old.rs')]);
    const verdict = judgeReproduction({
      file: 'tests/r.rs',
      base: baseBroken,
      run: reading(null, [error('old error', 'src/old.rs'), error('unresolved import `calc::sum`', 'tests/r.rs')]),
    });
    expect(verdict.kind).toBe('does-not-compile');
    expect(verdict.kind === 'does-not-compile' && verdict.problem).toContain('unresolved import `calc::sum`');
    expect(verdict.kind === 'does-not-compile' && verdict.problem).not.toContain('old error');
    expect(rejection(verdict as never)).toBe('the test does not compile');
  });

  it('rejects a test that passes on the base', () => {
    const verdict = judgeReproduction({ file: 'tests/r.rs', base: BASE, run: reading(report(['tests/r.rs::fine'], [])) });
    expect(verdict).toEqual({ kind: 'passes', tests: ['tests/r.rs::fine'] });
  });

  it('rejects a file that died before its tests reported (a failure named after the file is no test)', () => {
    const verdict = judgeReproduction({ file: 'tests/r.rs', base: BASE, run: reading(report([], ['tests/r.rs'])) });
    expect(verdict.kind).toBe('did-not-run');
  });

  it('rejects a file from which no test ran, or a run that could not be read', () => {
    expect(judgeReproduction({ file: 'tests/r.rs', base: BASE, run: BASE }).kind).toBe('did-not-run');
    const unread = judgeReproduction({ file: 'tests/r.rs', base: BASE, run: { ...reading(null), summary: 'timed out after 900s' } });
    expect(unread).toEqual({ kind: 'did-not-run', problem: 'the test run could not be read (timed out after 900s)' });
  });
});

describe('the toolchains’ reproduction idioms', () => {
  it('narrow the test command to the one new file where the runner allows it', () => {
    const cargo = ['cargo', 'test', '--offline', '--no-fail-fast'];
    expect(rust.reproduction?.narrowToFile?.(cargo, 'tests/repro_add.rs')).toEqual([...cargo, '--test', 'repro_add']);
    // A workspace-wide command, or a file that is not an integration test of the root crate, runs whole.
    expect(rust.reproduction?.narrowToFile?.([...cargo, '--workspace'], 'tests/repro_add.rs')).toBeNull();
    expect(rust.reproduction?.narrowToFile?.(cargo, 'crates/core/tests/r.rs')).toBeNull();
    const pytest = ['sh', '-c', 'exec "$VENV/bin/python" -m pytest "$@"', 'python', '-p', 'no:cacheprovider'];
    expect(python.reproduction?.narrowToFile?.(pytest, 'tests/test_repro.py')).toEqual([...pytest, 'tests/test_repro.py']);
    expect(python.reproduction?.narrowToFile?.(['sh', '-c', 'exec python -m unittest "$@"', 'python'], 'tests/test_r.py')).toBeNull();
  });

  it('a pytest module that fails to import is not kept (pytest reports it as a failure named after the file)', () => {
    const junit = `<?xml version="1.0" encoding="utf-8"?><testsuites name="pytest tests"><testsuite name="pytest" errors="1" failures="0" skipped="0" tests="2" time="0.3"><testcase classname="" name="tests.test_repro" file="tests/test_repro.py" time="0.000"><error message="collection failure">ImportError while importing test module '/w/tests/test_repro.py'.
tests/test_repro.py:1: in &lt;module&gt;
    import nosuchmod
E   ModuleNotFoundError: No module named 'nosuchmod'</error></testcase><testcase classname="tests.test_ok" name="test_ok" file="tests/test_ok.py" line="0" time="0.001" /></testsuite></testsuites>`;
    const parsed = python.parse('pytest', { stdout: '', stderr: '', exitCode: 1, reports: [{ path: 'junit.xml', text: junit }] });
    const base = reading({ passed: ['tests/test_ok.py::test_ok'], failed: [], ignored: 0, summary: '1 passed' });
    const verdict = judgeReproduction({ file: 'tests/test_repro.py', base, run: reading(parsed.tests, parsed.diagnostics) });
    expect(verdict.kind).toBe('did-not-run');
    expect(verdict.kind === 'did-not-run' && verdict.problem).toContain("No module named 'nosuchmod'");
  });
});
