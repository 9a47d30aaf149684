// The clone, shared by --plan-only and the clone step: shallow, the base branch, token via env.
import type { Config } from '../config/schema.js';
import type { Env } from '../config/load.js';
import type { TaskRequest } from '../engine/types.js';
import type { Git } from '../ports/types.js';
import { ExternalError } from '../util/errors.js';
import { displayRepo } from '../util/display.js';

export async function cloneForTask(input: {
  git: Git;
  request: TaskRequest;
  config: Config;
  env: Env;
  dest: string;
  signal?: AbortSignal;
}): Promise<{ branch: string; commit: string }> {
  const token = input.env[input.config.git.github_token_env] || null;
  try {
    return await input.git.clone({
      source: input.request.repo,
      dest: input.dest,
      branch: input.request.base ?? null,
      depth: input.config.git.clone_depth,
      token,
      signal: input.signal,
    });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new ExternalError(`cannot clone ${displayRepo(input.request.repo)}: ${message.split('\n')[0]}`, 'check --repo and --base, and your access to the repository');
  }
}
