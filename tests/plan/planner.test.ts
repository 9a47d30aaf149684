// The pure planner on repo facts written inline, and on facts read from real temp dirs.
import { afterEach, describe, expect, it } from '@jest/globals';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { autodevSchema, defaultConfig, type Config } from '../../src/config/schema.js';
import type { TaskRequest } from '../../src/config/request.js';
import { readRepoFacts, type HostFacts, type RepoFacts } from '../../src/plan/facts.js';
import { branchName, buildPlan, cloneStep, slugify, taskKey } from '../../src/plan/planner.js';
import type { Plan } from '../../src/plan/types.js';

const CARGO = '[package]\nname = "calc"\nversion = "0.1.0"\nedition = "2021"\n\n[dependencies]\n';
const CARGO_WITH_DEP = `${CARGO}serde = "1"\n`;
const CARGO_LOCK = '# generated\nversion = 3\n\n[[package]]\nname = "calc"\nversion = "0.1.0"\n';
const CARGO_LOCK_WITH_DEP = `${CARGO_LOCK}dependencies = ["serde"]\n\n[[package]]\nname = "serde"\nversion = "1.0.0"\nsource = "registry+https://github.com/rust-lang/crates.io-index"\n`;
const RUST_TOOLS = ['clone', 'search', 'reproduce', 'codegen', 'apply', 'build', 'test', 'lint', 'deps-check', 'secrets', 'policy', 'pr'];

function request(extra: Partial<TaskRequest> = {}): TaskRequest {
  return {
    repo: 'https://github.com/acme/calc.git',
    title: 'Fix add',
    description: 'add subtracts',
    risk: 'medium',
    noPr: false,
    keepWorkspace: false,
    ...extra,
  };
}

function host(extra: Partial<HostFacts> = {}): HostFacts {
  return {
    programs: { git: true, rg: true, cargo: true, bwrap: true },
    autoSandbox: 'bwrap',
    installed: { rust: ['stable-x86_64-unknown-linux-gnu'] },
    ...extra,
  };
}

function repo(manifests: Record<string, string>, extraFiles: string[] = ['src/', 'src/lib.rs']): RepoFacts {
  return { files: [...Object.keys(manifests), ...extraFiles].sort(), manifests, branch: 'main' };
}

function config(overrides: Record<string, unknown> = {}): Config {
  return autodevSchema.parse(overrides);
}

// Where the request's repository (github.com/acme/calc) sends its pull requests.
const FORGE = { owner: 'acme', repo: 'calc' };

function plan(
  manifests: Record<string, string>,
  opts: { req?: Partial<TaskRequest>; cfg?: Record<string, unknown>; host?: Partial<HostFacts>; forge?: typeof FORGE | null } = {},
): Plan {
  return buildPlan({
    request: request(opts.req),
    config: config(opts.cfg),
    repo: repo(manifests),
    host: host(opts.host),
    forge: opts.forge === undefined ? FORGE : opts.forge,
  });
}

function step(p: Plan, id: string) {
  const found = p.steps.find((s) => s.id === id);
  if (!found) throw new Error(`no step ${id} in ${p.steps.map((s) => s.id).join(',')}`);
  return found;
}

describe('a Rust crate', () => {
  it('plans exactly clone, search, reproduce, codegen, apply, build, test, lint, deps-check, secrets, policy, pr', () => {
    const p = plan({ 'Cargo.toml': CARGO });
    expect(p.steps.map((s) => s.tool)).toEqual(RUST_TOOLS);
    expect(p.steps.map((s) => s.id)).toEqual(RUST_TOOLS);
    expect(p.toolchain).toBe('rust');
    expect(p.toolchainReason).toContain('Cargo.toml');
    expect(p.base).toBe('main');
    expect(p.sandbox).toBe('bwrap');
    expect(p.repair).toEqual({ from: 'codegen', budget: 2 });
  });

  it('runs cargo offline in the sandbox for build, test and lint, with the baseline and repair flags', () => {
    const p = plan({ 'Cargo.toml': CARGO });
    expect(step(p, 'build').command).toEqual(['cargo', 'build', '--offline', '--all-targets', '--message-format=json']);
    expect(step(p, 'test').command).toEqual(['cargo', 'test', '--offline', '--no-fail-fast']);
    expect(step(p, 'lint').command).toEqual(['cargo', 'clippy', '--offline', '--all-targets', '--message-format=json']);
    for (const id of ['build', 'test', 'lint']) {
      const s = step(p, id);
      expect(s).toMatchObject({ sandbox: 'bwrap', network: false, baseline: true, repairable: true, timeoutSecs: 900 });
      expect(s.inputs.toolchain).toBe('rust');
    }
    expect(step(p, 'build').inputs.format).toBe('cargo-json');
    expect(step(p, 'test').inputs.format).toBe('cargo-test');
    expect(step(p, 'apply').repairable).toBe(true);
    for (const id of ['clone', 'search', 'codegen', 'apply', 'secrets', 'policy', 'pr']) {
      expect(step(p, id).sandbox).toBeNull();
      expect(step(p, id).command).toBeUndefined();
      expect(step(p, id).baseline).toBeFalsy();
    }
  });

  it('takes retries, timeouts and the repair budget from config', () => {
    const p = plan(
      { 'Cargo.toml': CARGO },
      { cfg: { max_step_retries: 5, runner_timeout_secs: 77, max_repair_attempts: 4, llm: { request_timeout_secs: 33 } } },
    );
    expect(step(p, 'clone').retries).toBe(5);
    expect(step(p, 'codegen').retries).toBe(5);
    // Three requests (a reply and two re-asks of a malformed one) and a margin: each request's own
    // timeout must fire before the step's, or a stalled request would not be retried.
    expect(step(p, 'codegen').timeoutSecs).toBe(3 * 33 + 30);
    expect(step(p, 'pr').retries).toBe(5);
    expect(step(p, 'build').timeoutSecs).toBe(77);
    expect(step(p, 'policy').retries).toBe(0);
    expect(p.repair).toEqual({ from: 'codegen', budget: 4 });
  });

  it('resolves llm.edit_format = "auto" by model name when the plan is made, and keeps a forced format', () => {
    const format = (llm: Record<string, unknown>): unknown =>
      step(plan({ 'Cargo.toml': CARGO }, { cfg: { llm } }), 'codegen').inputs.format;
    expect(format({})).toBe('apply-patch'); // the default model, gpt-4o
    expect(format({ model: 'o3' })).toBe('apply-patch');
    expect(format({ model: 'claude-sonnet-4' })).toBe('search-replace');
    expect(format({ model: 'claude-sonnet-4', edit_format: 'udiff' })).toBe('udiff');
    expect(format({ model: 'gpt-4o', edit_format: 'whole' })).toBe('whole');
    expect(step(plan({ 'Cargo.toml': CARGO }), 'codegen').title).toBe('Ask gpt-4o for a change (apply-patch edits)');
    expect(() => config({ llm: { edit_format: 'diff3' } })).toThrow(/edit_format/);
  });

  it('gives codegen and search every setting they use: model, sampling, budgets, prices, strategy and edit format', () => {
    const p = plan(
      { 'Cargo.toml': CARGO },
      {
        cfg: {
          llm: {
            model: 'm-1',
            temperature: 0.7,
            max_tokens: 999,
            context_tokens: 4321,
            max_total_tokens: 50_000,
            max_cost_usd: 2,
            prompt_price_per_1k: 0.5,
            api_url: 'http://127.0.0.1:9/v1',
          },
        },
      },
    );
    expect(step(p, 'search').inputs).toEqual({ budgetTokens: 4321, model: 'm-1', engine: 'rg' });
    expect(step(p, 'codegen').inputs).toEqual({
      strategy: 'single',
      // An unknown model gets SEARCH/REPLACE blocks (llm.edit_format = "auto").
      format: 'search-replace',
      model: 'm-1',
      apiUrl: 'http://127.0.0.1:9/v1',
      temperature: 0.7,
      maxTokens: 999,
      callsPerAttempt: 3,
      maxTotalTokens: 50_000,
      maxCostUsd: 2,
      promptPricePer1k: 0.5,
      // Unset settings are null rather than absent, so the JSON plan shows them.
      completionPricePer1k: null,
    });
    expect(step(p, 'codegen').title).toBe('Ask m-1 for a change (search-replace edits)');
  });

  it('prices a model by its own entry in llm.prices, over the general prices', () => {
    const prices = { 'm-1': { prompt_per_1k: 0.25, completion_per_1k: 1 }, other: { prompt_per_1k: 9, completion_per_1k: 9 } };
    const priced = plan({ 'Cargo.toml': CARGO }, { cfg: { llm: { model: 'm-1', prompt_price_per_1k: 0.5, prices } } });
    expect(step(priced, 'codegen').inputs).toMatchObject({ promptPricePer1k: 0.25, completionPricePer1k: 1 });
    const general = plan({ 'Cargo.toml': CARGO }, { cfg: { llm: { model: 'm-2', prompt_price_per_1k: 0.5, prices } } });
    expect(step(general, 'codegen').inputs).toMatchObject({ promptPricePer1k: 0.5, completionPricePer1k: null });
  });

  it('plans a grading run as the tests alone: clone, deps, test (recorded, not judged); no model, no change', () => {
    const p = buildPlan({
      request: request(),
      config: config(),
      repo: repo({ 'Cargo.toml': CARGO }),
      host: host(),
      forge: FORGE,
      purpose: 'grade',
    });
    expect(p.steps.map((s) => s.id)).toEqual(['clone', 'test']);
    expect(step(p, 'test').inputs.record).toBe(true);
    expect(p.repair).toBeNull();
  });

  it('names the GitHub repository the pull request goes to', () => {
    expect(step(plan({ 'Cargo.toml': CARGO }), 'pr').inputs).toMatchObject({ repository: 'acme/calc' });
  });

  it('plans no pull request when none can be opened (no GitHub repository), and says why', () => {
    const p = plan({ 'Cargo.toml': CARGO }, { req: { repo: '/srv/calc' }, forge: null });
    expect(p.steps.map((s) => s.tool)).toEqual([...RUST_TOOLS.filter((t) => t !== 'pr'), 'push']);
    expect(p.steps.some((s) => /pull request/.test(s.title) && !/no pull request/.test(s.title))).toBe(false);
    expect(step(p, 'push').title).toBe('Push the branch (no pull request: /srv/calc is not a GitHub repository)');
  });

  it('replaces the pr step by a push step with --no-pr and says so in a note', () => {
    const p = plan({ 'Cargo.toml': CARGO }, { req: { noPr: true } });
    expect(p.steps.map((s) => s.tool)).toEqual([...RUST_TOOLS.filter((t) => t !== 'pr'), 'push']);
    expect(step(p, 'push').title).toBe('Push the branch (no pull request: --no-pr)');
    expect(p.notes.join('\n')).toContain('--no-pr');
  });

  it('adds a networked deps step right after clone for a registry dependency, --locked with Cargo.lock', () => {
    const unlocked = plan({ 'Cargo.toml': CARGO_WITH_DEP });
    expect(unlocked.steps.map((s) => s.id).slice(0, 3)).toEqual(['clone', 'deps', 'search']);
    const deps = step(unlocked, 'deps');
    expect(deps).toMatchObject({ tool: 'deps', network: true, sandbox: 'bwrap', retries: 3 });
    expect(deps.command).toEqual(['cargo', 'fetch']);
    expect(deps.baseline).toBeFalsy();
    expect(deps.repairable).toBeFalsy();

    const locked = plan({ 'Cargo.toml': CARGO_WITH_DEP, 'Cargo.lock': CARGO_LOCK_WITH_DEP });
    expect(step(locked, 'deps').command).toEqual(['cargo', 'fetch', '--locked']);
    // only deps may reach the network
    expect(locked.steps.filter((s) => s.network).map((s) => s.id)).toEqual(['deps']);
  });

  it('finds dependencies in dev-, build-, target- and workspace tables, and in Cargo.lock alone', () => {
    const variants = [
      `${CARGO}\n[dev-dependencies]\nproptest = "1"\n`,
      `${CARGO}\n[build-dependencies]\ncc = { version = "1" }\n`,
      `${CARGO}\n[target.'cfg(unix)'.dependencies]\nlibc = "0.2"\n`,
      `${CARGO}\n[dependencies.rand]\ngit = "https://example.test/rand"\n`,
    ];
    for (const manifest of variants) {
      expect(plan({ 'Cargo.toml': manifest }).steps.map((s) => s.id)).toContain('deps');
    }
    expect(plan({ 'Cargo.toml': CARGO, 'Cargo.lock': CARGO_LOCK_WITH_DEP }).steps.map((s) => s.id)).toContain('deps');
    // a workspace member inheriting a registry dependency from [workspace.dependencies]
    const workspace: RepoFacts = {
      files: ['Cargo.toml', 'a/', 'a/Cargo.toml'],
      manifests: {
        'Cargo.toml': '[workspace]\nmembers = ["a"]\n\n[workspace.dependencies]\nanyhow = "1"\n',
        'a/Cargo.toml': `${CARGO}anyhow = { workspace = true }\n`,
      },
      branch: 'main',
      members: { rust: ['a'] },
    };
    const p = buildPlan({ request: request(), config: defaultConfig(), repo: workspace, host: host(), forge: FORGE });
    expect(p.steps.map((s) => s.id)).toContain('deps');
  });

  it('needs no deps step for path-only dependencies', () => {
    const p = plan({ 'Cargo.toml': `${CARGO}util = { path = "../util" }\n`, 'Cargo.lock': CARGO_LOCK });
    expect(p.steps.map((s) => s.id)).not.toContain('deps');
  });

  it('uses a pinned rust-toolchain.toml when installed, and notes it when not', () => {
    const pin = '[toolchain]\nchannel = "1.80.0"\ncomponents = ["clippy"]\n';
    const installed = plan(
      { 'Cargo.toml': CARGO, 'rust-toolchain.toml': pin },
      { host: { installed: { rust: ['stable-x86_64-unknown-linux-gnu', '1.80.0-x86_64-unknown-linux-gnu'] } } },
    );
    expect(step(installed, 'build').command?.slice(0, 3)).toEqual(['cargo', '+1.80.0', 'build']);
    expect(step(installed, 'test').command?.slice(0, 3)).toEqual(['cargo', '+1.80.0', 'test']);
    expect(step(installed, 'lint').command?.slice(0, 3)).toEqual(['cargo', '+1.80.0', 'clippy']);
    expect(installed.notes.join('\n')).toMatch(/1\.80\.0.*installed and used/);

    const missing = plan({ 'Cargo.toml': CARGO, 'rust-toolchain.toml': pin });
    expect(step(missing, 'build').command?.[1]).toBe('build');
    const note = missing.notes.find((n) => n.includes('1.80.0'));
    expect(note).toMatch(/not installed/);
    expect(note).toContain('rustup toolchain install 1.80.0');
  });

  it('reads a legacy one-line rust-toolchain file', () => {
    const p = plan(
      { 'Cargo.toml': CARGO, 'rust-toolchain': 'nightly-2024-01-01\n' },
      { host: { installed: { rust: ['nightly-2024-01-01-x86_64-unknown-linux-gnu'] } } },
    );
    expect(step(p, 'test').command?.[1]).toBe('+nightly-2024-01-01');
  });

  it('applies command overrides from config, keeping the output format', () => {
    const p = plan(
      { 'Cargo.toml': CARGO_WITH_DEP },
      { cfg: { toolchains: { rust: { test: ['cargo', 'nextest', 'run'], deps: ['cargo', 'fetch', '--offline-mirror'] } } } },
    );
    expect(step(p, 'test').command).toEqual(['cargo', 'nextest', 'run']);
    expect(step(p, 'test').inputs.format).toBe('cargo-test');
    expect(step(p, 'deps').command).toEqual(['cargo', 'fetch', '--offline-mirror']);
    expect(step(p, 'build').command?.[1]).toBe('build');
  });

  it('queries OPA when opa_url is set, with retries', () => {
    const p = plan({ 'Cargo.toml': CARGO }, { cfg: { opa_url: 'http://127.0.0.1:8181', policy_package: 'acme.rules' } });
    expect(step(p, 'policy').inputs).toEqual({
      engine: 'opa',
      url: 'http://127.0.0.1:8181',
      package: 'acme.rules',
      guards: 'review',
    });
    expect(step(p, 'policy').retries).toBe(3);
    expect(plan({ 'Cargo.toml': CARGO }, { req: { risk: 'high' } }).steps.find((s) => s.id === 'policy')?.inputs).toEqual({
      engine: 'local',
      risk: 'high',
      allowDependencySourceChange: false,
      guards: 'review',
    });
  });

  it('picks the search and secrets engines from the host', () => {
    const without = plan({ 'Cargo.toml': CARGO }, { host: { programs: { git: true } } });
    expect(step(without, 'search').inputs.engine).toBe('git-grep');
    expect(step(without, 'secrets').inputs.engine).toBe('builtin');
    const withAll = plan({ 'Cargo.toml': CARGO }, { host: { programs: { git: true, rg: true, gitleaks: true } } });
    expect(step(withAll, 'search').inputs.engine).toBe('rg');
    expect(step(withAll, 'secrets').inputs.engine).toBe('gitleaks');
  });
});

describe('the settings each step reads (the plan is their only source)', () => {
  const CARGO_TOML = '[package]\nname = "calc"\nversion = "0.1.0"\n';
  const cfg = {
    git: { clone_depth: 3, git_author_name: 'Bot', git_author_email: 'bot@example.com' },
    policy: { protected_paths: ['.github/**'], allow_symlinks: true, allow_dependency_source_change: true },
  };

  it('gives clone its source, base and depth, the same step cloneStep makes before the plan exists', () => {
    const p = plan({ 'Cargo.toml': CARGO_TOML }, { cfg, req: { base: 'dev' } });
    expect(step(p, 'clone').inputs).toEqual({ source: request().repo, base: 'dev', depth: 3 });
    expect(step(p, 'clone')).toEqual(cloneStep(request({ base: 'dev' }), config(cfg)));
    expect(step(plan({ 'Cargo.toml': CARGO_TOML }), 'clone').inputs).toMatchObject({ base: null });
  });

  it('gives apply the protected paths, the symlink rule and the bot identity', () => {
    expect(step(plan({ 'Cargo.toml': CARGO_TOML }, { cfg }), 'apply').inputs).toEqual({
      branch: expect.stringMatching(/^autodev\//),
      protectedPaths: ['.github/**'],
      allowSymlinks: true,
      author: { name: 'Bot', email: 'bot@example.com' },
    });
  });

  it('gives pr its repository, labels and draft; push why no pull request is opened', () => {
    const high = step(plan({ 'Cargo.toml': CARGO_TOML }, { req: { risk: 'high' } }), 'pr').inputs;
    expect(high).toMatchObject({ repository: 'acme/calc', labels: ['autodev', 'risk:high'], draft: true, base: 'main' });
    expect(step(plan({ 'Cargo.toml': CARGO_TOML }, { req: { risk: 'low' } }), 'pr').inputs).toMatchObject({
      labels: ['autodev', 'risk:low'],
      draft: false,
    });
    const push = step(plan({ 'Cargo.toml': CARGO_TOML }, { req: { noPr: true } }), 'push').inputs;
    expect(push).toMatchObject({ noPullRequest: '--no-pr' });
    expect(push).not.toHaveProperty('repository');
  });

  it('gives the local policy the dependency-source rule', () => {
    expect(step(plan({ 'Cargo.toml': CARGO_TOML }, { cfg }), 'policy').inputs).toMatchObject({
      engine: 'local',
      allowDependencySourceChange: true,
    });
  });
});

describe('a Node project', () => {
  const pkg = (extra: Record<string, unknown>) => JSON.stringify({ name: 'app', version: '1.0.0', ...extra });

  it('runs npm test, the build script and the lint script', () => {
    const p = plan({ 'package.json': pkg({ scripts: { test: 'jest', build: 'tsc', lint: 'eslint .' } }) });
    expect(p.toolchain).toBe('node');
    // jest names passing tests only when verbose, and the verdict needs their names
    expect(step(p, 'test').command).toEqual(['npm', 'test', '--', '--verbose']);
    expect(step(p, 'test').inputs.format).toBe('node-test');
    expect(step(p, 'build').command).toEqual(['npm', 'run', 'build']);
    expect(step(p, 'lint').command).toEqual(['npm', 'run', 'lint']);
    expect(p.steps.map((s) => s.id)).not.toContain('deps');
  });

  it('makes the test runner name every test only where the arguments reach it', () => {
    const cases: [Record<string, unknown>, string[]][] = [
      [{ scripts: { test: 'vitest' } }, ['npm', 'test', '--', '--run', '--reporter=verbose']],
      [{ scripts: { test: 'vitest run' } }, ['npm', 'test', '--', '--reporter=verbose']],
      [{ scripts: { test: 'jest --verbose' } }, ['npm', 'test']],
      [{ scripts: { test: 'jest && eslint .' } }, ['npm', 'test']],
      [{ scripts: { test: 'node --test' } }, ['npm', 'test']],
    ];
    for (const [extra, argv] of cases) expect(step(plan({ 'package.json': pkg(extra) }), 'test').command).toEqual(argv);
    const pnpm = plan({ 'package.json': pkg({ scripts: { test: 'jest' } }), 'pnpm-lock.yaml': '' }, { host: { programs: { pnpm: true } } });
    expect(step(pnpm, 'test').command).toEqual(['pnpm', 'test', '--verbose']);
  });

  it('lints with tsc when there is a tsconfig.json and TypeScript but no lint script, and skips what is missing', () => {
    const tsc = plan({
      'package.json': pkg({ scripts: { test: 'node --test' }, devDependencies: { typescript: '^5' } }),
      'tsconfig.json': '{}',
    });
    // --offline: a missing tsc must fail at once, not wait for a registry the sandbox cannot reach
    expect(step(tsc, 'lint').command).toEqual(['npx', '--no-install', '--offline', 'tsc', '--noEmit']);
    expect(step(tsc, 'lint').inputs.format).toBe('tsc');
    expect(tsc.steps.map((s) => s.id)).not.toContain('build');
    const untyped = plan({ 'package.json': pkg({ scripts: { test: 'node --test' } }), 'tsconfig.json': '{}' });
    expect(untyped.steps.map((s) => s.id)).not.toContain('lint');

    const bare = plan({ 'package.json': pkg({}) });
    expect(bare.steps.map((s) => s.id)).toEqual([
      'clone',
      'search',
      'reproduce',
      'codegen',
      'apply',
      'test',
      'deps-check',
      'secrets',
      'policy',
      'pr',
    ]);
  });

  it('installs dependencies with npm ci when locked, npm install when not, pnpm when its lockfile and pnpm exist', () => {
    const deps = { dependencies: { lodash: '^4' } };
    expect(step(plan({ 'package.json': pkg(deps), 'package-lock.json': '{}' }), 'deps').command).toEqual(['npm', 'ci']);
    expect(step(plan({ 'package.json': pkg(deps) }), 'deps').command).toEqual(['npm', 'install']);
    const pnpm = plan(
      { 'package.json': pkg({ ...deps, scripts: { build: 'x' } }), 'pnpm-lock.yaml': '' },
      { host: { programs: { pnpm: true } } },
    );
    expect(step(pnpm, 'deps').command).toEqual(['pnpm', 'install', '--frozen-lockfile']);
    expect(step(pnpm, 'test').command).toEqual(['pnpm', 'test']);
    expect(step(pnpm, 'build').command).toEqual(['pnpm', 'run', 'build']);
    // pnpm's lockfile without pnpm on the host falls back to npm
    expect(step(plan({ 'package.json': pkg(deps), 'pnpm-lock.yaml': '' }), 'deps').command).toEqual(['npm', 'install']);
  });

  it('prefers Rust when both Cargo.toml and package.json are present', () => {
    expect(plan({ 'Cargo.toml': CARGO, 'package.json': pkg({}) }).toolchain).toBe('rust');
  });
});

describe('no known toolchain', () => {
  it('plans no build, test or lint (apply alone is repairable) and says the change cannot be verified', () => {
    const p = buildPlan({
      request: request(),
      config: defaultConfig(),
      repo: { files: ['README.md'], manifests: {}, branch: null },
      host: host(),
      forge: FORGE,
    });
    expect(p.toolchain).toBeNull();
    expect(p.steps.map((s) => s.id)).toEqual(['clone', 'search', 'codegen', 'apply', 'secrets', 'policy', 'pr']);
    expect(p.notes.join('\n')).toMatch(/cannot be verified/);
    expect(p.repair).toEqual({ from: 'codegen', budget: 2 });
    expect(p.base).toBeNull();
    expect(p.steps[0].title).toContain('default branch');
  });
});

describe('sandbox resolution', () => {
  it('uses what auto resolved to on the host', () => {
    expect(plan({ 'Cargo.toml': CARGO }, { host: { autoSandbox: 'podman' } }).sandbox).toBe('podman');
    expect(step(plan({ 'Cargo.toml': CARGO }, { host: { autoSandbox: 'docker' } }), 'test').sandbox).toBe('docker');
  });

  it('falls back to bwrap with a note when auto finds nothing usable', () => {
    const p = plan({ 'Cargo.toml': CARGO }, { host: { autoSandbox: null } });
    expect(p.sandbox).toBe('bwrap');
    expect(p.notes.join('\n')).toMatch(/No sandbox is usable/);
  });

  it('honours an explicit choice, and warns about none', () => {
    expect(plan({ 'Cargo.toml': CARGO }, { cfg: { sandbox: 'docker' }, host: { autoSandbox: 'bwrap' } }).sandbox).toBe('docker');
    const none = plan({ 'Cargo.toml': CARGO }, { cfg: { sandbox: 'none' } });
    expect(none.sandbox).toBe('none');
    expect(step(none, 'build').sandbox).toBe('none');
    expect(none.notes.join('\n')).toMatch(/without isolation/);
  });
});

describe('branch names and task keys', () => {
  it('is stable for the same task and differs for another', () => {
    const a = request();
    expect(taskKey(a)).toMatch(/^[0-9a-f]{8}$/);
    expect(taskKey(a)).toBe(taskKey({ ...a }));
    expect(taskKey({ ...a, repo: 'https://github.com/acme/calc' })).toBe(taskKey(a));
    expect(taskKey({ ...a, repo: 'https://github.com/acme/calc/' })).toBe(taskKey(a));
    expect(taskKey({ ...a, title: ' Fix add  ', description: 'add subtracts\n' })).toBe(taskKey(a));
    expect(taskKey({ ...a, title: 'Fix mul' })).not.toBe(taskKey(a));
    expect(taskKey({ ...a, description: 'other' })).not.toBe(taskKey(a));
    expect(taskKey({ ...a, repo: 'https://github.com/acme/other' })).not.toBe(taskKey(a));
  });

  it('builds <prefix><slug>-<key>', () => {
    const r = request({ title: 'Fix: the flaky `add` test!' });
    expect(branchName('autodev/', r)).toBe(`autodev/fix-the-flaky-add-test-${taskKey(r)}`);
    expect(
      buildPlan({
        request: r,
        config: config({ git: { branch_prefix: 'bot/' } }),
        repo: repo({ 'Cargo.toml': CARGO }),
        host: host(),
        forge: FORGE,
      }).branch,
    ).toBe(`bot/fix-the-flaky-add-test-${taskKey(r)}`);
  });

  it('slugifies accents, length and empty titles', () => {
    expect(slugify('Crème brûlée façade')).toBe('creme-brulee-facade');
    expect(slugify('!!!')).toBe('task');
    const long = slugify('a'.repeat(30) + ' ' + 'b'.repeat(30));
    expect(long.length).toBeLessThanOrEqual(40);
    expect(long.endsWith('-')).toBe(false);
  });
});

describe('readRepoFacts on real directories', () => {
  const dirs: string[] = [];
  afterEach(async () => {
    await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
  });
  async function tree(files: Record<string, string>): Promise<string> {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'facts-'));
    dirs.push(dir);
    for (const [rel, text] of Object.entries(files)) {
      await mkdir(path.dirname(path.join(dir, rel)), { recursive: true });
      await writeFile(path.join(dir, rel), text);
    }
    return dir;
  }

  it('lists the top two levels, skips .git, and reads the manifests', async () => {
    const dir = await tree({
      'Cargo.toml': CARGO_WITH_DEP,
      'Cargo.lock': CARGO_LOCK_WITH_DEP,
      'src/lib.rs': 'pub fn f() {}\n',
      'src/deep/mod.rs': '',
      '.git/HEAD': 'ref: refs/heads/main\n',
      'crates/a/Cargo.toml': CARGO,
      'web/package.json': '{}',
    });
    const facts = await readRepoFacts(dir, 'main');
    expect(facts.branch).toBe('main');
    expect(facts.files).toEqual([
      'Cargo.lock',
      'Cargo.toml',
      'crates/',
      'crates/a/',
      'src/',
      'src/deep/',
      'src/lib.rs',
      'web/',
      'web/package.json',
    ]);
    expect(Object.keys(facts.manifests).sort()).toEqual(['Cargo.lock', 'Cargo.toml', 'web/package.json']);
    expect(facts.manifests['Cargo.toml']).toBe(CARGO_WITH_DEP);

    const p = buildPlan({ request: request(), config: defaultConfig(), repo: facts, host: host(), forge: FORGE });
    expect(p.steps.map((s) => s.id)).toEqual([
      'clone',
      'deps',
      'search',
      'reproduce',
      'codegen',
      'apply',
      'build',
      'test',
      'lint',
      'deps-check',
      'secrets',
      'policy',
      'pr',
    ]);
    expect(step(p, 'deps').command).toEqual(['cargo', 'fetch', '--locked']);
  });

  it('plans a zero-dependency crate read from disk with exactly the ten tools', async () => {
    const dir = await tree({
      'Cargo.toml': CARGO,
      'src/lib.rs': 'pub fn f() {}\n',
      'rust-toolchain.toml': '[toolchain]\nchannel = "9.99.0"\n',
    });
    const facts = await readRepoFacts(dir, null);
    const p = buildPlan({ request: request(), config: defaultConfig(), repo: facts, host: host(), forge: FORGE });
    expect(p.steps.map((s) => s.tool)).toEqual(RUST_TOOLS);
    expect(p.notes.join('\n')).toMatch(/9\.99\.0, which is not installed/);
  });

  it('reads a Node project from disk', async () => {
    const dir = await tree({ 'package.json': JSON.stringify({ scripts: { test: 'node --test', lint: 'eslint' } }), 'index.js': '' });
    const p = buildPlan({
      request: request(),
      config: defaultConfig(),
      repo: await readRepoFacts(dir, 'main'),
      host: host(),
      forge: FORGE,
    });
    expect(p.toolchain).toBe('node');
    expect(step(p, 'lint').command).toEqual(['npm', 'run', 'lint']);
  });
});

describe('reproduce first (generate.reproduce)', () => {
  it('plans a reproduce step after search and before codegen, with the test command and typed inputs', () => {
    const p = plan({ 'Cargo.toml': CARGO }, { cfg: { generate: { keep_reproduction: true, reproduce_tries: 3 }, llm: { model: 'm1' } } });
    const ids = p.steps.map((s) => s.id);
    expect(ids.indexOf('reproduce')).toBe(ids.indexOf('search') + 1);
    expect(ids.indexOf('codegen')).toBe(ids.indexOf('reproduce') + 1);
    const s = step(p, 'reproduce');
    // The test step's command and sandbox: it runs the tests on the base, offline, never as a baseline or repair step.
    expect(s.command).toEqual(step(p, 'test').command);
    expect(s).toMatchObject({ sandbox: 'bwrap', network: false, retries: 3 });
    expect(s.baseline).toBeFalsy();
    expect(s.repairable).toBeFalsy();
    expect(s.overlapsBaseline).toBeFalsy();
    expect(s.inputs).toMatchObject({
      format: 'cargo-test',
      toolchain: 'rust',
      mode: 'auto',
      keep: true,
      tries: 3,
      model: 'm1',
      maxTokens: 4096,
      maxTotalTokens: 200000,
    });
    // Three tries, each a model request and a test run.
    expect(s.timeoutSecs).toBe(3 * (120 + 900) + 60);
  });

  it('is left out with reproduce = "never", in a grading run and without a toolchain', () => {
    expect(plan({ 'Cargo.toml': CARGO }, { cfg: { generate: { reproduce: 'never' } } }).steps.map((s) => s.id)).not.toContain('reproduce');
    expect(plan({ 'Cargo.toml': CARGO }, { cfg: { generate: { reproduce: 'always' } } }).steps.map((s) => s.id)).toContain('reproduce');
    expect(step(plan({ 'Cargo.toml': CARGO }, { cfg: { generate: { reproduce: 'always' } } }), 'reproduce').inputs.mode).toBe('always');
    const grade = buildPlan({
      request: request(),
      config: config(),
      repo: repo({ 'Cargo.toml': CARGO }),
      host: host(),
      forge: FORGE,
      purpose: 'grade',
    });
    expect(grade.steps.map((s) => s.id)).not.toContain('reproduce');
    expect(plan({ 'README.md': 'x' }).steps.map((s) => s.id)).not.toContain('reproduce');
  });

  it('refuses a bad reproduce setting by its key', () => {
    expect(() => config({ generate: { reproduce: 'sometimes' } })).toThrow(/reproduce/);
    expect(() => config({ generate: { reproduce_tries: 0 } })).toThrow(/reproduce_tries/);
  });
});
