// Real cargo runs on small zero-dependency crates built in a temp dir (no network: crates.io is
// not reachable here). One CARGO_TARGET_DIR is shared by every crate of this file to keep it fast.

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import {
  diffDiagnostics,
  distillFailure,
  isRustTestFile,
  lineMapFromDiff,
  newFailures,
  parseCargoMessages,
  parseCargoTest,
  parseRustcText,
  rustTestModules,
  withChangeTestModules,
} from '../../../src/toolchains/rust/output.js';

let root: string;

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'autodev-toolchains-rust-'));
});

afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

function writeTree(dir: string, files: Record<string, string>): void {
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
}

function crate(name: string, files: Record<string, string>): string {
  const dir = join(root, name);
  writeTree(dir, { 'Cargo.toml': `[package]\nname = "${name}"\nversion = "0.1.0"\nedition = "2021"\n`, ...files });
  return dir;
}

function run(cwd: string, command: string, args: string[]): { stdout: string; stderr: string; status: number | null } {
  const result = spawnSync(command, args, {
    cwd,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
    env: {
      ...process.env,
      CARGO_TARGET_DIR: join(root, 'target'),
      CARGO_NET_OFFLINE: 'true',
      CARGO_TERM_COLOR: 'never',
      // Backtraces on, as many CI setups have them: the parser must strip them.
      RUST_BACKTRACE: '1',
    },
  });
  if (result.error) throw result.error;
  return { stdout: result.stdout, stderr: result.stderr, status: result.status };
}

const cargo = (cwd: string, ...args: string[]) => run(cwd, 'cargo', args);

describe('a crate that does not type-check', () => {
  let dir: string;
  beforeAll(() => {
    dir = crate('typeerr', {
      'src/lib.rs': 'pub fn answer() -> i32 {\n    "forty-two"\n}\n\npub fn flag() -> bool {\n    1\n}\n',
    });
  });

  it('gives the E0308 error from cargo build --message-format=json', () => {
    const build = cargo(dir, 'build', '--message-format=json');
    expect(build.status).not.toBe(0);
    const diagnostics = parseCargoMessages(build.stdout);
    expect(diagnostics).toHaveLength(2);
    expect(diagnostics[1]).toMatchObject({ code: 'E0308', line: 6 });
    expect(diagnostics[0]).toMatchObject({
      level: 'error',
      code: 'E0308',
      message: 'mismatched types',
      file: 'src/lib.rs',
      line: 2,
      column: 5,
    });
    expect(diagnostics[0].rendered).toContain('expected `i32`, found `&str`');

    const text = distillFailure('build', diagnostics);
    expect(text).toMatch(/^The build failed with 2 errors:/);
    expect(text).toContain('error[E0308]: mismatched types');
    expect(text).toContain('--> src/lib.rs:2:5');
  });

  it('reports the compile error of cargo test from its human-readable stderr', () => {
    const test = cargo(dir, 'test', '--no-fail-fast');
    expect(test.status).not.toBe(0);
    const report = parseCargoTest(test.stdout, test.stderr);
    expect(report.binaries).toBe(0);
    expect(report.failed).toEqual([]);
    expect(report.compileErrors.map((d) => [d.code, d.file, d.line])).toEqual([
      ['E0308', 'src/lib.rs', 2],
      ['E0308', 'src/lib.rs', 6],
    ]);
    expect(report.summary).toBe('did not compile: 2 errors');
    const text = distillFailure('test', report);
    expect(text).toContain('did not compile');
    expect(text).toContain('error[E0308]: mismatched types');
    expect(text).not.toContain('could not compile');
    expect(text).not.toContain('aborting');
  });
});

describe('cargo test across unit, integration and doc tests', () => {
  const libBase = [
    '/// Adds two numbers.',
    '///',
    '/// ```',
    '/// assert_eq!(tested::add(2, 2), 4);',
    '/// ```',
    'pub fn add(a: i32, b: i32) -> i32 {',
    '    a + b',
    '}',
    '',
    'pub fn double(x: i32) -> i32 {',
    '    x * 2',
    '}',
    '',
    '#[cfg(test)]',
    'mod tests {',
    '    use super::*;',
    '',
    '    #[test]',
    '    fn adds() {',
    '        assert_eq!(add(2, 3), 5);',
    '    }',
    '',
    '    #[test]',
    '    fn doubles() {',
    '        assert_eq!(double(2), 5, "double is broken on the base already");',
    '    }',
    '',
    '    #[test]',
    '    #[ignore]',
    '    fn slow() {}',
    '}',
    '',
  ].join('\n');
  // The change breaks `add` and moves the doc test two lines down.
  const libChange = libBase
    .replace('/// Adds two numbers.\n', '/// Adds two numbers.\n///\n/// Now off by one.\n')
    .replace('    a + b\n', '    a + b + 1\n');
  const integration = [
    '#[test]',
    'fn foo() {',
    '    assert_eq!(tested::add(1, 1), 2, "one and one");',
    '}',
    '',
    '#[test]',
    'fn bar() {}',
    '',
  ].join('\n');

  let dir: string;
  let base: ReturnType<typeof parseCargoTest>;
  let change: ReturnType<typeof parseCargoTest>;

  beforeAll(() => {
    dir = crate('tested', { 'src/lib.rs': libBase, 'tests/it.rs': integration });
    const first = cargo(dir, 'test', '--no-fail-fast');
    expect(first.status).not.toBe(0);
    base = parseCargoTest(first.stdout, first.stderr);
    writeFileSync(join(dir, 'src/lib.rs'), libChange);
    const second = cargo(dir, 'test', '--no-fail-fast');
    expect(second.status).not.toBe(0);
    change = parseCargoTest(second.stdout, second.stderr);
  });

  it('names tests by target on the base run', () => {
    expect(base.binaries).toBe(3);
    expect(base.compileErrors).toEqual([]);
    expect(base.failed.map((f) => f.name)).toEqual(['lib::tests::doubles']);
    expect(base.passed.sort()).toEqual(['lib::tests::adds', 'src/lib.rs - add (line 3)', 'tests/it.rs::bar', 'tests/it.rs::foo']);
    expect(base.ignored).toBe(1);
    expect(base.ignoredTests).toEqual(['lib::tests::slow']);
    expect(base.summary).toBe('4 passed, 1 failed, 1 ignored (3 test binaries)');
  });

  it('finds the failing unit, integration and doc test with their assertion output', () => {
    const byName = new Map(change.failed.map((f) => [f.name, f.output]));
    expect([...byName.keys()].sort()).toEqual(['lib::tests::adds', 'lib::tests::doubles', 'src/lib.rs - add (line 5)', 'tests/it.rs::foo']);
    expect(byName.get('lib::tests::adds')).toMatch(/assertion `left == right` failed\n\s*left: 6\n\s*right: 5/);
    expect(byName.get('lib::tests::adds')).toContain("thread 'tests::adds' panicked at src/lib.rs:");
    expect(byName.get('tests/it.rs::foo')).toMatch(/one and one\n\s*left: 3\n\s*right: 2/);
    expect(byName.get('src/lib.rs - add (line 5)')).toMatch(/left: 5\n\s*right: 4/);
    for (const output of byName.values()) {
      expect(output).not.toContain('stack backtrace');
      expect(output).not.toMatch(/^\s+\d+: /m);
      expect(output).not.toContain('RUST_BACKTRACE');
    }
    expect(change.passed).toContain('tests/it.rs::bar');
  });

  it('blames the change only for failures the base did not have, although the doc test moved', () => {
    const fresh = newFailures(base, change).map((f) => f.name);
    expect(fresh.sort()).toEqual(['lib::tests::adds', 'src/lib.rs - add (line 5)', 'tests/it.rs::foo']);
    expect(newFailures(change, change)).toEqual([]);
  });

  it('distills the new failures for the model, within the limit', () => {
    const report = { ...change, failed: newFailures(base, change) };
    const text = distillFailure('test', report);
    expect(text).toMatch(/^3 tests failed:/);
    for (const name of ['---- lib::tests::adds ----', '---- tests/it.rs::foo ----', '---- src/lib.rs - add (line 5) ----']) {
      expect(text).toContain(name);
    }
    expect(text).toContain('right: 5');
    expect(text).not.toContain('doubles');

    const small = distillFailure('test', report, { limitChars: 420 });
    expect(small.length).toBeLessThanOrEqual(420);
    expect(small).toMatch(/\[\d failing tests? not shown to stay within the limit: .*\]$/);
  });
});

describe('a failing no_run doc test', () => {
  it("counts once: rustdoc's ` - compile` suffix is dropped from the name", () => {
    const dir = crate('norun', {
      'src/lib.rs': [
        '/// Adds.',
        '///',
        '/// ```no_run',
        '/// let x: i32 = norun::add(1, 2) + "a";',
        '/// ```',
        'pub fn add(a: i32, b: i32) -> i32 {',
        '    a + b',
        '}',
        '',
        '/// Multiplies.',
        '///',
        '/// ```no_run',
        '/// let _ = norun::mul(2, 3);',
        '/// ```',
        'pub fn mul(a: i32, b: i32) -> i32 {',
        '    a * b',
        '}',
        '',
      ].join('\n'),
    });
    const result = cargo(dir, 'test', '--no-fail-fast');
    expect(result.status).not.toBe(0);
    // What rustdoc prints: the suffix on the result line, not in the failure block.
    expect(result.stdout).toContain('test src/lib.rs - add (line 3) - compile ... FAILED');
    expect(result.stdout).toContain('---- src/lib.rs - add (line 3) stdout ----');
    const report = parseCargoTest(result.stdout, result.stderr);
    expect(report.failed.map((f) => f.name)).toEqual(['src/lib.rs - add (line 3)']);
    expect(report.failed[0].output).toContain('cannot add `&str` to `i32`');
    expect(report.passed).toEqual(['src/lib.rs - mul (line 12)']);
    expect(report.summary).toBe('1 passed, 1 failed (2 test binaries)');
  });
});

describe('test code of a change', () => {
  const lib = [
    '/// Braces in docs: { and in strings do not count.',
    "pub fn f() -> &'static str {",
    "    let _c = '{';",
    '    "}"',
    '}',
    '',
    '#[cfg(test)]',
    'mod tests {',
    '    use super::*;',
    '    // a stray } in a comment',
    '    #[test]',
    '    fn t() {',
    '        assert_eq!(f(), r#"}"#);',
    '    }',
    '}',
    '',
  ].join('\n');

  it('finds inline #[cfg(test)] modules outside comments and strings', () => {
    const modules = rustTestModules(lib);
    expect(modules.map((m) => m.name)).toEqual(['tests']);
    expect(modules[0].text.startsWith('#[cfg(test)]\nmod tests {')).toBe(true);
    expect(modules[0].text.endsWith('    }\n}')).toBe(true);
    expect(rustTestModules('fn main() {}\n')).toEqual([]);
  });

  it("puts the change's test modules into the base's file and leaves its other code alone", () => {
    const base = lib;
    const change = lib.replace('    "}"', '    "fixed"').replace('fn t() {', 'fn t2() {}\n    #[test]\n    fn t() {');
    const merged = withChangeTestModules(base, change)!;
    expect(merged).toContain('    "}"\n');
    expect(merged).not.toContain('"fixed"');
    expect(merged).toContain('fn t2() {}');
    // The change touched no test code: nothing to do.
    expect(withChangeTestModules(base, lib.replace('    "}"', '    "fixed"'))).toBeNull();
    // A test module the base lacks is appended.
    const withoutTests = lib.slice(0, lib.indexOf('#[cfg(test)]'));
    expect(withChangeTestModules(withoutTests, lib)).toBe(`${withoutTests.trimEnd()}\n\n${rustTestModules(lib)[0].text}\n`);
  });

  it('tells test files from other sources', () => {
    expect(['tests/it.rs', 'crates/a/tests/x.rs', 'src/tests.rs'].every(isRustTestFile)).toBe(true);
    expect(['src/lib.rs', 'benches/b.rs', 'src/testsuite.rs', 'tests/data.json'].some(isRustTestFile)).toBe(false);
  });
});

describe('cargo test in a workspace with a crashing test binary', () => {
  it('qualifies unit tests by crate and reports the crashed binary', () => {
    const dir = join(root, 'ws');
    const pkg = (name: string) => `[package]\nname = "${name}"\nversion = "0.1.0"\nedition = "2021"\n`;
    writeTree(dir, {
      'Cargo.toml': '[workspace]\nmembers = ["alpha", "beta"]\nresolver = "2"\n',
      'alpha/Cargo.toml': pkg('alpha'),
      'alpha/src/lib.rs': [
        '/// ```compile_fail',
        '/// let x: i32 = 1;',
        '/// ```',
        'pub fn f() {}',
        '',
        '#[cfg(test)]',
        'mod tests {',
        '    #[test]',
        '    fn aborts() { std::process::abort(); }',
        '}',
        '',
      ].join('\n'),
      'beta/Cargo.toml': pkg('beta'),
      'beta/src/lib.rs': '#[cfg(test)]\nmod tests {\n    #[test]\n    fn fine() {}\n}\n',
    });
    const result = cargo(dir, 'test', '--no-fail-fast');
    expect(result.status).not.toBe(0);
    const report = parseCargoTest(result.stdout, result.stderr);
    expect(report.passed).toContain('beta/lib::tests::fine');
    const names = report.failed.map((f) => f.name);
    expect(names).toContain('alpha/lib');
    expect(names).toContain('alpha/src/lib.rs - f (line 1)');
    expect(report.failed.find((f) => f.name === 'alpha/lib')?.output).toMatch(/stopped before reporting a result: .*SIGABRT/);
    expect(report.failed.find((f) => f.name === 'alpha/src/lib.rs - f (line 1)')?.output).toContain('compile_fail');

    // The same run with both streams merged into one gives the same report.
    const merged = spawnSync('sh', ['-c', 'cargo test --no-fail-fast 2>&1'], {
      cwd: dir,
      encoding: 'utf8',
      env: { ...process.env, CARGO_TARGET_DIR: join(root, 'target'), CARGO_NET_OFFLINE: 'true', CARGO_TERM_COLOR: 'never' },
    });
    const again = parseCargoTest(merged.stdout, '');
    expect(again.failed.map((f) => f.name).sort()).toEqual([...names].sort());
    expect(again.passed.sort()).toEqual([...report.passed].sort());
  });
});

describe('clippy warnings on the base and on the change', () => {
  const base = [
    'pub fn one() -> i32 {',
    '    return 1;',
    '}',
    '',
    'pub fn has_none(v: &Vec<i32>) -> bool {',
    '    v.len() == 0',
    '}',
    '',
  ].join('\n');
  // Lines are inserted above everything, and a second needless `return` is added above the old one.
  const change = ['/// Zero.', 'pub fn zero() -> i32 {', '    0', '}', '', 'pub fn two() -> i32 {', '    return 2;', '}', '', base].join(
    '\n',
  );

  let dir: string;
  let baseDiagnostics: ReturnType<typeof parseCargoMessages>;
  let changeDiagnostics: ReturnType<typeof parseCargoMessages>;
  let diff: string;
  let baseHuman: string;
  let baseJson: string;

  beforeAll(() => {
    dir = crate('linty', { 'src/lib.rs': base });
    const git = (...args: string[]) => run(dir, 'git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args]);
    git('init', '-q');
    git('add', '-A');
    git('commit', '-qm', 'base');
    baseJson = cargo(dir, 'clippy', '--message-format=json', '--', '-W', 'clippy::all').stdout;
    baseDiagnostics = parseCargoMessages(baseJson);
    baseHuman = cargo(dir, 'clippy', '--', '-W', 'clippy::all').stderr;
    writeFileSync(join(dir, 'src/lib.rs'), change);
    diff = git('diff').stdout;
    changeDiagnostics = parseCargoMessages(cargo(dir, 'clippy', '--message-format=json', '--', '-W', 'clippy::all').stdout);
  });

  it('parses clippy lints with their names', () => {
    const codes = baseDiagnostics.map((d) => d.code).sort();
    expect(codes).toEqual(['clippy::len_zero', 'clippy::needless_return', 'clippy::ptr_arg']);
    expect(baseDiagnostics.every((d) => d.level === 'warning' && d.file === 'src/lib.rs')).toBe(true);
    expect(baseDiagnostics.find((d) => d.code === 'clippy::needless_return')).toMatchObject({ line: 2, column: 5 });
    expect(changeDiagnostics.filter((d) => d.code === 'clippy::needless_return')).toHaveLength(2);
    // The summary message ("3 warnings emitted"-style) and artifacts are not diagnostics.
    expect(baseJson).toMatch(/"reason":"compiler-artifact"/);
    expect(baseDiagnostics.some((d) => /generated|emitted/.test(d.message))).toBe(false);
  });

  it('keeps a diagnostic cargo reports twice once, and skips lines that are not JSON', () => {
    const twice = `   Compiling linty\n${baseJson}\n{not json\n${baseJson}`;
    expect(parseCargoMessages(twice)).toEqual(baseDiagnostics);
  });

  it('recovers the same lints from the human rendering', () => {
    const human = parseRustcText(baseHuman);
    expect(human.map((d) => [d.code, d.line]).sort()).toEqual(baseDiagnostics.map((d) => [d.code, d.line]).sort());
  });

  it('reports only the warning the change added, although the patch moved every line', () => {
    // Matching on lines would blame the change for all of the base's warnings.
    const baseLines = new Set(baseDiagnostics.map((d) => `${d.code}:${d.line}`));
    expect(changeDiagnostics.filter((d) => !baseLines.has(`${d.code}:${d.line}`)).length).toBe(changeDiagnostics.length);

    const added = diffDiagnostics(baseDiagnostics, changeDiagnostics, lineMapFromDiff(diff));
    expect(added).toHaveLength(1);
    expect(added[0]).toMatchObject({ code: 'clippy::needless_return', file: 'src/lib.rs', line: 7 });
    expect(added[0].rendered).toContain('return 2;');

    // Without the diff the surplus is still found; which of the twins is reported is then a guess.
    const counted = diffDiagnostics(baseDiagnostics, changeDiagnostics);
    expect(counted.map((d) => d.code)).toEqual(['clippy::needless_return']);

    const text = distillFailure('lint', added);
    expect(text).toMatch(/^The linter reported 1 warning:/);
    expect(text).toContain('unneeded `return` statement');
    expect(text).not.toContain('ptr_arg');
  });
});
