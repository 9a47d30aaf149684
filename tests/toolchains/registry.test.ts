// A toolchain is one folder and one registry line: a toy `make` toolchain, written here in the
// registry's shape, is picked up by the facts reader, the planner and the verify step's parser
// without any other code knowing it.
import { afterEach, describe, expect, it } from '@jest/globals';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { autodevSchema } from '../../src/config/schema.js';
import { readRepoFacts } from '../../src/plan/facts.js';
import { buildPlan } from '../../src/plan/planner.js';
import { CONTEXT_HINTS } from '../../src/toolchains/context-hints.js';
import { dependencyReaders, toolchainById, TOOLCHAINS } from '../../src/toolchains/registry.js';
import type { Toolchain } from '../../src/toolchains/types.js';

const make: Toolchain = {
  id: 'make',
  language: 'Make',
  manifests: ['Makefile'],
  hostPrograms: ['make'],
  sandboxPrograms: ['make'],
  doctor: [{ name: 'make', command: ['make', '--version'], purpose: 'Make projects', fallback: 'none' }],
  detect: (repo) => (repo.files.includes('Makefile') ? 'Makefile' : null),
  // Each subdirectory with its own Makefile is a member.
  async readMembers(_dir, manifests) {
    return Object.keys(manifests)
      .filter((f) => f.endsWith('/Makefile'))
      .map((f) => path.posix.dirname(f))
      .sort();
  },
  commands: (repo) => ({
    deps: null,
    build: { argv: ['make'], format: 'plain' },
    test: { argv: ['make', 'check'], format: 'make-check' },
    lint: null,
    notes: [`${repo.members?.make?.length ?? 0} sub-make(s)`],
  }),
  sandbox: {
    caches: [{ dir: 'make-cache', perRepository: true, writer: 'baseline', env: 'MAKE_CACHE' }],
    env: { MAKEFLAGS: '-j1' },
    offlineEnv: {},
  },
  parse(format, { stdout }) {
    if (format !== 'make-check') return { diagnostics: [], tests: null };
    const passed = [...stdout.matchAll(/^PASS (\S+)$/gm)].map((m) => m[1]);
    const failed = [...stdout.matchAll(/^FAIL (\S+)$/gm)].map((m) => ({ name: m[1], output: '' }));
    return { diagnostics: [], tests: { passed, failed, ignored: 0, summary: `${passed.length} passed, ${failed.length} failed` } };
  },
  isTestFile: (file) => file.startsWith('t/'),
  dependencies: null,
  context: {
    extensions: ['mk'],
    definitions: (line) => /^([A-Za-z_][\w-]*):/.exec(line)?.slice(1) ?? [],
    testFileNames: [/^t_/],
    lockfiles: [],
  },
};

// The registry's shape: an ordered list; the toy comes first, as a new line would put it.
const REGISTRY: readonly Toolchain[] = [make, ...TOOLCHAINS];

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

describe('a toolchain added through the registry', () => {
  it('is detected from the facts, planned with its commands and sandbox needs, and its output parsed', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'autodev-toy-toolchain-'));
    dirs.push(dir);
    await writeFile(path.join(dir, 'Makefile'), 'all:\n\techo ok\n');
    await mkdir(path.join(dir, 'lib'));
    await writeFile(path.join(dir, 'lib', 'Makefile'), 'all:\n');

    const repo = await readRepoFacts(dir, 'main', REGISTRY);
    expect(repo.manifests).toHaveProperty('Makefile');
    expect(repo.members).toEqual({ make: ['lib'] });

    const plan = buildPlan({
      request: { repo: dir, title: 'Fix', description: 'fix it', risk: 'low', noPr: true, keepWorkspace: false },
      config: autodevSchema.parse({}),
      repo,
      host: { programs: { make: true, git: true }, autoSandbox: 'bwrap', installed: {} },
      forge: null,
      toolchains: REGISTRY,
    });
    expect(plan.toolchain).toBe('make');
    expect(plan.toolchainReason).toBe('found Makefile');
    expect(plan.notes).toContain('1 sub-make(s)');
    const test = plan.steps.find((s) => s.tool === 'test')!;
    expect(test.command).toEqual(['make', 'check']);
    expect(test.inputs).toMatchObject({ format: 'make-check', toolchain: 'make', env: { MAKEFLAGS: '-j1' }, caches: make.sandbox.caches });
    expect((test.inputs.binds as { programs: string[] }).programs).toEqual(expect.arrayContaining(['make', 'cargo']));
    expect(plan.steps.find((s) => s.tool === 'build')!.command).toEqual(['make']);
    expect(plan.steps.some((s) => s.tool === 'lint' || s.tool === 'deps')).toBe(false);

    // What verify does with the step: find the toolchain by the plan's id and let it read the output.
    const found = toolchainById(test.inputs.toolchain, REGISTRY)!;
    expect(found.parse('make-check', { stdout: 'PASS a\nFAIL b\n', stderr: '', exitCode: 2 }).tests).toMatchObject({
      passed: ['a'],
      failed: [{ name: 'b' }],
    });
    // A toolchain without manifests to compare adds no dependency reader.
    expect(dependencyReaders(REGISTRY)).toHaveLength(dependencyReaders().length);
  });

  it('leaves the others as they were: a Cargo project in the same registry is still Rust', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'autodev-toy-toolchain-'));
    dirs.push(dir);
    await writeFile(path.join(dir, 'Cargo.toml'), '[package]\nname = "calc"\nversion = "0.1.0"\n');
    const repo = await readRepoFacts(dir, 'main', REGISTRY);
    const plan = buildPlan({
      request: { repo: dir, title: 'Fix', description: 'fix it', risk: 'low', noPr: true, keepWorkspace: false },
      config: autodevSchema.parse({}),
      repo,
      host: { programs: {}, autoSandbox: 'bwrap', installed: {} },
      forge: null,
      toolchains: REGISTRY,
    });
    expect(plan.toolchain).toBe('rust');
  });

  it('lists every registered toolchain once, each with the whole interface', () => {
    const ids = TOOLCHAINS.map((t) => t.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const t of TOOLCHAINS) {
      expect(toolchainById(t.id)).toBe(t);
      expect(t.manifests.length).toBeGreaterThan(0);
      expect(t.context.extensions.length).toBeGreaterThan(0);
    }
  });

  it('gives context selection the same hints, in the same order, without loading the toolchains', () => {
    expect(CONTEXT_HINTS.map((h) => h.id)).toEqual(TOOLCHAINS.map((t) => t.id));
    for (const [i, t] of TOOLCHAINS.entries()) expect(CONTEXT_HINTS[i].context).toBe(t.context);
  });
});
