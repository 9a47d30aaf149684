// `autodev run --plan-only` on a real Rust crate in a real git repo, and the gates that refuse a run
// before anything is cloned.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { CALC_FILES } from '../support/calc-crate.js';
import { cleanup, git, makeRepo } from '../support/fixture-repo.js';
import { cleanEnv, lines, makeRunDir, requireBuilt, runCli, type RunDir } from '../support/cli.js';
import { hashTree } from '../support/tree.js';

const RUST_TOOLS = ['clone', 'search', 'reproduce', 'codegen', 'apply', 'build', 'test', 'lint', 'deps-check', 'secrets', 'policy', 'pr'];

let box: RunDir;
let crate: string;
beforeAll(async () => {
  requireBuilt();
  crate = await makeRepo(CALC_FILES);
});
afterAll(async () => {
  await cleanup();
});
beforeEach(async () => {
  box = await makeRunDir('clitest-');
});
afterAll(cleanup);

const cli = (args: string[], extraEnv: Record<string, string> = {}, input?: string) =>
  runCli(args, { cwd: box.cwd, env: cleanEnv(box, extraEnv), input });

async function autodevTempDirs(): Promise<string[]> {
  return (await readdir(box.tmp)).filter((name) => name.startsWith('autodev-'));
}

describe('run --plan-only', () => {
  it('prints one JSON plan for a Rust crate and leaves the repository byte-for-byte unchanged', async () => {
    const before = await hashTree(crate);
    expect([...before.keys()].some((k) => k.startsWith('.git/objects/'))).toBe(true);
    const result = await cli(['run', '--repo', crate, '--title', 'Fix add', '--description', 'add subtracts', '--plan-only', '--json'], {
      AUTODEV_GIT_GITHUB_REPO: 'acme/calc',
    });
    expect(result.code).toBe(0);
    const doc = JSON.parse(result.stdout) as { task: Record<string, any>; plan: Record<string, any> };
    expect(Object.keys(doc).sort()).toEqual(['missing', 'plan', 'task']);
    expect(doc.plan.steps.map((s: { tool: string }) => s.tool)).toEqual(RUST_TOOLS);
    expect(doc.plan.toolchain).toBe('rust');
    expect(doc.plan.base).toBe('main');
    expect(doc.plan.branch).toMatch(new RegExp(`^autodev/fix-add-${doc.task.key}$`));
    expect(doc.task).toMatchObject({ repo: crate, title: 'Fix add', description: 'add subtracts', risk: 'medium', pr: true, base: 'main' });
    expect(doc.plan.steps.find((s: { id: string }) => s.id === 'test').command).toEqual(['cargo', 'test', '--offline', '--no-fail-fast']);
    // What the steps will use, as they will use it (the plan is their only source).
    const inputs = (id: string) => doc.plan.steps.find((s: { id: string }) => s.id === id).inputs;
    expect(inputs('clone')).toEqual({ source: crate, base: null, depth: 1 });
    expect(inputs('apply')).toMatchObject({
      protectedPaths: expect.any(Array),
      author: { name: expect.any(String), email: expect.any(String) },
    });
    expect(inputs('pr')).toMatchObject({ repository: 'acme/calc', labels: ['autodev', 'risk:medium'], draft: false });

    const after = await hashTree(crate);
    expect(after).toEqual(before);
    expect(await git(crate, ['status', '--porcelain', '--ignored'])).toBe('');
    // the temporary clone is gone
    expect(await autodevTempDirs()).toEqual([]);
  });

  it('shows in the JSON plan the model settings codegen and search will use', async () => {
    const result = await cli(['run', '--repo', crate, '--title', 'Fix add', '--plan-only', '--json'], {
      AUTODEV_GIT_GITHUB_REPO: 'acme/calc',
      AUTODEV_LLM_MODEL: 'plan-model',
      AUTODEV_LLM_MAX_TOKENS: '777',
    });
    expect(result.code).toBe(0);
    const steps = (JSON.parse(result.stdout) as { plan: { steps: { id: string; inputs: Record<string, unknown> }[] } }).plan.steps;
    expect(steps.find((s) => s.id === 'codegen')!.inputs).toMatchObject({
      strategy: 'single',
      format: 'search-replace',
      model: 'plan-model',
      maxTokens: 777,
      temperature: 0.2,
      maxTotalTokens: 200000,
    });
    expect(steps.find((s) => s.id === 'search')!.inputs).toMatchObject({ model: 'plan-model', budgetTokens: 8000 });
  });

  it('gives the same task key and branch on every run of the same task', async () => {
    const args = ['run', '--repo', crate, '--title', 'Fix add', '--plan-only', '--json', '--no-pr', '--risk', 'high'];
    const [a, b] = await Promise.all([cli(args), cli(args)]);
    const pa = JSON.parse(a.stdout);
    const pb = JSON.parse(b.stdout);
    expect(pa.task.key).toBe(pb.task.key);
    expect(pa.plan.branch).toBe(pb.plan.branch);
    expect(pa.task.id).not.toBe(pb.task.id);
    expect(pa.task).toMatchObject({ pr: false, risk: 'high' });
    expect(pa.plan.steps.map((s: { tool: string }) => s.tool)).toEqual([...RUST_TOOLS.filter((t) => t !== 'pr'), 'push']);
  });

  it('prints a readable plan without --json', async () => {
    const result = await cli(['run', '--repo', crate, '--title', 'Fix add', '--plan-only', '--sandbox', 'none']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('toolchain: rust (found Cargo.toml)');
    expect(result.stdout).toContain('sandbox:   none');
    expect(result.stdout).toContain('$ cargo test --offline --no-fail-fast');
    expect(result.stdout).toContain('Dry run: nothing was built, generated or pushed.');
  });

  it('plans no pull request for a local repository that names no GitHub repository, and says so', async () => {
    const json = await cli(['run', '--repo', crate, '--title', 'Fix add', '--plan-only', '--json'], { OPENAI_API_KEY: 'k' });
    expect(json.code).toBe(0);
    const doc = JSON.parse(json.stdout) as {
      plan: { steps: { tool: string; title: string }[] };
      missing: { key: string; kind: string; message: string }[];
    };
    expect(doc.plan.steps.map((s) => s.tool)).toEqual([...RUST_TOOLS.filter((t) => t !== 'pr'), 'push']);
    expect(doc.plan.steps.map((s) => s.title).filter((t) => /open a pull request/.test(t))).toEqual([]);
    expect(doc.missing.filter((m) => m.kind !== 'unreachable')).toEqual([
      {
        key: 'git.github_repo',
        kind: 'note',
        message: expect.stringContaining(`${crate} is not a GitHub repository, so no pull request can be opened`),
      },
    ]);

    const human = await cli(['run', '--repo', crate, '--title', 'Fix add', '--plan-only'], { OPENAI_API_KEY: 'k' });
    expect(human.stdout).toContain(`push       Push the branch (no pull request: ${crate} is not a GitHub repository)`);
    expect(human.stdout).toContain('set git.github_repo = "owner/name" to open one');
    expect(human.stdout).not.toContain('open a pull request');
  });

  it('lists the credentials a run would miss: the API key, and the GitHub token when a pull request is planned', async () => {
    const result = await cli(['run', '--repo', crate, '--title', 'Fix add', '--plan-only'], { AUTODEV_GIT_GITHUB_REPO: 'acme/calc' });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('Missing (`autodev run` stops on this before building anything):');
    expect(result.stdout).toMatch(/^ {2}- OPENAI_API_KEY is not set \(llm\.api_key_env\)/m);
    expect(result.stdout).toMatch(
      /^ {2}- GITHUB_TOKEN is not set \(git\.github_token_env\): it is needed to open the pull request on acme\/calc/m,
    );

    // A local server that takes no key, and --no-pr: nothing to ask for.
    const keyless = await cli(['run', '--repo', crate, '--title', 'Fix add', '--plan-only', '--json', '--no-pr'], {
      AUTODEV_LLM_PROVIDER: 'ollama',
      AUTODEV_GIT_GITHUB_REPO: 'acme/calc',
    });
    const missing = (JSON.parse(keyless.stdout) as { missing: { key: string }[] }).missing.map((m) => m.key);
    expect(missing.filter((key) => key !== 'llm.api_url')).toEqual([]);
  });

  it('reads the description from stdin with --description-file -', async () => {
    const text = 'The add function subtracts.\nMake adds() pass.\n';
    const result = await cli(['run', '--repo', crate, '--title', 'Fix add', '--description-file', '-', '--plan-only', '--json'], {}, text);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout).task.description).toBe(text);
  });

  it('reads the description from a file relative to the cwd', async () => {
    await writeFile(path.join(box.cwd, 'task.md'), 'from a file');
    const result = await cli(['run', '--repo', crate, '--title', 'Fix add', '--description-file', 'task.md', '--plan-only', '--json']);
    expect(JSON.parse(result.stdout).task.description).toBe('from a file');
  });

  it('resolves a relative --repo against the cwd', async () => {
    const result = await runCli(['run', '--repo', path.basename(crate), '--title', 'Fix add', '--plan-only', '--json'], {
      cwd: path.dirname(crate),
      env: cleanEnv(box),
    });
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout).task.repo).toBe(crate);
  });

  it('refuses a --title with a newline or an escape sequence (exit 2, one line), before anything is cloned', async () => {
    for (const title of ['Fix add\ntask FAKE: pr_created', 'Fix add \u001b[2K\rtask FAKE: pr_created', 'Fix\u2028add']) {
      const result = await cli(['run', '--repo', crate, '--title', title, '--plan-only', '--json']);
      expect(result.code).toBe(2);
      expect(result.stdout).toBe('');
      expect(lines(result.stderr)).toHaveLength(1);
      expect(result.stderr).toMatch(/^autodev: --title: one line of text without control characters/);
      expect(result.stderr).not.toContain('FAKE');
    }
    expect(await autodevTempDirs()).toEqual([]);
  });

  it('names a --repo path that does not exist with exit 2', async () => {
    const result = await cli(['run', '--repo', path.join(box.dir, 'no-such-repo'), '--title', 't', '--plan-only', '--json']);
    expect(result.code).toBe(2);
    expect(lines(result.stderr)).toHaveLength(1);
    expect(result.stderr).toMatch(/--repo .*no-such-repo: no such directory/);
    expect(await autodevTempDirs()).toEqual([]);
  });

  it('fails with exit 1 and one line when the repository cannot be cloned', async () => {
    const notARepo = path.join(box.dir, 'not-a-repo');
    await mkdir(notARepo, { recursive: true });
    const result = await cli(['run', '--repo', notARepo, '--title', 't', '--plan-only', '--json']);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(lines(result.stderr)).toHaveLength(1);
    expect(result.stderr).toMatch(/cannot clone/);
    expect(await autodevTempDirs()).toEqual([]);
  });
});

describe('checks before spending', () => {
  it('refuses an api_url that is not http(s) with exit 2 and one line naming the key and the file', async () => {
    await writeFile(path.join(box.cwd, 'autodev.config.toml'), '[autodev.llm]\napi_url = "ftp://x"\n');
    const result = await cli(['run', '--repo', crate, '--title', 'Fix add'], { OPENAI_API_KEY: 'k' });
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(lines(result.stderr)).toEqual(['autodev: autodev.config.toml:2: autodev.llm.api_url: expected an http:// or https:// URL']);
    expect(await readdir(box.tmp)).toEqual([]);
  });

  it('refuses --sarif into a directory that does not exist with exit 2 and one line, before any workspace', async () => {
    const result = await cli(['run', '--repo', crate, '--title', 'Fix add', '--sarif', 'missing/out.sarif'], { OPENAI_API_KEY: 'k' });
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(lines(result.stderr)[0]).toBe(
      `autodev: --sarif missing/out.sarif: no such directory ${path.join(box.cwd, 'missing')} (give a file in an existing, writable directory)`,
    );
    expect(await readdir(box.tmp)).toEqual([]);
  });

  it('fails with exit 2 before any workspace or clone when the API key is not set, naming the variable', async () => {
    await writeFile(path.join(box.cwd, 'autodev.config.toml'), '[autodev.llm]\napi_key_env = "MY_LLM_KEY"\n');
    const result = await cli(['run', '--repo', crate, '--title', 'Fix add', '--json', '--no-pr']);
    expect(result.code).toBe(2);
    const doc = JSON.parse(result.stdout) as { status: string; reason: string; steps: unknown[]; exitCode: number };
    expect(doc).toMatchObject({ status: 'failed', exitCode: 2, steps: [] });
    expect(doc.reason).toMatch(/^MY_LLM_KEY is not set \(llm\.api_key_env\)/);
    expect(await readdir(box.tmp)).toEqual([]);
  });
});

describe('gates', () => {
  it('refuses a repository outside the allowlist with exit 3 before any temp dir is made', async () => {
    await writeFile(path.join(box.cwd, 'autodev.config.toml'), '[autodev]\nallowlist_repos = ["acme/*", "/srv/allowed/*"]\n');
    const before = await hashTree(crate);
    const result = await cli(['run', '--repo', crate, '--title', 'Fix add', '--plan-only', '--json']);
    expect(result.code).toBe(3);
    expect(result.stdout).toBe('');
    expect(lines(result.stderr)).toHaveLength(1);
    expect(result.stderr).toContain(`repository ${crate} is not in allowlist_repos`);
    expect(await autodevTempDirs()).toEqual([]);
    expect(await readdir(box.tmp)).toEqual([]);
    expect(await hashTree(crate)).toEqual(before);
  });

  it('runs a repository the allowlist matches', async () => {
    await writeFile(path.join(box.cwd, 'autodev.config.toml'), `[autodev]\nallowlist_repos = ["${path.dirname(crate)}/*"]\n`);
    const result = await cli(['run', '--repo', crate, '--title', 'Fix add', '--plan-only', '--json']);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout).plan.toolchain).toBe('rust');
  });

  it('refuses everything with exit 3 when enabled = false (file or env)', async () => {
    await writeFile(path.join(box.cwd, 'autodev.config.toml'), '[autodev]\nenabled = false\n');
    const fromFile = await cli(['run', '--repo', crate, '--title', 'Fix add', '--plan-only']);
    expect(fromFile.code).toBe(3);
    expect(fromFile.stderr).toMatch(/disabled/);
    expect(await readdir(box.tmp)).toEqual([]);

    await writeFile(path.join(box.cwd, 'autodev.config.toml'), '[autodev]\nenabled = true\n');
    const fromEnv = await cli(['run', '--repo', crate, '--title', 'Fix add'], { AUTODEV_ENABLED: 'false' });
    expect(fromEnv.code).toBe(3);
    expect(fromEnv.stderr).toMatch(/disabled/);
    expect(await readdir(box.tmp)).toEqual([]);
  });
});
