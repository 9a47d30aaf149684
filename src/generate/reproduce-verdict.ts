// Whether a reproduction test, run on the untouched base, reproduces the task: it must have run and
// failed (its name among the failing tests), not failed to compile, collect or import. Pure: the
// reproduce step runs the test command and hands both runs here.
import { stableTestName } from '../toolchains/compare.js';
import { distillFailure } from '../toolchains/distill.js';
import type { Diagnostic, TestReport } from '../toolchains/types.js';

/** One test run, as the verify step reads it. */
export interface RunReading {
  diagnostics: Diagnostic[];
  tests: TestReport | null;
  summary: string;
  /** The end of the output when nothing could be parsed from it. */
  rawTail?: string;
}

export type ReproduceVerdict =
  /** Kept: these tests of the file ran and failed on the base. */
  | { kind: 'reproduces'; tests: string[]; failure: string; passing: string[] }
  /** The test itself does not compile (or its module does not load): the errors, for the model. */
  | { kind: 'does-not-compile'; problem: string }
  /** Every test of the file passed on the base: it does not show the reported behaviour. */
  | { kind: 'passes'; tests: string[] }
  /** No test of the file ran (not where the runner looks, nothing collected, the run crashed). */
  | { kind: 'did-not-run'; problem: string };

/**
 * Judges the run with the reproduction file against the base's own run: the reproduction's tests are
 * the names this run reports that the base's did not. A failure named after the file itself (a test
 * binary or module that died before reporting, a collection error) is the file failing, not a test.
 */
export function judgeReproduction(input: { file: string; base: RunReading; run: RunReading }): ReproduceVerdict {
  const { file, base, run } = input;
  const baseErrors = new Set(base.diagnostics.filter((d) => d.level === 'error').map(diagnosticKey));
  const errors = run.diagnostics.filter((d) => d.level === 'error' && !baseErrors.has(diagnosticKey(d)));
  if (errors.length) {
    return { kind: 'does-not-compile', problem: `it does not compile:\n${distillFailure('build', errors)}` };
  }
  if (!run.tests) {
    return { kind: 'did-not-run', problem: `the test run could not be read (${run.summary})${tail(run.rawTail)}` };
  }
  const known = new Set([...(base.tests?.passed ?? []), ...(base.tests?.failed.map((f) => f.name) ?? [])].map(stableTestName));
  const isNew = (name: string): boolean => !known.has(stableTestName(name));
  const stem = file.replace(/\.[^./]+$/, '');
  const isFileItself = (name: string): boolean => name === file || name === stem || name === file.split('/').pop();
  const crashed = run.tests.failed.filter((f) => isNew(f.name) && isFileItself(f.name));
  if (crashed.length) {
    return {
      kind: 'did-not-run',
      problem: `${file} failed before any of its tests ran (it does not load, import or start):\n${crashed[0].output.trim()}`,
    };
  }
  const failed = run.tests.failed.filter((f) => isNew(f.name));
  const passed = run.tests.passed.filter(isNew);
  if (failed.length) {
    const first = failed[0];
    const line = first.output.split('\n').find((l) => l.trim() !== '') ?? 'failed';
    return { kind: 'reproduces', tests: failed.map((f) => f.name), failure: `${first.name}: ${clip(line.trim(), 200)}`, passing: passed };
  }
  if (passed.length) return { kind: 'passes', tests: passed };
  return {
    kind: 'did-not-run',
    problem: `no test of ${file} ran (${run.tests.summary}): put it where the test runner looks for tests, in the project's test idiom${tail(run.rawTail)}`,
  };
}

/** One line for logs and the result: why a try was not kept. */
export function rejection(verdict: Exclude<ReproduceVerdict, { kind: 'reproduces' }>): string {
  switch (verdict.kind) {
    case 'does-not-compile':
      return 'the test does not compile';
    case 'passes':
      return `it passes on the base (${clip(verdict.tests.join(', '), 120)}), so it does not show the reported behaviour`;
    case 'did-not-run':
      return clip(verdict.problem.split('\n')[0], 200);
  }
}

/** What the model is told about a rejected try. */
export function rejectionFeedback(verdict: Exclude<ReproduceVerdict, { kind: 'reproduces' }>): string {
  switch (verdict.kind) {
    case 'does-not-compile':
      return `The test was rejected because ${verdict.problem}`;
    case 'passes':
      return `The test was rejected because ${rejection(verdict)}: it must fail on the current code for the reason the task states.`;
    case 'did-not-run':
      return `The test was rejected: ${verdict.problem}`;
  }
}

function diagnosticKey(d: Diagnostic): string {
  return `${d.file ?? ''}\u0000${d.code ?? ''}\u0000${d.message}`;
}

function tail(raw: string | undefined): string {
  return raw?.trim() ? `:\n${raw.trim().split('\n').slice(-20).join('\n')}` : '';
}

function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
