// Enough of the GitHub REST API, in memory on 127.0.0.1, for octokit to open, find, update and label
// pull requests and read issues. Every request is recorded so a test can assert what reached the forge
// (and that no secret did).

import type { ServerResponse } from 'node:http';
import {
  handleFollowupRoute,
  newFollowupState,
  pullFollowups,
  reviewThreadsAnswer,
  type FakeCheckRun,
  type FakeReviewComment,
} from './github-followups.js';
import { listen, sendJson, type RecordedRequest, type RunningServer } from './http-util.js';

export interface GitHubServerOptions {
  /** When set, requests must carry `Authorization: token <token>` or `Bearer <token>` (else 401). */
  token?: string;
  /** Known repositories as "owner/repo"; when given, others answer 404. Default: any repository exists. */
  repos?: string[];
  defaultBranch?: string;
}

export interface FakePull {
  number: number;
  owner: string;
  repo: string;
  title: string;
  body: string | null;
  head: string;
  headOwner: string;
  base: string;
  draft: boolean;
  state: 'open' | 'closed';
  merged: boolean;
  mergeCommit: string | null;
  labels: string[];
  /** The head commit (all zeros unless a test gives one). */
  headSha?: string;
}

export interface FakeIssue {
  number: number;
  title: string;
  body: string | null;
  state: 'open' | 'closed';
  labels: string[];
}

export interface GitHubServer extends RunningServer {
  /** Pull requests of a repository, in creation order (a copy). */
  pulls(owner: string, repo: string): FakePull[];
  addIssue(owner: string, repo: string, issue: { title: string; body?: string | null }): number;
  mergePullRequest(owner: string, repo: string, number: number, mergeCommit?: string): void;
  closePullRequest(owner: string, repo: string, number: number): void;
  /** The next matching requests (or any request, without `path`) answer with this status instead. */
  failNext(failure: { status: number; body?: unknown; headers?: Record<string, string>; method?: string; path?: RegExp }): void;
  /**
   * Matching requests wait, unanswered, until `release()` (then they are answered as usual): a test can
   * catch a client mid-request. `waiting()` counts those held so far.
   */
  hold(match: { method?: string; path: RegExp }): Hold;
  /** A pull request as if someone had opened it (a test's starting point for follow-ups). */
  addPullRequest(
    owner: string,
    repo: string,
    pull: { title: string; body?: string; head: string; base?: string; headSha?: string; labels?: string[] },
  ): number;
  /** A review thread on a pull request: its comments, oldest first. Returns the thread's node id and comment ids. */
  addReviewThread(
    owner: string,
    repo: string,
    number: number,
    thread: { path: string; line: number; comments: { author: string; body: string }[]; resolved?: boolean },
  ): { threadId: string; commentIds: number[] };
  addReview(owner: string, repo: string, number: number, review: { author: string; state: string; body: string }): void;
  /** Review comments of a pull request (replies carry `inReplyTo`). */
  reviewComments(owner: string, repo: string, number: number): FakeReviewComment[];
  requestedReviewers(owner: string, repo: string, number: number): string[];
  issueComments(owner: string, repo: string, number: number): string[];
  /** A completed (or, with conclusion null, running) check run on a commit sha or branch name; `log` is its job log. */
  addCheckRun(
    owner: string,
    repo: string,
    ref: string,
    run: { name: string; conclusion: FakeCheckRun['conclusion']; summary?: string; log?: string },
  ): number;
  setCommitParents(owner: string, repo: string, sha: string, parents: string[]): void;
  /** Moves a pull request's head commit (as a push to its branch would). */
  setPullHead(owner: string, repo: string, number: number, sha: string): void;
}

export interface Hold {
  waiting(): number;
  release(): void;
}

interface RepoState {
  nextNumber: number;
  pulls: Map<number, FakePull>;
  issues: Map<number, FakeIssue>;
}

interface Failure {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
  method?: string;
  path?: RegExp;
}

const DOCS = 'https://docs.github.com/rest';

export async function startGitHubServer(options: GitHubServerOptions = {}): Promise<GitHubServer> {
  const state = new Map<string, RepoState>();
  const followups = newFollowupState();
  const failures: Failure[] = [];
  const holds: { method?: string; path: RegExp; held: number; released: Promise<void>; release(): void; active: boolean }[] = [];
  let origin = '';

  function repoState(owner: string, repo: string): RepoState | null {
    const key = `${owner}/${repo}`.toLowerCase();
    if (options.repos && !options.repos.some((known) => known.toLowerCase() === key)) return null;
    let found = state.get(key);
    if (!found) {
      found = { nextNumber: 1, pulls: new Map(), issues: new Map() };
      state.set(key, found);
    }
    return found;
  }

  function labelJson(name: string) {
    let id = 7;
    for (const char of name) id = (id * 31 + char.charCodeAt(0)) % 1_000_000_007;
    return { id, name, color: 'ededed', default: false, description: null };
  }

  function nodeId(pull: FakePull): string {
    return `PR_${Buffer.from(`${pull.owner}/${pull.repo}#${pull.number}`).toString('base64url')}`;
  }

  function findByNodeId(id: unknown): FakePull | undefined {
    for (const repoData of state.values()) {
      for (const pull of repoData.pulls.values()) if (nodeId(pull) === id) return pull;
    }
    return undefined;
  }

  // Only the mutation the forge port uses; anything else answers like GitHub does for unknown fields.
  function graphql(body: Record<string, unknown>, res: ServerResponse): void {
    const query = typeof body.query === 'string' ? body.query : '';
    const variables = (body.variables ?? {}) as Record<string, unknown>;
    const threads = reviewThreadsAnswer(followups, query, variables);
    if (threads !== null) {
      sendJson(res, 200, threads);
      return;
    }
    if (!/convertPullRequestToDraft/.test(query)) {
      sendJson(res, 200, { errors: [{ type: 'UNSUPPORTED', message: 'github test server: unsupported GraphQL query' }] });
      return;
    }
    const pull = findByNodeId(variables.id);
    if (!pull) {
      sendJson(res, 200, {
        data: null,
        errors: [
          {
            type: 'NOT_FOUND',
            path: ['convertPullRequestToDraft'],
            message: `Could not resolve to a node with the global id of '${String(variables.id)}'`,
          },
        ],
      });
      return;
    }
    pull.draft = true;
    sendJson(res, 200, { data: { convertPullRequestToDraft: { pullRequest: { isDraft: true } } } });
  }

  function pullJson(pull: FakePull) {
    const api = `${origin}/repos/${pull.owner}/${pull.repo}`;
    return {
      id: 1000 + pull.number,
      node_id: nodeId(pull),
      number: pull.number,
      url: `${api}/pulls/${pull.number}`,
      html_url: `${origin}/${pull.owner}/${pull.repo}/pull/${pull.number}`,
      issue_url: `${api}/issues/${pull.number}`,
      state: pull.state,
      locked: false,
      title: pull.title,
      body: pull.body,
      draft: pull.draft,
      merged: pull.merged,
      merged_at: pull.merged ? '2024-01-01T00:00:00Z' : null,
      merge_commit_sha: pull.mergeCommit,
      user: { login: 'autodev-bot', id: 1, type: 'Bot' },
      labels: pull.labels.map(labelJson),
      head: {
        label: `${pull.headOwner}:${pull.head}`,
        ref: pull.head,
        sha: pull.headSha ?? '0'.repeat(40),
        user: { login: pull.headOwner },
        repo: { full_name: `${pull.headOwner}/${pull.repo}` },
      },
      base: { label: `${pull.owner}:${pull.base}`, ref: pull.base, sha: '1'.repeat(40), user: { login: pull.owner } },
      created_at: '2024-01-01T00:00:00Z',
      updated_at: '2024-01-01T00:00:00Z',
    };
  }

  function issueJson(owner: string, repo: string, number: number, issue: FakeIssue, pull?: FakePull) {
    return {
      id: 2000 + number,
      number,
      url: `${origin}/repos/${owner}/${repo}/issues/${number}`,
      html_url: `${origin}/${owner}/${repo}/${pull ? 'pull' : 'issues'}/${number}`,
      title: issue.title,
      body: issue.body,
      state: issue.state,
      labels: issue.labels.map(labelJson),
      user: { login: 'someone', id: 2, type: 'User' },
      ...(pull
        ? {
            pull_request: {
              url: `${origin}/repos/${owner}/${repo}/pulls/${number}`,
              html_url: `${origin}/${owner}/${repo}/pull/${number}`,
            },
          }
        : {}),
    };
  }

  function notFound(res: ServerResponse): void {
    sendJson(res, 404, { message: 'Not Found', documentation_url: DOCS, status: '404' });
  }

  function invalid(res: ServerResponse, message: string, errors: unknown[] = []): void {
    sendJson(res, 422, { message, errors, documentation_url: DOCS, status: '422' });
  }

  function takeFailure(request: RecordedRequest, pathname: string): Failure | undefined {
    const index = failures.findIndex(
      (failure) => (!failure.method || failure.method === request.method) && (!failure.path || failure.path.test(pathname)),
    );
    return index === -1 ? undefined : failures.splice(index, 1)[0];
  }

  function authorized(request: RecordedRequest): boolean {
    if (options.token === undefined) return true;
    const header = request.headers.authorization ?? '';
    const match = /^(?:token|bearer)\s+(.+)$/i.exec(header);
    return match !== null && match[1] === options.token;
  }

  const running = await listen(async (request, res, url) => {
    const pathname = url.pathname.replace(/\/+$/, '');
    const hold = holds.find((h) => h.active && (!h.method || h.method === request.method) && h.path.test(pathname));
    if (hold) {
      hold.held += 1;
      await hold.released;
      if (res.destroyed) return;
    }
    const failure = takeFailure(request, pathname);
    if (failure) {
      sendJson(
        res,
        failure.status,
        failure.body ?? { message: `injected failure ${failure.status}`, documentation_url: DOCS },
        failure.headers,
      );
      return;
    }
    // The job log's download URL needs no token (like GitHub's signed URLs); it is checked before auth.
    if (pathname.startsWith('/_logs/') && handleFollowupRoute(followups, request, res, pathname, origin, () => false)) return;
    if (!authorized(request)) {
      sendJson(res, 401, { message: 'Bad credentials', documentation_url: DOCS, status: '401' });
      return;
    }
    if (request.method === 'POST' && pathname === '/graphql') {
      graphql((typeof request.body === 'object' && request.body !== null ? request.body : {}) as Record<string, unknown>, res);
      return;
    }
    const pullExists = (o: string, r: string, n: number) => repoState(o, r)?.pulls.has(n) === true;
    if (handleFollowupRoute(followups, request, res, pathname, origin, pullExists)) return;
    const route = /^\/repos\/([^/]+)\/([^/]+)(?:\/(pulls|issues)(?:\/(\d+)(?:\/(labels))?)?)?$/.exec(pathname);
    if (!route) {
      notFound(res);
      return;
    }
    const [, owner, repo, collection, numberText, sub] = route;
    const repoData = repoState(owner, repo);
    if (!repoData) {
      notFound(res);
      return;
    }
    const number = numberText ? Number(numberText) : null;
    const body = (typeof request.body === 'object' && request.body !== null ? request.body : {}) as Record<string, unknown>;
    const key = `${request.method} ${collection ?? ''}${number !== null ? '/n' : ''}${sub ? `/${sub}` : ''}`;

    switch (key) {
      case 'GET ': {
        sendJson(res, 200, {
          id: 1,
          name: repo,
          full_name: `${owner}/${repo}`,
          owner: { login: owner },
          private: false,
          default_branch: options.defaultBranch ?? 'main',
          html_url: `${origin}/${owner}/${repo}`,
          clone_url: `${origin}/${owner}/${repo}.git`,
        });
        return;
      }
      case 'GET pulls': {
        const wantedState = url.searchParams.get('state') ?? 'open';
        const head = url.searchParams.get('head');
        const base = url.searchParams.get('base');
        const list = [...repoData.pulls.values()].filter((pull) => {
          if (wantedState !== 'all' && pull.state !== wantedState) return false;
          if (head !== null && head !== `${pull.headOwner}:${pull.head}` && head !== pull.headOwner) return false;
          if (base !== null && base !== pull.base) return false;
          return true;
        });
        sendJson(res, 200, list.map(pullJson));
        return;
      }
      case 'POST pulls': {
        const { title, head, base } = body;
        if (typeof title !== 'string' || typeof head !== 'string' || typeof base !== 'string') {
          invalid(res, 'Invalid request.', [{ message: 'title, head and base are required' }]);
          return;
        }
        const [headOwner, headRef] = head.includes(':') ? (head.split(':', 2) as [string, string]) : [owner, head];
        const duplicate = [...repoData.pulls.values()].find(
          (pull) => pull.state === 'open' && pull.head === headRef && pull.headOwner === headOwner && pull.base === base,
        );
        if (duplicate) {
          invalid(res, 'Validation Failed', [
            { resource: 'PullRequest', code: 'custom', message: `A pull request already exists for ${head}.` },
          ]);
          return;
        }
        const pull: FakePull = {
          number: repoData.nextNumber++,
          owner,
          repo,
          title,
          body: typeof body.body === 'string' ? body.body : null,
          head: headRef,
          headOwner,
          base,
          draft: body.draft === true,
          state: 'open',
          merged: false,
          mergeCommit: null,
          labels: [],
        };
        repoData.pulls.set(pull.number, pull);
        sendJson(res, 201, pullJson(pull));
        return;
      }
      case 'GET pulls/n': {
        const pull = repoData.pulls.get(number!);
        if (!pull) notFound(res);
        else sendJson(res, 200, pullJson(pull));
        return;
      }
      case 'PATCH pulls/n': {
        const pull = repoData.pulls.get(number!);
        if (!pull) {
          notFound(res);
          return;
        }
        if (typeof body.title === 'string') pull.title = body.title;
        if (typeof body.body === 'string') pull.body = body.body;
        if (typeof body.base === 'string') pull.base = body.base;
        if (body.state === 'open' || body.state === 'closed') {
          if (pull.merged) {
            invalid(res, 'Validation Failed', [{ message: 'Cannot change the state of a merged pull request' }]);
            return;
          }
          pull.state = body.state;
        }
        sendJson(res, 200, pullJson(pull));
        return;
      }
      case 'GET issues/n': {
        const pull = repoData.pulls.get(number!);
        if (pull) {
          const issue: FakeIssue = { number: pull.number, title: pull.title, body: pull.body, state: pull.state, labels: pull.labels };
          sendJson(res, 200, issueJson(owner, repo, pull.number, issue, pull));
          return;
        }
        const issue = repoData.issues.get(number!);
        if (!issue) notFound(res);
        else sendJson(res, 200, issueJson(owner, repo, issue.number, issue));
        return;
      }
      case 'POST issues/n/labels': {
        const target = repoData.pulls.get(number!) ?? repoData.issues.get(number!);
        if (!target) {
          notFound(res);
          return;
        }
        // The API takes `{"labels": [...]}` or a bare array; both create missing labels on the fly.
        const names = Array.isArray(request.body) ? request.body : body.labels;
        if (!Array.isArray(names) || !names.every((name) => typeof name === 'string')) {
          invalid(res, 'Invalid request.', [{ message: 'labels must be an array of strings' }]);
          return;
        }
        for (const name of names as string[]) if (!target.labels.includes(name)) target.labels.push(name);
        sendJson(res, 200, target.labels.map(labelJson));
        return;
      }
      default:
        notFound(res);
    }
  });
  origin = running.url;

  function requirePull(owner: string, repo: string, number: number): FakePull {
    const pull = repoState(owner, repo)?.pulls.get(number);
    if (!pull) throw new Error(`github test server: no pull request ${owner}/${repo}#${number}`);
    return pull;
  }

  return {
    url: running.url,
    requests: running.requests,
    close: running.close,
    pulls(owner, repo) {
      return [...(repoState(owner, repo)?.pulls.values() ?? [])].map((pull) => ({ ...pull, labels: [...pull.labels] }));
    },
    addIssue(owner, repo, issue) {
      const repoData = repoState(owner, repo);
      if (!repoData) throw new Error(`github test server: unknown repository ${owner}/${repo}`);
      const number = repoData.nextNumber++;
      repoData.issues.set(number, { number, title: issue.title, body: issue.body ?? null, state: 'open', labels: [] });
      return number;
    },
    mergePullRequest(owner, repo, number, mergeCommit = 'abcdef0123456789abcdef0123456789abcdef01') {
      const pull = requirePull(owner, repo, number);
      pull.state = 'closed';
      pull.merged = true;
      pull.mergeCommit = mergeCommit;
    },
    closePullRequest(owner, repo, number) {
      requirePull(owner, repo, number).state = 'closed';
    },
    addPullRequest(owner, repo, pull) {
      const repoData = repoState(owner, repo);
      if (!repoData) throw new Error(`github test server: unknown repository ${owner}/${repo}`);
      const number = repoData.nextNumber++;
      repoData.pulls.set(number, {
        number,
        owner,
        repo,
        title: pull.title,
        body: pull.body ?? null,
        head: pull.head,
        headOwner: owner,
        base: pull.base ?? options.defaultBranch ?? 'main',
        draft: false,
        state: 'open',
        merged: false,
        mergeCommit: null,
        labels: [...(pull.labels ?? [])],
        ...(pull.headSha ? { headSha: pull.headSha } : {}),
      });
      return number;
    },
    addReviewThread(owner, repo, number, thread) {
      requirePull(owner, repo, number);
      const data = pullFollowups(followups, owner, repo, number);
      const threadId = `PRRT_${followups.nextId++}`;
      data.threads.set(threadId, { resolved: thread.resolved === true, outdated: false, path: thread.path, line: thread.line });
      const commentIds: number[] = [];
      for (const comment of thread.comments) {
        const id = followups.nextId++;
        data.comments.push({
          id,
          threadId,
          author: comment.author,
          body: comment.body,
          path: thread.path,
          line: thread.line,
          inReplyTo: commentIds[0] ?? null,
        });
        commentIds.push(id);
      }
      return { threadId, commentIds };
    },
    addReview(owner, repo, number, review) {
      requirePull(owner, repo, number);
      pullFollowups(followups, owner, repo, number).reviews.push({ id: followups.nextId++, ...review });
    },
    reviewComments(owner, repo, number) {
      return pullFollowups(followups, owner, repo, number).comments.map((c) => ({ ...c }));
    },
    requestedReviewers(owner, repo, number) {
      return [...pullFollowups(followups, owner, repo, number).requestedReviewers];
    },
    issueComments(owner, repo, number) {
      return [...pullFollowups(followups, owner, repo, number).issueComments];
    },
    addCheckRun(owner, repo, ref, run) {
      const key = `${owner}/${repo}@${ref}`.toLowerCase();
      const id = followups.nextId++;
      const runs = followups.checkRuns.get(key) ?? [];
      runs.push({ id, name: run.name, conclusion: run.conclusion, summary: run.summary ?? '', log: run.log ?? null });
      followups.checkRuns.set(key, runs);
      if (run.log !== undefined) followups.logs.set(id, run.log);
      return id;
    },
    setPullHead(owner, repo, number, sha) {
      requirePull(owner, repo, number).headSha = sha;
    },
    setCommitParents(owner, repo, sha, parents) {
      followups.parents.set(`${owner}/${repo}@${sha}`.toLowerCase(), [...parents]);
    },
    failNext(failure) {
      failures.push(failure);
    },
    hold(match) {
      let release!: () => void;
      const released = new Promise<void>((resolve) => (release = resolve));
      const entry = { ...match, held: 0, released, active: true, release: () => undefined };
      entry.release = () => {
        entry.active = false;
        release();
      };
      holds.push(entry);
      running.onClose(() => entry.release());
      return { waiting: () => entry.held, release: () => entry.release() };
    },
  };
}
