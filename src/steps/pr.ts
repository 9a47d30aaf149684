// pr: push the branch to the repository given, then open (or update) the pull request. A push the
// remote refuses (a hook, protection, permissions) or a pull request GitHub refuses (401, 403, 404,
// 422) is the outside world failing the task: exit 1 with its message, never an internal error. A
// branch pushed for a pull request that could not be opened is deleted again, not left behind.
import { inputsOf, type PublishInputs } from '../plan/types.js';
import { ForgeError, TransientError } from '../ports/types.js';
import { displayRepo } from '../util/display.js';
import { AutodevError, ExternalError } from '../util/errors.js';
import { redact } from '../util/redact.js';
import { prBody } from './pr-body.js';
import type { StepTool } from './types.js';

export const prTool: StepTool = {
  name: 'pr',
  async run(ctx) {
    const { git, credentials } = ctx.ports;
    const { state } = ctx;
    const inputs = inputsOf<PublishInputs>(ctx.step);
    if (!state.change) return { status: 'failed', summary: 'no change to push' };
    const branch = state.change.branch;
    try {
      await git.push(state.repoDir, branch, { token: credentials.githubToken, force: !inputs.fastForwardOnly, signal: ctx.signal });
    } catch (error) {
      if (ctx.signal.aborted || error instanceof TransientError || error instanceof AutodevError) throw error;
      throw new ExternalError(
        `cannot push ${branch} to ${displayRepo(ctx.request.repo)}: ${gitReason(error)}`,
        'the remote refused the branch (a hook, branch protection or permissions)',
      );
    }
    state.pushed = { remote: ctx.request.repo, branch };
    // Abstaining (no candidate met the bar): whatever is published, the task claims nothing.
    const abstain = state.abstain;
    const unproven = abstain ? { advance: 'unproven' as const } : {};
    if (ctx.request.noPr) {
      return { status: 'ok', summary: `pushed ${branch} to ${ctx.request.repo}; no pull request (--no-pr)`, ...unproven };
    }
    if (ctx.request.followup) {
      return { status: 'ok', summary: `pushed ${branch} to ${ctx.request.repo} (${inputs.noPullRequest ?? 'a follow-up'})` };
    }
    // The planner planned a pull request only where there is a GitHub repository to open it on.
    const target = inputs.repository ? { owner: inputs.repository.split('/')[0], repo: inputs.repository.split('/')[1] } : null;
    if (!target) {
      return {
        status: 'ok',
        summary: `pushed ${branch}; ${ctx.request.repo} is not a GitHub repository, so no pull request was opened (set git.github_repo to name one)`,
        ...unproven,
      };
    }
    const base = inputs.base ?? state.baseBranch ?? '';
    const policy = state.policy;
    const draft = Boolean(policy?.draft) || Boolean(inputs.draft) || abstain !== null;
    const labels = [...new Set([...(inputs.labels ?? []), ...(policy?.labels ?? []), ...(abstain ? [abstain.label] : [])])];
    const title = state.generation?.commitMessage.split('\n')[0] ?? ctx.request.title;
    const forge = await ctx.ports.forge();
    let pr: Awaited<ReturnType<typeof forge.upsertPullRequest>>;
    try {
      pr = await forge.upsertPullRequest({
        owner: target.owner,
        repo: target.repo,
        head: branch,
        base,
        title: redact(title),
        body: redact(prBody({ taskId: ctx.taskId, request: ctx.request, plan: ctx.plan, state })),
        draft,
        labels,
      });
    } catch (error) {
      // A transient failure is retried (the retry pushes again); a cancel leaves things as they are.
      if (ctx.signal.aborted || error instanceof TransientError || !(error instanceof ForgeError)) throw error;
      if (error.pullRequest) {
        state.pr = error.pullRequest;
        throw error;
      }
      const deleted = await git.deleteRemoteBranch(state.repoDir, branch, { token: credentials.githubToken, signal: ctx.signal }).then(
        () => true,
        () => false,
      );
      if (deleted) state.pushed = null;
      throw new ExternalError(
        `${error.message}; ${deleted ? `the branch ${branch} pushed for it was deleted again` : `the branch ${branch} stays pushed`}`,
        error.hint,
      );
    }
    state.pr = pr;
    return {
      status: 'ok',
      summary: `${pr.updated ? 'updated' : 'opened'}${pr.draft ? ' draft' : ''} pull request #${pr.number}: ${pr.url}`,
      data: { url: pr.url, number: pr.number, draft: pr.draft, updated: pr.updated, labels },
      // An abstained task's draft is for a human to finish: the task ends unproven, not pr_created.
      advance: abstain ? 'unproven' : 'pr_created',
    };
  },
};

/** What the remote said, from git's output: its `remote:` lines, the refusal (` ! [...]`), `fatal:`/`error:`. */
function gitReason(error: unknown): string {
  const text = redact(error instanceof Error ? error.message : String(error)).replace(/^git push failed:\s*/, '');
  const telling = text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => /^(remote:|!|fatal:|error:)/.test(line) && !/^remote:\s*$/.test(line));
  const reason = (telling.length > 0 ? telling.join('; ') : text).replace(/\s+/g, ' ').trim();
  return reason.length > 400 ? `${reason.slice(0, 399)}…` : reason;
}
