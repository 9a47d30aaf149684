// The dependency findings in the policy: the local rules' codes and effects, the switch (policy.allow_dependency_source_change, carried by the plan),
// and the same input document reaching OPA over real HTTP.
import { afterEach, describe, expect, it } from '@jest/globals';
import { compareDependencies, policyDependencies } from '../../src/depcheck/index.js';
import { dependencyReaders } from '../../src/toolchains/registry.js';
import type { DependencyReport } from '../../src/depcheck/types.js';
import { buildPolicyInput, evaluateLocalPolicy } from '../../src/policy/index.js';
import { createOpa } from '../../src/ports/opa.js';
import { policyTool } from '../../src/steps/policy.js';
import { initialState, type Ctx } from '../../src/steps/types.js';
import { startOpaServer, type OpaServer } from '../support/opa-server.js';

const manifest = (deps: string): string => `[package]\nname = "calc"\nversion = "0.1.0"\n\n[dependencies]\n${deps}\n`;

function report(before: string, after: string): DependencyReport {
  return compareDependencies(
    { files: { 'Cargo.toml': manifest(before) } },
    { files: { 'Cargo.toml': manifest(after) } },
    dependencyReaders(),
  );
}

function decide(r: DependencyReport, config: { allowDependencySourceChange?: boolean } = {}) {
  const input = buildPolicyInput({ task: { title: 't', risk: 'low' }, diff: '', dependencies: policyDependencies(r) });
  return evaluateLocalPolicy(input, config);
}

describe('dependency rules of the local policy', () => {
  it('new_dependency: review, draft PR labelled needs-review, the dependency named', () => {
    const outcome = decide(report('', 'helper = { path = "helper" }'));
    expect(outcome).toMatchObject({ decision: 'review', draft: true, labels: ['needs-review'] });
    expect(outcome.reasons).toEqual([{ code: 'new_dependency', message: expect.stringContaining('helper') }]);
  });

  it('dependency_source_changed: denied, unless policy.allow_dependency_source_change', () => {
    const switched = report('helper = { path = "helper" }', 'helper = { git = "file:///srv/helper.git" }');
    const denied = decide(switched);
    expect(denied.decision).toBe('deny');
    expect(denied.reasons).toEqual([
      { code: 'dependency_source_changed', message: expect.stringContaining('helper (path → git file:///srv/helper.git)') },
    ]);
    expect(decide(switched, { allowDependencySourceChange: true })).toMatchObject({ decision: 'allow', reasons: [] });
  });

  it('dependency_downgraded: review; an upgrade or no change is allowed', () => {
    expect(decide(report('log = "0.4.20"', 'log = "=0.4.10"'))).toMatchObject({
      decision: 'review',
      draft: true,
      reasons: [{ code: 'dependency_downgraded', message: expect.stringContaining('log 0.4.20 → =0.4.10') }],
    });
    expect(decide(report('log = "0.4.10"', 'log = "0.4.20"')).decision).toBe('allow');
    expect(decide(report('log = "0.4"', 'log = "0.4"'))).toMatchObject({ decision: 'allow', reasons: [] });
  });
});

describe('policy step with dependency findings', () => {
  let opa: OpaServer | null = null;
  afterEach(async () => {
    await opa?.close();
    opa = null;
  });

  function ctx(deps: DependencyReport, options: { allow?: boolean; opa?: OpaServer } = {}): Ctx {
    const state = initialState('/nonexistent');
    state.change = { branch: 'b', commit: 'c', diff: '', files: ['Cargo.toml'] };
    state.dependencies = deps;
    const server = options.opa;
    return {
      request: { title: 't', risk: 'low' },
      step: { inputs: { engine: 'local', risk: 'low', allowDependencySourceChange: options.allow ?? false } },
      state,
      signal: new AbortController().signal,
      ports: {
        opa: server ? async () => createOpa({ url: server.url, policyPackage: 'autodev.policy', timeoutMs: 5000 }) : null,
      },
    } as unknown as Ctx;
  }

  it('denies a source switch with the reason code, and follows the config switch', async () => {
    const switched = report('helper = { path = "helper" }', 'helper = { git = "file:///srv/helper.git" }');
    const denied = await policyTool.run(ctx(switched));
    expect(denied.status).toBe('denied');
    expect(denied.summary).toMatch(/^denied by local policy: dependency_source_changed/);
    const allowed = await policyTool.run(ctx(switched, { allow: true }));
    expect(allowed.status).toBe('ok');
  });

  it('sends the same dependencies document to OPA, whose reason codes bring the local labels', async () => {
    opa = await startOpaServer({
      policies: {
        'autodev.policy': (input) => {
          const added = (input as { dependencies?: { added: { name: string }[] } }).dependencies?.added ?? [];
          // A team's own rule: an allowlist of crates.
          const unknown = added.filter((d) => !['serde'].includes(d.name));
          return {
            allow: true,
            review: unknown.length > 0,
            reasons: unknown.map((d) => ({ code: 'new_dependency', message: `${d.name} is not on the allowlist` })),
          };
        },
      },
    });
    const added = report('', 'helper = { path = "helper" }');
    const c = ctx(added, { opa });
    const result = await policyTool.run(c);
    expect(result.status).toBe('ok');
    expect(c.state.policy).toMatchObject({ engine: 'opa', decision: 'review', draft: true, labels: ['needs-review'] });
    const sent = opa.inputs()[0] as { dependencies: unknown };
    expect(sent.dependencies).toEqual(JSON.parse(JSON.stringify(policyDependencies(added))));
    expect(sent.dependencies).toMatchObject({
      added: [{ name: 'helper', source: { kind: 'path', location: 'helper' }, kind: 'normal', member: 'calc' }],
    });
  });
});
