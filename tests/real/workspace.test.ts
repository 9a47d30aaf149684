// Cargo workspaces: the members are found (globs expanded, manifests read), the plan names the
// whole workspace and says it is narrowed at run time, and a change touching one member is built,
// tested and linted with `-p <that member>` while the baseline covered the whole workspace.
import { describe, expect, it } from '@jest/globals';
import { makeRepo } from '../support/fixture-repo.js';
import { e2eSuite } from '../e2e/harness.js';
import { readRepoFacts } from '../../src/plan/facts.js';
import { cargoWorkspace, narrowCargoArgv, scopeBaselineFailures, touchedCargoPackages } from '../../src/toolchains/rust/workspace.js';
import type { Workspace as CargoWorkspace } from '../../src/toolchains/types.js';
import { WORKSPACE_FILES, WORKSPACE_FIX, WORKSPACE_TASK, replyFor } from './fixtures.js';
import { RUN_TIMEOUT, explain, planOnly, realRun, step } from './helpers.js';

const { cache } = e2eSuite();

describe('workspace facts', () => {
  it('expands member globs, honours exclude, reads member manifests and their path dependencies', async () => {
    const dir = await makeRepo({
      'Cargo.toml':
        '[package]\nname = "app"\nversion = "0.1.0"\n\n[workspace]\nmembers = ["crates/*", "tools/cli"]\nexclude = ["crates/old"]\n\n[workspace.dependencies]\ncore = { path = "crates/core" }\n',
      'src/main.rs': 'fn main() {}\n',
      'crates/core/Cargo.toml': '[package]\nname = "core"\nversion = "0.1.0"\n',
      'crates/core/src/lib.rs': '',
      'crates/util/Cargo.toml': '[package]\nname = "my-util"\nversion = "0.1.0"\n\n[dependencies]\ncore = { workspace = true }\n',
      'crates/util/src/lib.rs': '',
      'crates/old/Cargo.toml': '[package]\nname = "old"\nversion = "0.1.0"\n',
      'crates/notes/README.md': 'not a crate\n',
      'tools/cli/Cargo.toml': '[package]\nname = "cli"\nversion = "0.1.0"\n\n[dependencies]\nmy-util = { path = "../../crates/util" }\n',
      'tools/cli/src/main.rs': 'fn main() {}\n',
    });
    const facts = await readRepoFacts(dir, 'main');
    expect(facts.members?.rust).toEqual(['.', 'crates/core', 'crates/util', 'tools/cli']);
    expect(Object.keys(facts.manifests)).toEqual(expect.arrayContaining(['tools/cli/Cargo.toml', 'crates/util/Cargo.toml']));
    expect(facts.manifests).not.toHaveProperty(['crates/old/Cargo.toml']);
    expect(cargoWorkspace(facts)?.members).toEqual([
      { name: 'app', dir: '.', dependsOn: [] },
      { name: 'core', dir: 'crates/core', dependsOn: [] },
      { name: 'my-util', dir: 'crates/util', dependsOn: ['core'] },
      { name: 'cli', dir: 'tools/cli', dependsOn: ['my-util'] },
    ]);
  });

  it('is not a workspace for a single crate', async () => {
    const dir = await makeRepo({ 'Cargo.toml': '[package]\nname = "one"\nversion = "0.1.0"\n', 'src/lib.rs': '' });
    const facts = await readRepoFacts(dir, 'main');
    expect(facts.members?.rust).toBeUndefined();
    expect(cargoWorkspace(facts)).toBeNull();
  });
});

describe('narrowing to the touched packages', () => {
  const workspace: CargoWorkspace = {
    members: [
      { name: 'app', dir: '.', dependsOn: ['my-util'] },
      { name: 'core', dir: 'crates/core', dependsOn: [] },
      { name: 'my-util', dir: 'crates/util', dependsOn: ['core'] },
      { name: 'lonely', dir: 'crates/lonely', dependsOn: [] },
    ],
  };

  it('maps files to members and adds the members that depend on them', () => {
    expect(touchedCargoPackages(workspace, ['crates/lonely/src/lib.rs'])).toEqual(['lonely']);
    expect(touchedCargoPackages(workspace, ['crates/core/src/lib.rs'])).toEqual(['app', 'core', 'my-util']);
    expect(touchedCargoPackages(workspace, ['src/main.rs', 'README.md'])).toEqual(['app']);
  });

  it('falls back to the whole workspace when a file belongs to no package', () => {
    expect(touchedCargoPackages(workspace, ['Cargo.lock'])).toBeNull();
    expect(touchedCargoPackages(workspace, ['crates/lonely/src/lib.rs', 'Cargo.toml'])).toBeNull();
    expect(touchedCargoPackages({ members: workspace.members.filter((m) => m.dir !== '.') }, ['README.md'])).toBeNull();
    expect(touchedCargoPackages(workspace, [])).toBeNull();
  });

  it('replaces --workspace by -p per package', () => {
    expect(narrowCargoArgv(['cargo', 'test', '--offline', '--workspace', '--no-fail-fast'], ['a', 'b'])).toEqual([
      'cargo',
      'test',
      '--offline',
      '-p',
      'a',
      '-p',
      'b',
      '--no-fail-fast',
    ]);
    expect(narrowCargoArgv(['cargo', 'test'], ['a'])).toEqual(['cargo', 'test']);
  });

  it('scopes the whole-workspace baseline to the packages that ran, named as that run names them', () => {
    const ws: CargoWorkspace = {
      members: [
        { name: 'alpha', dir: 'crates/alpha', dependsOn: [] },
        { name: 'beta-x', dir: 'crates/beta', dependsOn: [] },
      ],
    };
    const base = [
      'alpha/lib::tests::a',
      'beta_x/lib::tests::b',
      'crates/beta/src/lib.rs - f (line 2)',
      'crates/alpha/src/lib.rs - g (line 9)',
      'tests/it.rs::x',
    ].map((name) => ({ name, output: '' }));
    const single = scopeBaselineFailures(base, { packages: ['alpha'], workspace: ws }, ['lib::tests::ok']).map((f) => f.name);
    expect(single).toEqual(['lib::tests::a', 'crates/alpha/src/lib.rs - g (line 9)', 'tests/it.rs::x']);
    const both = scopeBaselineFailures(base, { packages: ['alpha', 'beta-x'], workspace: ws }, ['alpha/lib::tests::ok']).map((f) => f.name);
    expect(both).toEqual(base.map((f) => f.name));
  });
});

describe('a two-member workspace, end to end', () => {
  it(
    'plans --workspace with the run-time narrowing note',
    async () => {
      const { outcome, plan } = await planOnly(WORKSPACE_FILES, cache);
      expect(outcome.code).toBe(0);
      for (const id of ['build', 'test', 'lint']) {
        expect(plan.steps.find((s) => s.id === id)?.command).toContain('--workspace');
      }
      expect(plan.notes.join('\n')).toMatch(
        /Cargo workspace with 2 member\(s\) \(alpha, beta\).*narrowed to the touched packages at run time/,
      );
    },
    RUN_TIMEOUT,
  );

  it(
    "verifies a change to one member with -p, not blaming the other member's old failure",
    async () => {
      const run = await realRun({
        files: WORKSPACE_FILES,
        task: WORKSPACE_TASK,
        replies: [await replyFor('Fix alpha add', WORKSPACE_FILES, WORKSPACE_FIX)],
        cache,
        forgeRepo: 'acme/ws',
      });
      expect({ code: run.outcome.code, why: run.outcome.code ? explain(run) : '' }).toEqual({ code: 0, why: '' });
      expect(run.json.status).toBe('pr_created');
      // The baseline ran over the whole workspace: both members' failures are known.
      expect([...run.json.baseline.failingTests].sort()).toEqual(['alpha/lib::tests::adds', 'beta/lib::tests::known_broken']);
      for (const id of ['build', 'test', 'lint']) {
        const summary = step(run.json, id, { mode: 'change' }).at(-1)?.summary ?? '';
        expect(summary).toMatch(/\[-p alpha\]$/);
        expect(summary).not.toContain('beta');
      }
      const test = step(run.json, 'test', { mode: 'change' }).at(-1)!;
      expect(test.summary).toMatch(/^1 passed, 0 failed .*fixes 1 test\(s\) failing on the base: lib::tests::adds\)/);
      expect(test.summary).not.toMatch(/still failing/);
    },
    RUN_TIMEOUT,
  );
});
