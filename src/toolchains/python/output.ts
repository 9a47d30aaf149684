// What Python's tools print, as data: pytest's JUnit XML (named by pytest node id), unittest's
// verbose run, compileall's and the import check's errors, and ruff / flake8 / mypy diagnostics.
import { junitReport, readJUnitCases, type JUnitCase } from '../junit.js';
import { cleanLines, dedent, testSummary } from '../text.js';
import type { CommandOutput, Diagnostic, TestFailure, TestReport } from '../types.js';

// ---------------------------------------------------------------- pytest

/**
 * The pytest node id of a JUnit case written with `junit_family=xunit1`: the `file` attribute,
 * then the classes (the classname less the module path the file gives), then the name with its
 * parameters (`tests/test_x.py::TestK::test_m[1-2]`). A module that failed to import is named by
 * its file.
 */
export function pytestNodeId(c: JUnitCase): string {
  if (!c.file) return c.classname ? `${c.classname}.${c.name}` : c.name;
  const file = c.file.replace(/\\/g, '/');
  if (!c.classname) return file;
  const module = file.replace(/\.py$/, '').replace(/\//g, '.');
  const classes = c.classname.startsWith(`${module}.`)
    ? c.classname.slice(module.length + 1).split('.')
    : c.classname === module
      ? []
      : c.classname.split('.').slice(module.split('.').length);
  return [file, ...classes, c.name].join('::');
}

/** pytest's JUnit XML report(s); null when it wrote none (pytest did not start, say). */
export function parsePytestReports(output: CommandOutput): TestReport | null {
  const xml = (output.reports ?? []).filter((r) => r.path.endsWith('.xml'));
  if (xml.length === 0) return null;
  const cases = xml.flatMap((r) => readJUnitCases(r.text));
  return junitReport(cases, pytestNodeId, (c) => pytestFailureText(c));
}

// The assertion rewrite and traceback pytest wrote, without the frames inside pytest and importlib.
function pytestFailureText(c: JUnitCase): string {
  const lines = c.text.split('\n');
  const kept: string[] = [];
  let skip = false;
  for (const line of lines) {
    if (/^\S.*:\d+: in \S+$/.test(line) || /^<frozen /.test(line))
      skip = /(site-packages|dist-packages)\/_?pytest|\/importlib\/|^<frozen /.test(line);
    if (!skip) kept.push(line);
  }
  const text = kept.join('\n').trim();
  return text || c.message;
}

// ---------------------------------------------------------------- unittest

const UNITTEST_HEADER = /^(\w+) \(([\w.]+)\)\s*$/;
const UNITTEST_BLOCK = /^(FAIL|ERROR|UNEXPECTED SUCCESS): (\w+) \(([\w.]+)\)/;

/** `module.Class.test`, from `test (module.Class.test)` (3.11+) or `test (module.Class)` (older). */
function unittestName(method: string, where: string): string {
  return where.endsWith(`.${method}`) ? where : `${where}.${method}`;
}

/**
 * `python -m unittest -v`: one line per test (`test_x (pkg.mod.K.test_x) ... ok`, a docstring's
 * first line may sit between name and verdict), then a block per failure. A test whose subtests
 * failed is one failure. Names: `pkg.mod.K.test_x`.
 */
export function parseUnittest(text: string): TestReport {
  const lines = cleanLines(text);
  const passed = new Set<string>();
  const failed = new Map<string, TestFailure>();
  const ignored = new Set<string>();
  let pending: string | null = null;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].replace(/^\s+/, '');
    const block = UNITTEST_BLOCK.exec(line);
    if (block && lines[i + 1]?.startsWith('-----')) {
      const name = unittestName(block[2], block[3]);
      const body: string[] = [];
      i += 2;
      while (i < lines.length && !/^(=====|-----)/.test(lines[i])) body.push(lines[i++]);
      i--;
      const old = failed.get(name)?.output;
      failed.set(name, { name, output: [old, dedent(body)].filter(Boolean).join('\n\n') });
      continue;
    }
    const result = /^(\w+) \(([\w.]+)\)(?: \(([^)]*)\))? \.\.\. (.*)$/.exec(line);
    const verdict =
      result?.[4] ?? (pending ? /\s\.\.\. (ok|FAIL|ERROR|skipped.*|expected failure|unexpected success)\s*$/.exec(line)?.[1] : undefined);
    if (result || (pending && verdict)) {
      const name: string = result ? unittestName(result[1], result[2]) : pending!;
      pending = null;
      const v = (verdict ?? '').trim();
      if (v === '') {
        pending = name; // subtests follow, or a docstring line with the verdict
        continue;
      }
      if (v === 'ok' || v === 'expected failure') passed.add(name);
      else if (v.startsWith('skipped')) ignored.add(name);
      else if (!failed.has(name)) failed.set(name, { name, output: '' });
      continue;
    }
    const header = UNITTEST_HEADER.exec(line);
    if (header) pending = unittestName(header[1], header[2]);
  }
  // A test with failed subtests also prints its own line without a verdict; it counts once, failed.
  for (const name of failed.keys()) passed.delete(name);
  const failedList = [...failed.values()];
  const ignoredTests = [...ignored].filter((n) => !failed.has(n));
  return {
    passed: [...passed],
    failed: failedList,
    ignored: ignoredTests.length,
    ignoredTests,
    summary: testSummary(passed.size, failedList.length, ignoredTests.length),
  };
}

// ---------------------------------------------------------------- build: compileall, import check

/**
 * compileall's errors (`*** Error compiling 'x.py'...` and the SyntaxError below it) and the
 * import check's lines (`path:line: error: Type: message (importing pkg)`), as error diagnostics.
 */
export function parsePythonBuild(text: string): Diagnostic[] {
  const lines = cleanLines(text);
  const out: Diagnostic[] = [];
  for (let i = 0; i < lines.length; i++) {
    const compiling = /^\*\*\* Error compiling '(.+)'\.\.\.$/.exec(lines[i]);
    if (compiling) {
      const block: string[] = [];
      while (i + 1 < lines.length && !/^\*\*\* /.test(lines[i + 1]) && !/^\S.*: error: /.test(lines[i + 1])) {
        block.push(lines[++i]);
        if (/^[A-Z]\w*(Error|Warning)\b/.test(lines[i])) break;
      }
      const loc = block.map((l) => /^\s*File "(.+)", line (\d+)/.exec(l)).find(Boolean);
      const last = block.at(-1) ?? '';
      const kind = /^([A-Z]\w*(?:Error|Warning))(?::\s*(.*))?$/.exec(last.trim());
      const file = relative(loc?.[1] ?? compiling[1]);
      const caret = block.findIndex((l) => /^\s*\^+\s*$/.test(l));
      const column = caret > 0 ? columnOf(block[caret - 1], block[caret]) : null;
      out.push({
        level: 'error',
        code: kind?.[1] ?? 'SyntaxError',
        message: kind?.[2]?.trim() || kind?.[1] || 'could not be compiled',
        file,
        line: loc ? Number(loc[2]) : null,
        column,
        rendered: [`${file}${loc ? `:${loc[2]}` : ''}: ${kind?.[1] ?? 'error'}`, ...block].join('\n').trimEnd(),
      });
      continue;
    }
    const imported = /^(?:(.+?):(\d+): )?error: (\w+): (.*)$/.exec(lines[i]);
    if (imported) {
      out.push({
        level: 'error',
        code: imported[3],
        message: imported[4].trim(),
        file: imported[1] ? relative(imported[1]) : null,
        line: imported[2] ? Number(imported[2]) : null,
        column: null,
        rendered: lines[i],
      });
    }
  }
  return out;
}

// The code line and the caret under it: the caret's offset into the code, from 1.
function columnOf(code: string, caret: string): number | null {
  const codeIndent = code.length - code.trimStart().length;
  const at = caret.indexOf('^');
  return at >= codeIndent ? at - codeIndent + 1 : null;
}

function relative(file: string): string {
  return file.replace(/\\/g, '/').replace(/^\.\//, '');
}

// ---------------------------------------------------------------- lint: ruff, flake8, mypy

/**
 * ruff's `concise` and flake8's default lines (`path:line:col: CODE message`) and mypy's
 * (`path:line:col: error: message  [code]`, notes attached to the diagnostic before them).
 * Errors (mypy's, ruff's syntax errors) are errors; lint findings are warnings.
 */
export function parsePythonLint(text: string): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const line of cleanLines(text)) {
    const mypy = /^(.+?):(\d+):(?:(\d+):)? (error|warning|note): (.*?)(?:  \[([\w-]+)\])?$/.exec(line);
    if (mypy) {
      if (mypy[4] === 'note') {
        const last = out.at(-1);
        if (last && last.file === relative(mypy[1])) last.rendered += `\n${line}`;
        continue;
      }
      out.push({
        level: mypy[4] === 'error' ? 'error' : 'warning',
        code: mypy[6] ? `mypy:${mypy[6]}` : 'mypy',
        message: mypy[5].trim(),
        file: relative(mypy[1]),
        line: Number(mypy[2]),
        column: mypy[3] ? Number(mypy[3]) : null,
        rendered: line,
      });
      continue;
    }
    const lint = /^(.+?):(\d+):(\d+): (?:([A-Z]+[0-9]+) )?(?:\[\*\] )?(.*)$/.exec(line);
    if (!lint || !/\.pyi?$/.test(lint[1])) continue;
    const syntax = !lint[4] && /^SyntaxError/.test(lint[5]);
    out.push({
      level: syntax ? 'error' : 'warning',
      code: lint[4] ?? (syntax ? 'SyntaxError' : null),
      message: lint[5].replace(/^SyntaxError:\s*/, '').trim(),
      file: relative(lint[1]),
      line: Number(lint[2]),
      column: Number(lint[3]),
      rendered: line,
    });
  }
  return out;
}

// ---------------------------------------------------------------- test code

/** pytest's and unittest's conventions: `test_*.py`, `*_test.py`, `conftest.py`, and anything under `tests/` or `test/`. */
export function isPythonTestFile(file: string): boolean {
  const parts = file.split('/');
  const name = parts[parts.length - 1];
  if (!name.endsWith('.py')) return false;
  return /^test_.*\.py$|_test\.py$|^conftest\.py$/.test(name) || parts.slice(0, -1).some((p) => p === 'tests' || p === 'test');
}
