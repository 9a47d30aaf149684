// build, test, lint: the planner's command in the sandbox, its output parsed, and judged against
// the baseline (what already failed on the untouched base is never blamed on the change). The test
// run must also show that the change does the task (see judgeTests): passing is not enough.
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import writeFileAtomic from 'write-file-atomic';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { glob } from 'tinyglobby';
import type { StepResult } from '../engine/types.js';
import type { ExecResult, Mount, ToolchainBinds } from '../ports/types.js';
import { privateCopy, scrubbedEnv, workspaceTarget } from '../ports/sandbox/index.js';
import {
  compareTestRuns,
  diffDiagnostics,
  lineMapFromDiff,
  newFailures,
  stableTestName,
  testVerdicts,
  type TestComparison,
} from '../toolchains/compare.js';
import { distillFailure } from '../toolchains/distill.js';
import { hostInstalls, toolchainById } from '../toolchains/registry.js';
import { fetchFailureReason } from '../toolchains/text.js';
import type { CacheNeed, Diagnostic, ReportFile, TestFailure, TestReport, Toolchain, Workspace } from '../toolchains/types.js';
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
      return {
        status: 'ok',
        summary: `base: ${baselineSummary(reuse.outcome)}${couldNot} (reused from an earlier task on ${at})`,
        data: { ...outcomeData(reuse.outcome), reused: true },
      };
    }
    const scope = workspaceScope(ctx);
    const argv = scope?.argv ?? ctx.step.command ?? [];
    const result = kind === 'test' ? await withReproductionFile(ctx, () => runInSandbox(ctx, argv)) : await runInSandbox(ctx, argv);
    if (kind === 'deps') return judgeDeps(result, toolchainOf(ctx));
    const outcome = interpret(kind, toolchainOf(ctx), String(ctx.step.inputs.format ?? 'plain'), result);
    if (kind === 'test' && ctx.mode === 'change') noteReproductionHead(ctx, outcome);
    if (ctx.mode === 'baseline') {
      ctx.state.baseline[kind] = outcome;
      if (reuse && !result.timedOut && !result.spawnError && !ctx.signal.aborted) {
        await writeFileAtomic(reuse.file, JSON.stringify(outcome)).catch(() => undefined);
      }
      const couldNot = outcome.couldNotRun ? ` (${outcome.couldNotRun})` : '';
      return { status: 'ok', summary: `base: ${baselineSummary(outcome)}${couldNot}`, data: outcomeData(outcome) };
    }
    ctx.state.verify[kind] = outcome;
    // A grading run (`autodev eval`): the per-test results are the product; the caller judges them.
    if (ctx.step.inputs.record) return { status: 'ok', summary: outcome.summary, data: outcomeData(outcome) };
    const verdict = abstaining(ctx, await judge(kind, outcome, ctx, scope));
    if (!scope) return verdict;
    return { ...verdict, summary: `${verdict.summary} [${scope.label}]`, data: { ...verdict.data, packages: scope.packages } };
  },
};

/**
 * The task abstains (no candidate met the bar; src/steps/select.ts): the best candidate goes to a
 * draft pull request for a human with its failures shown, so a failure is reported, not repaired.
 */
function abstaining(ctx: Ctx, verdict: StepResult): StepResult {
  if (!ctx.state.abstain || verdict.status !== 'failed') return verdict;
  return {
    status: 'ok',
    summary: `${verdict.summary} (abstained: shown in a draft pull request)`,
    data: { ...verdict.data, abstained: true },
  };
}

/** The plan step's toolchain (by the id the planner put in its inputs). */
function toolchainOf(ctx: Ctx): Toolchain | null {
  return toolchainById(ctx.step.inputs.toolchain);
}

// The base's build/test/lint results depend only on the base commit, the command and the tool
// versions, so a later task on the same commit reuses them instead of running the base's test
// suite again (a cache hit also means the target dir is warm, so the change's run is incremental).
async function baselineCache(ctx: Ctx): Promise<{ file: string; outcome: VerifyOutcome | null } | null> {
  const command = ctx.step.command ?? [];
  if (!ctx.state.baseCommit || command.length === 0) return null;
  const version = await toolVersion(ctx, command);
  if (!version) return null;
  const key = createHash('sha256')
    .update(
      JSON.stringify([
        ctx.request.repo,
        ctx.state.baseCommit,
        command,
        ctx.step.inputs.format,
        ctx.ports.sandbox.kind,
        ctx.step.inputs.image,
        version,
      ]),
    )
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

/**
 * Versions asked of one sandbox (one per run), by argv, workspace and binds: the baseline's build,
 * test and lint share one tool, so they share one `cargo --version` sandbox instead of one each.
 * Asked again by the next run: the answer depends on that run's checkout (a rust-toolchain file).
 */
const versionsBySandbox = new WeakMap<object, Map<string, Promise<string | null>>>();

// The tool's version as the sandbox sees it: a toolchain upgrade brings new lints and must not be
// compared against an older linter's baseline.
function toolVersion(ctx: Ctx, command: string[]): Promise<string | null> {
  const versionArgv = toolchainOf(ctx)?.versionArgv?.(command) ?? [command[0], '--version'];
  const sandbox = ctx.ports.sandbox;
  let known = versionsBySandbox.get(sandbox);
  if (!known) {
    known = new Map();
    versionsBySandbox.set(sandbox, known);
  }
  const key = JSON.stringify([versionArgv, ctx.state.repoDir, ctx.step.inputs.binds ?? null]);
  let version = known.get(key);
  if (!version) {
    version = askVersion(ctx, versionArgv);
    known.set(key, version);
    // A failure (cancelled, timed out) is not remembered: the next step asks again.
    const memo = known;
    void version.then(
      (v) => (v === null ? memo.delete(key) : undefined),
      () => memo.delete(key),
    );
  }
  return version;
}

async function askVersion(ctx: Ctx, versionArgv: string[]): Promise<string | null> {
  const result = await ctx.ports.sandbox.run({
    workspace: ctx.state.repoDir,
    command: versionArgv,
    env: scrubbedEnv({}, { kind: ctx.ports.sandbox.kind, installs: hostInstalls() }),
    network: false,
    toolchains: ctx.step.inputs.binds as ToolchainBinds | undefined,
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
  label: string;
  workspace: Workspace;
  toolchain: Toolchain;
}

// The baseline runs before any change exists, so it covers the whole workspace; the change's run
// covers only the packages its files belong to (and their dependents). Test names are compared
// after scoping the baseline to those packages (the toolchain's scopeBaselineFailures).
function workspaceScope(ctx: Ctx): WorkspaceScope | null {
  const workspace = ctx.step.inputs.workspace as Workspace | undefined;
  const repro = ctx.state.reproduction;
  // The reproduction test runs with the change, kept or not: its package is in scope too.
  const files = ctx.state.change && [...ctx.state.change.files, ...(repro && !repro.kept ? [repro.file] : [])];
  const toolchain = toolchainOf(ctx);
  if (ctx.mode !== 'change' || !workspace || !files || !ctx.step.command || !toolchain?.narrow) return null;
  const narrowed = toolchain.narrow(ctx.step.command, workspace, files);
  return narrowed ? { ...narrowed, workspace, toolchain } : null;
}

/** A command's result and the report files it wrote (see ToolchainCommand's `{reports}` and `reports`). */
type RunResult = ExecResult & { reports: ReportFile[]; root: string };

async function runInSandbox(ctx: Ctx, argv: string[]): Promise<RunResult> {
  const { sandbox, cacheDir } = ctx.ports;
  const repoDir = ctx.state.repoDir;
  const toolchainId = String(ctx.step.inputs.toolchain ?? 'unknown');
  const caches = (ctx.step.inputs.caches ?? []) as CacheNeed[];
  // Caches shared across tasks (what the toolchain asked the plan for), so a second task on the
  // same repository reuses the first's downloads and build output. Only code the model did not
  // write may write them: the dependency fetch a `deps` cache, the untouched base a `baseline`
  // cache. The change builds in the task's own copy of a `baseline` cache and sees a `deps` cache
  // read-only, so nothing its build scripts or tests plant reaches another task.
  const repoKey = createHash('sha256').update(ctx.request.repo).digest('hex').slice(0, 12);
  const isDeps = ctx.step.tool === 'deps';
  const mounts: Mount[] = [];
  const cacheEnv: Record<string, string> = {};
  for (const cache of caches) {
    const shared = cache.perTask
      ? path.join(ctx.ports.workspaceDir, cache.dir)
      : cache.perRepository
        ? path.join(cacheDir, cache.dir, `${repoKey}-${toolchainId}`)
        : path.join(cacheDir, cache.dir);
    await mkdir(shared, { recursive: true });
    let dir = shared;
    if (cache.writer === 'baseline' && !isDeps && ctx.mode !== 'baseline') {
      const copy = await privateCopy(ctx.ports.exec, shared, path.join(ctx.ports.workspaceDir, cache.privateCopy ?? `${cache.dir}-copy`));
      dir = copy.dir;
      if (copy.how === 'copied' || copy.problem) {
        const line = copy.problem
          ? `could not copy the shared ${cache.dir} dir (${copy.problem}); building from scratch`
          : `building in the task's own copy of the shared ${cache.dir} dir (copied in ${(copy.durationMs / 1000).toFixed(1)}s)`;
        ctx.emit({ type: 'step.output', stepId: ctx.step.id, stream: 'stderr', line });
      }
    }
    mounts.push({ host: dir, target: dir, writable: cache.writer === 'deps' ? isDeps : true });
    cacheEnv[cache.env] = cache.envValue ? cache.envValue.split('{dir}').join(dir) : dir;
  }
  // Reports: a fresh directory for `{reports}` (outside the repository, so nothing lands in the
  // change), and the repository's own report files removed first, so a stale one is never read.
  const reportGlobs = (ctx.step.inputs.reports ?? []) as string[];
  let reportsDir: string | null = null;
  if (argv.some((a) => a.includes(REPORTS))) {
    reportsDir = path.join(ctx.ports.workspaceDir, 'reports', `${ctx.step.id}-${ctx.mode}-${ctx.round}`);
    await rm(reportsDir, { recursive: true, force: true });
    await mkdir(reportsDir, { recursive: true });
    mounts.push({ host: reportsDir, target: reportsDir, writable: true });
  }
  for (const stale of await findReports(repoDir, reportGlobs)) await rm(path.join(repoDir, stale), { force: true });
  const command = reportsDir ? argv.map((a) => a.split(REPORTS).join(reportsDir)) : argv;
  const env = scrubbedEnv(
    {
      ...cacheEnv,
      ...((ctx.step.inputs.env ?? {}) as Record<string, string>),
      ...(ctx.step.network ? {} : ((ctx.step.inputs.offlineEnv ?? {}) as Record<string, string>)),
    },
    { kind: sandbox.kind, installs: hostInstalls() },
  );
  const toolchain = toolchainOf(ctx);
  let lastEmit = 0;
  const result = await sandbox.run({
    workspace: repoDir,
    command,
    env,
    network: ctx.step.network,
    mounts,
    toolchains: ctx.step.inputs.binds as ToolchainBinds | undefined,
    timeoutMs: ctx.step.timeoutSecs * 1000,
    signal: ctx.signal,
    maxOutputBytes: MAX_OUTPUT_BYTES,
    onLine: (stream, line) => {
      // Machine-readable lines are for the parser, not for the progress view.
      if (toolchain?.isMachineLine?.(line)) return;
      const now = Date.now();
      if (now - lastEmit < 50) return;
      lastEmit = now;
      ctx.emit({ type: 'step.output', stepId: ctx.step.id, stream, line: line.slice(0, 300) });
    },
  });
  const reports = [
    ...(reportsDir ? await readReports(reportsDir, ['**/*']) : []),
    ...(reportGlobs.length ? await readReports(repoDir, reportGlobs) : []),
  ];
  return { ...result, reports, root: workspaceTarget(sandbox.kind, repoDir) };
}

const REPORTS = '{reports}';
const MAX_REPORT_BYTES = 16 * 1024 * 1024;

async function findReports(dir: string, globs: string[]): Promise<string[]> {
  if (globs.length === 0) return [];
  // Report files are plain files the tool wrote: links are not followed out of the directory.
  return (await glob(globs, { cwd: dir, onlyFiles: true, followSymbolicLinks: false, dot: false })).sort();
}

async function readReports(dir: string, globs: string[]): Promise<ReportFile[]> {
  const files: ReportFile[] = [];
  let total = 0;
  for (const file of await findReports(dir, globs)) {
    const text = await readFile(path.join(dir, file), 'utf8').catch(() => null);
    if (text === null) continue;
    total += text.length;
    // A runaway report must not take the process's memory: what fits is read, the rest dropped.
    if (total > MAX_REPORT_BYTES) break;
    files.push({ path: file, text });
  }
  return files;
}

function interpret(kind: Kind, toolchain: Toolchain | null, format: string, result: RunResult): VerifyOutcome {
  const base = { exitCode: result.exitCode, durationMs: result.durationMs };
  if (result.spawnError) {
    return {
      ...base,
      ok: false,
      summary: `could not start ${result.command[0]}: ${result.spawnError}`,
      diagnostics: [],
      tests: null,
      couldNotRun: result.spawnError,
    };
  }
  if (result.timedOut) {
    return { ...base, ok: false, summary: `timed out after ${Math.round(result.durationMs / 1000)}s`, diagnostics: [], tests: null };
  }
  const { diagnostics, tests } = toolchain?.parse(format, result) ?? { diagnostics: [], tests: null };
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
        return {
          status: 'ok',
          summary: `build fails on the base too (${baseline.summary}); the change adds no error`,
          data: { ...data, baseFails: true },
        };
      }
      if (added.length) return failed(`build failed: the change adds ${added.length} error(s)`, distillFailure('build', added), data);
    }
    return failed(
      `build failed: ${outcome.summary.replace(/^failed: /, '')}${firstError(outcome.diagnostics)}`,
      buildFeedback('build', outcome),
      data,
    );
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
export function targetTests(baseFailures: string[], taskText: string, testLeaf?: (name: string) => string): string[] {
  const words = new Set(taskText.toLowerCase().match(/[a-z_][a-z0-9_]*/g) ?? []);
  return baseFailures.filter((name) => {
    const last = testLeaf ? testLeaf(name).toLowerCase() : defaultLeaf(name);
    return last.length >= 3 && words.has(last);
  });
}

function leafOf(toolchain: Toolchain | null): ((name: string) => string) | undefined {
  return toolchain?.testLeaf ? (name) => toolchain.testLeaf!(name) : undefined;
}

// The last segment of a `::`, `#`, ` > ` or ` - ` path (`lib::tests::adds` → `adds`,
// `com.acme.CalcTest#divides` → `divides`); a parametrized pytest case (`test_m[1-2]`) by its test.
function defaultLeaf(name: string): string {
  return (
    name
      .replace(/ \(line \d+\)$/, '')
      .replace(/\[[^\]]*\]$/, '')
      .split(/::|#|\s>\s|\s-\s/)
      .pop()
      ?.trim()
      .toLowerCase() ?? ''
  );
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
async function judgeTests(
  outcome: VerifyOutcome,
  ctx: Ctx,
  scope: WorkspaceScope | null,
  data: Record<string, unknown>,
): Promise<StepResult> {
  const baseline = ctx.state.baseline.test ?? null;
  let tests = outcome.tests;
  if (!tests) {
    if (!outcome.ok && !(baseline && !baseline.ok && !baseline.tests?.failed.length)) {
      return failed(`tests failed: ${outcome.summary}`, buildFeedback('test', outcome), data);
    }
    const why = outcome.ok ? 'the test run names no test' : 'the test command fails on the base too';
    return unproven(
      `${outcome.summary}; ${why}`,
      'The test run named no test that passes with your change, so nothing shows that it does the task.',
      { ...data, gone: [] },
    );
  }
  const changeNames = [...tests.passed, ...tests.failed.map((f) => f.name)];
  const scoped = (list: TestFailure[]) =>
    scope?.toolchain.scopeBaselineFailures ? scope.toolchain.scopeBaselineFailures(list, scope, changeNames) : list;
  const baseFailures = scoped(baseline?.tests?.failed ?? []);
  const basePassed = scoped((baseline?.tests?.passed ?? []).map((name) => ({ name, output: '' }))).map((f) => f.name);

  // A reproduction test failed on the base too (the reproduce step ran it): still failing is judged below, not "new".
  const knownFailures = [...baseFailures, ...reproductionBaseFailures(ctx)];
  let fresh = newFailures(knownFailures, tests.failed);
  const compileErrors = outcome.diagnostics.filter((d) => d.level === 'error');
  if (compileErrors.length && !(baseline && baseline.diagnostics.some((d) => d.level === 'error'))) {
    return failed(`tests did not compile: ${compileErrors.length} error(s)`, distillFailure('build', compileErrors), data);
  }
  const flaky = fresh.length ? await flakyAmong(ctx, scope, fresh, basePassed) : [];
  if (flaky.length) {
    setAsideFlaky(outcome, flaky);
    tests = outcome.tests!;
    fresh = newFailures(knownFailures, tests.failed);
    Object.assign(data, { flaky, summary: outcome.summary, failedTests: tests.failed.map((f) => f.name) });
  }
  outcome.verdicts = testVerdicts({ passed: basePassed, failed: baseFailures }, tests, flaky);
  if (fresh.length) {
    const names = fresh.map((f) => f.name);
    return failed(
      `${fresh.length} test(s) fail that passed on the base: ${names.slice(0, 3).join(', ')}${names.length > 3 ? ', …' : ''}`,
      distillFailure('test', { ...tests, failed: fresh }),
      { ...data, newFailures: names },
    );
  }
  // A test the task names (the one to fix) must pass: leaving it red is not "not blamed".
  const targets = targetTests(
    baseFailures.map((f) => f.name),
    `${ctx.request.title}\n${ctx.request.description}`,
    leafOf(toolchainOf(ctx)),
  );
  const missed = tests.failed.filter((f) => targets.includes(f.name));
  if (missed.length) {
    return failed(
      `the task names ${missed.map((f) => f.name).join(', ')}, which still fail${missed.length === 1 ? 's' : ''}`,
      `The task is about ${missed.map((f) => f.name).join(', ')}, which failed before your change and still fails:\n${distillFailure('test', { ...tests, failed: missed })}`,
      { ...data, targetTests: targets },
    );
  }
  const reproduction = judgeReproductionTests(ctx, tests, data);
  if (reproduction) return reproduction;
  if (!outcome.ok && tests.failed.length === 0) {
    if (baseline && !baseline.ok && !baseline.tests?.failed.length) {
      return unproven(
        `${outcome.summary}; the test command fails on the base too`,
        `The test command fails on the base too, so no test can show that your change does the task:\n${buildFeedback('test', outcome)}`,
        data,
      );
    }
    return failed(`tests failed: ${outcome.summary}`, buildFeedback('test', outcome), data);
  }

  const compared = compareTestRuns({ passed: basePassed, failed: baseFailures }, tests);
  // A flaky test was set aside, not dropped: it ran with the change, so it is not "gone".
  const flakyKeys = new Set(flaky.map(stableTestName));
  const vsBase = flaky.length ? { ...compared, gone: compared.gone.filter((name) => !flakyKeys.has(stableTestName(name))) } : compared;
  const evidence = withReproduced(ctx, await findEvidence(ctx, scope, outcome, vsBase, { passed: basePassed, failed: baseFailures }));
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
      unfixed
        ? `Still failing as before your change:\n${distillFailure('test', { ...tests, failed: tests.failed.filter((f) => vsBase.stillFailing.includes(f.name)) })}`
        : '',
      'Make a test that fails on the base pass, or add a test that fails without your change and passes with it.',
    ].filter(Boolean);
    return unproven(`no evidence the change does the task: ${reasons.join('; ')}`, feedback.join('\n\n'), evidenceData);
  }
  const known = [
    evidence.fixed.length ? `fixes ${evidence.fixed.length} test(s) failing on the base: ${list(evidence.fixed)}` : '',
    evidence.failOnBase.length
      ? `${evidence.failOnBase.length} test(s) the change adds or changes fail on the base and pass with it: ${list(evidence.failOnBase)}`
      : '',
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
    const seen = new Set(
      [...base.passed, ...base.failed.map((f) => f.name), ...report.passed, ...report.failed.map((f) => f.name)].map(stableTestName),
    );
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
  const toolchain = toolchainOf(ctx);
  if (!base || !change || !toolchain) return null;
  const writes: { file: string; text: string | null }[] = [];
  // The change's files as the apply step committed them (its diff against the base): no scratch
  // index and diff again, and nothing the build left in the work tree taken for the change.
  for (const file of change.files) {
    const changeText = await git.showFile(dir, change.commit, file).catch(() => null);
    if (toolchain.isTestFile(file)) {
      writes.push({ file, text: changeText });
      continue;
    }
    if (!toolchain.withChangeTestCode || changeText === null) continue;
    const baseText = await git.showFile(dir, base, file).catch(() => null);
    const merged = baseText === null ? null : toolchain.withChangeTestCode(file, baseText, changeText);
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
    ctx.emit({
      type: 'log',
      level: 'info',
      message: `test: running the change's test code (${writes.map((w) => w.file).join(', ')}) against the base`,
    });
    const result = await runInSandbox(ctx, argv);
    return interpret('test', toolchain, String(ctx.step.inputs.format ?? 'plain'), result);
  } finally {
    await git.resetHard(dir, change.commit);
  }
}

/** The step's test command (`argv`) in the sandbox, read as the test step reads it: the reproduce step runs it on the base. */
export async function runTestCommand(ctx: Ctx, argv: string[]): Promise<VerifyOutcome> {
  const result = await runInSandbox(ctx, argv);
  return interpret('test', toolchainOf(ctx), String(ctx.step.inputs.format ?? 'plain'), result);
}

// ---- the reproduction test (steps/reproduce.ts): present while the change is tested, and must pass.

/**
 * Runs the change's tests with the reproduction file in place when it is not part of the change
 * (generate.keep_reproduction = false): written just before, removed just after, so it never
 * reaches the commit, the diff the later checks read, or the next round's clean base.
 */
async function withReproductionFile<T>(ctx: Ctx, run: () => Promise<T>): Promise<T> {
  const repro = ctx.state.reproduction;
  if (!repro || repro.kept || ctx.mode !== 'change' || ctx.step.inputs.record) return run();
  const target = path.join(ctx.state.repoDir, repro.file);
  await mkdir(path.dirname(target), { recursive: true });
  await writeFile(target, repro.content);
  try {
    return await run();
  } finally {
    await rm(target, { force: true });
  }
}

/** How the reproduction tests did in this run of the change (for the result and the PR body). */
function noteReproductionHead(ctx: Ctx, outcome: VerifyOutcome): void {
  const repro = ctx.state.reproduction;
  if (!repro) return;
  const passed = new Set((outcome.tests?.passed ?? []).map(stableTestName));
  const failed = new Set((outcome.tests?.failed ?? []).map((f) => stableTestName(f.name)));
  const key = (name: string) => stableTestName(name);
  repro.head = {
    passed: repro.tests.filter((t) => passed.has(key(t))),
    failed: repro.tests.filter((t) => failed.has(key(t))),
    notRun: repro.tests.filter((t) => !passed.has(key(t)) && !failed.has(key(t))),
  };
}

function reproductionBaseFailures(ctx: Ctx): TestFailure[] {
  const repro = ctx.state.reproduction;
  return repro ? repro.tests.map((name) => ({ name, output: repro.baseFailure })) : [];
}

/** A repairable failure when a reproduction test does not pass with the change; null when all pass. */
function judgeReproductionTests(ctx: Ctx, tests: TestReport, data: Record<string, unknown>): StepResult | null {
  const repro = ctx.state.reproduction;
  const head = repro?.head;
  if (!repro || !head || (head.failed.length === 0 && head.notRun.length === 0)) return null;
  const failing = tests.failed.filter((f) => head.failed.includes(f.name));
  const parts = [
    `The reproduction test ${repro.file} was written before the fix and fails on the base (${repro.baseFailure}). Your change must make it pass; do not edit it.`,
    failing.length ? `Still failing with your change:\n${distillFailure('test', { ...tests, failed: failing })}` : '',
    head.notRun.length ? `Did not run with your change: ${head.notRun.join(', ')}` : '',
  ].filter(Boolean);
  const names = [...head.failed, ...head.notRun];
  return failed(
    `the reproduction test ${repro.file} does not pass: ${list(names)} ${head.failed.length ? 'still fail' : 'did not run'}`,
    parts.join('\n\n'),
    { ...data, reproduction: { file: repro.file, failed: head.failed, notRun: head.notRun } },
  );
}

/** Reproduction tests that passed are evidence: they failed on the base (reproduce step) and pass with the change. */
function withReproduced(ctx: Ctx, evidence: TestEvidence): TestEvidence {
  const passed = ctx.state.reproduction?.head?.passed ?? [];
  const known = new Set([...evidence.fixed, ...evidence.failOnBase]);
  const added = passed.filter((name) => !known.has(name));
  return added.length ? { ...evidence, fixed: [...evidence.fixed, ...added] } : evidence;
}

/**
 * Tests failing with the change that passed on the base, run again before they are blamed
 * (`verify.flaky_reruns` rounds, each on the change and then on the base; narrowed to those tests
 * where the toolchain can name them on the command line). One that passes on a re-run with the
 * change, or fails on a re-run on the base, flipped: it is flaky. Returns the flaky tests' names.
 */
async function flakyAmong(ctx: Ctx, scope: WorkspaceScope | null, fresh: TestFailure[], basePassed: string[]): Promise<string[]> {
  const rounds = Number(ctx.step.inputs.flakyReruns ?? 0);
  const onBase = new Set(basePassed.map(stableTestName));
  let suspects = fresh.map((f) => f.name).filter((name) => onBase.has(stableTestName(name)));
  const { baseCommit, change, repoDir } = ctx.state;
  const toolchain = toolchainOf(ctx);
  if (rounds <= 0 || suspects.length === 0 || !baseCommit || !change || !toolchain) return [];
  const format = String(ctx.step.inputs.format ?? 'plain');
  const full = scope?.argv ?? ctx.step.command ?? [];
  const flipped: string[] = [];
  const settle = (report: VerifyOutcome, flips: (key: string, r: NonNullable<VerifyOutcome['tests']>) => boolean) => {
    if (!report.tests) return;
    const tests = report.tests;
    const now = suspects.filter((name) => flips(stableTestName(name), tests));
    flipped.push(...now);
    suspects = suspects.filter((name) => !now.includes(name));
  };
  const passedIn = (key: string, r: NonNullable<VerifyOutcome['tests']>) => r.passed.some((n) => stableTestName(n) === key);
  const failedIn = (key: string, r: NonNullable<VerifyOutcome['tests']>) => r.failed.some((f) => stableTestName(f.name) === key);
  for (let round = 1; round <= rounds && suspects.length > 0; round++) {
    const argv = toolchain.selectTests?.(full, suspects, format) ?? full;
    ctx.emit({
      type: 'log',
      level: 'info',
      message: `test: re-running ${suspects.length} test(s) that passed on the base (${round}/${rounds}): ${list(suspects)}`,
    });
    settle(interpret('test', toolchain, format, await runInSandbox(ctx, argv)), passedIn);
    if (suspects.length === 0 || ctx.signal.aborted) break;
    try {
      await ctx.ports.git.resetHard(repoDir, baseCommit);
      settle(
        interpret('test', toolchain, format, await runInSandbox(ctx, toolchain.selectTests?.(full, suspects, format) ?? full)),
        failedIn,
      );
    } finally {
      await ctx.ports.git.resetHard(repoDir, change.commit);
    }
  }
  return flipped;
}

/** Flaky tests leave the change's failures (not blamed) without joining its passes (not counted). */
function setAsideFlaky(outcome: VerifyOutcome, flaky: string[]): void {
  const keys = new Set(flaky.map(stableTestName));
  const tests = outcome.tests!;
  const failed = tests.failed.filter((f) => !keys.has(stableTestName(f.name)));
  const note = `${flaky.length} flaky (result flipped on a re-run; not blamed, not counted): ${list(flaky)}`;
  outcome.tests = { ...tests, failed };
  outcome.flaky = flaky;
  outcome.summary = `${outcome.summary}; ${note}`;
  // The run failed only through tests that are flaky: what is left passed.
  if (failed.length === 0 && !outcome.diagnostics.some((d) => d.level === 'error')) outcome.ok = true;
}

function buildFeedback(kind: Kind, outcome: VerifyOutcome): string {
  const errors = outcome.diagnostics.filter((d) => d.level === 'error');
  if (errors.length) return distillFailure(kind === 'test' ? 'build' : kind, errors);
  if (outcome.tests?.failed.length) return distillFailure('test', outcome.tests);
  return `${kind} failed (exit ${outcome.exitCode}). Last lines of its output:\n${outcome.rawTail ?? ''}`;
}

function judgeDeps(result: ExecResult, toolchain: Toolchain | null): StepResult {
  if (result.exitCode === 0) return { status: 'ok', summary: `dependencies fetched in ${(result.durationMs / 1000).toFixed(1)}s` };
  if (result.timedOut) return { status: 'failed', summary: 'dependency fetch timed out', data: { exitCode: result.exitCode } };
  const text = `${result.stderr}\n${result.stdout}`;
  const summary =
    toolchain?.depsFailureLine?.(text, result.exitCode) ??
    `dependencies could not be fetched: ${fetchFailureReason(text, result.exitCode)}`;
  return { status: 'failed', summary, data: { exitCode: result.exitCode } };
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
