// Cargo's output as data: build and clippy diagnostics (`--message-format=json`, or rustc's human
// rendering on stderr) and `cargo test --no-fail-fast` runs, across all targets and doc tests.
// Pure functions on text; running cargo is the verify step's job.

import type { CargoTestReport, Diagnostic, TestFailure } from '../types.js';
import { clean, cleanLines, dedent, fetchFailureReason, plural, testSummary } from '../text.js';

export { diffDiagnostics, lineMapFromDiff, newFailures } from '../compare.js';
export { distillFailure } from '../distill.js';

interface CargoSpan {
  file_name: string;
  line_start: number;
  column_start: number;
  is_primary: boolean;
  expansion?: { span: CargoSpan } | null;
}

interface CargoMessage {
  level: string;
  message: string;
  code: { code: string } | null;
  spans: CargoSpan[];
  rendered: string | null;
}

// Summaries rustc and cargo print after the real diagnostics; they locate nothing and repeat counts.
const NOISE = [
  /^aborting due to /,
  /^\d+ warnings? emitted/,
  /^Some errors have detailed explanations/,
  /^For more information about (this|an) error/,
  /^could not compile /,
  /^build failed/,
  /^test failed, to rerun/,
  /^doctest failed, to rerun/,
  /^\d+ targets? failed/,
  /generated \d+ warnings?/,
  /^no (test )?targets? (matched|found)/,
];

function isNoise(message: string): boolean {
  return NOISE.some((re) => re.test(message));
}

/**
 * Diagnostics from `cargo build|check|clippy|test --message-format=json` output. Lines that are
 * not compiler messages (artifacts, build-finished, plain text) are ignored; a message cargo
 * reports twice (the lib built for `lib` and for `lib test`) is kept once.
 */
export function parseCargoMessages(jsonLines: string): Diagnostic[] {
  const out: Diagnostic[] = [];
  const seen = new Set<string>();
  for (const line of jsonLines.split('\n')) {
    const text = line.trim();
    if (!text.startsWith('{')) continue;
    let record: { reason?: string; message?: CargoMessage };
    try {
      record = JSON.parse(text);
    } catch {
      continue;
    }
    if (record.reason !== 'compiler-message' || !record.message) continue;
    const diagnostic = fromCargoMessage(record.message);
    if (diagnostic) addUnique(out, seen, diagnostic);
  }
  return out;
}

function fromCargoMessage(m: CargoMessage): Diagnostic | null {
  const level = m.level === 'warning' ? 'warning' : m.level.startsWith('error') ? 'error' : null;
  if (!level) return null;
  const code = m.code?.code ?? null;
  if (m.spans.length === 0 && code === null && isNoise(m.message)) return null;
  let span: CargoSpan | undefined = m.spans.find((s) => s.is_primary) ?? m.spans[0];
  // A span inside a macro from std or a dependency says little; the call site in the project does.
  while (span?.expansion && isExternalPath(span.file_name)) span = span.expansion.span;
  return {
    level,
    code,
    message: m.message,
    file: span ? span.file_name : null,
    line: span ? span.line_start : null,
    column: span ? span.column_start : null,
    rendered: clean(m.rendered ?? `${level}: ${m.message}`).trimEnd(),
  };
}

function isExternalPath(file: string): boolean {
  return file.startsWith('<') || file.startsWith('/');
}

function addUnique(out: Diagnostic[], seen: Set<string>, d: Diagnostic): void {
  const key = JSON.stringify([d.level, d.code, d.file, d.line, d.column, d.message]);
  if (seen.has(key)) return;
  seen.add(key);
  out.push(d);
}

/**
 * Diagnostics from rustc's human rendering (what `cargo build` or `cargo test` print on stderr
 * without `--message-format=json`). Lint names are recovered from the `#[warn(..)]` /
 * `-W clippy::..` notes rustc adds to the first occurrence of each lint; cargo's own summary lines
 * are dropped.
 */
export function parseRustcText(text: string): Diagnostic[] {
  const lines = cleanLines(text);
  const out: Diagnostic[] = [];
  const seen = new Set<string>();
  const header = /^(error|warning)(?:\[([A-Za-z]+\d+)\])?: (.*)$/;
  for (let i = 0; i < lines.length; i++) {
    const h = header.exec(lines[i]);
    if (!h) continue;
    const block = [lines[i]];
    while (i + 1 < lines.length && lines[i + 1].trim() !== '' && !header.test(lines[i + 1])) block.push(lines[++i]);
    const message = h[3].trim();
    let code: string | null = h[2] ?? null;
    const body = block.join('\n');
    const at = /^\s*--> (.+?):(\d+):(\d+)\s*$/m.exec(body);
    if (!at && code === null && isNoise(message)) continue;
    if (code === null) {
      const byDefault = /#\[(?:warn|deny|forbid)\(([\w:]+)\)\]` on by default/.exec(body);
      const implied = /`-[WDF] ([\w:-]+)` implied by/.exec(body);
      if (byDefault) code = byDefault[1];
      else if (implied) code = implied[1].replace(/-/g, '_');
    }
    addUnique(out, seen, {
      level: h[1] as 'error' | 'warning',
      code,
      message,
      file: at ? at[1] : null,
      line: at ? Number(at[2]) : null,
      column: at ? Number(at[3]) : null,
      rendered: body.trimEnd(),
    });
  }
  return out;
}

interface Target {
  kind: 'unit' | 'doc';
  /** Source path cargo printed (`src/lib.rs`, `tests/it.rs`), or null for old cargo / doc tests. */
  source: string | null;
  /** Crate name: from the binary (`demo-1a2b…` → `demo`) or the `Doc-tests` line. */
  crate: string;
  label: string;
  /** What cargo said on stderr after running this binary (`Caused by: …` when it crashed). */
  stderr: string[];
}

const RUNNING = /^\s*Running (?:(?:unittests|benches|tests) )?(\S+?)(?: \((.+)\))?\s*$/;
const DOC_TESTS = /^\s*Doc-tests (\S+)\s*$/;
const SECTION = /^running (\d+) tests?$/;

function targetFromHeader(line: string): Target | null {
  const doc = DOC_TESTS.exec(line);
  if (doc) return { kind: 'doc', source: null, crate: doc[1], label: '', stderr: [] };
  const run = RUNNING.exec(line);
  if (!run) return null;
  // Current cargo: `Running unittests src/lib.rs (target/debug/deps/demo-1a2b)`; old cargo
  // printed only the binary: `Running target/debug/deps/demo-1a2b`.
  const binary = run[2] ?? run[1];
  const source = run[2] ? run[1] : null;
  const crate = (binary.split('/').pop() ?? binary).replace(/-[0-9a-f]{8,}(\.exe)?$/, '');
  return { kind: 'unit', source, crate, label: '', stderr: [] };
}

/**
 * Parses `cargo test --no-fail-fast` (stdout and stderr as captured separately, or both merged
 * into `stdout`).
 *
 * Test names are qualified by the binary that ran them, `<target>::<test path>`:
 * - unit tests of the library: `lib::tests::adds`; of `src/main.rs`: `main::tests::x`;
 * - any other target by the source path cargo prints: `tests/it.rs::foo`, `src/bin/tool.rs::t`;
 * - doc tests keep rustdoc's name, which already holds the file: `src/lib.rs - add (line 3)`;
 * - in a workspace run covering several packages, `lib`/`main` become `<crate>/lib`, `<crate>/main`;
 * - a test binary that died before reporting (abort, signal) fails as the bare target, e.g. `lib`.
 * Suffixes such as ` - should panic`, ` - compile fail` and ` - compile` (`no_run`) are dropped from names.
 */
export function parseCargoTest(stdout: string, stderr: string): CargoTestReport {
  const out = cleanLines(stdout);
  const err = cleanLines(stderr);

  // Targets in the order cargo ran them; with merged streams the headers sit in stdout.
  const merged = out.some((l) => targetFromHeader(l) !== null);
  const headerSource = merged ? out : err;
  const targets: Target[] = [];
  for (const line of headerSource) {
    const t = targetFromHeader(line);
    if (t) targets.push(t);
    else if (targets.length > 0) targets[targets.length - 1].stderr.push(line);
  }
  labelTargets(targets);

  // Cargo compiles every target before it runs the first, so compile errors precede the first
  // binary; what comes later on stderr is the tests' own (`--nocapture`) and not the compiler's.
  // JSON lines appear when --message-format=json was used.
  const before = (lines: string[], stop: (l: string) => boolean) => {
    const at = lines.findIndex(stop);
    return at < 0 ? lines : lines.slice(0, at);
  };
  const prelude = merged
    ? before(out, (l) => SECTION.test(l) || targetFromHeader(l) !== null)
    : before(err, (l) => targetFromHeader(l) !== null);
  const compileErrors = [...parseCargoMessages(stdout), ...parseRustcText(prelude.join('\n'))].filter((d) => d.level === 'error');

  const passed: string[] = [];
  const failed: TestFailure[] = [];
  const ignoredTests: string[] = [];
  let ignored = 0;
  let binaries = 0;
  let nextTarget = 0;
  let pending: Target | null = null;

  for (let i = 0; i < out.length; i++) {
    if (merged) {
      const t = targetFromHeader(out[i]);
      if (t) {
        pending = targets[nextTarget++] ?? null;
        continue;
      }
    }
    if (!SECTION.test(out[i])) continue;
    const target = merged ? pending : (targets[nextTarget++] ?? null);
    pending = null;
    binaries++;
    let end = i + 1;
    while (end < out.length && !SECTION.test(out[end]) && !(merged && targetFromHeader(out[end]))) end++;
    const section = parseSection(out.slice(i + 1, end));
    i = end - 1;

    const qualify = (name: string) => (target && target.kind === 'unit' && target.label ? `${target.label}::${name}` : name);
    passed.push(...section.passed.map(qualify));
    ignoredTests.push(...section.ignoredNames.map(qualify));
    ignored += section.ignored;
    for (const f of section.failed) failed.push({ name: qualify(f.name), output: f.output });
    if (!section.finished) {
      const why = target ? causedBy(target.stderr) : '';
      failed.push({
        name: target?.label || target?.crate || `binary #${binaries}`,
        output: `The test binary stopped before reporting a result${why ? `: ${why}` : '.'}`,
      });
    }
  }

  const summary =
    binaries === 0 && compileErrors.length > 0
      ? `did not compile: ${plural(compileErrors.length, 'error')}`
      : testSummary(passed.length, failed.length, ignored, `(${binaries} test ${binaries === 1 ? 'binary' : 'binaries'})`);
  return { passed, failed, ignored, ignoredTests, binaries, compileErrors, summary };
}

function labelTargets(targets: Target[]): void {
  const base = (t: Target) => (t.source === 'src/lib.rs' ? 'lib' : t.source === 'src/main.rs' ? 'main' : (t.source ?? t.crate));
  const units = targets.filter((t) => t.kind === 'unit');
  const labels = units.map(base);
  const docCrates = new Set(targets.filter((t) => t.kind === 'doc').map((t) => t.crate));
  // Workspace members all have a `src/lib.rs`; only then is the crate needed to tell them apart.
  const severalPackages = docCrates.size > 1 || new Set(labels).size < labels.length;
  for (const t of units) {
    const label = base(t);
    t.label = severalPackages && (label === 'lib' || label === 'main') ? `${t.crate}/${label}` : label;
  }
}

function causedBy(stderr: string[]): string {
  const at = stderr.findIndex((l) => /^Caused by:/.test(l));
  if (at < 0) return '';
  const lines: string[] = [];
  for (const l of stderr.slice(at + 1)) {
    if (l.trim() === '' && lines.length > 0) break;
    if (l.trim() !== '') lines.push(l.trim());
  }
  return lines.join(' ');
}

interface Section {
  passed: string[];
  failed: TestFailure[];
  ignored: number;
  ignoredNames: string[];
  finished: boolean;
}

const RESULT_LINE = /^test (.+?) \.\.\. (ok|FAILED|ignored(?:, .*)?)\s*$/;
const BLOCK = /^---- (.+) std(?:out|err) ----$/;
const TEST_RESULT = /^test result: (?:ok|FAILED)\. (\d+) passed; (\d+) failed; (\d+) ignored/;

function parseSection(lines: string[]): Section {
  const passed: string[] = [];
  const failedNames: string[] = [];
  const outputs = new Map<string, string>();
  const ignoredNames: string[] = [];
  let ignored = 0;
  let reportedIgnored: number | null = null;
  let finished = false;

  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    const result = RESULT_LINE.exec(line);
    if (result) {
      const name = stripSuffix(result[1]);
      if (result[2] === 'ok') passed.push(name);
      else if (result[2] === 'FAILED') addOnce(failedNames, name);
      else {
        ignored++;
        ignoredNames.push(name);
      }
      continue;
    }
    const block = BLOCK.exec(line);
    if (block) {
      const body: string[] = [];
      while (
        i + 1 < lines.length &&
        !BLOCK.test(lines[i + 1]) &&
        !/^(failures|successes):\s*$/.test(lines[i + 1]) &&
        !TEST_RESULT.test(lines[i + 1])
      ) {
        body.push(lines[++i]);
      }
      outputs.set(stripSuffix(block[1]), cleanPanicOutput(body));
      continue;
    }
    if (/^failures:\s*$/.test(line)) {
      // The closing list names every failure; it catches one whose `test … FAILED` line was mangled.
      while (i + 1 < lines.length && /^ {4}\S/.test(lines[i + 1])) addOnce(failedNames, stripSuffix(lines[++i].trim()));
      continue;
    }
    const summary = TEST_RESULT.exec(line);
    if (summary) {
      finished = true;
      reportedIgnored = Number(summary[3]);
    }
  }
  for (const name of outputs.keys()) addOnce(failedNames, name);
  return {
    passed,
    failed: failedNames.map((name) => ({ name, output: outputs.get(name) ?? '' })),
    ignored: reportedIgnored ?? ignored,
    ignoredNames,
    finished,
  };
}

function addOnce(list: string[], name: string): void {
  if (!list.includes(name)) list.push(name);
}

// rustdoc names a `no_run` doc test `src/lib.rs - add (line 3) - compile` on its result line but
// without the suffix in its failure block and list: both must give one name, or it counts twice.
function stripSuffix(name: string): string {
  return name.replace(/ - (?:should panic(?: with .*)?|compile fail|compile|no_run)$/, '').trim();
}

/** The panic message and assertion output, without backtraces or thread ids (they vary run to run). */
function cleanPanicOutput(lines: string[]): string {
  const kept: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (/^stack backtrace:\s*$/.test(line)) {
      while (i + 1 < lines.length && /^\s+(\d+: |at )/.test(lines[i + 1])) i++;
      continue;
    }
    if (/^note: (run with `RUST_BACKTRACE|Some details are omitted)/.test(line)) continue;
    kept.push(line.replace(/^(thread '[^']*') \(\d+\) panicked/, '$1 panicked'));
  }
  return dedent(kept).replace(/\n{3,}/g, '\n\n');
}

// ---------------------------------------------------------------- test code

/** Files that hold only test code: integration tests (`tests/…`) and `tests.rs` modules. */
export function isRustTestFile(file: string): boolean {
  if (!file.endsWith('.rs')) return false;
  const parts = file.split('/');
  return parts.slice(0, -1).includes('tests') || parts[parts.length - 1] === 'tests.rs';
}

export interface TestModule {
  name: string;
  /** Offsets in the file: from `#[cfg(test)]` to after the module's closing brace. */
  start: number;
  end: number;
  text: string;
}

/** The inline `#[cfg(test)] mod name { … }` modules of a Rust file, found outside comments and strings. */
export function rustTestModules(source: string): TestModule[] {
  const code = maskRust(source);
  const found: TestModule[] = [];
  const head = /#\[cfg\(test\)\]\s*(?:#\[[^\]]*\]\s*)*(?:pub(?:\([^)]*\))?\s+)?mod\s+([A-Za-z_][A-Za-z0-9_]*)\s*\{/g;
  for (let m = head.exec(code); m; m = head.exec(code)) {
    let depth = 1;
    let i = m.index + m[0].length;
    for (; i < code.length && depth > 0; i++) {
      if (code[i] === '{') depth++;
      else if (code[i] === '}') depth--;
    }
    if (depth !== 0) break;
    found.push({ name: m[1], start: m.index, end: i, text: source.slice(m.index, i) });
    head.lastIndex = i;
  }
  return found;
}

/**
 * The base's file with the change's test code: each inline test module of `change` replaces the
 * base's module of the same name, or is appended. Returns null when the change's test modules
 * are the base's (the change touched no test code in this file).
 */
export function withChangeTestModules(base: string, change: string): string | null {
  const wanted = rustTestModules(change);
  const existing = rustTestModules(base);
  const same = wanted.length === existing.length && wanted.every((m, i) => m.name === existing[i].name && m.text === existing[i].text);
  if (same || wanted.length === 0) return null;
  let text = base;
  const appended: string[] = [];
  const replacements = wanted
    .map((m) => ({ module: m, at: existing.find((e) => e.name === m.name) }))
    .filter((r) => {
      if (!r.at) appended.push(r.module.text);
      return r.at !== undefined;
    })
    .sort((a, b) => b.at!.start - a.at!.start);
  for (const { module, at } of replacements) text = text.slice(0, at!.start) + module.text + text.slice(at!.end);
  if (appended.length) text = `${text.replace(/\n*$/, '\n')}\n${appended.join('\n\n')}\n`;
  return text;
}

/** The source with comments, strings and char literals blanked (same length), so braces can be counted. */
function maskRust(source: string): string {
  const out = source.split('');
  const blank = (from: number, to: number) => {
    for (let k = from; k < to && k < out.length; k++) if (out[k] !== '\n') out[k] = ' ';
  };
  let i = 0;
  while (i < source.length) {
    const c = source[i];
    const next = source[i + 1];
    if (c === '/' && next === '/') {
      const end = source.indexOf('\n', i);
      const stop = end < 0 ? source.length : end;
      blank(i, stop);
      i = stop;
    } else if (c === '/' && next === '*') {
      let depth = 1;
      let j = i + 2;
      while (j < source.length && depth > 0) {
        if (source[j] === '/' && source[j + 1] === '*') {
          depth++;
          j += 2;
        } else if (source[j] === '*' && source[j + 1] === '/') {
          depth--;
          j += 2;
        } else j++;
      }
      blank(i, j);
      i = j;
    } else if (
      (c === 'r' || (c === 'b' && next === 'r')) &&
      /^b?r#*"/.test(source.slice(i, i + 260)) &&
      !/[A-Za-z0-9_]/.test(source[i - 1] ?? '')
    ) {
      const open = /^b?r(#*)"/.exec(source.slice(i))!;
      const close = `"${open[1]}`;
      const end = source.indexOf(close, i + open[0].length);
      const stop = end < 0 ? source.length : end + close.length;
      blank(i, stop);
      i = stop;
    } else if (c === '"') {
      let j = i + 1;
      while (j < source.length && source[j] !== '"') j += source[j] === '\\' ? 2 : 1;
      blank(i, j + 1);
      i = j + 1;
    } else if (c === "'") {
      // A char literal ('x', '\n', '\u{1F600}', '{') or a lifetime ('a), which is left alone.
      if (next === '\\') {
        const end = source.indexOf("'", i + 2);
        const stop = end < 0 ? source.length : end + 1;
        blank(i, stop);
        i = stop;
      } else {
        const width = (source.codePointAt(i + 1) ?? 0) > 0xffff ? 2 : 1;
        if (source[i + 1 + width] === "'") {
          blank(i, i + 2 + width);
          i += 2 + width;
        } else i++;
      }
    } else i++;
  }
  return out.join('');
}

/**
 * One line for a failed fetch: the dependency cargo names, where it comes from, and the innermost
 * `Caused by:` (the actual reason) rather than cargo's retry warnings or its outermost wrapper.
 */
export function depsFailureLine(text: string, exitCode: number | null): string {
  const named =
    /failed to (?:get|load source for(?: dependency)?) [`']([^`']+)[`']/.exec(text)?.[1] ??
    /no matching package named [`']([^`']+)[`']/.exec(text)?.[1] ??
    null;
  const source = /unable to update (\S+)/.exec(text)?.[1] ?? null;
  const reason = fetchFailureReason(text, exitCode);
  if (!named) return `dependencies could not be fetched: ${reason}`;
  return `cannot fetch dependency ${named}${source ? ` from ${source}` : ''}: ${reason}`;
}
