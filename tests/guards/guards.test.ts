// The guards on diffs git itself makes (before/after trees), one kind and one language at a time,
// and the changes that must not trip them (a fix, a moved assertion, a renamed variable).
import { afterAll, describe, expect, it } from '@jest/globals';
import { checkGuards, groupFindings, type GuardFinding } from '../../src/guards/index.js';
import { TOOLCHAINS } from '../../src/toolchains/registry.js';
import { cleanup } from '../support/fixture-repo.js';
import { makePatch, type Tree } from '../real/fixtures.js';

afterAll(cleanup);

const OPTIONS = {
  isTestFile: (file: string) => TOOLCHAINS.some((t) => t.isTestFile(file)),
  lockfiles: TOOLCHAINS.flatMap((t) => t.context.lockfiles),
};

async function guards(before: Tree, after: Record<string, string | null>): Promise<GuardFinding[]> {
  const present = Object.fromEntries(Object.entries(after).filter(([, v]) => v !== null)) as Tree;
  let diff = await makePatch(before, present);
  // makePatch only writes files; a deletion is spelled out as git would.
  for (const [file, text] of Object.entries(after)) {
    if (text !== null) continue;
    const lines = before[file].replace(/\n$/, '').split('\n');
    diff += [
      `diff --git a/${file} b/${file}`,
      'deleted file mode 100644',
      `--- a/${file}`,
      '+++ /dev/null',
      `@@ -1,${lines.length} +0,0 @@`,
      ...lines.map((l) => `-${l}`),
      '',
    ].join('\n');
  }
  return checkGuards(diff, OPTIONS);
}

const codes = (findings: GuardFinding[]) => findings.map((f) => f.code);

const RUST = `pub fn add(a: i32, b: i32) -> i32 {
    a - b
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adds() {
        assert_eq!(add(2, 2), 4);
    }

    #[test]
    fn adds_negative() {
        assert_eq!(add(-1, -1), -2);
    }
}
`;

describe('guards: Rust', () => {
  it('a fix of the code alone finds nothing', async () => {
    expect(await guards({ 'src/lib.rs': RUST }, { 'src/lib.rs': RUST.replace('a - b', 'a + b') })).toEqual([]);
  });

  it('a deleted #[test] is test_deleted, at its old line', async () => {
    const after = RUST.replace(/\n    #\[test\]\n    fn adds_negative[\s\S]*?\n    }\n/, '\n');
    const found = await guards({ 'src/lib.rs': RUST }, { 'src/lib.rs': after });
    expect(codes(found)).toEqual(['test_deleted', 'assertion_weakened']);
    expect(found[0]).toMatchObject({ file: 'src/lib.rs', line: 14 });
  });

  it('#[ignore] is test_skipped; #[allow(...)] is lint_relaxed', async () => {
    const after = RUST.replace('    #[test]\n    fn adds()', '    #[test]\n    #[ignore]\n    fn adds()').replace(
      'pub fn add',
      '#[allow(clippy::all)]\npub fn add',
    );
    const found = await guards({ 'src/lib.rs': RUST }, { 'src/lib.rs': after });
    expect(codes(found).sort()).toEqual(['lint_relaxed', 'test_skipped']);
    expect(found.find((f) => f.code === 'test_skipped')?.message).toMatch(/#\[ignore\]/);
  });

  it('assert_eq! replaced by assert!(true) is a loosened assertion', async () => {
    const after = RUST.replace('assert_eq!(add(2, 2), 4);', 'assert!(true);');
    const found = await guards({ 'src/lib.rs': RUST }, { 'src/lib.rs': after });
    expect(found).toEqual([expect.objectContaining({ code: 'assertion_weakened', message: expect.stringMatching(/loosened/) })]);
  });

  it('a widened tolerance is assertion_weakened', async () => {
    const before = 'fn t() {\n    assert!((x - 1.0).abs() < 1e-9);\n}\n';
    const after = 'fn t() {\n    assert!((x - 1.0).abs() < 1e-3);\n}\n';
    const found = await guards({ 'src/m.rs': before }, { 'src/m.rs': after });
    expect(found).toEqual([expect.objectContaining({ code: 'assertion_weakened', message: expect.stringMatching(/tolerance widened/) })]);
    // Narrowed: nothing.
    expect(await guards({ 'src/m.rs': after }, { 'src/m.rs': before })).toEqual([]);
  });

  it('Cargo.lock is lockfile_changed; [lints] in Cargo.toml is lint_relaxed; .cargo/config.toml is registry_changed', async () => {
    const found = await guards(
      { 'Cargo.toml': '[package]\nname = "a"\n', 'Cargo.lock': 'version = 3\n' },
      {
        'Cargo.toml': '[package]\nname = "a"\n\n[lints.rust]\nunused = "allow"\n',
        'Cargo.lock': 'version = 4\n',
        '.cargo/config.toml': '[source.crates-io]\nreplace-with = "mirror"\n',
      },
    );
    expect(codes(found).sort()).toEqual(['lint_relaxed', 'lockfile_changed', 'registry_changed']);
  });
});

describe('guards: Python', () => {
  const TEST =
    'from calc import add\n\n\ndef test_adds():\n    assert add(2, 2) == 4\n\n\ndef test_negative():\n    assert add(-1, -1) == -2\n';

  it('a removed test function is test_deleted by name', async () => {
    const found = await guards(
      { 'tests/test_calc.py': TEST },
      { 'tests/test_calc.py': TEST.replace(/\n\ndef test_negative[\s\S]*$/, '\n') },
    );
    expect(found.find((f) => f.code === 'test_deleted')?.message).toBe('test test_negative removed');
    expect(codes(found)).toContain('assertion_weakened');
  });

  it('a deleted test file is one test_deleted for the file', async () => {
    const found = await guards({ 'tests/test_calc.py': TEST, 'calc.py': 'x = 1\n' }, { 'tests/test_calc.py': null });
    expect(found).toEqual([
      { code: 'test_deleted', file: 'tests/test_calc.py', line: null, message: 'test file tests/test_calc.py deleted' },
    ]);
  });

  it('@pytest.mark.skip is test_skipped; # noqa and # type: ignore are lint_relaxed', async () => {
    const after = TEST.replace('def test_adds', '@pytest.mark.skip(reason="later")\ndef test_adds').replace(
      'from calc import add',
      'from calc import add  # noqa: F401\nimport os  # type: ignore',
    );
    const found = await guards({ 'tests/test_calc.py': TEST }, { 'tests/test_calc.py': after });
    expect(codes(found).sort()).toEqual(['lint_relaxed', 'lint_relaxed', 'test_skipped']);
  });

  it('pytest.approx with a larger rel is a widened tolerance', async () => {
    const before = 'def test_pi():\n    assert area(1) == pytest.approx(3.14159, rel=1e-6)\n';
    const found = await guards({ 'tests/test_a.py': before }, { 'tests/test_a.py': before.replace('rel=1e-6', 'rel=0.1') });
    expect(codes(found)).toEqual(['assertion_weakened']);
  });

  it('poetry.lock and an extra index-url in pip.conf are caught', async () => {
    const found = await guards({ 'poetry.lock': 'a\n' }, { 'poetry.lock': 'b\n', 'pip.conf': '[global]\nextra-index-url = http://evil\n' });
    expect(codes(found).sort()).toEqual(['lockfile_changed', 'registry_changed']);
  });
});

describe('guards: JavaScript and TypeScript', () => {
  const SPEC =
    "import { add } from '../src/add';\n\ntest('adds', () => {\n  expect(add(2, 2)).toBe(4);\n});\n\nit('adds negatives', () => {\n  expect(add(-1, -1)).toBe(-2);\n});\n";

  it('.skip and xit are test_skipped, not deleted', async () => {
    // The skip modifiers are the change under test; spelled in parts so that a scan of this suite for
    // skipped tests left behind does not take this fixture for one.
    const [skipTest, skipIt] = [['test', 'skip'].join('.'), ['x', 'it'].join('')];
    const after = SPEC.replace("test('adds'", `${skipTest}('adds'`).replace("it('adds negatives'", `${skipIt}('adds negatives'`);
    const found = await guards({ 'test/add.test.ts': SPEC }, { 'test/add.test.ts': after });
    expect(codes(found)).toEqual(['test_skipped', 'test_skipped']);
  });

  it('toBe(4) loosened to toBeDefined() is assertion_weakened; eslint-disable and @ts-ignore are lint_relaxed', async () => {
    const after = SPEC.replace(
      'expect(add(2, 2)).toBe(4);',
      '// eslint-disable-next-line\n  // @ts-ignore\n  expect(add(2, 2)).toBeDefined();',
    );
    const found = await guards({ 'test/add.test.ts': SPEC }, { 'test/add.test.ts': after });
    expect(codes(found).sort()).toEqual(['assertion_weakened', 'lint_relaxed', 'lint_relaxed']);
  });

  it('a removed expect is assertion_weakened; a deleted test() is test_deleted', async () => {
    const after = SPEC.replace(/\nit\('adds negatives'[\s\S]*$/, '');
    const found = await guards({ 'test/add.test.ts': SPEC }, { 'test/add.test.ts': after });
    expect(codes(found)).toEqual(['test_deleted', 'assertion_weakened']);
    expect(found[0].message).toBe('test adds negatives removed');
  });

  it('eslint config, tsconfig, .npmrc and package-lock.json are caught; a renamed variable is not', async () => {
    const found = await guards(
      {
        'eslint.config.js': 'export default [];\n',
        'tsconfig.json': '{ "strict": true }\n',
        'package-lock.json': '{}\n',
        'src/a.ts': 'const a = 1;\n',
      },
      {
        'eslint.config.js': 'export default [{ rules: {} }];\n',
        'tsconfig.json': '{ "strict": false }\n',
        'package-lock.json': '{ "x": 1 }\n',
        '.npmrc': 'registry=http://evil/\n',
        'src/a.ts': 'const b = 1;\n',
      },
    );
    expect(codes(found).sort()).toEqual(['lint_relaxed', 'lint_relaxed', 'lockfile_changed', 'registry_changed']);
  });
});

describe('guards: Go', () => {
  const TEST = 'package calc\n\nimport "testing"\n\nfunc TestAdd(t *testing.T) {\n\tif Add(2, 2) != 4 {\n\t\tt.Fatal("wrong")\n\t}\n}\n';

  it('t.Skip is test_skipped; a removed TestX is test_deleted; //nolint is lint_relaxed; go.sum is a lockfile', async () => {
    const skipped = await guards({ 'calc_test.go': TEST }, { 'calc_test.go': TEST.replace('{\n\tif', '{\n\tt.Skip("flaky")\n\tif') });
    expect(codes(skipped)).toEqual(['test_skipped']);
    const deleted = await guards({ 'calc_test.go': TEST }, { 'calc_test.go': 'package calc\n' });
    expect(codes(deleted)).toEqual(['test_deleted', 'assertion_weakened']);
    expect(deleted[0].message).toBe('test TestAdd removed');
    const quiet = await guards(
      { 'calc.go': 'package calc\n\nfunc Add(a, b int) int { return a - b }\n', 'go.sum': 'x\n' },
      {
        'calc.go': 'package calc\n\nfunc Add(a, b int) int { return a + b } //nolint:all\n',
        'go.sum': 'y\n',
      },
    );
    expect(codes(quiet).sort()).toEqual(['lint_relaxed', 'lockfile_changed']);
  });
});

describe('guards: Java', () => {
  const TEST = 'class CalcTest {\n    @Test\n    void adds() {\n        assertEquals(4, Calc.add(2, 2));\n    }\n}\n';

  it('@Disabled is test_skipped; assertEquals → assertNotNull is loosened; @SuppressWarnings is lint_relaxed', async () => {
    const after = TEST.replace('    @Test\n', '    @Test\n    @Disabled\n')
      .replace('assertEquals(4, Calc.add(2, 2));', 'assertNotNull(Calc.add(2, 2));')
      .replace('class CalcTest', '@SuppressWarnings("all")\nclass CalcTest');
    const found = await guards({ 'src/test/java/CalcTest.java': TEST }, { 'src/test/java/CalcTest.java': after });
    expect(codes(found).sort()).toEqual(['assertion_weakened', 'lint_relaxed', 'test_skipped']);
  });
});

describe('guards: scope', () => {
  it('a workflow edit is ci_changed; findings group by code in a stable order', async () => {
    const found = await guards(
      { '.github/workflows/ci.yml': 'on: push\n', 'Cargo.lock': 'a\n' },
      { '.github/workflows/ci.yml': 'on: pull_request\n', 'Cargo.lock': 'b\n' },
    );
    expect(groupFindings(found).map((g) => g.code)).toEqual(['ci_changed', 'lockfile_changed']);
  });

  it('an unreadable diff finds nothing rather than throwing', () => {
    expect(checkGuards('@@ garbage', OPTIONS)).toEqual([]);
  });
});
