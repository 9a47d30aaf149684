// `autodev run --plan-only` on a real Rust crate in a real git repo, and the gates that refuse a run
// before anything is cloned.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { CALC_FILES } from '../support/calc-crate.js';
import { cleanup as cleanupRepos, git, makeRepo } from '../support/fixture-repo.js';
import { assertBuilt, hashTree, lines, makeSandbox, runCli, type Sandbox } from './helpers.js';

const RUST_TOOLS = ['clone', 'search', 'codegen', 'apply', 'build', 'test', 'lint', 'deps-check', 'secrets', 'policy', 'pr'];

let box: Sandbox;
let crate: string;
beforeAll(async () => {
  assertBuilt();
  crate = await makeRepo(CALC_FILES);
});
afterAll(async () => {
  await cleanupRepos();
});
beforeEach(async () => {
  box = await makeSandbox();
});
afterEach(async () => {
  await box.cleanup();
});

const cli = (args: string[], extraEnv: Record<string, string> = {}, input?: string) => runCli(args, { cwd: box.cwd, env: { ...box.env, ...extraEnv }, input });

async function autodevTempDirs(): Promise<string[]> {
  return (await readdir(box.tmp)).filter((name) => name.startsWith('autodev-'));
}

describe('run --plan-only', () => {
  it('prints one JSON plan for a Rust crate and leaves the repository byte-for-byte unchanged', async () => {
    const before = await hashTree(crate);
    expect([...before.keys()].some((k) => k.startsWith('.git/objects/'))).toBe(true);
    const result = await cli(['run', '--repo', crate, '--title', 'Fix add', '--description', 'add subtracts', '--plan-only', '--json']);
    expect(result.code).toBe(0);
    const doc = JSON.parse(result.stdout) as { task: Record<string, any>; plan: Record<string, any> };
    expect(Object.keys(doc).sort()).toEqual(['plan', 'task']);
    expect(doc.plan.steps.map((s: { tool: string }) => s.tool)).toEqual(RUST_TOOLS);
    expect(doc.plan.toolchain).toBe('rust');
    expect(doc.plan.base).toBe('main');
    expect(doc.plan.branch).toMatch(new RegExp(`^autodev/fix-add-${doc.task.key}$`));
    expect(doc.task).toMatchObject({ repo: crate, title: 'Fix add', description: 'add subtracts', risk: 'medium', pr: true, base: 'main' });
    expect(doc.plan.steps.find((s: { id: string }) => s.id === 'test').command).toEqual(['cargo', 'test', '--offline', '--no-fail-fast']);

    const after = await hashTree(crate);
    expect(after).toEqual(before);
    expect(await git(crate, ['status', '--porcelain', '--ignored'])).toBe('');
    // the temporary clone is gone
    expect(await autodevTempDirs()).toEqual([]);
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
    const result = await runCli(['run', '--repo', path.basename(crate), '--title', 'Fix add', '--plan-only', '--json'], { cwd: path.dirname(crate), env: box.env });
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
    const result = await cli(['run', '--repo', path.join(box.root, 'no-such-repo'), '--title', 't', '--plan-only', '--json']);
    expect(result.code).toBe(2);
    expect(lines(result.stderr)).toHaveLength(1);
    expect(result.stderr).toMatch(/--repo .*no-such-repo: no such directory/);
    expect(await autodevTempDirs()).toEqual([]);
  });

  it('fails with exit 1 and one line when the repository cannot be cloned', async () => {
    const notARepo = path.join(box.root, 'not-a-repo');
    await mkdir(notARepo, { recursive: true });
    const result = await cli(['run', '--repo', notARepo, '--title', 't', '--plan-only', '--json']);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(lines(result.stderr)).toHaveLength(1);
    expect(result.stderr).toMatch(/cannot clone/);
    expect(await autodevTempDirs()).toEqual([]);
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

describe('resolveRepo', () => {
  it('makes local paths absolute, reads owner/name as GitHub, and names a missing directory', async () => {
    const { resolveRepo } = await import('../../src/cli/run.js');
    const { mkdtemp, rm, mkdir } = await import('node:fs/promises');
    const os = await import('node:os');
    const pathMod = await import('node:path');
    const cwd = await mkdtemp(pathMod.join(os.tmpdir(), 'resolve-'));
    try {
      await mkdir(pathMod.join(cwd, 'acme', 'calc'), { recursive: true });
      expect(resolveRepo('acme/calc', cwd, 'https://api.github.com')).toBe(pathMod.join(cwd, 'acme', 'calc'));
      expect(resolveRepo('acme/other', cwd, 'https://api.github.com')).toBe('https://github.com/acme/other.git');
      expect(resolveRepo('acme/other', cwd, 'https://ghe.example.com/api/v3')).toBe('https://ghe.example.com/acme/other.git');
      expect(resolveRepo('https://example.com/x/y.git', cwd, 'https://api.github.com')).toBe('https://example.com/x/y.git');
      expect(() => resolveRepo('./nope/deeper', cwd, 'https://api.github.com')).toThrow(/--repo \.\/nope\/deeper: no such directory/);
    } finally {
      await rm(cwd, { recursive: true, force: true });
    }
  });
});
