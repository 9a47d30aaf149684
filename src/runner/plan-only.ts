// `--plan-only`: clone shallowly into a temporary workspace (never touching the user's repository),
// read the facts, build the plan, remove the workspace. No LLM, no build, no push.
import type { Config } from '../config/schema.js';
import type { TaskRequest } from '../engine/types.js';
import { readRepoFacts } from '../plan/facts.js';
import { buildPlan } from '../plan/planner.js';
import type { Plan } from '../plan/types.js';
import { createExec } from '../ports/exec.js';
import { createGit } from '../ports/git.js';
import type { Env } from '../config/load.js';
import { gatherHostFacts } from './host.js';
import { newTaskId, taskInfo, type TaskInfo } from './task.js';
import { createWorkspace } from './workspace.js';
import { cloneForTask } from './clone.js';

export async function planOnly(input: { request: TaskRequest; config: Config; env: Env; cloneUrl?: string }): Promise<{ task: TaskInfo; plan: Plan }> {
  const id = newTaskId();
  const exec = createExec();
  const git = createGit({ githubApiUrl: input.config.git.github_api_url });
  const workspace = await createWorkspace(id);
  try {
    const [clone, host] = await Promise.all([
      cloneForTask({ git, request: input.request, config: input.config, env: input.env, dest: workspace.repoDir, source: input.cloneUrl }),
      gatherHostFacts(exec, { image: input.config.sandbox_image, sandbox: input.config.sandbox }),
    ]);
    const repo = await readRepoFacts(workspace.repoDir, clone.branch);
    const plan = buildPlan({ request: input.request, config: input.config, repo, host });
    return { task: taskInfo(id, input.request, plan.base), plan };
  } finally {
    await workspace.remove();
  }
}
