// pr: push the branch to the repository given, then open (or update) the pull request.
import type { Config } from '../config/schema.js';
import { parseGitHubRemote } from '../ports/github-remote.js';
import type { Git } from '../ports/types.js';
import { redact } from '../util/redact.js';
import { prBody } from './pr-body.js';
import type { Ctx, StepTool } from './types.js';

export const prTool: StepTool = {
  name: 'pr',
  async run(ctx) {
    const { git, config, credentials } = ctx.ports;
    const { state } = ctx;
    if (!state.change) return { status: 'failed', summary: 'no change to push' };
    const branch = state.change.branch;
    await git.push(state.repoDir, branch, { token: credentials.githubToken, force: true, signal: ctx.signal });
    state.pushed = { remote: ctx.request.repo, branch };
    if (ctx.request.noPr) {
      return { status: 'ok', summary: `pushed ${branch} to ${ctx.request.repo}; no pull request (--no-pr)` };
    }
    const target = await forgeTarget(ctx);
    if (!target) {
      return {
        status: 'ok',
        summary: `pushed ${branch}; ${ctx.request.repo} is not a GitHub repository, so no pull request was opened (set git.github_repo to name one)`,
      };
    }
    const base = String(ctx.step.inputs.base ?? state.baseBranch ?? '');
    const policy = state.policy;
    const draft = Boolean(policy?.draft) || ctx.request.risk === 'high';
    const labels = [...new Set(['autodev', `risk:${ctx.request.risk}`, ...(policy?.labels ?? [])])];
    const title = state.generation?.commitMessage.split('\n')[0] ?? ctx.request.title;
    const forge = await ctx.ports.forge();
    const pr = await forge.upsertPullRequest({
      owner: target.owner,
      repo: target.repo,
      head: branch,
      base,
      title: redact(title),
      body: redact(prBody({ taskId: ctx.taskId, request: ctx.request, plan: ctx.plan, state })),
      draft,
      labels,
    });
    state.pr = pr;
    return {
      status: 'ok',
      summary: `${pr.updated ? 'updated' : 'opened'}${pr.draft ? ' draft' : ''} pull request #${pr.number}: ${pr.url}`,
      data: { url: pr.url, number: pr.number, draft: pr.draft, updated: pr.updated, labels },
      advance: 'pr_created',
    };
  },
};

function forgeTarget(ctx: Ctx): Promise<{ owner: string; repo: string } | null> {
  return githubTarget(ctx.request.repo, ctx.ports.config, ctx.ports.git);
}

/** The GitHub repository a pull request for `repo` goes to; the planner is told it before the clone. */
export async function githubTarget(repo: string, config: Config, git: Git): Promise<{ owner: string; repo: string } | null> {
  if (config.git.github_repo) {
    const [owner, name] = config.git.github_repo.split('/');
    return { owner, repo: name };
  }
  const apiHost = safeHost(config.git.github_api_url);
  const enterpriseHosts = apiHost && apiHost !== 'api.github.com' ? [apiHost] : [];
  const direct = parseGitHubRemote(repo, { enterpriseHosts });
  if (direct) return direct;
  // A local path: its own origin may be the GitHub repository.
  const origin = await git.remoteUrl(repo).catch(() => null);
  return origin ? parseGitHubRemote(origin, { enterpriseHosts }) : null;
}

function safeHost(url: string): string | null {
  try {
    return new URL(url).host.toLowerCase();
  } catch {
    return null;
  }
}
