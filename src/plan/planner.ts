// (request, config, repo facts, host facts) → Plan. Pure: no I/O, so `--plan-only` shows exactly
// what `run` will do and tests can assert on it.
import { createHash } from 'node:crypto';
import type { Config } from '../config/schema.js';
import { resolveEditFormat } from '../generate/formats/choose.js';
import { withRequestOptions, type TaskRequest } from '../config/request.js';
import type { HostFacts, RepoFacts } from './facts.js';
import { containerImage, knownManifests, resolveToolchain, sandboxBinds, unsupportedReason } from './toolchains.js';
import type { Toolchain, ToolchainCommand } from '../toolchains/types.js';
import { displayRepo } from '../util/display.js';
import type {
  ApplyInputs,
  CandidateSpec,
  CloneInputs,
  CodegenInputs,
  DepsCheckInputs,
  ForgeTarget,
  Plan,
  PlanStep,
  PolicyInputs,
  PublishInputs,
  ReproduceInputs,
  SandboxKind,
  SearchInputs,
  SecretsInputs,
  SelectInputs,
  ToolName,
} from './types.js';

export interface PlanInput {
  request: TaskRequest;
  config: Config;
  repo: RepoFacts;
  host: HostFacts;
  /** Where a pull request would go; null when --repo is no GitHub repository and git.github_repo names none. */
  forge: ForgeTarget | null;
  /** The toolchains detection tries, in order (the registry's unless a test gives its own). */
  toolchains?: readonly Toolchain[];
  /**
   * `grade`: no model and no change, only the repository's tests as they are (dependencies
   * fetched first), their per-test results recorded and judged by the caller (`autodev eval`).
   */
  purpose?: 'task' | 'grade';
}

/** Model calls one codegen attempt may make: the reply and up to two re-asks of a malformed one. */
const CODEGEN_CALLS = 3;

/** Failed candidates a repair round goes to (the best ones only). */
const REPAIRED_CANDIDATES = 2;
/** The label of a draft PR no candidate earned (generate.on_no_winner = "draft"). */
const NEEDS_HUMAN_LABEL = 'needs-human';
/** How far above llm.temperature the candidates after each model's first are sampled (at most SPREAD_MAX). */
const SPREAD_STEP = 0.4;
const SPREAD_MAX = 1.2;

/**
 * The candidates of a round: candidate i is asked of generate.models[i mod n] (llm.model when the
 * list is empty), in the edit format that model writes best (or the one forced). Each model's first
 * candidate is sampled at llm.temperature (its likeliest change), its others at llm.temperature +
 * 0.4 (at most 1.2, never below llm.temperature) so they differ; candidates alike in model, format
 * and temperature go in one request with `n` where the endpoint honours it.
 */
function candidateSpecs(config: Config, count: number): CandidateSpec[] {
  const models = config.generate.models.length ? config.generate.models : [config.llm.model];
  const base = config.llm.temperature;
  const high = Math.max(base, Math.min(SPREAD_MAX, Math.round((base + SPREAD_STEP) * 100) / 100));
  const seen = new Set<string>();
  return Array.from({ length: count }, (_, i) => {
    const model = models[i % models.length];
    const first = !seen.has(model);
    seen.add(model);
    return { model, format: resolveEditFormat(config.llm.edit_format, model), temperature: first ? base : high };
  });
}

export function buildPlan({ request, config: configured, repo, host, forge, toolchains, purpose = 'task' }: PlanInput): Plan {
  // The request's own strategy, candidates and edit format (a REST body's) over the config's.
  const config = withRequestOptions(configured, request);
  const notes: string[] = [];
  const sandbox = resolveSandbox(config, host, notes);
  const toolchain = resolveToolchain(repo, host, config, toolchains);
  const base = request.base ?? repo.branch;
  // A follow-up commits on top of the pull request's own branch.
  const branch = request.followup?.branch ?? branchName(config.git.branch_prefix, request);
  const retries = config.max_step_retries;
  const timeout = config.runner_timeout_secs;
  const steps: PlanStep[] = [];

  const add = (tool: ToolName, title: string, extra: Partial<PlanStep> = {}): void => {
    steps.push({ id: tool, tool, title, sandbox: null, network: false, timeoutSecs: 120, retries: 0, inputs: {}, ...extra });
  };
  const sandboxed = (tool: ToolName, title: string, command: ToolchainCommand, extra: Partial<PlanStep> = {}): void => {
    add(tool, title, {
      command: command.argv,
      sandbox,
      timeoutSecs: timeout,
      // Everything the verify step uses: how to read the output, the image the container sandboxes
      // run, the caches and environment the toolchain needs, and a workspace's members (so verify
      // can narrow a whole-workspace command to the touched packages).
      inputs: {
        format: command.format,
        ...(command.reports?.length ? { reports: command.reports } : {}),
        toolchain: toolchain?.id,
        image: toolchain?.image ?? containerImage(config, null),
        caches: toolchain?.sandbox.caches ?? [],
        env: toolchain?.sandbox.env ?? {},
        offlineEnv: toolchain?.sandbox.offlineEnv ?? {},
        // Every registered toolchain's installation: a build may call another's (a native Node module built with cargo).
        binds: sandboxBinds(toolchains),
        ...(toolchain?.workspace && tool !== 'deps' ? { workspace: toolchain.workspace } : {}),
      },
      ...extra,
    });
  };

  // The same step that ran while planning (the plan depends on the repository's files), titled with
  // the branch it found.
  steps.push({ ...cloneStep(request, config), title: `Shallow clone of ${base ?? 'the default branch'}` });
  if (toolchain?.deps) {
    sandboxed('deps', 'Fetch dependencies (network on, scrubbed environment)', toolchain.deps, { network: true, retries });
  }
  const searchInputs: SearchInputs = {
    budgetTokens: config.llm.context_tokens,
    model: config.llm.model,
    engine: host.programs.rg ? 'rg' : 'git-grep',
  };
  if (purpose === 'grade') {
    if (toolchain) sandboxed('test', 'Run the tests that grade the result', toolchain.test);
    const graded = steps.find((s) => s.id === 'test');
    // Recorded, not judged: there is no change and no baseline to judge against.
    if (graded) graded.inputs = { ...graded.inputs, record: true };
    return {
      toolchain: toolchain?.id ?? null,
      toolchainReason: toolchain?.reason ?? 'no known toolchain',
      base,
      branch,
      sandbox,
      repair: null,
      steps,
      notes,
    };
  }
  // Reading the code needs nothing of the base's build: it runs while the baseline does.
  add('search', 'Select the code the model is shown', { timeoutSecs: 60, overlapsBaseline: true, inputs: searchInputs });
  // A model with its own prices (llm.prices) is priced by them.
  const price = config.llm.prices[config.llm.model];
  const candidateCount = config.generate.candidates;
  const strategy = config.generate.strategy ?? (candidateCount > 1 ? 'candidates' : 'single');
  const codegenInputs: CodegenInputs = {
    // One reply (single) or several verified side by side (candidates), each in the edit format its
    // model writes best or the one forced.
    strategy,
    format: resolveEditFormat(config.llm.edit_format, config.llm.model),
    model: config.llm.model,
    apiUrl: config.llm.api_url,
    temperature: config.llm.temperature,
    maxTokens: config.llm.max_tokens,
    callsPerAttempt: CODEGEN_CALLS,
    maxTotalTokens: config.llm.max_total_tokens,
    maxCostUsd: config.llm.max_cost_usd ?? null,
    promptPricePer1k: price?.prompt_per_1k ?? config.llm.prompt_price_per_1k ?? null,
    completionPricePer1k: price?.completion_per_1k ?? config.llm.completion_price_per_1k ?? null,
    ...(strategy === 'candidates' ? { candidates: candidateSpecs(config, candidateCount) } : {}),
  };
  // Reproduce first: after the baseline (it needs the base's test results, and it is the first step
  // that does not overlap the baseline) and before codegen, with the test step's command and sandbox.
  if (toolchain && config.generate.reproduce !== 'never') {
    const tries = config.generate.reproduce_tries;
    const reproduce: ReproduceInputs = {
      mode: config.generate.reproduce,
      keep: config.generate.keep_reproduction,
      tries,
      model: codegenInputs.model,
      temperature: codegenInputs.temperature,
      maxTokens: codegenInputs.maxTokens,
      maxTotalTokens: codegenInputs.maxTotalTokens,
      maxCostUsd: codegenInputs.maxCostUsd,
      promptPricePer1k: codegenInputs.promptPricePer1k,
      completionPricePer1k: codegenInputs.completionPricePer1k,
    };
    const why = config.generate.reproduce === 'auto' ? ' (when the task names no failing test)' : '';
    sandboxed('reproduce', `Ask ${config.llm.model} for a test reproducing the task, kept if it fails on the base${why}`, toolchain.test, {
      retries,
      // Each try is one model request and one test run on the base.
      timeoutSecs: tries * (config.llm.request_timeout_secs + timeout) + 60,
    });
    const step = steps[steps.length - 1];
    step.inputs = { ...step.inputs, ...reproduce };
  }
  if (strategy === 'agent') {
    const agent = config.agent;
    codegenInputs.agent = {
      maxTurns: agent.max_turns,
      maxWallSecs: agent.max_wall_secs,
      commandTimeoutSecs: Math.min(agent.command_timeout_secs, timeout),
      maxOutputChars: agent.max_output_chars,
      contextTokens: agent.context_tokens,
      stream: agent.stream,
      onUnsupported: agent.on_unsupported,
      commands: {
        ...(toolchain?.build ? { build: toolchain.build.argv } : {}),
        ...(toolchain ? { test: toolchain.test.argv } : {}),
        ...(toolchain?.lint ? { lint: toolchain.lint.argv } : {}),
      },
      sandbox: {
        kind: sandbox,
        toolchain: toolchain?.id,
        image: toolchain?.image ?? containerImage(config, null),
        caches: toolchain?.sandbox.caches ?? [],
        env: { ...(toolchain?.sandbox.env ?? {}), ...(toolchain?.sandbox.offlineEnv ?? {}) },
        binds: sandboxBinds(toolchains),
      },
    };
  }
  const agentMode = codegenInputs.agent;
  add(
    'codegen',
    agentMode
      ? `Let ${config.llm.model} work on the change with tools (agent)`
      : `Ask ${config.llm.model} for a change (${codegenInputs.format} edits)`,
    {
      retries,
      // Each request has its own timeout (a transient failure, retried); the step's covers the reply
      // and the two re-asks of a malformed one. Were they equal, the step's would fire first and a
      // timed-out step is not retried. The agent's conversation has its own wall-time limit, checked
      // before each call; the step's covers that plus one call and one command.
      timeoutSecs: agentMode
        ? agentMode.maxWallSecs + config.llm.request_timeout_secs + agentMode.commandTimeoutSecs + 30
        : config.llm.request_timeout_secs * CODEGEN_CALLS + 30,
      inputs: codegenInputs,
    },
  );
  if (strategy === 'candidates') {
    const select: SelectInputs = {
      parallel: config.generate.parallel ?? Math.max(1, host.cores ?? 1),
      repairCandidates: REPAIRED_CANDIDATES,
      onNoWinner: config.generate.on_no_winner,
      label: NEEDS_HUMAN_LABEL,
    };
    const count = codegenInputs.candidates!.length;
    // Each candidate is built, tested and linted; a failure here (none meets the bar) is repaired.
    add('select', `Verify the ${count} candidates in their own workspaces and keep the best`, {
      repairable: true,
      timeoutSecs: timeout * 3 * Math.ceil(count / select.parallel) + 120,
      inputs: { ...select },
    });
  }
  const apply: ApplyInputs = {
    branch,
    protectedPaths: config.policy.protected_paths,
    allowSymlinks: config.policy.allow_symlinks,
    author: { name: config.git.git_author_name, email: config.git.git_author_email },
  };
  add('apply', `Apply the patch on branch ${branch}`, { repairable: true, timeoutSecs: 60, inputs: { ...apply } });
  if (toolchain?.build) sandboxed('build', 'Build', toolchain.build, { baseline: true, repairable: true });
  if (toolchain) sandboxed('test', 'Test', toolchain.test, { baseline: true, repairable: true });
  // A test failing with the change that passed on the base is run again on both before it is blamed.
  const testStep = steps.find((s) => s.id === 'test');
  if (testStep) testStep.inputs = { ...testStep.inputs, flakyReruns: config.verify.flaky_reruns };
  if (toolchain?.lint) sandboxed('lint', 'Lint', toolchain.lint, { baseline: true, repairable: true });
  // Reads manifests and lockfiles only: no project code runs, so no sandbox and no network.
  if (toolchain) {
    const depsCheck: DepsCheckInputs = { toolchain: toolchain.id };
    add('deps-check', 'Compare dependencies (manifests, lockfiles) with the base', { timeoutSecs: 60, inputs: { ...depsCheck } });
  }
  const secrets: SecretsInputs = { engine: host.programs.gitleaks ? 'gitleaks' : 'builtin' };
  add('secrets', 'Scan the change for secrets', { timeoutSecs: 120, inputs: { ...secrets } });
  const policy: PolicyInputs = config.opa_url
    ? { engine: 'opa', url: config.opa_url, package: config.policy_package, guards: config.policy.guards }
    : {
        engine: 'local',
        risk: request.risk,
        allowDependencySourceChange: config.policy.allow_dependency_source_change,
        guards: config.policy.guards,
      };
  add('policy', 'Check policy', { retries: config.opa_url ? retries : 0, timeoutSecs: 30, inputs: { ...policy } });
  if (!request.noPr && forge && !request.followup) {
    // High risk always needs a human: a draft, whatever policy decides (policy may add labels and ask for one too).
    const pr: PublishInputs = {
      branch,
      base,
      repository: `${forge.owner}/${forge.repo}`,
      labels: ['autodev', `risk:${request.risk}`],
      draft: request.risk === 'high',
    };
    add('pr', 'Push the branch and open a pull request', {
      retries,
      timeoutSecs: 120,
      inputs: { ...pr, provider: config.provider, risk: request.risk },
    });
  } else {
    // No pull request, but the verified branch still reaches the repository given.
    const why = request.followup
      ? `a follow-up on pull request #${request.followup.number}, which exists`
      : request.noPr
        ? '--no-pr'
        : `${displayRepo(request.repo)} is not a GitHub repository`;
    const push: PublishInputs = { branch, base, noPullRequest: why, ...(request.followup ? { fastForwardOnly: true } : {}) };
    add('push', `Push the branch (no pull request: ${why})`, { retries, timeoutSecs: 120, inputs: { ...push } });
    // Without a GitHub repository, the step's title says why; `--plan-only` lists it under what is missing.
    if (request.noPr) notes.push(`--no-pr: the branch ${branch} is pushed to the repository; no pull request is opened.`);
  }

  const manifests = knownManifests(toolchains);
  // A build a toolchain recognises but cannot verify (Gradle) is named as such, not as "no project".
  const unsupported = toolchain ? null : unsupportedReason(repo, toolchains);
  if (unsupported) notes.push(`${unsupported}: nothing can be built or tested, so the change cannot be verified.`);
  else if (!toolchain)
    notes.push(`No known toolchain (${manifests.join(', ')}): nothing can be built or tested, so the change cannot be verified.`);
  else notes.push(...toolchain.notes);
  const firstRepairable = steps.find((s) => s.repairable);
  return {
    toolchain: toolchain?.id ?? null,
    toolchainReason:
      toolchain?.reason ??
      unsupported ??
      `no ${manifests.slice(0, -1).join(', ')}${manifests.length > 1 ? ' or ' : ''}${manifests.at(-1) ?? 'manifest'} at the top of the repository`,
    base,
    branch,
    sandbox,
    repair: firstRepairable ? { from: 'codegen', budget: config.max_repair_attempts } : null,
    steps,
    notes,
  };
}

/**
 * The clone, the one step that runs before the plan exists (the planner reads the repository's
 * files): the plan lists this same step first.
 */
export function cloneStep(request: TaskRequest, config: Config): PlanStep {
  const inputs: CloneInputs = { source: request.repo, base: request.base ?? null, depth: config.git.clone_depth };
  return {
    id: 'clone',
    tool: 'clone',
    title: `Shallow clone of ${request.base ?? 'the default branch'}`,
    sandbox: null,
    network: false,
    timeoutSecs: 300,
    retries: config.max_step_retries,
    inputs: { ...inputs },
  };
}

function resolveSandbox(config: Config, host: HostFacts, notes: string[]): SandboxKind {
  if (config.sandbox !== 'auto') {
    if (config.sandbox === 'none') notes.push('sandbox = "none": project code runs directly on this machine, without isolation.');
    return config.sandbox;
  }
  if (host.autoSandbox) return host.autoSandbox;
  notes.push('No sandbox is usable (docker, podman, bwrap): install bubblewrap, or set sandbox = "none" to run unisolated.');
  return 'bwrap';
}

/** A stable key for "the same task": same repo, title and description → same branch and PR. */
export function taskKey(request: Pick<TaskRequest, 'repo' | 'title' | 'description'>): string {
  const repo = request.repo.replace(/\.git$/, '').replace(/\/+$/, '');
  return createHash('sha256').update(`${repo}\n${request.title.trim()}\n${request.description.trim()}`).digest('hex').slice(0, 8);
}

export function branchName(prefix: string, request: Pick<TaskRequest, 'repo' | 'title' | 'description'>): string {
  return `${prefix}${slugify(request.title)}-${taskKey(request)}`;
}

export function slugify(text: string): string {
  const slug = text
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40)
    .replace(/-+$/, '');
  return slug || 'task';
}
