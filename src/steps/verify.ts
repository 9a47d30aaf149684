// build, test, lint: the planner's command in the sandbox, its output parsed, and judged against
// the baseline (what already failed on the untouched base is never blamed on the change). The test
// run must also show that the change does the task (see judgeTests): passing is not enough.
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import writeFileAtomic from 'write-file-atomic';
import path from 'node:path';
import { createHash } from 'node:crypto';
import type { StepResult } from '../engine/types.js';
import { narrowCargoArgv, touchedCargoPackages, type CargoWorkspace, type OutputFormat } from '../plan/toolchains.js';
import type { ExecResult, Mount } from '../ports/types.js';
import { privateCopy, scrubbedEnv } from '../ports/sandbox/index.js';
import { diffDiagnostics, distillFailure, isRustTestFile, lineMapFromDiff, newFailures, parseCargoMessages, parseCargoTest, parseRustcText, stableTestName, withChangeTestModules } from '../toolchains/rust.js';
import { compareTestRuns, type TestComparison } from '../toolchains/compare.js';
import { isNodeTestFile, parseNodeTestOutput, parseTsc } from '../toolchains/node.js';
import type { Diagnostic, TestFailure, TestReport } from '../toolchains/types.js';
import type { Ctx, StepTool, TestEvidence, VerifyOutcome } from './types.js';

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
    const verdict = await judge(kind, outcome, ctx, scope);
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
  // Caches shared across tasks: the cargo registry and build output kept per repository and
  // toolchain, so a second task on the same repository reuses the first's work. Only code the
  // model did not write may write them: the dependency fetch the cargo home, the untouched base
  // the target dir. The change builds in the task's own copy of the target dir and sees the cargo
  // home read-only, so nothing its build.rs or tests plant reaches another task.
  const repoKey = createHash('sha256').update(ctx.request.repo).digest('hex').slice(0, 12);
  const cargoHome = path.join(cacheDir, 'cargo-home');
  const sharedTarget = path.join(cacheDir, 'target', `${repoKey}-${toolchain}`);
  await mkdir(cargoHome, { recursive: true });
  await mkdir(sharedTarget, { recursive: true });
  const isDeps = ctx.step.tool === 'deps';
  let targetDir = sharedTarget;
  if (!isDeps && ctx.mode !== 'baseline') {
    const copy = await privateCopy(ctx.ports.exec, sharedTarget, path.join(ctx.ports.workspaceDir, 'cargo-target'));
    targetDir = copy.dir;
    if (copy.how === 'copied' || copy.problem) {
      const line = copy.problem
        ? `could not copy the shared target dir (${copy.problem}); building from scratch`
        : `building in the task's own copy of the shared target dir (copied in ${(copy.durationMs / 1000).toFixed(1)}s)`;
      ctx.emit({ type: 'step.output', stepId: ctx.step.id, stream: 'stderr', line });
    }
  }
  const mounts: Mount[] = [
    { host: cargoHome, target: cargoHome, writable: isDeps },
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

async function judge(kind: Kind, outcome: VerifyOutcome, ctx: Ctx, scope: WorkspaceScope | null): Promise<StepResult> {
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
  if (kind === 'test') return judgeTests(outcome, ctx, scope, data);
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

/**
 * The tests of the change, judged against the base. Besides "no test breaks", the change must be
 * shown to do the task: some test passes with it that fails on the base with the change's own test
 * code (a test that failed on the base and passes now, or one the change adds or modifies that fails
 * on the base). A test that stopped running (deleted, renamed, ignored, skipped) is gone, never
 * fixed. A base failure that still fails but reads differently is sent back for a repair round.
 * Without evidence the step fails with `endsAs: 'unproven'`, so a spent repair budget ends the task
 * as unproven rather than verified.
 */
async function judgeTests(outcome: VerifyOutcome, ctx: Ctx, scope: WorkspaceScope | null, data: Record<string, unknown>): Promise<StepResult> {
  const baseline = ctx.state.baseline.test ?? null;
  const tests = outcome.tests;
  if (!tests) {
    if (!outcome.ok && !(baseline && !baseline.ok && !baseline.tests?.failed.length)) {
      return failed(`tests failed: ${outcome.summary}`, buildFeedback('test', outcome), data);
    }
    const why = outcome.ok ? 'the test run names no test' : 'the test command fails on the base too';
    return unproven(`${outcome.summary}; ${why}`, 'The test run named no test that passes with your change, so nothing shows that it does the task.', { ...data, gone: [] });
  }
  const changeNames = [...tests.passed, ...tests.failed.map((f) => f.name)];
  const scoped = (list: TestFailure[]) => (scope ? scopeBaselineFailures(list, scope, changeNames) : list);
  const baseFailures = scoped(baseline?.tests?.failed ?? []);
  const basePassed = scoped((baseline?.tests?.passed ?? []).map((name) => ({ name, output: '' }))).map((f) => f.name);

  const fresh = newFailures(baseFailures, tests.failed);
  const compileErrors = outcome.diagnostics.filter((d) => d.level === 'error');
  if (compileErrors.length && !(baseline && baseline.diagnostics.some((d) => d.level === 'error'))) {
    return failed(`tests did not compile: ${compileErrors.length} error(s)`, distillFailure('build', compileErrors), data);
  }
  if (fresh.length) {
    const names = fresh.map((f) => f.name);
    return failed(
      `${fresh.length} test(s) fail that passed on the base: ${names.slice(0, 3).join(', ')}${names.length > 3 ? ', …' : ''}`,
      distillFailure('test', { ...tests, failed: fresh }),
      { ...data, newFailures: names },
    );
  }
  // A test the task names (the one to fix) must pass: leaving it red is not "not blamed".
  const targets = targetTests(baseFailures.map((f) => f.name), `${ctx.request.title}\n${ctx.request.description}`);
  const missed = tests.failed.filter((f) => targets.includes(f.name));
  if (missed.length) {
    return failed(
      `the task names ${missed.map((f) => f.name).join(', ')}, which still fail${missed.length === 1 ? 's' : ''}`,
      `The task is about ${missed.map((f) => f.name).join(', ')}, which failed before your change and still fails:\n${distillFailure('test', { ...tests, failed: missed })}`,
      { ...data, targetTests: targets },
    );
  }
  if (!outcome.ok && tests.failed.length === 0) {
    if (baseline && !baseline.ok && !baseline.tests?.failed.length) {
      return unproven(`${outcome.summary}; the test command fails on the base too`, `The test command fails on the base too, so no test can show that your change does the task:\n${buildFeedback('test', outcome)}`, data);
    }
    return failed(`tests failed: ${outcome.summary}`, buildFeedback('test', outcome), data);
  }

  const vsBase = compareTestRuns({ passed: basePassed, failed: baseFailures }, tests);
  const evidence = await findEvidence(ctx, scope, outcome, vsBase, { passed: basePassed, failed: baseFailures });
  outcome.evidence = evidence;
  const proven = evidence.fixed.length + evidence.failOnBase.length > 0;
  const evidenceData = { ...data, fixedTests: evidence.fixed, failOnBase: evidence.failOnBase, gone: evidence.gone };
  const goneText = evidence.gone.length ? `gone (ran on the base, not with the change): ${list(evidence.gone)}` : '';

  if (vsBase.changedFailures.length) {
    const names = vsBase.changedFailures.map((c) => c.name);
    const changed = tests.failed.filter((f) => names.includes(f.name));
    const result = failed(
      `${names.length} test(s) failing on the base still fail, with a different failure now: ${list(names)}`,
      `These tests failed before your change and still fail; your change altered how they fail, so it touches what they test but does not fix it:\n${distillFailure('test', { ...tests, failed: changed })}`,
      { ...evidenceData, changedFailures: names },
    );
    return proven ? result : { ...result, endsAs: 'unproven' };
  }
  const unfixed = vsBase.stillFailing.length;
  if (!proven) {
    const failingGone = vsBase.gone.filter((name) => baseFailures.some((f) => f.name === name));
    const reasons = [
      baseFailures.length ? `none of the ${baseFailures.length} test(s) failing on the base passes with it` : 'no test fails on the base',
      'no test it adds or changes fails on the base',
      goneText,
    ].filter(Boolean);
    const feedback = [
      'Your change builds and breaks no test, but no test shows that it does the task.',
      failingGone.length
        ? `These tests failed before your change and do not run with it (deleted, renamed, ignored or skipped): ${failingGone.join(', ')}. Removing or skipping a failing test does not fix it: keep the test and fix the code it tests.`
        : '',
      unfixed ? `Still failing as before your change:\n${distillFailure('test', { ...tests, failed: tests.failed.filter((f) => vsBase.stillFailing.includes(f.name)) })}` : '',
      'Make a test that fails on the base pass, or add a test that fails without your change and passes with it.',
    ].filter(Boolean);
    return unproven(`no evidence the change does the task: ${reasons.join('; ')}`, feedback.join('\n\n'), evidenceData);
  }
  const known = [
    evidence.fixed.length ? `fixes ${evidence.fixed.length} test(s) failing on the base: ${list(evidence.fixed)}` : '',
    evidence.failOnBase.length ? `${evidence.failOnBase.length} test(s) the change adds or changes fail on the base and pass with it: ${list(evidence.failOnBase)}` : '',
    goneText,
    unfixed ? `${unfixed} still failing as on the base, not blamed` : '',
  ].filter(Boolean);
  return { status: 'ok', summary: `${outcome.summary} (${known.join('; ')})`, data: evidenceData };
}

function list(names: string[]): string {
  return `${names.slice(0, 3).join(', ')}${names.length > 3 ? `, … (${names.length})` : ''}`;
}

function unproven(summary: string, feedback: string, data: Record<string, unknown>): StepResult {
  return { status: 'failed', summary, feedback, data, endsAs: 'unproven' };
}

/**
 * The evidence of one test run. When the change touches no test code, the base's own run is the
 * reference: a base failure that passes now is evidence. When it does, the change's test code is
 * run against the base's other code (runChangeTestsOnBase), and only a test that fails there and
 * passes with the change is evidence: so a failing test "fixed" by editing its assertion is not, and
 * a test the change adds counts when the code it tests is what the change fixed.
 */
async function findEvidence(
  ctx: Ctx,
  scope: WorkspaceScope | null,
  outcome: VerifyOutcome,
  vsBase: TestComparison,
  base: { passed: string[]; failed: TestFailure[] },
): Promise<TestEvidence> {
  const tests = outcome.tests!;
  if (tests.passed.length === 0) return { fixed: [], failOnBase: [], gone: vsBase.gone };
  const onBase = await runChangeTestsOnBase(ctx, scope?.argv ?? ctx.step.command ?? []);
  if (!onBase) return { fixed: vsBase.fixed, failOnBase: [], gone: vsBase.gone };
  const report = onBase.tests ?? { passed: [], failed: [], ignored: 0, summary: '' };
  const vsOverlay = compareTestRuns(report, tests);
  const failedOnBase = new Set(base.failed.map((f) => stableTestName(f.name)));
  const fixed = vsOverlay.fixed.filter((name) => failedOnBase.has(stableTestName(name)));
  const failOnBase = vsOverlay.fixed.filter((name) => !failedOnBase.has(stableTestName(name)));
  // A new test that does not even compile against the base's code fails there (it needs what the
  // change adds); it counts only when the base's own tests compiled, so the error is the test's.
  const baseCompiled = !ctx.state.baseline.test?.diagnostics.some((d) => d.level === 'error');
  if (baseCompiled && onBase.diagnostics.some((d) => d.level === 'error')) {
    const seen = new Set([...base.passed, ...base.failed.map((f) => f.name), ...report.passed, ...report.failed.map((f) => f.name)].map(stableTestName));
    failOnBase.push(...tests.passed.filter((name) => !seen.has(stableTestName(name))));
  }
  return { fixed, failOnBase, gone: vsBase.gone };
}

/**
 * Runs the test command on the base's code with the change's test code: the work tree goes back to
 * the base commit, the change's test files (and, for Rust, its inline `#[cfg(test)]` modules) are
 * written over it, and afterwards the tree returns to the change's commit. Returns null when the
 * change touches no test code (the base's own run is then the reference). Done in the task's clone
 * itself, so installed dependencies (node_modules) and the warm build directory are reused.
 */
async function runChangeTestsOnBase(ctx: Ctx, argv: string[]): Promise<VerifyOutcome | null> {
  const { git } = ctx.ports;
  const dir = ctx.state.repoDir;
  const base = ctx.state.baseCommit;
  const change = ctx.state.change;
  const toolchain = String(ctx.step.inputs.toolchain ?? '');
  if (!base || !change) return null;
  const writes: { file: string; text: string | null }[] = [];
  for (const file of await git.changedFiles(dir, base)) {
    const changeText = await git.showFile(dir, change.commit, file).catch(() => null);
    if (toolchain === 'rust' ? isRustTestFile(file) : toolchain === 'node' ? isNodeTestFile(file) : false) {
      writes.push({ file, text: changeText });
      continue;
    }
    if (toolchain !== 'rust' || !file.endsWith('.rs') || changeText === null) continue;
    const baseText = await git.showFile(dir, base, file).catch(() => null);
    const merged = baseText === null ? null : withChangeTestModules(baseText, changeText);
    if (merged !== null) writes.push({ file, text: merged });
  }
  if (writes.length === 0) return null;
  try {
    await git.resetHard(dir, base);
    for (const { file, text } of writes) {
      const target = path.join(dir, file);
      if (text === null) await rm(target, { force: true });
      else {
        await mkdir(path.dirname(target), { recursive: true });
        await writeFile(target, text);
      }
    }
    ctx.emit({ type: 'log', level: 'info', message: `test: running the change's test code (${writes.map((w) => w.file).join(', ')}) against the base` });
    const result = await runInSandbox(ctx, argv);
    return interpret('test', ctx.step.inputs.format as OutputFormat, result);
  } finally {
    await git.resetHard(dir, change.commit);
  }
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
