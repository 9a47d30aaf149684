import { describe, expect, it } from '@jest/globals';
import {
  compareTestRuns,
  diffDiagnostics,
  lineMapFromDiff,
  newFailures,
  sameFailure,
  stableTestName,
} from '../../src/toolchains/compare.js';
import { distillFailure } from '../../src/toolchains/distill.js';
import type { Diagnostic } from '../../src/toolchains/types.js';

function warning(file: string, line: number, code = 'clippy::needless_return', message = 'unneeded `return` statement'): Diagnostic {
  return { level: 'warning', code, message, file, line, column: 5, rendered: `warning: ${message}\n  --> ${file}:${line}:5` };
}

const DIFF = `diff --git a/src/lib.rs b/src/lib.rs
index 1111111..2222222 100644
--- a/src/lib.rs
+++ b/src/lib.rs
@@ -1,3 +1,5 @@
+// one
+// two
 fn a() {
     return 1;
 }
@@ -10,4 +12,3 @@ fn b() {
 fn c() {
-    let x = 1;
-    x
+    1
 }
diff --git a/old.rs b/new.rs
similarity index 90%
rename from old.rs
rename to new.rs
--- a/old.rs
+++ b/new.rs
@@ -2,0 +3 @@
+    return 3;
diff --git a/fresh.rs b/fresh.rs
new file mode 100644
--- /dev/null
+++ b/fresh.rs
@@ -0,0 +1,2 @@
+fn f() {
+}
`;

describe('lineMapFromDiff', () => {
  const map = lineMapFromDiff(DIFF);

  it('maps lines through hunks, added lines to null', () => {
    expect(map('src/lib.rs', 1)).toBeNull();
    expect(map('src/lib.rs', 3)).toEqual({ file: 'src/lib.rs', line: 1 });
    expect(map('src/lib.rs', 5)).toEqual({ file: 'src/lib.rs', line: 3 });
    expect(map('src/lib.rs', 8)).toEqual({ file: 'src/lib.rs', line: 6 });
    expect(map('src/lib.rs', 12)).toEqual({ file: 'src/lib.rs', line: 10 });
    expect(map('src/lib.rs', 13)).toBeNull();
    expect(map('src/lib.rs', 14)).toEqual({ file: 'src/lib.rs', line: 13 });
    expect(map('src/lib.rs', 20)).toEqual({ file: 'src/lib.rs', line: 19 });
  });

  it('follows renames and new files, and leaves untouched files alone', () => {
    expect(map('new.rs', 1)).toEqual({ file: 'old.rs', line: 1 });
    expect(map('new.rs', 3)).toBeNull();
    expect(map('new.rs', 4)).toEqual({ file: 'old.rs', line: 3 });
    expect(map('fresh.rs', 1)).toBeNull();
    expect(map('other.rs', 7)).toEqual({ file: 'other.rs', line: 7 });
  });
});

describe('diffDiagnostics', () => {
  it('pairs twins through the line map and reports the one on an added line', () => {
    const base = [warning('old.rs', 2)];
    const change = [warning('new.rs', 2), warning('new.rs', 3)];
    const added = diffDiagnostics(base, change, lineMapFromDiff(DIFF));
    expect(added).toEqual([change[1]]);
  });

  it('ignores line numbers without a map but tells messages, codes and levels apart', () => {
    const base = [warning('a.rs', 1), warning('a.rs', 9, 'clippy::len_zero', 'length comparison to zero')];
    const change = [
      warning('a.rs', 30),
      warning('a.rs', 40, 'clippy::len_zero', 'length comparison to zero'),
      warning('a.rs', 41, 'clippy::len_zero', 'length comparison to one'),
      { ...warning('a.rs', 50), level: 'error' as const },
    ];
    expect(diffDiagnostics(base, change).map((d) => d.line)).toEqual([41, 50]);
    expect(diffDiagnostics(change, change)).toEqual([]);
  });
});

describe('newFailures', () => {
  it('compares by name, ignoring the line of doc tests', () => {
    const base = [
      { name: 'src/lib.rs - add (line 3)', output: '' },
      { name: 'lib::tests::a', output: '' },
    ];
    const change = [
      { name: 'src/lib.rs - add (line 7)', output: '' },
      { name: 'lib::tests::a', output: '' },
      { name: 'lib::tests::b', output: 'x' },
    ];
    expect(newFailures(base, change)).toEqual([{ name: 'lib::tests::b', output: 'x' }]);
    expect(stableTestName('src/lib.rs - add (line 7)')).toBe('src/lib.rs - add');
  });
});

describe('distillFailure', () => {
  it('puts errors before warnings and shows only errors for a failed build', () => {
    const error: Diagnostic = {
      level: 'error',
      code: 'E0308',
      message: 'mismatched types',
      file: 'a.rs',
      line: 1,
      column: 1,
      rendered: 'error[E0308]: mismatched types',
    };
    const lint = distillFailure('lint', [warning('a.rs', 2), error]);
    expect(lint.indexOf('error[E0308]')).toBeLessThan(lint.indexOf('warning: unneeded'));
    expect(lint).toMatch(/^The linter reported 1 error and 1 warning:/);
    const build = distillFailure('build', [warning('a.rs', 2), error]);
    expect(build).toContain('error[E0308]');
    expect(build).not.toContain('warning: unneeded');
  });

  it('cuts a huge output in the middle and names what did not fit', () => {
    const huge = `thread 'x' panicked\n${'noise\n'.repeat(5000)}left: 1\nright: 2`;
    const failed = [
      { name: 'lib::big', output: huge },
      ...Array.from({ length: 10 }, (_, i) => ({ name: `lib::t${i}`, output: 'x'.repeat(500) })),
    ];
    const text = distillFailure('test', { passed: [], failed, ignored: 0, summary: '' }, { limitChars: 3000 });
    expect(text.length).toBeLessThanOrEqual(3000);
    expect(text).toContain("thread 'x' panicked");
    expect(text).toContain('right: 2');
    expect(text).toMatch(/\[\.\.\. \d+ characters cut \.\.\.\]/);
    expect(text).toMatch(/\[\d+ failing tests not shown to stay within the limit: .*lib::t9\]$/);
  });

  it('says so when a test command failed without a recognizable failure', () => {
    expect(distillFailure('test', { passed: [], failed: [], ignored: 0, summary: '0 passed, 0 failed' })).toContain(
      'no failing test was identified',
    );
  });
});

describe('compareTestRuns', () => {
  const base = {
    passed: ['lib::tests::multiplies', 'src/lib.rs - add (line 3)'],
    failed: [
      {
        name: 'lib::tests::adds',
        output: "thread 'tests::adds' panicked at src/lib.rs:20:9:\nassertion `left == right` failed\n  left: 0\n right: 4",
      },
      { name: 'lib::tests::old', output: 'panicked at src/lib.rs:30:9:\nold failure' },
      { name: 'lib::tests::removed', output: 'x' },
    ],
  };

  it('a base failure that passes is fixed; one that no longer runs is gone, as is a passing test that stopped running', () => {
    const result = compareTestRuns(base, {
      passed: ['lib::tests::adds', 'src/lib.rs - add (line 5)'],
      failed: [{ name: 'lib::tests::old', output: 'panicked at src/lib.rs:31:9:\nold failure' }],
    });
    expect(result.fixed).toEqual(['lib::tests::adds']);
    expect(result.gone).toEqual(['lib::tests::removed', 'lib::tests::multiplies']);
    // Only the location moved: the same failure.
    expect(result.stillFailing).toEqual(['lib::tests::old']);
    expect(result.changedFailures).toEqual([]);
  });

  it('a base failure that fails differently is a changed failure', () => {
    const output = "thread 'tests::adds' panicked at src/lib.rs:20:9:\nassertion `left == right` failed\n  left: 5\n right: 4";
    const result = compareTestRuns(base, {
      passed: [...base.passed],
      failed: [{ name: 'lib::tests::adds', output }, ...base.failed.slice(1)],
    });
    expect(result.changedFailures).toEqual([{ name: 'lib::tests::adds', base: base.failed[0].output, change: output }]);
    expect(result.fixed).toEqual([]);
    expect(result.gone).toEqual([]);
  });

  it('sameFailure ignores what moves or varies run to run, not the values', () => {
    expect(sameFailure('at a.js:10:5 took 12ms at 0x7ffd12', 'at a.js:11:7 took 3.5 s at 0x1')).toBe(true);
    expect(sameFailure('  > 9 |     expect(sum(1)).toBe(2);\n    |     ^', '  > 12 |     expect(sum(1)).toBe(2);\n    |     ^')).toBe(true);
    expect(sameFailure('left: 0', 'left: 5')).toBe(false);
  });
});
