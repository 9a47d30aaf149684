// `run --resume` refuses, in one line and with exit 2, what it cannot continue: the built CLI against
// tasks written into a private store, with real workspaces and git repositories.
import { beforeAll, describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { SNAPSHOT_FILE, type ResumeSnapshot } from '../../src/task/resume.js';
import { initialState } from '../../src/steps/types.js';
import { createTaskStore, newStoredTask, type StoredTask } from '../../src/store/task-store.js';
import type { Plan } from '../../src/plan/types.js';
import { CALC_FILES, CALC_TASK } from '../support/calc-crate.js';
import { git, makeRepo, makeTempDir } from '../support/fixture-repo.js';
import { e2eSuite } from '../e2e/harness.js';
import { makeRunDir, runCli, taskEnv, type RunDir } from '../support/cli.js';

let runDir: RunDir;
let env: Record<string, string>;

const { cache } = e2eSuite();

beforeAll(async () => {
  runDir = await makeRunDir();
  env = taskEnv(runDir, { cache });
});

const PLAN: Plan = {
  toolchain: 'rust',
  toolchainReason: 'Cargo.toml',
  base: 'main',
  branch: 'autodev/fix-add',
  sandbox: 'bwrap',
  repair: { from: 'codegen', budget: 2 },
  steps: ['clone', 'search', 'codegen', 'apply', 'build', 'pr'].map((id) => ({
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

async function storeTask(id: string, patch: Partial<StoredTask>): Promise<void> {
  const store = createTaskStore(path.join(runDir.state, 'autodev'));
  const request = {
    repo: '/nowhere/calc',
    title: CALC_TASK.title,
    description: CALC_TASK.description,
    risk: 'medium' as const,
    noPr: false,
    keepWorkspace: true,
  };
  await store.create({ ...newStoredTask(id, request, { kind: 'run', pid: null }), ...patch });
}

/** A workspace as a run leaves it: `repo/` (a clone) and, when given, the resume state. */
async function makeWorkspace(id: string, baseCommit: (repo: string) => Promise<string> | string): Promise<string> {
  const dir = await makeTempDir(`autodev-${id}-`);
  const source = await makeRepo(CALC_FILES);
  await git(dir, ['clone', '--quiet', source, 'repo']);
  const repo = path.join(dir, 'repo');
  const state = { ...initialState(repo), baseBranch: 'main', baseCommit: await baseCommit(repo) };
  const snapshot: ResumeSnapshot = {
    version: 1,
    taskId: id,
    savedAt: new Date().toISOString(),
    plan: PLAN,
    state,
    finished: [{ id: 'clone', mode: 'change', round: 0, status: 'ok' }],
  };
  await writeFile(path.join(dir, SNAPSHOT_FILE), JSON.stringify(snapshot));
  return dir;
}

async function resume(...args: string[]) {
  const outcome = await runCli(['run', '--resume', ...args], { cwd: runDir.cwd, env });
  const lines = outcome.stderr.trim().split('\n');
  return { ...outcome, lines };
}

describe('autodev run --resume refuses', () => {
  it('an unknown task id', async () => {
    const outcome = await resume('202601010000-abcdef');
    expect(outcome.code).toBe(2);
    expect(outcome.lines).toEqual([
      expect.stringMatching(/^autodev: cannot resume: no task "202601010000-abcdef" in .*tasks \(see `autodev tasks list`\)$/),
    ]);
    expect(outcome.stdout).toBe('');
  });

  it('flags that would change the stored request', async () => {
    const outcome = await resume('202601010000-abcdef', '--repo', '/elsewhere');
    expect(outcome.code).toBe(2);
    expect(outcome.lines).toEqual(['autodev: --resume cannot be combined with --repo (a resumed task keeps its request and plan)']);
  });

  it('a task that already succeeded', async () => {
    await storeTask('202601010000-000001', { status: 'pr_created', exitCode: 0 });
    const outcome = await resume('202601010000-000001');
    expect(outcome.code).toBe(2);
    expect(outcome.lines).toEqual(['autodev: cannot resume task 202601010000-000001: it already succeeded (pr_created)']);
  });

  it('a task whose workspace is gone, naming the way out', async () => {
    const gone = path.join(runDir.tmp, 'autodev-202601010000-000002-gone');
    await storeTask('202601010000-000002', { status: 'failed', exitCode: 1, workspace: gone });
    await storeTask('202601010000-000003', { status: 'cancelled', exitCode: 130, workspace: null });
    const first = await resume('202601010000-000002');
    expect(first.code).toBe(2);
    expect(first.lines).toEqual([
      `autodev: cannot resume task 202601010000-000002: its workspace ${gone} is gone (start it again without --resume)`,
    ]);
    const second = await resume('202601010000-000003');
    expect(second.code).toBe(2);
    expect(second.lines).toEqual([
      'autodev: cannot resume task 202601010000-000003: its workspace is gone (start it again without --resume)',
    ]);
  });

  it('a task killed before its first step finished (no resume state)', async () => {
    const dir = path.join(runDir.tmp, 'autodev-202601010000-000004-x');
    await mkdir(path.join(dir, 'repo'), { recursive: true });
    await storeTask('202601010000-000004', { status: 'planning', workspace: dir });
    const outcome = await resume('202601010000-000004');
    expect(outcome.code).toBe(2);
    expect(outcome.lines).toEqual([
      `autodev: cannot resume task 202601010000-000004: no resume state in ${dir} (it stopped before its first step finished) (start it again without --resume)`,
    ]);
  });

  it('a damaged checkout (its base commit is not there)', async () => {
    const dir = await makeWorkspace('202601010000-000005', () => '0123456789abcdef0123456789abcdef01234567');
    await storeTask('202601010000-000005', { status: 'executing', workspace: dir });
    const outcome = await resume('202601010000-000005');
    expect(outcome.code).toBe(2);
    expect(outcome.lines).toEqual([
      expect.stringMatching(
        /^autodev: cannot resume task 202601010000-000005: the checkout in .* is damaged \(base commit 0123456789ab not found\) \(start it again without --resume\)$/,
      ),
    ]);
  });

  it('a task whose process is still running', async () => {
    const dir = await makeWorkspace('202601010000-000006', (repo) => git(repo, ['rev-parse', 'HEAD']).then((s) => s.trim()));
    // A live process whose command line names autodev, as a real run's does.
    const owner = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)', 'autodev-run'], { stdio: 'ignore' });
    try {
      await storeTask('202601010000-000006', { status: 'executing', workspace: dir, owner: { kind: 'run', pid: owner.pid! } });
      const outcome = await resume('202601010000-000006');
      expect(outcome.code).toBe(2);
      expect(outcome.lines).toEqual([
        `autodev: cannot resume task 202601010000-000006: it is still running (run process ${owner.pid}) (wait for it, or \`autodev tasks cancel\` it first)`,
      ]);
    } finally {
      owner.kill('SIGKILL');
    }
  });
});
