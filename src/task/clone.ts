// The clone, shared by --plan-only and the clone step: shallow, the base branch, token via env.
import type { Config } from '../config/schema.js';
import type { Env } from '../config/load.js';
import type { TaskRequest } from '../config/request.js';
import { GitCommandError } from '../ports/git.js';
import type { Git } from '../ports/types.js';
import { ExternalError } from '../util/errors.js';
import { displayRepo } from '../util/display.js';

export async function cloneForTask(input: {
  git: Git;
  request: TaskRequest;
  config: Config;
  env: Env;
  dest: string;
  /** What git clones when it differs from `request.repo`: the URL with the credentials the user gave (never stored). */
  source?: string;
  signal?: AbortSignal;
}): Promise<{ branch: string; commit: string }> {
  const token = input.env[input.config.git.github_token_env] || null;
  const base = input.request.base ?? null;
  try {
    return await input.git.clone({
      source: input.source ?? input.request.repo,
      dest: input.dest,
      branch: base,
      depth: input.config.git.clone_depth,
      token,
      signal: input.signal,
    });
  } catch (error) {
    if (input.signal?.aborted) throw error;
    const reason = error instanceof GitCommandError ? error.reason : (error instanceof Error ? error.message : String(error)).split('\n')[0];
    const repo = displayRepo(input.request.repo);
    // git's own words for a missing branch name the remote "upstream origin", which is no help here.
    if (base !== null && /^Remote branch .* not found in upstream/.test(reason)) {
      throw new ExternalError(`--base ${base}: branch not found in ${repo}`, 'name a branch the repository has, or leave --base out for its default branch');
    }
    throw new ExternalError(`cannot clone ${repo}: ${reason}`, 'check --repo and --base, and your access to the repository');
  }
}
