// The go command's output as data: compiler and vet diagnostics (`file:line:col: message`, the
// form `go build`, `go vet`, staticcheck and golangci-lint print) and `go test -json` runs, per test
// and subtest. Pure functions on text; running go is the verify step's job.

import type { CargoTestReport, Diagnostic, TestFailure } from '../types.js';
import { cleanLines, fetchFailureReason, testSummary } from '../text.js';

// `calc/sum.go:4:17: message`; the column is optional (some vet and link errors have none).
const LOCATED = /^(?:vet: )?(\S+?\.go):(\d+)(?::(\d+))?: (.*)$/;
// The linters name their check at the end: staticcheck `(SA4006)`, golangci-lint `(errcheck)`.
const TRAILING_CODE = /\s+\(([A-Za-z][\w-]*\d*)\)$/;

/**
 * Diagnostics from the text the go command (build, vet) and the Go linters print. `# pkg` headers
 * are dropped; a tab-indented line continues the message above it (go's hints such as `go get x`);
 * a `go: …` line with no location (a module that cannot be found offline, a go.mod that needs
 * updating) becomes one unlocated error, so a failed build never reads as "0 errors".
 */
export function parseGoDiagnostics(text: string, level: 'error' | 'warning', options: { codes?: boolean } = {}): Diagnostic[] {
  const out: Diagnostic[] = [];
  const seen = new Set<string>();
  let last: Diagnostic | null = null;
  for (const raw of cleanLines(text)) {
    const line = raw.trimEnd();
    if (line === '' || line.startsWith('# ')) {
      last = null;
      continue;
    }
    if (/^\s/.test(line) && last) {
      last.rendered += `\n${line}`;
      continue;
    }
    const at = LOCATED.exec(line);
    if (at) {
      const said = at[4].trim();
      let message = offlineMiss(said);
      let code: string | null = null;
      const named = options.codes ? TRAILING_CODE.exec(message) : null;
      if (named) {
        code = named[1];
        message = message.slice(0, named.index).trim();
      }
      last = {
        level: line.startsWith('vet: ') ? 'error' : level,
        code,
        message,
        // go build names the files of `.` as `./x.go`, go vet the same file as `x.go`.
        file: at[1].replace(/^\.\//, ''),
        line: Number(at[2]),
        column: at[3] ? Number(at[3]) : null,
        // What the model and the summary read: the plain reason when go's said little.
        rendered: message === said || code ? line : line.replace(said, message),
      };
    } else if (/^(?:go|go build \S+|pattern \S+|\S+\.go): /.test(line) && !/^go: (?:downloading|finding|extracting) /.test(line)) {
      last = { level: 'error', code: null, message: line.replace(/^go: /, ''), file: null, line: null, column: null, rendered: line };
    } else {
      last = null;
      continue;
    }
    const key = JSON.stringify([last.level, last.code, last.file, last.line, last.column, last.message]);
    if (seen.has(key)) {
      last = null;
      continue;
    }
    seen.add(key);
    out.push(last);
  }
  return out;
}

// The module cache is read-only after deps: looking up a module that is not there, go first tries
// to create its download directory, and that error says nothing about what is missing.
const CACHE_MISS = /^mkdir \S*\/cache\/download\/(\S+?)(?:\/@v)?: read-only file system$/;

function offlineMiss(message: string): string {
  const miss = CACHE_MISS.exec(message);
  if (!miss) return message;
  // The cache escapes capitals (`!burnt!sushi` is `BurntSushi`).
  const module = miss[1].replace(/!([a-z])/g, (_, c: string) => c.toUpperCase());
  return `module ${module} is not in the module cache, and nothing is fetched after the deps step (module lookup disabled by GOPROXY=off)`;
}

interface TestEvent {
  Action?: string;
  Package?: string;
  Test?: string;
  Output?: string;
  ImportPath?: string;
  FailedBuild?: string;
}

interface TestState {
  result: 'pass' | 'fail' | 'skip' | null;
  output: string[];
  /** A subtest of it failed (a parent that fails only through its subtests is not a failure of its own). */
  failedChild: boolean;
}

// Lines test2json repeats that say nothing a reader needs: the run/pause/cont markers and the
// verdict line (`--- FAIL: TestX (0.00s)`), which the name already carries.
const FRAMING = /^\s*(?:=== (?:RUN|PAUSE|CONT|NAME)\s|--- (?:FAIL|PASS|SKIP): )/;

/**
 * Parses `go test -json` (stdout; stderr holds what the go command itself said).
 *
 * Tests are named `<import path>.<test>`, subtests with go's own escaping (`pkg/calc.TestTable/one_value`),
 * the name `go test -run` takes. A parent test that fails only because a subtest failed is not
 * listed itself; its subtests are. A package whose test binary failed outside every test (a panic
 * in init or TestMain, a timeout, os.Exit) fails as the bare import path, with its output. A
 * package that did not compile gives its compile errors (as `compileErrors`, from the build
 * output go test reports per package) instead of test results.
 */
export function parseGoTest(stdout: string, stderr: string): CargoTestReport {
  const tests = new Map<string, TestState>();
  const packages = new Map<string, { result: string | null; output: string[]; failedBuild: boolean; anyTestFailed: boolean }>();
  const buildOutput: string[] = [];
  const stray: string[] = [];
  for (const line of stdout.split('\n')) {
    const text = line.trim();
    if (!text.startsWith('{')) {
      if (text) stray.push(line);
      continue;
    }
    let event: TestEvent;
    try {
      event = JSON.parse(text) as TestEvent;
    } catch {
      stray.push(line);
      continue;
    }
    if (event.Action === 'build-output') {
      buildOutput.push((event.Output ?? '').replace(/\n$/, ''));
      continue;
    }
    if (!event.Package) continue;
    let pkg = packages.get(event.Package);
    if (!pkg) {
      pkg = { result: null, output: [], failedBuild: false, anyTestFailed: false };
      packages.set(event.Package, pkg);
    }
    if (!event.Test) {
      if (event.Action === 'output') pkg.output.push((event.Output ?? '').replace(/\n$/, ''));
      else if (event.Action === 'pass' || event.Action === 'fail' || event.Action === 'skip') {
        pkg.result = event.Action;
        if (event.FailedBuild) pkg.failedBuild = true;
      }
      continue;
    }
    const name = `${event.Package}.${event.Test}`;
    let state = tests.get(name);
    if (!state) {
      state = { result: null, output: [], failedChild: false };
      tests.set(name, state);
    }
    if (event.Action === 'output') state.output.push((event.Output ?? '').replace(/\n$/, ''));
    else if (event.Action === 'pass' || event.Action === 'fail' || event.Action === 'skip') {
      state.result = event.Action;
      if (event.Action === 'fail') {
        pkg.anyTestFailed = true;
        // Each ancestor (`TestA/b` → `TestA`) failed through this one.
        const parts = event.Test.split('/');
        for (let i = parts.length - 1; i > 0; i--) {
          const parent = tests.get(`${event.Package}.${parts.slice(0, i).join('/')}`);
          if (parent) parent.failedChild = true;
        }
      }
    }
  }

  const passed: string[] = [];
  const failed: TestFailure[] = [];
  const ignoredTests: string[] = [];
  for (const [name, state] of tests) {
    if (state.result === 'pass') passed.push(name);
    else if (state.result === 'skip') ignoredTests.push(name);
    else if (state.result === 'fail') {
      const own = ownOutput(state.output);
      if (state.failedChild && own.trim() === '') continue;
      failed.push({ name, output: own });
    } else {
      // Started and never finished: the binary died in it (a crash or a timeout).
      failed.push({ name, output: ownOutput(state.output) || 'the test did not finish (the test binary stopped while it ran)' });
    }
  }
  for (const [name, pkg] of packages) {
    if (pkg.result === 'fail' && !pkg.failedBuild && !pkg.anyTestFailed) {
      const output = pkg.output.filter((l) => !/^(?:FAIL|ok)\s/.test(l) && l !== 'FAIL').join('\n');
      failed.push({ name, output: output.trim() || 'the package failed outside its tests' });
    }
  }

  const compileErrors = parseGoDiagnostics([...buildOutput, ...cleanLines(stderr)].join('\n'), 'error');
  const failedBuilds = [...packages.values()].filter((p) => p.failedBuild).length;
  if (failedBuilds > 0 && compileErrors.length === 0) {
    compileErrors.push({
      level: 'error',
      code: null,
      message: `${failedBuilds} package(s) did not build`,
      file: null,
      line: null,
      column: null,
      rendered: [...buildOutput, ...stray].join('\n').trim() || `${failedBuilds} package(s) did not build`,
    });
  }
  const extra = failedBuilds > 0 ? `(${failedBuilds} package(s) did not build)` : undefined;
  return {
    passed,
    failed,
    ignored: ignoredTests.length,
    ignoredTests,
    binaries: packages.size,
    compileErrors,
    summary: testSummary(passed.length, failed.length, ignoredTests.length, extra),
  };
}

function ownOutput(lines: string[]): string {
  return lines
    .filter((l) => !FRAMING.test(l))
    .map((l) => l.replace(/^ {4}/, ''))
    .join('\n')
    .trim();
}

/** Test code: go keeps it in `_test.go` files beside the code. */
export function isGoTestFile(file: string): boolean {
  return file.endsWith('_test.go');
}

/** One line for a failed `go mod download`: the module it could not fetch and why. */
export function depsFailureLine(text: string, exitCode: number | null): string {
  const lines = cleanLines(text)
    .map((l) => l.trim())
    .filter(Boolean);
  // `go: example.com/x@v1.2.3: reading https://…: 404 Not Found` or `go: module example.com/x: …`.
  for (const line of lines) {
    const m = /^go: (?:module )?(\S+?)(?:@(\S+?))?: (.*)$/.exec(line);
    if (m && !/^(?:downloading|finding|extracting)$/.test(m[1])) {
      const version = m[2] ? ` ${m[2]}` : '';
      return `cannot fetch Go module ${m[1]}${version}: ${m[3]}`;
    }
  }
  return `go modules could not be fetched: ${fetchFailureReason(text, exitCode)}`;
}
