// The resume state a run leaves in its workspace, and the choice of where a resumed run goes on.
import { afterAll, afterEach, describe, expect, it } from '@jest/globals';
import { readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Plan } from '../../src/plan/types.js';
import {
  SNAPSHOT_FILE,
  createSnapshotWriter,
  planWithBudgetLeft,
  readSnapshot,
  resumePoint,
  type FinishedStep,
} from '../../src/task/resume.js';
import { initialState } from '../../src/steps/types.js';
import { clearSecrets, registerSecret } from '../../src/util/redact.js';
import { cleanup, makeTempDir } from '../support/fixture-repo.js';

const IDS = ['clone', 'search', 'codegen', 'apply', 'build', 'test', 'lint', 'secrets', 'policy', 'pr'];
const PLAN: Plan = {
  toolchain: 'rust',
  toolchainReason: 'Cargo.toml',
  base: 'main',
  branch: 'autodev/x',
  sandbox: 'bwrap',
  repair: { from: 'codegen', budget: 3 },
  steps: IDS.map((id) => ({
    id,
    tool: id as Plan['steps'][number]['tool'],
    title: id,
    sandbox: null,
    network: false,
    timeoutSecs: 60,
    retries: 0,
    inputs: {},
  })),
  notes: [],
};

function change(id: string, status: FinishedStep['status'] = 'ok', round = 0): FinishedStep {
  return { id, mode: 'change', round, status };
}

afterEach(() => clearSecrets());
afterAll(async () => {
  await cleanup();
});

describe('resumePoint', () => {
  it('goes on after the last step that finished ok in change mode; baseline runs do not count', () => {
    const finished = [change('clone'), change('search'), { id: 'build', mode: 'baseline', round: 0, status: 'ok' } as FinishedStep];
    expect(resumePoint(PLAN, finished)).toMatchObject({ startAt: 'codegen', roundsUsed: 0 });
    expect(resumePoint(PLAN, [...finished, change('codegen'), change('apply')]).startAt).toBe('build');
  });

  it('inside the repair loop: restarts at the first step that did not finish ok, with the rounds spent off the budget', () => {
    const finished = [
      change('clone'),
      change('search'),
      change('codegen'),
      change('apply'),
      change('build', 'failed'),
      change('codegen', 'ok', 1),
      change('apply', 'ok', 1),
      change('build', 'ok', 1),
      change('test', 'failed', 1),
    ];
    const point = resumePoint(PLAN, finished);
    expect(point).toMatchObject({ startAt: 'test', roundsUsed: 1, lastGood: change('build', 'ok', 1) });
    expect(planWithBudgetLeft(PLAN, point.roundsUsed).repair).toEqual({ from: 'codegen', budget: 2 });
    expect(planWithBudgetLeft(PLAN, 5).repair).toEqual({ from: 'codegen', budget: 0 });
    expect(planWithBudgetLeft(PLAN, 0)).toBe(PLAN);
  });

  it('starts at the first step when nothing finished ok, and at the last when everything did', () => {
    expect(resumePoint(PLAN, []).startAt).toBe('clone');
    expect(resumePoint(PLAN, [change('clone', 'failed')]).startAt).toBe('clone');
    expect(
      resumePoint(
        PLAN,
        IDS.map((id) => change(id)),
      ).startAt,
    ).toBe('pr');
  });
});

describe('the snapshot writer', () => {
  it('writes the plan, the state and the finished steps after each step, redacted and owner-only', async () => {
    const dir = await makeTempDir('autodev-resume-');
    const secret = 'sk-resume-test-secret-0123456789';
    registerSecret(secret);
    const state = initialState(path.join(dir, 'repo'));
    const warnings: string[] = [];
    const writer = createSnapshotWriter({ workspaceDir: dir, taskId: 't1', state, plan: () => PLAN, warn: (m) => warnings.push(m) });
    const finished = (stepId: string, status: FinishedStep['status'] = 'ok') =>
      writer.onEvent({
        type: 'step.finished',
        taskId: 't1',
        stepId,
        tool: stepId,
        status,
        summary: '',
        attempt: 1,
        round: 0,
        mode: 'change',
        durationMs: 1,
        at: '',
      });

    writer.onEvent({
      type: 'step.started',
      taskId: 't1',
      stepId: 'clone',
      tool: 'clone',
      title: '',
      attempt: 1,
      round: 0,
      mode: 'change',
      at: '',
    });
    expect(await readSnapshot(dir)).toBeNull();
    state.baseCommit = 'abc123';
    finished('clone');
    state.generation = { rationale: `uses ${secret}`, commitMessage: 'Fix', patch: '--- a/x\n+++ b/x\n' };
    finished('codegen');
    // Another task's events are not this snapshot's business.
    writer.onEvent({
      type: 'step.finished',
      taskId: 'other',
      stepId: 'pr',
      tool: 'pr',
      status: 'ok',
      summary: '',
      attempt: 1,
      round: 0,
      mode: 'change',
      durationMs: 1,
      at: '',
    });

    const text = await readFile(path.join(dir, SNAPSHOT_FILE), 'utf8');
    expect(text).not.toContain(secret);
    const snapshot = await readSnapshot(dir);
    expect(snapshot).toMatchObject({ version: 1, taskId: 't1', plan: PLAN, finished: [change('clone'), change('codegen')] });
    expect(snapshot!.state.baseCommit).toBe('abc123');
    expect(snapshot!.state.generation!.rationale).toBe('uses ***');
    expect((await stat(path.join(dir, SNAPSHOT_FILE))).mode & 0o777).toBe(0o600);
    expect(warnings).toEqual([]);
  });

  it('continues the finished list of the run it resumes, and warns once when it cannot write', async () => {
    const dir = await makeTempDir('autodev-resume-');
    const warnings: string[] = [];
    const writer = createSnapshotWriter({
      workspaceDir: path.join(dir, 'missing'),
      taskId: 't2',
      state: initialState(dir),
      plan: () => PLAN,
      finished: [change('clone')],
      warn: (m) => warnings.push(m),
    });
    for (const stepId of ['search', 'codegen']) {
      writer.onEvent({
        type: 'step.finished',
        taskId: 't2',
        stepId,
        tool: stepId,
        status: 'ok',
        summary: '',
        attempt: 1,
        round: 0,
        mode: 'change',
        durationMs: 1,
        at: '',
      });
    }
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/^cannot save the resume state to .*missing\/autodev-state\.json: /);

    const good = createSnapshotWriter({
      workspaceDir: dir,
      taskId: 't2',
      state: initialState(dir),
      plan: () => PLAN,
      finished: [change('clone')],
      warn: (m) => warnings.push(m),
    });
    good.onEvent({
      type: 'step.finished',
      taskId: 't2',
      stepId: 'search',
      tool: 'search',
      status: 'ok',
      summary: '',
      attempt: 1,
      round: 0,
      mode: 'change',
      durationMs: 1,
      at: '',
    });
    expect((await readSnapshot(dir))!.finished).toEqual([change('clone'), change('search')]);
  });

  it('reads nothing from a missing, garbled or foreign file', async () => {
    const dir = await makeTempDir('autodev-resume-');
    expect(await readSnapshot(dir)).toBeNull();
    await writeFile(path.join(dir, SNAPSHOT_FILE), '{"version": 1, "taskId"');
    expect(await readSnapshot(dir)).toBeNull();
    await writeFile(path.join(dir, SNAPSHOT_FILE), JSON.stringify({ version: 2, taskId: 'x', plan: PLAN, state: {}, finished: [] }));
    expect(await readSnapshot(dir)).toBeNull();
  });
});
