// build, test, lint: the planner's command in the sandbox, its output parsed, and judged against
// the baseline (what already failed on the untouched base is never blamed on the change).
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { createHash } from 'node:crypto';
import type { StepResult } from '../engine/types.js';
import type { OutputFormat } from '../plan/toolchains.js';
import type { ExecResult, Mount } from '../ports/types.js';
import { scrubbedEnv } from '../ports/sandbox/index.js';
import { diffDiagnostics, distillFailure, lineMapFromDiff, newFailures, parseCargoMessages, parseCargoTest, parseRustcText } from '../toolchains/rust.js';
import { parseNodeTestOutput, parseTsc } from '../toolchains/node.js';
import type { Diagnostic, TestReport } from '../toolchains/types.js';
import type { Ctx, StepTool, VerifyOutcome } from './types.js';

type Kind = 'build' | 'test' | 'lint';
const MAX_OUTPUT_BYTES = 8 * 1024 * 1024;

export const verifyTool: StepTool = {
  name: 'verify',
  async run(ctx): Promise<StepResult> {
    const kind = ctx.step.tool as Kind | 'deps';
    const result = await runInSandbox(ctx);
    if (kind === 'deps') return judgeDeps(result);
    const outcome = interpret(kind, ctx.step.inputs.format as OutputFormat, result);
    if (ctx.mode === 'baseline') {
      ctx.state.baseline[kind] = outcome;
      const couldNot = outcome.couldNotRun ? ` (${outcome.couldNotRun})` : '';
      return { status: 'ok', summary: `base: ${outcome.summary}${couldNot}`, data: outcomeData(outcome) };
    }
    ctx.state.verify[kind] = outcome;
    return judge(kind, outcome, ctx);
  },
};

async function runInSandbox(ctx: Ctx): Promise<ExecResult> {
  const { sandbox, cacheDir, config } = ctx.ports;
  const repoDir = ctx.state.repoDir;
  const toolchain = String(ctx.step.inputs.toolchain ?? 'unknown');
  // Caches shared across tasks: the cargo registry (written only by deps) and build output kept
  // per repository and toolchain, so a second task on the same repository reuses the first's work.
  const repoKey = createHash('sha256').update(ctx.request.repo).digest('hex').slice(0, 12);
  const cargoHome = path.join(cacheDir, 'cargo-home');
  const targetDir = path.join(cacheDir, 'target', `${repoKey}-${toolchain}`);
  await mkdir(cargoHome, { recursive: true });
  await mkdir(targetDir, { recursive: true });
  const mounts: Mount[] = [
    { host: cargoHome, target: cargoHome, writable: ctx.step.network },
    { host: targetDir, target: targetDir, writable: true },
  ];
  const env = scrubbedEnv(
    { CARGO_HOME: cargoHome, CARGO_TARGET_DIR: targetDir, ...(ctx.step.network ? {} : { CARGO_NET_OFFLINE: 'true' }) },
    { kind: sandbox.kind },
  );
  let lastEmit = 0;
  return sandbox.run({
    workspace: repoDir,
    command: ctx.step.command ?? [],
    env,
    network: ctx.step.network,
    mounts,
    timeoutMs: (ctx.step.timeoutSecs || config.runner_timeout_secs) * 1000,
    signal: ctx.signal,
    maxOutputBytes: MAX_OUTPUT_BYTES,
    onLine: (stream, line) => {
      // Cargo's JSON lines are for us, not for the progress view.
      if (line.startsWith('{"reason"')) return;
      const now = Date.now();
      if (now - lastEmit < 50) return;
      lastEmit = now;
      ctx.emit({ type: 'step.output', stepId: ctx.step.id, stream, line: line.slice(0, 300) });
    },
  });
}

function interpret(kind: Kind, format: OutputFormat, result: ExecResult): VerifyOutcome {
  const base = { exitCode: result.exitCode, durationMs: result.durationMs };
  if (result.spawnError) {
    return { ...base, ok: false, summary: `could not start ${result.command[0]}: ${result.spawnError}`, diagnostics: [], tests: null, couldNotRun: result.spawnError };
  }
  if (result.timedOut) {
    return { ...base, ok: false, summary: `timed out after ${Math.round(result.durationMs / 1000)}s`, diagnostics: [], tests: null };
  }
  let diagnostics: Diagnostic[] = [];
  let tests: TestReport | null = null;
  switch (format) {
    case 'cargo-json':
      diagnostics = parseCargoMessages(result.stdout);
      if (diagnostics.length === 0 && result.exitCode !== 0) diagnostics = parseRustcText(result.stderr);
      break;
    case 'cargo-test': {
      const report = parseCargoTest(result.stdout, result.stderr);
      tests = report;
      diagnostics = report.compileErrors;
      break;
    }
    case 'node-test':
      tests = parseNodeTestOutput(result.stdout, result.stderr);
      break;
    case 'tsc':
      diagnostics = parseTsc(`${result.stdout}\n${result.stderr}`);
      break;
    default:
      break;
  }
  const ok = result.exitCode === 0;
  const errors = diagnostics.filter((d) => d.level === 'error').length;
  const warnings = diagnostics.filter((d) => d.level === 'warning').length;
  let summary: string;
  if (tests) summary = tests.summary + (errors ? `, ${errors} compile error(s)` : '');
  else if (kind === 'lint') summary = `${warnings} warning(s), ${errors} error(s)`;
  else summary = ok ? `ok${warnings ? ` (${warnings} warning(s))` : ''}` : `failed: ${errors} error(s)`;
  if (!ok && !tests?.failed.length && errors === 0) summary += ` (exit ${result.exitCode})`;
  const outcome: VerifyOutcome = { ...base, ok, summary, diagnostics, tests };
  // The base itself cannot be linted/tested (e.g. deny(warnings) in test builds): say so.
  if (!ok && errors > 0 && kind !== 'build') outcome.couldNotRun = `${kind} could not run: ${errors} compile error(s)`;
  if (!ok && errors === 0 && !tests?.failed.length) outcome.rawTail = tail(result.stderr || result.stdout, 40);
  return outcome;
}

function judge(kind: Kind, outcome: VerifyOutcome, ctx: Ctx): StepResult {
  const baseline = ctx.state.baseline[kind] ?? null;
  const data = outcomeData(outcome);
  if (kind === 'build') {
    if (outcome.ok) return { status: 'ok', summary: `build ${outcome.summary}`, data };
    return failed(`build failed: ${outcome.summary}`, buildFeedback('build', outcome), data);
  }
  if (kind === 'test') {
    const baseFailures = baseline?.tests?.failed ?? [];
    if (outcome.tests) {
      const fresh = newFailures(baseFailures, outcome.tests.failed);
      const compileErrors = outcome.diagnostics.filter((d) => d.level === 'error');
      if (compileErrors.length && !(baseline && baseline.diagnostics.some((d) => d.level === 'error'))) {
        return failed(`tests did not compile: ${compileErrors.length} error(s)`, distillFailure('build', compileErrors), data);
      }
      if (fresh.length) {
        const names = fresh.map((f) => f.name);
        return failed(
          `${fresh.length} test(s) fail that passed on the base: ${names.slice(0, 3).join(', ')}${names.length > 3 ? ', …' : ''}`,
          distillFailure('test', { ...outcome.tests, failed: fresh }),
          { ...data, newFailures: names },
        );
      }
      const stillFailing = new Set(outcome.tests.failed.map((f) => f.name));
      const fixed = baseFailures.filter((f) => !stillFailing.has(f.name)).map((f) => f.name);
      const unfixed = baseFailures.length - fixed.length;
      const known = [
        fixed.length ? `fixes ${fixed.length} test(s) failing on the base: ${fixed.slice(0, 3).join(', ')}` : '',
        unfixed ? `${unfixed} still failing as on the base, not blamed` : '',
      ].filter(Boolean);
      const knownText = known.length ? ` (${known.join('; ')})` : '';
      if (outcome.ok || outcome.tests.failed.length) return { status: 'ok', summary: `${outcome.summary}${knownText}`, data: { ...data, fixedTests: fixed } };
    }
    if (outcome.ok) return { status: 'ok', summary: outcome.summary, data };
    if (baseline && !baseline.ok && !baseline.tests?.failed.length) {
      return { status: 'ok', summary: `${outcome.summary}; the test command fails on the base too (not blamed)`, data };
    }
    return failed(`tests failed: ${outcome.summary}`, buildFeedback('test', outcome), data);
  }
  // lint: only what the change adds counts.
  const diff = ctx.state.change?.diff ?? '';
  const baseDiagnostics = baseline && !baseline.couldNotRun ? baseline.diagnostics : [];
  const added = diffDiagnostics(baseDiagnostics, outcome.diagnostics, lineMapFromDiff(diff));
  outcome.added = added.length;
  const note = baseline?.couldNotRun ? ` (on the base: ${baseline.couldNotRun}; judged on the change's own diagnostics)` : '';
  if (added.length) {
    return failed(
      `lint: the change adds ${added.length} diagnostic(s): ${[...new Set(added.map((d) => d.code ?? d.message))].slice(0, 3).join(', ')}${note}`,
      distillFailure('lint', added),
      { ...data, added: added.map((d) => ({ code: d.code, message: d.message, file: d.file, line: d.line })) },
    );
  }
  if (!outcome.ok && outcome.diagnostics.length === 0 && !(baseline && !baseline.ok)) {
    return failed(`lint failed: ${outcome.summary}`, buildFeedback('lint', outcome), data);
  }
  const preexisting = outcome.diagnostics.length ? ` (${outcome.diagnostics.length} already on the base, not blamed)` : '';
  return { status: 'ok', summary: `lint clean for the change${preexisting}${note}`, data: { ...data, added: [] } };
}

function buildFeedback(kind: Kind, outcome: VerifyOutcome): string {
  const errors = outcome.diagnostics.filter((d) => d.level === 'error');
  if (errors.length) return distillFailure(kind === 'test' ? 'build' : kind, errors);
  if (outcome.tests?.failed.length) return distillFailure('test', outcome.tests);
  return `${kind} failed (exit ${outcome.exitCode}). Last lines of its output:\n${outcome.rawTail ?? ''}`;
}

function judgeDeps(result: ExecResult): StepResult {
  if (result.exitCode === 0) return { status: 'ok', summary: `dependencies fetched in ${(result.durationMs / 1000).toFixed(1)}s` };
  const text = `${result.stderr}\n${result.stdout}`;
  const named =
    /failed to (?:get|load source for) [`']([^`']+)[`'] as a dependency/.exec(text)?.[1] ??
    /no matching package named [`']([^`']+)[`']/.exec(text)?.[1] ??
    /failed to fetch into: .*|failed to clone into: .*/.exec(text)?.[0] ??
    null;
  const first = text.split('\n').find((l) => /error/i.test(l))?.trim() ?? `exit ${result.exitCode}`;
  const summary = named ? `cannot fetch dependency ${named}: ${first.replace(/^error:\s*/, '')}` : `dependencies could not be fetched: ${first}`;
  return { status: 'failed', summary: result.timedOut ? 'dependency fetch timed out' : summary, data: { exitCode: result.exitCode } };
}

function failed(summary: string, feedback: string, data: Record<string, unknown>): StepResult {
  return { status: 'failed', summary, feedback, data };
}

function outcomeData(outcome: VerifyOutcome): Record<string, unknown> {
  return {
    ok: outcome.ok,
    exitCode: outcome.exitCode,
    summary: outcome.summary,
    durationMs: outcome.durationMs,
    errors: outcome.diagnostics.filter((d) => d.level === 'error').length,
    warnings: outcome.diagnostics.filter((d) => d.level === 'warning').length,
    failedTests: outcome.tests?.failed.map((f) => f.name) ?? [],
    passedTests: outcome.tests?.passed.length ?? null,
    ...(outcome.couldNotRun ? { couldNotRun: outcome.couldNotRun } : {}),
  };
}

function tail(text: string, lines: number): string {
  return text.split('\n').slice(-lines).join('\n');
}
