// build, test, lint: the planner's command in the sandbox, its output parsed, and judged against
// the baseline (what already failed on the untouched base is never blamed on the change).
import { mkdir, readFile } from 'node:fs/promises';
import writeFileAtomic from 'write-file-atomic';
import path from 'node:path';
import { createHash } from 'node:crypto';
import type { StepResult } from '../engine/types.js';
import { narrowCargoArgv, touchedCargoPackages, type CargoWorkspace, type OutputFormat } from '../plan/toolchains.js';
import type { ExecResult, Mount } from '../ports/types.js';
import { scrubbedEnv } from '../ports/sandbox/index.js';
import { diffDiagnostics, distillFailure, lineMapFromDiff, newFailures, parseCargoMessages, parseCargoTest, parseRustcText } from '../toolchains/rust.js';
import { parseNodeTestOutput, parseTsc } from '../toolchains/node.js';
import type { Diagnostic, TestFailure, TestReport } from '../toolchains/types.js';
import type { Ctx, StepTool, VerifyOutcome } from './types.js';

type Kind = 'build' | 'test' | 'lint';
const MAX_OUTPUT_BYTES = 8 * 1024 * 1024;

export const verifyTool: StepTool = {
  name: 'verify',
  async run(ctx): Promise<StepResult> {
    const kind = ctx.step.tool as Kind | 'deps';
    const reuse = kind !== 'deps' && ctx.mode === 'baseline' ? await baselineCache(ctx) : null;
    if (reuse?.outcome && kind !== 'deps') {
      ctx.state.baseline[kind] = reuse.outcome;
      const couldNot = reuse.outcome.couldNotRun ? ` (${reuse.outcome.couldNotRun})` : '';
      const at = ctx.state.baseCommit?.slice(0, 8) ?? 'the base';
      return { status: 'ok', summary: `base: ${baselineSummary(reuse.outcome)}${couldNot} (reused from an earlier task on ${at})`, data: { ...outcomeData(reuse.outcome), reused: true } };
    }
    const scope = workspaceScope(ctx);
    const result = await runInSandbox(ctx, scope?.argv ?? ctx.step.command ?? []);
    if (kind === 'deps') return judgeDeps(result);
    const outcome = interpret(kind, ctx.step.inputs.format as OutputFormat, result);
    if (ctx.mode === 'baseline') {
      ctx.state.baseline[kind] = outcome;
      if (reuse && !result.timedOut && !result.spawnError && !ctx.signal.aborted) {
        await writeFileAtomic(reuse.file, JSON.stringify(outcome)).catch(() => undefined);
      }
      const couldNot = outcome.couldNotRun ? ` (${outcome.couldNotRun})` : '';
      return { status: 'ok', summary: `base: ${baselineSummary(outcome)}${couldNot}`, data: outcomeData(outcome) };
    }
    ctx.state.verify[kind] = outcome;
    const verdict = judge(kind, outcome, ctx, scope);
    if (!scope) return verdict;
    return { ...verdict, summary: `${verdict.summary} [-p ${scope.packages.join(' -p ')}]`, data: { ...verdict.data, packages: scope.packages } };
  },
};

// The base's build/test/lint results depend only on the base commit, the command and the tool
// versions, so a later task on the same commit reuses them instead of running the base's test
// suite again (a cache hit also means the target dir is warm, so the change's run is incremental).
async function baselineCache(ctx: Ctx): Promise<{ file: string; outcome: VerifyOutcome | null } | null> {
  const command = ctx.step.command ?? [];
  if (!ctx.state.baseCommit || command.length === 0) return null;
  const version = await toolVersion(ctx, command);
  if (!version) return null;
  const key = createHash('sha256')
    .update(JSON.stringify([ctx.request.repo, ctx.state.baseCommit, command, ctx.step.inputs.format, ctx.ports.sandbox.kind, ctx.ports.config.sandbox_image, version]))
    .digest('hex')
    .slice(0, 32);
  const dir = path.join(ctx.ports.cacheDir, 'baseline');
  await mkdir(dir, { recursive: true });
  const file = path.join(dir, `${key}.json`);
  const text = await readFile(file, 'utf8').catch(() => null);
  if (!text) return { file, outcome: null };
  try {
    return { file, outcome: JSON.parse(text) as VerifyOutcome };
  } catch {
    return { file, outcome: null };
  }
}

// `cargo +pin --version` / `npm --version` as the sandbox sees it: a toolchain upgrade brings new
// lints and must not be compared against an older clippy's baseline.
async function toolVersion(ctx: Ctx, command: string[]): Promise<string | null> {
  const pin = command[1]?.startsWith('+') ? [command[1]] : [];
  const result = await ctx.ports.sandbox.run({
    workspace: ctx.state.repoDir,
    command: [command[0], ...pin, '--version'],
    env: scrubbedEnv({}, { kind: ctx.ports.sandbox.kind }),
    network: false,
    timeoutMs: 30_000,
    signal: ctx.signal,
    maxOutputBytes: 4096,
  });
  const text = result.stdout.trim();
  return result.exitCode === 0 && text ? text : null;
}

interface WorkspaceScope {
  argv: string[];
  packages: string[];
  workspace: CargoWorkspace;
}

// The baseline runs before any change exists, so it covers the whole workspace; the change's run
// covers only the packages its files belong to (and their dependents). Test names are compared
// after scoping the baseline to those packages (see scopeBaselineFailures).
function workspaceScope(ctx: Ctx): WorkspaceScope | null {
  const workspace = ctx.step.inputs.workspace as CargoWorkspace | undefined;
  const files = ctx.state.change?.files;
  if (ctx.mode !== 'change' || !workspace || !files || !ctx.step.command?.includes('--workspace')) return null;
  const packages = touchedCargoPackages(workspace, files);
  if (!packages || packages.length === workspace.members.length) return null;
  return { argv: narrowCargoArgv(ctx.step.command, packages), packages, workspace };
}

/**
 * The base's failing tests as the narrowed run would name them: failures of packages outside the
 * scope are dropped (they did not run, so they are neither fixed nor still failing), and because
 * the test parser prefixes `lib`/`main` with the crate only when a run covers several packages,
 * `alpha/lib::t` becomes `lib::t` when the change's run did not prefix. Doc tests carry their
 * workspace-relative file, and other targets are named alike in both runs.
 */
export function scopeBaselineFailures(
  failures: TestFailure[],
  scope: { packages: string[]; workspace: CargoWorkspace },
  changeNames: string[],
): TestFailure[] {
  const crate = (name: string) => name.replace(/-/g, '_');
  const inScope = new Set(scope.packages.map(crate));
  const prefixed = changeNames.some((n) => /^[A-Za-z0-9_]+\/(?:lib|main)(?:::|$)/.test(n));
  const nested = scope.workspace.members.filter((m) => m.dir !== '.').sort((a, b) => b.dir.length - a.dir.length);
  const root = scope.workspace.members.find((m) => m.dir === '.');
  const scoped: TestFailure[] = [];
  for (const failure of failures) {
    const unit = /^([A-Za-z0-9_]+)\/((?:lib|main)(?:::.*)?)$/.exec(failure.name);
    if (unit) {
      if (inScope.has(unit[1])) scoped.push(prefixed ? failure : { ...failure, name: unit[2] });
      continue;
    }
    const doc = /^(\S+\.rs) - /.exec(failure.name);
    if (doc) {
      const owner = nested.find((m) => doc[1].startsWith(`${m.dir}/`)) ?? root;
      if (!owner || inScope.has(crate(owner.name))) scoped.push(failure);
      continue;
    }
    scoped.push(failure);
  }
  return scoped;
}

async function runInSandbox(ctx: Ctx, command: string[]): Promise<ExecResult> {
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
    command,
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

function judge(kind: Kind, outcome: VerifyOutcome, ctx: Ctx, scope: WorkspaceScope | null): StepResult {
  const baseline = ctx.state.baseline[kind] ?? null;
  const data = outcomeData(outcome);
  if (kind === 'build') {
    if (outcome.ok) return { status: 'ok', summary: `build ${outcome.summary}`, data };
    // A base that does not build either (say, a bench needing nightly under --all-targets): only
    // errors the change adds are its fault.
    if (baseline && !baseline.ok && !baseline.couldNotRun) {
      const baseErrors = baseline.diagnostics.filter((d) => d.level === 'error');
      const changeErrors = outcome.diagnostics.filter((d) => d.level === 'error');
      const added = diffDiagnostics(baseErrors, changeErrors, lineMapFromDiff(ctx.state.change?.diff ?? ''));
      if (added.length === 0 && (changeErrors.length > 0 || baseErrors.length === 0)) {
        outcome.failsOnBaseToo = true;
        return { status: 'ok', summary: `build fails on the base too (${baseline.summary}); the change adds no error`, data: { ...data, baseFails: true } };
      }
      if (added.length) return failed(`build failed: the change adds ${added.length} error(s)`, distillFailure('build', added), data);
    }
    return failed(`build failed: ${outcome.summary.replace(/^failed: /, '')}${firstError(outcome.diagnostics)}`, buildFeedback('build', outcome), data);
  }
  if (kind === 'test') {
    const allBaseFailures = baseline?.tests?.failed ?? [];
    const changeNames = [...(outcome.tests?.passed ?? []), ...(outcome.tests?.failed.map((f) => f.name) ?? [])];
    const baseFailures = scope ? scopeBaselineFailures(allBaseFailures, scope, changeNames) : allBaseFailures;
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
      // A test the task names (the one to fix) must pass: leaving it red is not "not blamed".
      const targets = targetTests(baseFailures.map((f) => f.name), `${ctx.request.title}\n${ctx.request.description}`);
      const missed = outcome.tests.failed.filter((f) => targets.includes(f.name));
      if (missed.length) {
        return failed(
          `the task names ${missed.map((f) => f.name).join(', ')}, which still fail${missed.length === 1 ? 's' : ''}`,
          `The task is about ${missed.map((f) => f.name).join(', ')}, which failed before your change and still fails:\n${distillFailure('test', { ...outcome.tests, failed: missed })}`,
          { ...data, targetTests: targets },
        );
      }
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
  // Even when clippy could not finish on the base, what it did report there (the compile error that
  // stopped it, say) is not the change's doing.
  const baseDiagnostics = baseline ? baseline.diagnostics : [];
  const added = diffDiagnostics(baseDiagnostics, outcome.diagnostics, lineMapFromDiff(diff));
  outcome.added = added.length;
  const note = baseline?.couldNotRun ? ` (on the base: ${baseline.couldNotRun}; only what the change adds counts)` : '';
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

/**
 * The base's failing tests that the task names (by their last path segment, e.g. `adds` for
 * `lib::tests::adds`, as a whole word in the title or description): the tests the task is about.
 */
export function targetTests(baseFailures: string[], taskText: string): string[] {
  const words = new Set(taskText.toLowerCase().match(/[a-z_][a-z0-9_]*/g) ?? []);
  return baseFailures.filter((name) => {
    const last = name.replace(/ \(line \d+\)$/, '').split(/::|\s>\s|\s-\s/).pop()?.trim().toLowerCase() ?? '';
    return last.length >= 3 && words.has(last);
  });
}

function buildFeedback(kind: Kind, outcome: VerifyOutcome): string {
  const errors = outcome.diagnostics.filter((d) => d.level === 'error');
  if (errors.length) return distillFailure(kind === 'test' ? 'build' : kind, errors);
  if (outcome.tests?.failed.length) return distillFailure('test', outcome.tests);
  return `${kind} failed (exit ${outcome.exitCode}). Last lines of its output:\n${outcome.rawTail ?? ''}`;
}

function judgeDeps(result: ExecResult): StepResult {
  if (result.exitCode === 0) return { status: 'ok', summary: `dependencies fetched in ${(result.durationMs / 1000).toFixed(1)}s` };
  if (result.timedOut) return { status: 'failed', summary: 'dependency fetch timed out', data: { exitCode: result.exitCode } };
  const summary = depsFailureLine(`${result.stderr}\n${result.stdout}`, result.exitCode);
  return { status: 'failed', summary, data: { exitCode: result.exitCode } };
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
  const lines = text.split('\n').map((l) => l.trim());
  const lastCause = lines.lastIndexOf('Caused by:');
  const cause = (lastCause >= 0 ? lines.slice(lastCause + 1).find((l) => l !== '') : undefined)?.replace(/; class=\w+ \(\d+\)$/, '');
  const error = lines.find((l) => l.startsWith('error:'))?.replace(/^error:\s*/, '') ?? lines.find((l) => /error/i.test(l) && !l.startsWith('warning:'));
  const reason = cause ?? error ?? `exit ${exitCode}`;
  if (!named) return `dependencies could not be fetched: ${reason}`;
  return `cannot fetch dependency ${named}${source ? ` from ${source}` : ''}: ${reason}`;
}

/** `: error[E0308]: mismatched types (src/lib.rs:5)`: the error a reader of the summary wants first. */
function firstError(diagnostics: Diagnostic[]): string {
  const error = diagnostics.find((d) => d.level === 'error');
  if (!error) return '';
  const where = error.file ? ` (${error.file}${error.line ? `:${error.line}` : ''})` : '';
  return `: ${error.code ? `error[${error.code}]` : 'error'}: ${error.message.split('\n')[0]}${where}`;
}

/** What the base is like: tests failing there are named first, never summed up in a count. */
function baselineSummary(outcome: VerifyOutcome): string {
  const failing = outcome.tests?.failed.map((f) => f.name) ?? [];
  if (failing.length === 0) return outcome.summary;
  const names = `${failing.slice(0, 3).join(', ')}${failing.length > 3 ? ', …' : ''}`;
  return `${failing.length} test${failing.length === 1 ? '' : 's'} failing (${names}); ${outcome.summary}`;
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
