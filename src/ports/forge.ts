// The forge port: pull requests and issues on GitHub or GitHub Enterprise through @octokit/rest, the only
// module that imports it. @octokit/rest carries no retry or throttling plugin, so every call is one
// HTTP request; failures worth retrying (network, 429, 5xx, rate limits) surface as TransientError
// for the engine's backoff; a refusal (401, 403, 404, 422, ...) is the service failing the task, an
// ExternalError (exit 1) with GitHub's own message and without the token.

import { Octokit } from '@octokit/rest';
import { isTransientStatus, oneLine, parseRetryAfter, redactSecrets, rootCause } from './http-retry.js';
import {
  TransientError,
  type CheckRun,
  type FollowupForge,
  type Forge,
  type PullRequestInfo,
  type PullRequestSpec,
  type ReviewThread,
} from './types.js';

// Parsing a remote needs no octokit; it lives apart so `run --plan-only` can use it without loading the SDK.
export { parseGitHubRemote } from './github-remote.js';
import { ForgeError } from './types.js';

export interface ForgeOptions {
  /** REST API root: https://api.github.com, or https://<host>/api/v3 for GitHub Enterprise Server. */
  baseUrl?: string;
  token?: string | null;
  /** Per request (default 30 s). */
  timeoutMs?: number;
}

interface OctokitLikeError {
  status?: unknown;
  message?: unknown;
  response?: { headers?: Record<string, string | number | undefined>; data?: unknown };
}

function describeBody(data: unknown, fallback: string): string {
  if (typeof data === 'string' && data.trim() !== '') return data;
  if (typeof data === 'object' && data !== null && 'message' in data && typeof data.message === 'string') {
    const details =
      'errors' in data && Array.isArray(data.errors)
        ? data.errors
            .map((entry: unknown) =>
              typeof entry === 'object' && entry !== null && 'message' in entry && typeof entry.message === 'string'
                ? entry.message
                : JSON.stringify(entry),
            )
            .join('; ')
        : '';
    return details ? `${data.message}: ${details}` : data.message;
  }
  return fallback;
}

function hintFor(status: number): string {
  if (status === 401) return ' (check the GitHub token)';
  if (status === 403) return ' (the GitHub token lacks permission: it needs contents and pull-requests write)';
  if (status === 404) return ' (no such repository or pull request, or the token cannot see it)';
  return '';
}

function rateLimitWait(headers: Record<string, string | number | undefined>, now: number): number | null {
  const explicit = parseRetryAfter(headers, now);
  if (explicit !== null) return explicit;
  const reset = Number(headers['x-ratelimit-reset']);
  return Number.isFinite(reset) && reset > 0 ? Math.max(0, reset * 1000 - now) : null;
}

interface PullLike {
  number: number;
  html_url: string;
  draft?: boolean | null;
  state: string;
  merged?: boolean | null;
  merged_at?: string | null;
  node_id?: string;
  head: { ref: string };
  base: { ref: string };
}

function info(pull: PullLike, updated: boolean): PullRequestInfo {
  const merged = pull.merged === true || Boolean(pull.merged_at);
  return {
    number: pull.number,
    url: pull.html_url,
    draft: pull.draft === true,
    state: merged ? 'merged' : pull.state === 'closed' ? 'closed' : 'open',
    updated,
  };
}

export function createForge(options: ForgeOptions = {}): Forge & FollowupForge {
  const baseUrl = (options.baseUrl ?? 'https://api.github.com').replace(/\/+$/, '');
  const timeoutMs = options.timeoutMs ?? 30_000;
  const secrets = [options.token];
  const silent = () => {};
  const octokit = new Octokit({
    auth: options.token || undefined,
    baseUrl,
    userAgent: 'autodev',
    // Ports never print (octokit would warn about deprecations on the console).
    log: { debug: silent, info: silent, warn: silent, error: silent },
  });

  function translate(error: unknown, what: string, signal: AbortSignal): Error {
    const clean = (text: string) => oneLine(redactSecrets(text, secrets));
    if (signal.aborted) return new TransientError(`GitHub ${what}: no answer from ${baseUrl} within ${timeoutMs} ms`);
    const failure = (typeof error === 'object' && error !== null ? error : {}) as OctokitLikeError;
    const status = typeof failure.status === 'number' ? failure.status : null;
    const headers = failure.response?.headers ?? {};
    const fallback = typeof failure.message === 'string' ? failure.message : String(error);
    if (status === null && Array.isArray((failure as { errors?: unknown }).errors)) {
      // A GraphQL answer with errors: the request arrived and was refused.
      return new ForgeError(clean(`GitHub ${what} failed: ${fallback}`));
    }
    if (status === null || !failure.response) {
      // No HTTP response at all (octokit reports these as status 500): DNS, refused, reset.
      return new TransientError(clean(`GitHub ${what}: cannot reach ${baseUrl}: ${rootCause(error)}`));
    }
    const message = clean(`GitHub ${what} failed: ${status} ${describeBody(failure.response.data, fallback)}`);
    if (isTransientStatus(status)) return new TransientError(message, parseRetryAfter(headers));
    const rateLimited = status === 403 && (String(headers['x-ratelimit-remaining']) === '0' || headers['retry-after'] !== undefined);
    if (rateLimited) return new TransientError(`${message} (rate limited)`, rateLimitWait(headers, Date.now()));
    return new ForgeError(`${message}${hintFor(status)}`);
  }

  // Every API call goes through here: one request, its own deadline, errors translated.
  async function call<T>(what: string, run: (extra: { request: { signal: AbortSignal } }) => Promise<T>): Promise<T> {
    const signal = AbortSignal.timeout(timeoutMs);
    try {
      return await run({ request: { signal } });
    } catch (error) {
      throw translate(error, what, signal);
    }
  }

  async function findOpen(spec: PullRequestSpec, head: string, headRef: string): Promise<PullLike | null> {
    const { data } = await call(`listing pull requests of ${spec.owner}/${spec.repo}`, (extra) =>
      octokit.rest.pulls.list({ owner: spec.owner, repo: spec.repo, head, base: spec.base, state: 'open', per_page: 100, ...extra }),
    );
    return data.find((pull) => pull.head.ref === headRef && pull.base.ref === spec.base) ?? null;
  }

  async function update(spec: PullRequestSpec, pull: PullLike): Promise<PullLike> {
    const { data } = await call(`updating pull request ${spec.owner}/${spec.repo}#${pull.number}`, (extra) =>
      octokit.rest.pulls.update({
        owner: spec.owner,
        repo: spec.repo,
        pull_number: pull.number,
        title: spec.title,
        body: spec.body,
        ...extra,
      }),
    );
    return data;
  }

  async function convertToDraft(spec: PullRequestSpec, pull: PullLike): Promise<PullLike> {
    const mutation = 'mutation($id: ID!) { convertPullRequestToDraft(input: { pullRequestId: $id }) { pullRequest { isDraft } } }';
    const result = await call(`converting ${spec.owner}/${spec.repo}#${pull.number} to draft`, (extra) =>
      octokit.graphql<{ convertPullRequestToDraft: { pullRequest: { isDraft: boolean } } }>(mutation, { id: pull.node_id, ...extra }),
    );
    return { ...pull, draft: result.convertPullRequestToDraft.pullRequest.isDraft };
  }

  return {
    async upsertPullRequest(spec) {
      // GitHub filters by `owner:branch`; a fork's branch arrives already qualified.
      const head = spec.head.includes(':') ? spec.head : `${spec.owner}:${spec.head}`;
      const headRef = head.slice(head.indexOf(':') + 1);
      const where = `${spec.owner}/${spec.repo}`;
      const existing = await findOpen(spec, head, headRef);
      let pull: PullLike;
      let updated: boolean;
      if (existing) {
        pull = await update(spec, existing);
        updated = true;
      } else {
        try {
          const created = await call(`creating a pull request on ${where}`, (extra) =>
            octokit.rest.pulls.create({
              owner: spec.owner,
              repo: spec.repo,
              head,
              base: spec.base,
              title: spec.title,
              body: spec.body,
              draft: spec.draft,
              ...extra,
            }),
          );
          pull = created.data;
          updated = false;
        } catch (error) {
          // Another run opened it between our list and create: update that one instead.
          if (!(error instanceof Error) || error instanceof TransientError || !/already exists/i.test(error.message)) throw error;
          const raced = await findOpen(spec, head, headRef);
          if (!raced) throw error;
          pull = await update(spec, raced);
          updated = true;
        }
      }
      try {
        // The REST API cannot change draft state; GraphQL can. Only towards draft: a change that now needs
        // review must not stay ready to merge, while leaving draft is a human's call.
        if (updated && spec.draft && pull.draft !== true) pull = await convertToDraft(spec, pull);
        if (spec.labels.length > 0) {
          const labelled = pull;
          await call(`labelling ${where}#${labelled.number}`, (extra) =>
            octokit.rest.issues.addLabels({
              owner: spec.owner,
              repo: spec.repo,
              issue_number: labelled.number,
              labels: spec.labels,
              ...extra,
            }),
          );
        }
      } catch (error) {
        // The pull request exists: whoever handles this must not undo the branch it lives on.
        if (error instanceof ForgeError)
          throw new ForgeError(
            `${error.message} (pull request ${pull.html_url} was ${updated ? 'updated' : 'opened'})`,
            info(pull, updated),
          );
        throw error;
      }
      return info(pull, updated);
    },

    async getPullRequest(owner, repo, number) {
      const { data } = await call(`reading pull request ${owner}/${repo}#${number}`, (extra) =>
        octokit.rest.pulls.get({ owner, repo, pull_number: number, ...extra }),
      );
      const base = info(data, false);
      return { ...base, mergeCommit: base.state === 'merged' ? (data.merge_commit_sha ?? null) : null };
    },

    async getPullRequestDetails(owner, repo, number) {
      const { data } = await call(`reading pull request ${owner}/${repo}#${number}`, (extra) =>
        octokit.rest.pulls.get({ owner, repo, pull_number: number, ...extra }),
      );
      const base = info(data, false);
      return {
        number: data.number,
        url: data.html_url,
        state: base.state,
        title: data.title,
        body: data.body ?? '',
        headRef: data.head.ref,
        headSha: data.head.sha,
        headRepo: data.head.repo?.full_name ?? null,
        baseRef: data.base.ref,
      };
    },

    async listReviewThreads(owner, repo, number) {
      // REST has review comments but not whether their thread is resolved: that is GraphQL only.
      const query = `query($owner: String!, $repo: String!, $number: Int!) {
        repository(owner: $owner, name: $repo) { pullRequest(number: $number) {
          reviewThreads(first: 100) { nodes { id isResolved isOutdated path line
            comments(first: 50) { nodes { databaseId body author { login } } } } } } } }`;
      type Answer = {
        repository: {
          pullRequest: {
            reviewThreads: {
              nodes: {
                id: string;
                isResolved: boolean;
                isOutdated: boolean;
                path: string | null;
                line: number | null;
                comments: { nodes: { databaseId: number; body: string; author: { login: string } | null }[] };
              }[];
            };
          } | null;
        } | null;
      };
      const answer = await call(`reading the review threads of ${owner}/${repo}#${number}`, (extra) =>
        octokit.graphql<Answer>(query, { owner, repo, number, ...extra }),
      );
      const nodes = answer.repository?.pullRequest?.reviewThreads.nodes ?? [];
      return nodes.map((node): ReviewThread => ({
        id: node.id,
        resolved: node.isResolved,
        outdated: node.isOutdated,
        path: node.path,
        line: node.line,
        comments: node.comments.nodes.map((c) => ({ id: c.databaseId, author: c.author?.login ?? null, body: c.body })),
      }));
    },

    async listReviews(owner, repo, number) {
      const { data } = await call(`reading the reviews of ${owner}/${repo}#${number}`, (extra) =>
        octokit.rest.pulls.listReviews({ owner, repo, pull_number: number, per_page: 100, ...extra }),
      );
      return data.map((r) => ({ id: r.id, author: r.user?.login ?? null, state: r.state, body: r.body ?? '' }));
    },

    async replyToReviewComment(owner, repo, number, commentId, body) {
      await call(`answering review comment ${commentId} on ${owner}/${repo}#${number}`, (extra) =>
        octokit.rest.pulls.createReplyForReviewComment({ owner, repo, pull_number: number, comment_id: commentId, body, ...extra }),
      );
    },

    async addIssueComment(owner, repo, number, body) {
      await call(`commenting on ${owner}/${repo}#${number}`, (extra) =>
        octokit.rest.issues.createComment({ owner, repo, issue_number: number, body, ...extra }),
      );
    },

    async requestReviewers(owner, repo, number, reviewers) {
      if (reviewers.length === 0) return;
      await call(`requesting review on ${owner}/${repo}#${number}`, (extra) =>
        octokit.rest.pulls.requestReviewers({ owner, repo, pull_number: number, reviewers, ...extra }),
      );
    },

    async listCheckRuns(owner, repo, ref) {
      const { data } = await call(`reading the check runs of ${owner}/${repo}@${ref}`, (extra) =>
        octokit.rest.checks.listForRef({ owner, repo, ref, per_page: 100, ...extra }),
      );
      return data.check_runs.map((run): CheckRun => ({
        id: run.id,
        name: run.name,
        status: run.status,
        conclusion: run.conclusion ?? null,
        app: run.app?.slug ?? null,
        summary: run.output?.summary ?? '',
        text: run.output?.text ?? '',
      }));
    },

    async getJobLog(owner, repo, jobId) {
      try {
        // GitHub answers 302 to a short-lived download URL; fetch follows it.
        const { data } = await call(`reading the log of job ${jobId} in ${owner}/${repo}`, (extra) =>
          octokit.rest.actions.downloadJobLogsForWorkflowRun({ owner, repo, job_id: jobId, ...extra }),
        );
        if (typeof data === 'string') return data;
        if (data instanceof ArrayBuffer) return new TextDecoder().decode(data);
        return null;
      } catch (error) {
        // Not an Actions job, or its log expired: the check run's own output is all there is.
        if (error instanceof ForgeError && / 404 | 410 /.test(`${error.message} `)) return null;
        throw error;
      }
    },

    async getCommitParents(owner, repo, sha) {
      const { data } = await call(`reading commit ${sha} of ${owner}/${repo}`, (extra) =>
        octokit.rest.repos.getCommit({ owner, repo, ref: sha, ...extra }),
      );
      return data.parents.map((p) => p.sha);
    },

    async getIssue(owner, repo, number) {
      const { data } = await call(`reading issue ${owner}/${repo}#${number}`, (extra) =>
        octokit.rest.issues.get({ owner, repo, issue_number: number, ...extra }),
      );
      return { title: data.title, body: data.body ?? '' };
    },
  };
}
