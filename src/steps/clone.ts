// clone: a shallow copy of the base branch into the task's workspace.
import type { StepTool } from './types.js';
import { cloneForTask } from '../task/clone.js';

export const cloneTool: StepTool = {
  name: 'clone',
  async run(ctx) {
    const { git, config, credentials } = ctx.ports;
    // The runner clones while planning (the plan depends on the repository's files); report it here.
    if (ctx.state.baseCommit && ctx.state.baseBranch) {
      const { baseBranch: branch, baseCommit: commit } = ctx.state;
      return { status: 'ok', summary: `cloned ${branch} at ${commit.slice(0, 8)} (depth ${config.git.clone_depth})`, data: { branch, commit } };
    }
    const base = (ctx.step.inputs.base as string | null) ?? undefined;
    const env = credentials.githubToken ? { [config.git.github_token_env]: credentials.githubToken } : {};
    const { branch, commit } = await cloneForTask({
      git,
      request: { ...ctx.request, base },
      config,
      env,
      dest: ctx.state.repoDir,
      signal: ctx.signal,
    });
    ctx.state.baseBranch = branch;
    ctx.state.baseCommit = commit;
    return { status: 'ok', summary: `cloned ${branch} at ${commit.slice(0, 8)}`, data: { branch, commit } };
  },
};
