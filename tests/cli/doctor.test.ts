// `autodev doctor --json` as a process: on this machine's PATH, and on a PATH holding only node and
// git, where every other program is missing and the fallbacks show. Exit 0 only when `ready`: git, a
// usable sandbox and a readable config.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { cleanup } from '../support/fixture-repo.js';
import { cleanEnv, makeRunDir, requireBuilt, runCli, type RunDir } from '../support/cli.js';
import { TOOLCHAINS } from '../../src/toolchains/registry.js';

const PROGRAMS = ['git', 'rg', 'gitleaks', 'cargo', 'cargo clippy', 'docker', 'podman', 'bwrap'];
const SECRET = 'sk-test-secret-value';

interface ToolchainReport {
  id: string;
  language: string;
  usable: boolean;
  programs: Program[];
  missing: { name: string; consequence: string }[];
}

interface Program {
  name: string;
  found: boolean;
  version: string | null;
  insteadWhenMissing: string | null;
}

let box: RunDir;
beforeAll(() => requireBuilt());
beforeEach(async () => {
  box = await makeRunDir('clitest-');
});
afterAll(cleanup);

async function doctor(env: Record<string, string>, exitCode = 0): Promise<{ report: Record<string, any>; stdout: string; stderr: string }> {
  const result = await runCli(['doctor', '--json'], { cwd: box.cwd, env });
  expect(result.code).toBe(exitCode);
  return { report: JSON.parse(result.stdout) as Record<string, any>, stdout: result.stdout, stderr: result.stderr };
}

function byName(report: Record<string, any>): Map<string, Program> {
  return new Map((report.programs as Program[]).map((p) => [p.name, p]));
}

describe('autodev doctor --json', () => {
  it('lists every program with found and version, and credentials without values', async () => {
    // this machine has git and bubblewrap (see the project brief): ready, exit 0
    const { report, stdout, stderr } = await doctor(cleanEnv(box, { OPENAI_API_KEY: SECRET }));
    expect(report).toMatchObject({ ready: true, missing: [] });
    expect(stdout).not.toContain(SECRET);
    expect(stderr).not.toContain(SECRET);
    const programs = byName(report);
    for (const name of PROGRAMS) {
      const p = programs.get(name);
      expect(p).toBeDefined();
      expect(typeof p!.found).toBe('boolean');
      if (p!.found) {
        expect(p!.version).toEqual(expect.any(String));
        expect(p!.insteadWhenMissing).toBeNull();
      } else {
        expect(p!.version).toBeNull();
        expect(p!.insteadWhenMissing).toEqual(expect.any(String));
      }
    }
    // this machine has these (see the project brief); their versions come from the programs
    expect(programs.get('git')?.version).toMatch(/^git version \d/);
    expect(programs.get('rg')?.version).toMatch(/^ripgrep \d/);
    expect(programs.get('bwrap')?.version).toMatch(/^bubblewrap \d/);
    expect(programs.get('cargo')?.version).toMatch(/^cargo \d/);
    expect(programs.get('cargo clippy')?.version).toMatch(/^clippy \d/);
    expect(programs.get('go')?.version).toMatch(/^go version go1\.\d+/);
    const gitleaks = programs.get('gitleaks')!;
    if (!gitleaks.found) expect(gitleaks.insteadWhenMissing).toMatch(/built-in secrets scanner/);

    // Every registered toolchain, in the registry's order, with its own checks and their versions.
    const toolchains = report.toolchains as ToolchainReport[];
    expect(toolchains.map((t) => t.id)).toEqual(TOOLCHAINS.map((t) => t.id));
    for (const t of TOOLCHAINS) {
      const found = toolchains.find((r) => r.id === t.id)!;
      expect(found.language).toBe(t.language);
      expect(found.programs.map((p) => p.name)).toEqual(t.doctor.map((c) => c.name));
      expect(found.missing).toEqual(
        found.programs.filter((p) => !p.found).map((p) => ({ name: p.name, consequence: p.insteadWhenMissing })),
      );
    }
    // this machine has Rust and Node with corepack (see the project brief)
    const rust = toolchains.find((t) => t.id === 'rust')!;
    expect(rust).toMatchObject({ usable: true, missing: [] });
    expect(rust.programs.find((p) => p.name === 'cargo')?.version).toMatch(/^cargo \d/);
    const node = toolchains.find((t) => t.id === 'node')!;
    expect(node).toMatchObject({ usable: true, missing: [] });
    expect(node.programs.find((p) => p.name === 'corepack')?.version).toMatch(/^\d+\.\d+\.\d+$/);

    expect(report.credentials).toEqual([
      { key: 'llm.api_key_env', variable: 'OPENAI_API_KEY', set: true },
      { key: 'git.github_token_env', variable: 'GITHUB_TOKEN', set: false },
    ]);
    expect(report.sandbox.configured).toBe('auto');
    expect(report.sandbox.kinds.map((k: { kind: string }) => k.kind)).toEqual(['docker', 'podman', 'bwrap', 'none']);
    expect(report.configFile).toBeNull();
    expect(report.enabled).toBe(true);
  });

  it('shows the fallbacks when only node and git are on PATH', async () => {
    const bin = path.join(box.dir, 'bin');
    await mkdir(bin);
    await symlink(process.execPath, path.join(bin, 'node'));
    await symlink(execFileSync('sh', ['-c', 'command -v git'], { encoding: 'utf8' }).trim(), path.join(bin, 'git'));

    // No sandbox is usable: not ready (exit 1), and the report says why.
    const { report } = await doctor(cleanEnv(box, { PATH: bin }), 1);
    expect(report.ready).toBe(false);
    expect(report.missing).toEqual([
      { name: 'sandbox', problem: expect.stringMatching(/no usable sandbox.*sandbox = "none"/) },
      { name: 'OPENAI_API_KEY', problem: expect.stringContaining('llm.api_key_env') },
    ]);
    const programs = byName(report);
    expect(programs.get('git')).toMatchObject({ found: true });
    expect(programs.get('gitleaks')).toMatchObject({ found: false, version: null, insteadWhenMissing: 'the built-in secrets scanner' });
    expect(programs.get('rg')).toMatchObject({ found: false, insteadWhenMissing: 'git grep' });
    expect(programs.get('cargo')).toMatchObject({ found: false });
    expect(programs.get('cargo clippy')).toMatchObject({ found: false });
    // What a project of each kind would miss here: Rust and Node cannot be verified at all.
    const toolchains = new Map((report.toolchains as ToolchainReport[]).map((t) => [t.id, t]));
    expect(toolchains.get('rust')).toMatchObject({ usable: false });
    expect(toolchains.get('rust')!.missing.map((m) => m.name)).toEqual(['cargo', 'cargo clippy']);
    expect(toolchains.get('node')).toMatchObject({ usable: false });
    expect(toolchains.get('node')!.missing).toEqual([
      { name: 'npm', consequence: expect.stringMatching(/^none: Node projects cannot be verified/) },
      { name: 'corepack', consequence: 'a pnpm or yarn on PATH, else npm' },
    ]);
    // Toolchains are no reason for a run to stop: which one it needs depends on the repository.
    expect(report.missing.map((m: { name: string }) => m.name)).not.toContain('cargo');
    expect(programs.get('go')).toMatchObject({ found: false, insteadWhenMissing: 'none: Go projects cannot be verified' });
    expect(programs.get('docker')?.insteadWhenMissing).toMatch(/podman, then bwrap/);
    expect(programs.get('bwrap')?.insteadWhenMissing).toMatch(/sandbox = "none"/);
    const kinds = new Map(report.sandbox.kinds.map((k: { kind: string; usable: boolean; problem: string | null }) => [k.kind, k]));
    expect(kinds.get('bwrap')).toMatchObject({ usable: false });
    expect(report.sandbox.used).toBeNull();
    expect(report.credentials.every((c: { set: boolean }) => c.set === false)).toBe(true);
  });

  it('reports a broken package.json in the cwd as a problem and still checks everything else', async () => {
    const pkg = path.join(box.cwd, 'package.json');
    await writeFile(pkg, '{"name": "x",\n"autodev": {"sandbox": }\n}\n');
    const { report, stderr } = await doctor(cleanEnv(box, { OPENAI_API_KEY: SECRET }), 1);
    expect(stderr).toBe('');
    expect(report.ready).toBe(false);
    expect(report.missing).toEqual([{ name: 'config', problem: report.configProblem }]);
    expect(report.configProblem).toContain(pkg);
    expect(report.configProblem).toMatch(/JSON/);
    expect(report.configFile).toBeNull();
    expect(byName(report).get('git')).toMatchObject({ found: true });
    expect(report.sandbox.kinds.map((k: { kind: string }) => k.kind)).toEqual(['docker', 'podman', 'bwrap', 'none']);

    const human = await runCli(['doctor'], { cwd: box.cwd, env: cleanEnv(box, { OPENAI_API_KEY: SECRET }) });
    expect(human.code).toBe(1);
    expect(human.stdout).toMatch(/^config: PROBLEM: .*package\.json.*JSON/m);
    expect(human.stdout).toMatch(/^NOT READY: .*\n {2}config +.*package\.json/m);
    expect(human.stdout).toMatch(/^programs:$/m);
    expect(human.stdout).toMatch(/^toolchains:$/m);
    for (const t of TOOLCHAINS) expect(human.stdout).toContain(`  ${t.language} (${t.manifests[0]}): `);
    expect(human.stdout).toMatch(/^ {4}ok +cargo +cargo \d/m);

    // With --config the named file is the only one read: the broken package.json is no problem then.
    await writeFile(path.join(box.cwd, 'good.toml'), '[autodev]\nsandbox = "none"\n');
    const named = await runCli(['doctor', '--json', '--config', 'good.toml'], {
      cwd: box.cwd,
      env: cleanEnv(box, { OPENAI_API_KEY: SECRET }),
    });
    expect(named.code).toBe(0);
    expect(JSON.parse(named.stdout)).toMatchObject({
      ready: true,
      configFile: path.join(box.cwd, 'good.toml'),
      configProblem: null,
      sandbox: { configured: 'none' },
    });
  });

  it('reports the config it read: a disabled tool and an allowlist', async () => {
    await writeFile(
      path.join(box.cwd, 'autodev.config.toml'),
      '[autodev]\nenabled = false\nallowlist_repos = ["acme/*"]\nsandbox = "none"\n',
    );
    const { report } = await doctor(cleanEnv(box, { OPENAI_API_KEY: SECRET }));
    expect(report.configFile).toBe(path.join(box.cwd, 'autodev.config.toml'));
    expect(report.enabled).toBe(false);
    expect(report.allowlist).toEqual(['acme/*']);
    expect(report.sandbox).toMatchObject({ configured: 'none', used: 'none' });
  });

  it('is not ready without git, nor with a configured sandbox that is not usable', async () => {
    const bin = path.join(box.dir, 'bin');
    await mkdir(bin);
    await symlink(process.execPath, path.join(bin, 'node'));
    await writeFile(path.join(box.cwd, 'autodev.config.toml'), '[autodev]\nsandbox = "docker"\n');
    const { report } = await doctor(cleanEnv(box, { PATH: bin, OPENAI_API_KEY: SECRET }), 1);
    expect(report.ready).toBe(false);
    expect(report.missing.map((m: { name: string }) => m.name)).toEqual(['git', 'sandbox']);
    expect(report.missing[1].problem).toMatch(/^docker: /);

    const human = await runCli(['doctor'], { cwd: box.cwd, env: cleanEnv(box, { PATH: bin, OPENAI_API_KEY: SECRET }) });
    expect(human.code).toBe(1);
    expect(human.stdout).toMatch(/^NOT READY: a run would stop for lack of:\n {2}git +git not found on PATH\n {2}sandbox +docker: /m);
  });

  it('is not ready without the model API key, unless the provider needs none', async () => {
    await writeFile(path.join(box.cwd, 'autodev.config.toml'), '[autodev]\nsandbox = "none"\n');
    const { report } = await doctor(cleanEnv(box), 1);
    expect(report.missing).toEqual([{ name: 'OPENAI_API_KEY', problem: expect.stringContaining('llm.api_key_env') }]);
    await writeFile(
      path.join(box.cwd, 'autodev.config.toml'),
      '[autodev]\nsandbox = "none"\n[autodev.llm]\nprovider = "ollama"\napi_url = "http://127.0.0.1:11434/v1"\n',
    );
    expect((await doctor(cleanEnv(box))).report).toMatchObject({ ready: true, missing: [] });
  });
});
