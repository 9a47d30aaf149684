// Node test runners and tsc, as data: jest, vitest and node:test (TAP and spec reporters) give the
// same TestReport as cargo test; `tsc --noEmit` gives Diagnostics. Best effort on text the
// runners print for people, so every parser tolerates colour, missing sections and cut output.
//
// Test names are `<file> > <suite> > <test>` where the runner prints the file (jest, vitest), and
// `<suite> > <test>` for node:test, whose default reporters do not name the file of a passing test.

import type { Diagnostic, TestFailure, TestReport } from '../types.js';
import { cleanLines, dedent, testSummary, trimBlank } from '../text.js';

export { diffDiagnostics, newFailures } from '../compare.js';
export { distillFailure } from '../distill.js';

export type NodeTestRunner = 'jest' | 'vitest' | 'node-tap' | 'node-spec';

/** Which runner printed this output, or null when none is recognized. */
export function detectTestRunner(text: string): NodeTestRunner | null {
  const lines = cleanLines(text);
  const has = (re: RegExp) => lines.some((l) => re.test(l));
  if (has(/^TAP version \d+/) || has(/^\s*# Subtest: /)) return 'node-tap';
  if (has(/^\s*Test Files\s+\d+/) || has(/⎯⎯⎯/) || has(/^\s*RUN\s+v\d+/)) return 'vitest';
  if (has(/^Tests:\s+\d+/) || has(/^(PASS|FAIL)\s+\S/) || has(/^\s{2}● /)) return 'jest';
  if (has(/^ℹ (tests|pass|fail) \d+/) || has(/^\s*[✔✖] .* \(\d+(\.\d+)?m?s\)/)) return 'node-spec';
  return null;
}

/**
 * Parses a node test run (stdout and stderr; jest writes to stderr, the others to stdout).
 * The runner is detected when not given; unknown output yields an empty report.
 */
export function parseNodeTestOutput(stdout: string, stderr = '', runner?: NodeTestRunner): TestReport {
  const text = stderr ? `${stdout}\n${stderr}` : stdout;
  switch (runner ?? detectTestRunner(text)) {
    case 'jest':
      return parseJest(text);
    case 'vitest':
      return parseVitest(text);
    case 'node-tap':
      return parseNodeTap(text);
    case 'node-spec':
      return parseNodeSpec(text);
    default:
      return { passed: [], failed: [], ignored: 0, summary: 'no test results recognized' };
  }
}

// npm (`> a@1.0.0 test`) and pnpm run one at a time (`> a@1.0.0 test /repo/packages/a`) open
// each member's output with this header.
const MEMBER_HEADER = /^> ((?:@[^/\s]+\/)?[^@\s]+)(?:@\S+)? test(?:\s|$)/;
// Yarn 2+'s `workspaces foreach --verbose` prefixes every line of a member's output instead.
const MEMBER_PREFIX = /^\[((?:@[^/\s\]]+\/)?[^\]\s]+)\]: ?(.*)$/;

/**
 * A recursive test run over workspace members (`pnpm -r test`, `npm test --workspaces`, Yarn 2+'s
 * `workspaces foreach --verbose run test`): each
 * member's section parsed alone, its tests named `<package>: <test>` so a name says which member
 * ran it (the same in the full run and a narrowed one). Output without member headers is read as
 * one project's.
 */
export function parseWorkspaceTestOutput(stdout: string, stderr = ''): TestReport {
  const lines = cleanLines(stdout);
  const sections: { member: string; lines: string[] }[] = [];
  if (lines.some((l) => MEMBER_HEADER.test(l)) || !lines.some((l) => MEMBER_PREFIX.test(l))) {
    for (const line of lines) {
      const header = MEMBER_HEADER.exec(line);
      if (header) sections.push({ member: header[1], lines: [] });
      else sections.at(-1)?.lines.push(line);
    }
  } else {
    // Yarn's own lines (`The command failed in workspace …`) carry no prefix and are no test output.
    for (const line of lines) {
      const prefixed = MEMBER_PREFIX.exec(line);
      if (!prefixed) continue;
      if (sections.at(-1)?.member !== prefixed[1]) sections.push({ member: prefixed[1], lines: [] });
      sections.at(-1)!.lines.push(prefixed[2]);
    }
  }
  if (sections.length === 0) return parseNodeTestOutput(stdout, stderr);
  const passed: string[] = [];
  const failed: TestFailure[] = [];
  const ignored: string[] = [];
  for (const { member, lines } of sections) {
    const part = parseNodeTestOutput(lines.join('\n'));
    passed.push(...part.passed.map((n) => `${member}: ${n}`));
    for (const f of part.failed) addFailure(failed, `${member}: ${f.name}`, f.output);
    ignored.push(...(part.ignoredTests ?? []).map((n) => `${member}: ${n}`));
  }
  // jest reports on stderr, which carries no headers: then the run is read as one project's.
  if (passed.length + failed.length + ignored.length === 0) return parseNodeTestOutput(stdout, stderr);
  return report(passed, failed, ignored);
}

// Stack frames from the runner or node itself say nothing about the project.
function isInternalFrame(line: string): boolean {
  return /^\s*at .*(node:internal|node:async_hooks|node_modules[\\/]|<anonymous>\)?$)/.test(line) || /^\s*at (async )?node:/.test(line);
}

function withoutInternalFrames(lines: string[]): string[] {
  return lines.filter((l) => !isInternalFrame(l));
}

function report(
  passed: string[],
  failed: TestFailure[],
  ignoredTests: string[],
  counts?: { passed: number; failed: number; ignored: number },
): TestReport {
  const ignored = ignoredTests.length;
  const c = counts ?? { passed: passed.length, failed: failed.length, ignored };
  return {
    passed,
    failed,
    ignored: counts ? counts.ignored : ignored,
    ignoredTests,
    summary: testSummary(c.passed, Math.max(c.failed, failed.length), c.ignored),
  };
}

function addFailure(failed: TestFailure[], name: string, output: string): void {
  const existing = failed.find((f) => f.name === name);
  if (!existing) failed.push({ name, output });
  else if (!existing.output && output) existing.output = output;
}

// ---------------------------------------------------------------- jest

const JEST_HEADER = /^\s*(PASS|FAIL)\s+(\S.*?)(?:\s+\(\d+(?:\.\d+)?\s*m?s\))?\s*$/;
const JEST_TEST = /^(\s+)([✓✕○✎√×])\s(.*?)(?:\s\(\d+(?:\.\d+)?\s*m?s\))?\s*$/;
const JEST_SUMMARY = /^(Test Suites:|Tests:|Snapshots:|Time:|Ran all test suites|Summary of all failing tests)/;

/**
 * jest's default and verbose reporters. Failures come from the `● suite › test` blocks; passing
 * names only from the verbose tree (`--verbose`, or a run of a single file), counts from `Tests:`.
 */
export function parseJest(text: string): TestReport {
  const lines = cleanLines(text);
  const passed: string[] = [];
  const failed: TestFailure[] = [];
  const ignored: string[] = [];
  let file = '';
  let inTree = false;
  let describe: { indent: number; name: string }[] = [];
  let counts: { passed: number; failed: number; ignored: number } | undefined;

  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    const header = JEST_HEADER.exec(line);
    if (header) {
      file = header[2].replace(/^\.\//, '');
      inTree = true;
      describe = [];
      continue;
    }
    const tests = /^Tests:\s+(.*)$/.exec(line);
    if (tests) {
      const n = (word: string) => Number(new RegExp(`(\\d+) ${word}`).exec(tests[1])?.[1] ?? 0);
      counts = { passed: n('passed'), failed: n('failed'), ignored: n('skipped') + n('todo') };
      continue;
    }
    const block = /^(\s*)● (.*)$/.exec(line);
    if (block) {
      inTree = false;
      const title = block[2].trim();
      const body: string[] = [];
      while (i + 1 < lines.length && !/^\s*● /.test(lines[i + 1]) && !JEST_HEADER.test(lines[i + 1]) && !JEST_SUMMARY.test(lines[i + 1])) {
        body.push(lines[++i]);
      }
      if (title === 'Console') continue;
      const name = [file, ...title.split(' › ')].filter(Boolean).join(' > ');
      addFailure(failed, name, dedent(withoutInternalFrames(body)));
      continue;
    }
    if (!inTree || line.trim() === '') continue;
    const test = JEST_TEST.exec(line);
    const indent = line.length - line.trimStart().length;
    if (test) {
      const path = describe.filter((d) => d.indent < indent).map((d) => d.name);
      const mark = test[2];
      // `○ skipped adds`, `✎ todo adds`: the title follows the word.
      const title = mark === '○' || mark === '✎' ? test[3].replace(/^(skipped|todo) /, '') : test[3];
      const name = [file, ...path, title].filter(Boolean).join(' > ');
      if (mark === '○' || mark === '✎') {
        ignored.push(name);
        continue;
      }
      if (mark === '✓' || mark === '√') passed.push(name);
      else addFailure(failed, name, '');
    } else if (indent >= 2 && !/^\s+(console\.\w+|at )/.test(line)) {
      describe = describe.filter((d) => d.indent < indent);
      describe.push({ indent, name: line.trim() });
    }
  }
  return report(passed, failed, ignored, counts);
}

// ---------------------------------------------------------------- vitest

const VITEST_LINE = /^(\s*)([✓×↓❯·√✗])\s+(.*)$/;
const VITEST_FILE = /^(.*?) \((\d+) tests?(?: \|[^)]*)?\)(?: \d+(?:\.\d+)?m?s)?\s*$/;
const VITEST_DURATION = /\s+\d+(?:\.\d+)?m?s\s*$/;

/**
 * vitest's default and verbose reporters. Failures come from the `FAIL  file > suite > test`
 * blocks after `Failed Tests`; passing names from the tree (which vitest prints in full for a
 * failing file or with `--reporter=verbose`), counts from the `Tests` summary line.
 */
export function parseVitest(text: string): TestReport {
  const lines = cleanLines(text);
  const passed: string[] = [];
  const failed: TestFailure[] = [];
  const treeFailures: string[] = [];
  const ignored: string[] = [];
  let file = '';
  let suites: { indent: number; name: string }[] = [];
  let counts: { passed: number; failed: number; ignored: number } | undefined;

  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    const tests = /^\s*Tests\s+(\d.*)$/.exec(line);
    if (tests) {
      const n = (word: string) => Number(new RegExp(`(\\d+) ${word}`).exec(tests[1])?.[1] ?? 0);
      counts = { passed: n('passed'), failed: n('failed'), ignored: n('skipped') + n('todo') };
      continue;
    }
    if (/^\s*FAIL\s+/.test(line)) {
      // Tests failing with the same error share one body under consecutive FAIL lines.
      const names: string[] = [];
      while (i < lines.length && /^\s*FAIL\s+/.test(lines[i])) names.push(vitestFailName(lines[i++]));
      const body: string[] = [];
      while (i < lines.length && !/^\s*FAIL\s+/.test(lines[i]) && !/⎯{3,}/.test(lines[i]) && !/^\s*Test Files\s/.test(lines[i])) {
        body.push(lines[i++]);
      }
      i--;
      const output = dedent(withoutInternalFrames(body));
      for (const name of names) addFailure(failed, name, output);
      continue;
    }
    const m = VITEST_LINE.exec(line);
    if (!m) continue;
    const indent = m[1].length;
    const [, , mark, rest] = m;
    const fileLine = VITEST_FILE.exec(rest);
    if (fileLine && indent <= 1) {
      file = fileLine[1].replace(/^\|[^|]+\|\s*/, '');
      suites = [];
      continue;
    }
    const suite = /^(.*) \(\d+\)(?: \d+(?:\.\d+)?m?s)?$/.exec(rest);
    if (suite) {
      suites = suites.filter((s) => s.indent < indent);
      suites.push({ indent, name: suite[1] });
      continue;
    }
    const title = rest.replace(VITEST_DURATION, '').trim();
    // The verbose reporter prints `file > suite > test` on one line.
    const flat = title.includes(' > ') && /\.\w+$/.test(title.split(' > ')[0]) && indent <= 1;
    const path = suites.filter((s) => s.indent < indent).map((s) => s.name);
    const name = flat ? title.replace(/^\|[^|]+\|\s*/, '') : [file, ...path, title].filter(Boolean).join(' > ');
    if (mark === '✓' || mark === '√') passed.push(name);
    else if (mark === '×' || mark === '✗') treeFailures.push(name);
    else if (mark === '↓') ignored.push(name.replace(/ \[skipped\]$/, ''));
  }
  // The tree's names may lack the suite (vitest 4 prints the bare test); the FAIL blocks do not.
  if (failed.length === 0) for (const name of treeFailures) addFailure(failed, name, '');
  return report(passed, failed, ignored, counts);
}

function vitestFailName(line: string): string {
  const rest = line
    .replace(/^\s*FAIL\s+/, '')
    .replace(/^\|[^|]+\|\s*/, '')
    .trim();
  // A file that failed to load: `FAIL  src/a.test.ts [ src/a.test.ts ]`.
  return rest.replace(/\s+\[ .* \]$/, '');
}

// ---------------------------------------------------------------- node:test, TAP

/**
 * `node --test` with the TAP reporter (the default when stdout is not a terminal before Node 23).
 * Suites and tests with subtests are containers, not tests; their failure only repeats their
 * children's, unless a hook failed.
 */
export function parseNodeTap(text: string): TestReport {
  const lines = cleanLines(text);
  const passed: string[] = [];
  const failed: TestFailure[] = [];
  const ignored: string[] = [];
  const path: string[] = [];
  const childSeen: boolean[] = [];

  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    const sub = /^(\s*)# Subtest: (.*)$/.exec(line);
    if (sub) {
      const depth = Math.floor(sub[1].length / 4);
      path.length = depth;
      path[depth] = sub[2].trim();
      continue;
    }
    const result = /^(\s*)(ok|not ok) \d+(?: - (.*?))?(?: # (SKIP|TODO)\b.*)?$/i.exec(line);
    if (!result) continue;
    const depth = Math.floor(result[1].length / 4);
    const indent = result[1].length;
    const own = (result[3] ?? path[depth] ?? '').replace(/\\#/g, '#').trim();
    const directive = result[4]?.toUpperCase();

    const yaml: string[] = [];
    if (lines[i + 1]?.trim() === '---') {
      i++;
      while (
        i + 1 < lines.length &&
        !(lines[i + 1].trim() === '...' && lines[i + 1].length - lines[i + 1].trimStart().length <= indent + 2)
      ) {
        yaml.push(lines[++i]);
      }
      i++;
    }
    const isParent = childSeen[depth + 1] === true;
    childSeen[depth + 1] = false;
    childSeen[depth] = true;
    const name = [...path.slice(0, depth), own].join(' > ');
    path.length = depth;

    if (directive) {
      ignored.push(name);
      continue;
    }
    const failureType = /^\s*failureType: '?(\w+)'?/m.exec(yaml.join('\n'))?.[1];
    if (result[2] === 'ok') {
      if (!isParent) passed.push(name);
    } else if (!isParent || (failureType && failureType !== 'subtestsFailed')) {
      addFailure(failed, name, tapFailureOutput(yaml));
    }
  }
  return report(passed, failed, ignored);
}

/** The YAML diagnostic of a failed TAP test, less timing and runner frames. */
function tapFailureOutput(yaml: string[]): string {
  const body = dedent(yaml).split('\n');
  const kept: string[] = [];
  let skipping = false;
  for (const line of body) {
    const key = /^(\w+):/.exec(line);
    if (key) skipping = ['duration_ms', 'type', 'failureType'].includes(key[1]);
    if (skipping || isInternalFrame(`at ${line.trim()}`)) continue;
    kept.push(line);
  }
  return trimBlank(kept).join('\n');
}

// ---------------------------------------------------------------- node:test, spec

const SPEC_LINE = /^(\s*)([✔✖﹣▶⚠*])\s(.*)$/;
const SPEC_DONE = /^(.*?) \(\d+(?:\.\d+)?m?s\)(?:\s+#\s*(SKIP|TODO)\b.*)?$/i;

/** `node --test --test-reporter=spec` (the default on a terminal). */
export function parseNodeSpec(text: string): TestReport {
  const all = cleanLines(text);
  // The closing "failing tests" section repeats failures without their suites; the tree has both.
  const cut = all.findIndex((l) => /^✖ failing tests:/.test(l));
  const lines = cut < 0 ? all : all.slice(0, cut);
  const passed: string[] = [];
  const failed: TestFailure[] = [];
  const ignored: string[] = [];
  let open: { indent: number; name: string }[] = [];

  for (let i = 0; i < lines.length; i++) {
    const m = SPEC_LINE.exec(lines[i]);
    if (!m) continue;
    const indent = m[1].length;
    const [, , mark, rest] = m;
    const done = SPEC_DONE.exec(rest);
    if (mark === '▶' && !done) {
      open = open.filter((s) => s.indent < indent);
      open.push({ indent, name: rest.trim() });
      continue;
    }
    const title = done ? done[1].trim() : rest.trim();
    const top = open[open.length - 1];
    if (top && top.indent === indent && top.name === title) {
      open.pop(); // a suite (or a test with subtests) closing: its children were counted
      continue;
    }
    const name = [...open.filter((s) => s.indent < indent).map((s) => s.name), title].join(' > ');
    if (done?.[2] || mark === '﹣') {
      ignored.push(name);
      continue;
    }
    if (mark === '✔') {
      passed.push(name);
      continue;
    }
    if (mark === '✖') {
      const body: string[] = [];
      while (i + 1 < lines.length && (lines[i + 1].trim() === '' || lines[i + 1].length - lines[i + 1].trimStart().length > indent)) {
        body.push(lines[++i]);
      }
      addFailure(failed, name, dedent(withoutInternalFrames(body)));
    }
  }
  return report(passed, failed, ignored);
}

// ---------------------------------------------------------------- tsc

/**
 * `tsc --noEmit` diagnostics, plain (`a.ts(1,7): error TS2322: …`, the default when piped) or
 * pretty (`a.ts:1:7 - error TS2322: …`, on a terminal or with `--pretty`).
 */
export function parseTsc(text: string): Diagnostic[] {
  const lines = cleanLines(text);
  const plain = /^(.+?)\((\d+),(\d+)\): (error|warning|message) (TS\d+): (.*)$/;
  const pretty = /^(.+?):(\d+):(\d+) - (error|warning|message) (TS\d+): (.*)$/;
  const global = /^(error|warning) (TS\d+): (.*)$/;
  const isHeader = (l: string) => plain.test(l) || pretty.test(l) || global.test(l) || /^Found \d+ errors?/.test(l);
  const out: Diagnostic[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    const p = plain.exec(line) ?? pretty.exec(line);
    const g = p ? null : global.exec(line);
    if (!p && !g) continue;
    const block = [line];
    // Plain output continues a message chain on indented lines; pretty output adds a code frame.
    while (i + 1 < lines.length && !isHeader(lines[i + 1]) && (pretty.test(line) || /^\s/.test(lines[i + 1]))) block.push(lines[++i]);
    const level = (p ? p[4] : g![1]) === 'error' ? 'error' : 'warning';
    out.push({
      level,
      code: p ? p[5] : g![2],
      message: p ? p[6].trim() : g![3].trim(),
      file: p ? p[1] : null,
      line: p ? Number(p[2]) : null,
      column: p ? Number(p[3]) : null,
      rendered: trimBlank(block)
        .map((l) => l.trimEnd())
        .join('\n'),
    });
  }
  return out;
}

// ---------------------------------------------------------------- test code

/** Test files by the runners' conventions: `*.test.*`, `*.spec.*`, and anything under `test/`, `tests/`, `__tests__/`. */
export function isNodeTestFile(file: string): boolean {
  const parts = file.split('/');
  const name = parts[parts.length - 1];
  if (!/\.[cm]?[jt]sx?$/.test(name)) return false;
  return /\.(test|spec)\.[cm]?[jt]sx?$/.test(name) || parts.slice(0, -1).some((p) => p === 'test' || p === 'tests' || p === '__tests__');
}

// ---------------------------------------------------------------- deps

/**
 * One line for a failed install: the package manager's own error (`ERR_PNPM_…`, yarn's `error …`,
 * `npm error …`, a thrown `Error: …` from corepack), not the source line Node prints above it.
 */
export function nodeDepsFailureLine(text: string, exitCode: number | null): string {
  const lines = cleanLines(text).map((l) => l.trim());
  const found =
    lines.find((l) => /^ERR_PNPM_\w+/.test(l)) ??
    lines.find((l) => /^(?:[A-Z]\w*)?Error: \S/.test(l)) ??
    lines.find((l) => /^(?:error|➤ YN\d+: .*(?:error|Error))\b/.test(l) && !/^error Command failed/.test(l)) ??
    lines.find((l) => /^npm (?:error|ERR!) (?!code\b)\S/.test(l));
  // Corepack checks an unhashed version against the registry's signatures, which a mirror may drop.
  const hint = /No compatible signature found/.test(text)
    ? ' (the registry sent no signatures: pin the package manager with its hash, `packageManager: "pnpm@<version>+sha512.<hex>"`, as `corepack use` writes it)'
    : '';
  return `dependencies could not be fetched: ${found ? found.slice(0, 300) : `the install exited with ${exitCode ?? 'a signal'}`}${hint}`;
}
