// What build, test and lint said, as data. Shared by every toolchain parser so the verify step,
// the baseline comparison and the distilled feedback for the model do not care which tool spoke.

/** One compiler or linter message, located at its primary span. */
export interface Diagnostic {
  level: 'error' | 'warning';
  /** Error code or lint name: `E0308`, `clippy::needless_return`, `unused_variables`, `TS2322`. */
  code: string | null;
  message: string;
  /** Path as the tool printed it (cargo: relative to the workspace root); null when unlocated. */
  file: string | null;
  line: number | null;
  column: number | null;
  /** The human rendering the tool produced (what a developer would read), without colour. */
  rendered: string;
}

export interface TestFailure {
  /** Qualified, stable name (see the parser's doc comment for the scheme). */
  name: string;
  /** The panic message / assertion output, without backtraces. */
  output: string;
}

export interface TestReport {
  passed: string[];
  failed: TestFailure[];
  /** Ignored / skipped / todo tests. */
  ignored: number;
  /**
   * The ignored / skipped tests by name, where the runner names them (cargo's `test x ... ignored`,
   * a skipped jest/vitest/node:test test): a test that ran on the base and is skipped on the change
   * is gone, not fixed. Absent in results cached by older versions.
   */
  ignoredTests?: string[];
  /** One line for the progress view, e.g. `12 passed, 2 failed, 1 ignored`. */
  summary: string;
}

export interface CargoTestReport extends TestReport {
  /** Test binaries that ran (doc tests count as one per crate). */
  binaries: number;
  /** Errors that kept the tests from compiling (empty when everything compiled). */
  compileErrors: Diagnostic[];
}

/**
 * Maps a position in the changed tree back to the base tree: `null` when the line was added by
 * the change. Lets diffDiagnostics pair a warning with its base twin although the patch moved it.
 */
export type LineMap = (file: string, line: number) => { file: string; line: number } | null;
