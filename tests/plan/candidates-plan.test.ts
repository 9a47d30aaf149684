// The plan of a task with several candidates: the codegen step lists each candidate (model, the
// format that model writes best, temperature of the spread), a select step follows it, and the
// settings come from generate.* (the plan being the one source of the steps' settings).
import { describe, expect, it } from '@jest/globals';
import { BODY_FIELD_NAMES, requestSchema } from '../../src/config/request.js';
import { autodevSchema } from '../../src/config/schema.js';
import type { HostFacts } from '../../src/plan/facts.js';
import { buildPlan } from '../../src/plan/planner.js';
import type { CodegenInputs, Plan, SelectInputs } from '../../src/plan/types.js';

const CARGO = '[package]\nname = "calc"\nversion = "0.1.0"\nedition = "2021"\n\n[dependencies]\n';

function plan(cfg: Record<string, unknown>, hostExtra: Partial<HostFacts> = {}, candidates?: number): Plan {
  return buildPlan({
    request: {
      repo: 'https://github.com/acme/calc.git',
      title: 'Fix add',
      description: '',
      risk: 'medium',
      noPr: false,
      keepWorkspace: false,
      ...(candidates !== undefined ? { candidates } : {}),
    },
    config: autodevSchema.parse(cfg),
    repo: { files: ['Cargo.toml', 'src/', 'src/lib.rs'], manifests: { 'Cargo.toml': CARGO }, branch: 'main' },
    host: { programs: { git: true, rg: true, cargo: true, bwrap: true }, autoSandbox: 'bwrap', installed: {}, cores: 2, ...hostExtra },
    forge: { owner: 'acme', repo: 'calc' },
  });
}

describe('planning candidates', () => {
  it('plans one candidate and no select step by default', () => {
    const p = plan({});
    expect((p.steps.find((s) => s.id === 'codegen')!.inputs as CodegenInputs).strategy).toBe('single');
    expect((p.steps.find((s) => s.id === 'codegen')!.inputs as CodegenInputs).candidates).toBeUndefined();
    expect(p.steps.map((s) => s.id)).not.toContain('select');
  });

  it('with generate.candidates = 3: the candidates strategy, each candidate listed, select between codegen and apply', () => {
    const p = plan({ llm: { model: 'gpt-4o', temperature: 0.2 }, generate: { candidates: 3 } });
    const ids = p.steps.map((s) => s.id);
    expect(ids.slice(ids.indexOf('codegen'), ids.indexOf('codegen') + 3)).toEqual(['codegen', 'select', 'apply']);
    const codegen = p.steps.find((s) => s.id === 'codegen')!.inputs as CodegenInputs;
    expect(codegen.strategy).toBe('candidates');
    // The first at llm.temperature, the others 0.4 above; GPT models write apply-patch.
    expect(codegen.candidates).toEqual([
      { model: 'gpt-4o', format: 'apply-patch', temperature: 0.2 },
      { model: 'gpt-4o', format: 'apply-patch', temperature: 0.6 },
      { model: 'gpt-4o', format: 'apply-patch', temperature: 0.6 },
    ]);
    const select = p.steps.find((s) => s.id === 'select')!;
    expect(select.repairable).toBe(true);
    expect(select.inputs).toEqual({ parallel: 2, repairCandidates: 2, onNoWinner: 'draft', label: 'needs-human' } satisfies SelectInputs);
    expect(p.repair).toEqual({ from: 'codegen', budget: 2 });
  });

  it('asks the models in turn, each in its own best format, each model first at llm.temperature', () => {
    const p = plan({
      llm: { temperature: 1 },
      generate: { candidates: 4, models: ['gpt-4.1', 'claude-sonnet-4'], parallel: 3, on_no_winner: 'none' },
    });
    const codegen = p.steps.find((s) => s.id === 'codegen')!.inputs as CodegenInputs;
    expect(codegen.candidates).toEqual([
      { model: 'gpt-4.1', format: 'apply-patch', temperature: 1 },
      { model: 'claude-sonnet-4', format: 'search-replace', temperature: 1 },
      { model: 'gpt-4.1', format: 'apply-patch', temperature: 1.2 },
      { model: 'claude-sonnet-4', format: 'search-replace', temperature: 1.2 },
    ]);
    expect(p.steps.find((s) => s.id === 'select')!.inputs).toMatchObject({ parallel: 3, onNoWinner: 'none' });
  });

  it('a forced edit format holds for every candidate', () => {
    const p = plan({ llm: { edit_format: 'whole' }, generate: { candidates: 2, models: ['gpt-4o', 'qwen3'] } });
    const codegen = p.steps.find((s) => s.id === 'codegen')!.inputs as CodegenInputs;
    expect(codegen.candidates!.map((c) => c.format)).toEqual(['whole', 'whole']);
  });

  it("a request's own candidates (the REST body's) win over generate.candidates", () => {
    const p = plan({ generate: { candidates: 5 } }, {}, 2);
    expect((p.steps.find((s) => s.id === 'codegen')!.inputs as CodegenInputs).candidates).toHaveLength(2);
    expect(requestSchema.safeParse({ repo: 'r', title: 't', candidates: 0 }).success).toBe(false);
    expect(requestSchema.parse({ repo: 'r', title: 't', candidates: 3 }).candidates).toBe(3);
    expect(BODY_FIELD_NAMES.candidates).toBe('candidates');
  });

  it('refuses generate keys out of range, naming them', () => {
    expect(() => autodevSchema.parse({ generate: { candidates: 0 } })).toThrow(/candidates/);
    expect(() => autodevSchema.parse({ generate: { on_no_winner: 'guess' } })).toThrow(/on_no_winner/);
  });
});
