// clone: a shallow copy of the base branch into the task's workspace. It runs while the task is
// planning (the plan depends on the repository's files); `--plan-only` clones with the same function.
import { inputsOf, type CloneInputs } from '../plan/types.js';
import { GitCommandError } from '../ports/git.js';
import type { Cloned, Git, MirrorUse } from '../ports/types.js';
import { displayRepo } from '../util/display.js';
import { ExternalError } from '../util/errors.js';
import type { StepTool } from './types.js';

export const cloneTool: StepTool = {
  name: 'clone',
  async run(ctx) {
    const inputs = inputsOf<CloneInputs>(ctx.step);
    const { git, credentials } = ctx.ports;
    const { branch, commit, mirror } = await cloneRepository({
      git,
      inputs,
      token: credentials.githubToken,
      url: credentials.cloneUrl,
      dest: ctx.state.repoDir,
      signal: ctx.signal,
    });
    ctx.state.baseBranch = branch;
    ctx.state.baseCommit = commit;
    const from = mirror ? `, ${MIRROR_WORDS[mirror]}` : '';
    return {
      status: 'ok',
      summary: `cloned ${branch} at ${commit.slice(0, 8)} (depth ${inputs.depth}${from})`,
      data: { branch, commit, ...(mirror ? { mirror } : {}) },
    };
  },
};

const MIRROR_WORDS: Record<MirrorUse, string> = {
  created: 'local mirror created',
  updated: 'from the local mirror, fetched',
  rebuilt: 'local mirror rebuilt',
};

/** Clones as the step's inputs say; a failure is an ExternalError naming the repository (never its credentials). */
export async function cloneRepository(input: {
  git: Git;
  inputs: CloneInputs;
  token: string | null;
  /** What git clones when it differs from `inputs.source`: the URL with the credentials the user gave (never stored). */
  url?: string;
  dest: string;
  signal?: AbortSignal;
}): Promise<Cloned> {
  const { source, base, depth } = input.inputs;
  try {
    return await input.git.clone({
      source: input.url ?? source,
      dest: input.dest,
      branch: base,
      depth,
      token: input.token,
      signal: input.signal,
    });
  } catch (error) {
    if (input.signal?.aborted) throw error;
    const reason =
      error instanceof GitCommandError ? error.reason : (error instanceof Error ? error.message : String(error)).split('\n')[0];
    const repo = displayRepo(source);
    // git's own words for a missing branch name the remote "upstream origin", which is no help here.
    if (base !== null && /^Remote branch .* not found in upstream/.test(reason)) {
      throw new ExternalError(
        `--base ${base}: branch not found in ${repo}`,
        'name a branch the repository has, or leave --base out for its default branch',
      );
    }
    throw new ExternalError(`cannot clone ${repo}: ${reason}`, 'check --repo and --base, and your access to the repository');
  }
}
