// Python's parsers on output of real runs: pytest's JUnit XML (xunit1, node ids with classes and
// parameters, a module that fails to import), `python -m unittest -v` (subtests, skips, errors),
// compileall and the import check of the build; ruff, flake8 and mypy lines as those tools print
// them (captured from ruff 0.17, flake8 7 and mypy 2.4, which are not on every machine).
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execa } from 'execa';
import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { python } from '../../../src/toolchains/python/index.js';
import { isPythonTestFile, parsePythonBuild, parsePythonLint, parseUnittest } from '../../../src/toolchains/python/output.js';

let dir = '';

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'autodev-python-out-'));
  await mkdir(path.join(dir, 'src', 'calc'), { recursive: true });
  await mkdir(path.join(dir, 'tests'));
  await writeFile(path.join(dir, 'tests', '__init__.py'), '');
  await writeFile(path.join(dir, 'src', 'calc', '__init__.py'), 'def add(a, b):\n    return a + b\n\ndef sub(a, b):\n    return a + b\n');
  await writeFile(
    path.join(dir, 'tests', 'test_calc.py'),
    [
      'import pytest',
      'from calc import add, sub',
      'class TestOps:',
      '    def test_add(self):',
      '        assert add(1, 2) == 3',
      '    @pytest.mark.parametrize("a,b,c", [(3, 1, 2), (5, 5, 0)])',
      '    def test_sub(self, a, b, c):',
      '        assert sub(a, b) == c',
      'def test_err():',
      '    raise ValueError("boom")',
      '@pytest.mark.skip(reason="later")',
      'def test_skip():',
      '    pass',
      '',
    ].join('\n'),
  );
  await writeFile(path.join(dir, 'tests', 'test_broken.py'), 'from calc import missing\n');
}, 60_000);

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function python3(args: string[], env: Record<string, string> = {}) {
  return execa('python3', args, {
    cwd: dir,
    reject: false,
    env: { PYTHONPATH: path.join(dir, 'src'), PYTHONDONTWRITEBYTECODE: '1', ...env },
  });
}

describe('pytest JUnit XML', () => {
  it('names tests by pytest node id, parameters and classes kept, and a module that fails to import by its file', async () => {
    const reports = path.join(dir, 'reports');
    await mkdir(reports, { recursive: true });
    const run = await python3([
      '-m',
      'pytest',
      '-p',
      'no:cacheprovider',
      '--continue-on-collection-errors',
      '-o',
      'junit_family=xunit1',
      `--junitxml=${reports}/junit.xml`,
    ]);
    expect(run.exitCode).toBe(1);
    const text = await readFile(path.join(reports, 'junit.xml'), 'utf8');
    const { tests, diagnostics } = python.parse('pytest', {
      stdout: run.stdout,
      stderr: run.stderr,
      exitCode: run.exitCode ?? null,
      reports: [{ path: 'junit.xml', text }],
    });
    expect(diagnostics).toEqual([]);
    expect(tests!.passed).toEqual(['tests/test_calc.py::TestOps::test_add']);
    expect(tests!.failed.map((f) => f.name).sort()).toEqual([
      'tests/test_broken.py',
      'tests/test_calc.py::TestOps::test_sub[3-1-2]',
      'tests/test_calc.py::TestOps::test_sub[5-5-0]',
      'tests/test_calc.py::test_err',
    ]);
    expect(tests!.ignoredTests).toEqual(['tests/test_calc.py::test_skip']);
    const sub = tests!.failed.find((f) => f.name.endsWith('[3-1-2]'))!;
    expect(sub.output).toContain('assert 4 == 2');
    const broken = tests!.failed.find((f) => f.name === 'tests/test_broken.py')!;
    expect(broken.output).toContain("ImportError: cannot import name 'missing'");
    // pytest's and importlib's own frames are dropped.
    expect(broken.output).not.toMatch(/_pytest|importlib/);
    expect(tests!.summary).toBe('1 passed, 4 failed, 1 ignored');
  }, 60_000);

  it('without a report (pytest never started) reads the output instead of inventing results', () => {
    const { tests } = python.parse('pytest', { stdout: '', stderr: 'ERROR: usage: pytest [options]', exitCode: 4, reports: [] });
    expect(tests).toBeNull();
  });
});

describe('unittest -v', () => {
  it('reads passes, failures, errors, skips and failed subtests from a real run', async () => {
    await writeFile(
      path.join(dir, 'tests', 'test_unit.py'),
      [
        'import unittest',
        'class TestK(unittest.TestCase):',
        '    def test_ok(self):',
        '        self.assertEqual(1, 1)',
        '    def test_doc(self):',
        '        """Has a docstring."""',
        '    def test_fail(self):',
        '        self.assertEqual(1, 2, "numbers differ")',
        '    def test_error(self):',
        '        raise KeyError("x")',
        '    @unittest.skip("not now")',
        '    def test_skip(self):',
        '        pass',
        '    def test_sub(self):',
        '        for i in range(2):',
        '            with self.subTest(i=i):',
        '                self.assertEqual(i, 0)',
        '',
      ].join('\n'),
    );
    const run = await python3(['-m', 'unittest', 'discover', '-v', '-s', 'tests', '-t', '.', '-p', 'test_unit.py']);
    expect(run.exitCode).toBe(1);
    const report = parseUnittest(`${run.stdout}\n${run.stderr}`);
    expect(report.passed.sort()).toEqual(['tests.test_unit.TestK.test_doc', 'tests.test_unit.TestK.test_ok']);
    expect(report.failed.map((f) => f.name).sort()).toEqual([
      'tests.test_unit.TestK.test_error',
      'tests.test_unit.TestK.test_fail',
      'tests.test_unit.TestK.test_sub',
    ]);
    expect(report.failed.find((f) => f.name.endsWith('test_fail'))!.output).toContain('AssertionError: 1 != 2 : numbers differ');
    expect(report.failed.find((f) => f.name.endsWith('test_error'))!.output).toContain("KeyError: 'x'");
    expect(report.ignoredTests).toEqual(['tests.test_unit.TestK.test_skip']);
  }, 60_000);

  it('reads the pre-3.11 form, where the parentheses name the class only', () => {
    const report = parseUnittest(
      'test_a (pkg.test_m.K) ... ok\ntest_b (pkg.test_m.K) ... FAIL\n\n' +
        '======================================================================\nFAIL: test_b (pkg.test_m.K)\n' +
        '----------------------------------------------------------------------\nTraceback (most recent call last):\nAssertionError: no\n\n' +
        '----------------------------------------------------------------------\nRan 2 tests in 0.001s\n',
    );
    expect(report.passed).toEqual(['pkg.test_m.K.test_a']);
    expect(report.failed).toEqual([{ name: 'pkg.test_m.K.test_b', output: 'Traceback (most recent call last):\nAssertionError: no' }]);
  });
});

describe('build: compileall and the import check', () => {
  it('locates a syntax error that compileall reports, and an import that fails', async () => {
    await writeFile(path.join(dir, 'src', 'calc', 'bad.py'), 'def broken(:\n    pass\n');
    const compiled = await python3(['-m', 'compileall', '-q', 'src'], { PYTHONPYCACHEPREFIX: path.join(dir, 'pyc') });
    expect(compiled.exitCode).toBe(1);
    const errors = parsePythonBuild(`${compiled.stdout}\n${compiled.stderr}`);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({
      level: 'error',
      code: 'SyntaxError',
      message: 'invalid syntax',
      file: 'src/calc/bad.py',
      line: 1,
      column: 12,
    });
    expect(errors[0].rendered).toContain('def broken(:');
    await rm(path.join(dir, 'src', 'calc', 'bad.py'));

    const imported = parsePythonBuild("src/calc/__init__.py:3: error: NameError: name 'undefined_thing' is not defined (importing calc)");
    expect(imported).toEqual([
      expect.objectContaining({
        code: 'NameError',
        file: 'src/calc/__init__.py',
        line: 3,
        message: "name 'undefined_thing' is not defined (importing calc)",
      }),
    ]);
  }, 60_000);
});

describe('lint', () => {
  it('reads ruff concise, flake8 and mypy lines; notes join their diagnostic', () => {
    const text = [
      'src/calc/lintme.py:1:8: F401 [*] `os` imported but unused',
      'src/calc/lintme.py:5:5: F841 Local variable `y` is assigned to but never used',
      'Found 2 errors.',
      '[*] 1 fixable with the `--fix` option.',
      'src/calc/lintme.py:4:1: E302 expected 2 blank lines, found 1',
      'src/calc/lintme.py:6:12: error: Incompatible return value type (got "int", expected "str")  [return-value]',
      'src/calc/lintme.py:6:12: note: See https://mypy.rtfd.io/en/stable/_refs.html#code-return-value',
    ].join('\n');
    const diagnostics = parsePythonLint(text);
    expect(diagnostics.map((d) => [d.level, d.code, d.file, d.line, d.column])).toEqual([
      ['warning', 'F401', 'src/calc/lintme.py', 1, 8],
      ['warning', 'F841', 'src/calc/lintme.py', 5, 5],
      ['warning', 'E302', 'src/calc/lintme.py', 4, 1],
      ['error', 'mypy:return-value', 'src/calc/lintme.py', 6, 12],
    ]);
    expect(diagnostics[0].message).toBe('`os` imported but unused');
    expect(diagnostics[3].rendered).toContain('note: See');
  });
});

describe('test files and definitions', () => {
  it('knows pytest and unittest file conventions', () => {
    expect(isPythonTestFile('tests/test_calc.py')).toBe(true);
    expect(isPythonTestFile('pkg/calc_test.py')).toBe(true);
    expect(isPythonTestFile('conftest.py')).toBe(true);
    expect(isPythonTestFile('test/helpers.py')).toBe(true);
    expect(isPythonTestFile('src/calc/__init__.py')).toBe(false);
    expect(isPythonTestFile('tests/data.json')).toBe(false);
  });

  it('finds def, async def, class and module-level names, not locals or comparisons', () => {
    const defs = python.context.definitions;
    expect(defs('def add(a, b):')).toEqual(['add']);
    expect(defs('    async def fetch(self):')).toEqual(['fetch']);
    expect(defs('class Parser(Base):')).toEqual(['Parser']);
    expect(defs('MAX_SIZE: int = 10')).toEqual(['MAX_SIZE']);
    expect(defs('    local = 1')).toEqual([]);
    expect(defs('if a == b:')).toEqual([]);
  });
});
