// What follow-ups on an opened pull request read and write, for the GitHub test server: review
// threads (REST review comments and replies, and GraphQL `reviewThreads { isResolved }`, which REST
// does not have), reviews, requested reviewers, issue comments, check runs of a ref, job logs (the
// API's 302 to a download URL, served here) and commits' parents. In octokit's wire format.

import type { ServerResponse } from 'node:http';
import { sendJson, type RecordedRequest } from './http-util.js';

export interface FakeReviewComment {
  id: number;
  threadId: string;
  author: string;
  body: string;
  path: string;
  line: number;
  inReplyTo: number | null;
}

export interface FakeCheckRun {
  id: number;
  name: string;
  conclusion: 'success' | 'failure' | 'neutral' | 'cancelled' | 'timed_out' | null;
  summary: string;
  log: string | null;
}

export interface PullFollowups {
  threads: Map<string, { resolved: boolean; outdated: boolean; path: string; line: number }>;
  comments: FakeReviewComment[];
  reviews: { id: number; author: string; state: string; body: string }[];
  requestedReviewers: string[];
  issueComments: string[];
}

export interface FollowupState {
  /** By "owner/repo#n" (lower case). */
  pulls: Map<string, PullFollowups>;
  /** Check runs by "owner/repo@ref" (a sha or a branch name). */
  checkRuns: Map<string, FakeCheckRun[]>;
  logs: Map<number, string>;
  /** Parents by "owner/repo@sha". */
  parents: Map<string, string[]>;
  nextId: number;
}

export function newFollowupState(): FollowupState {
  return { pulls: new Map(), checkRuns: new Map(), logs: new Map(), parents: new Map(), nextId: 5000 };
}

export function pullFollowups(state: FollowupState, owner: string, repo: string, number: number): PullFollowups {
  const key = `${owner}/${repo}#${number}`.toLowerCase();
  let found = state.pulls.get(key);
  if (!found) {
    found = { threads: new Map(), comments: [], reviews: [], requestedReviewers: [], issueComments: [] };
    state.pulls.set(key, found);
  }
  return found;
}

function user(login: string) {
  return { login, id: login.length, type: 'User' };
}

function commentJson(origin: string, owner: string, repo: string, number: number, c: FakeReviewComment) {
  return {
    id: c.id,
    node_id: `PRRC_${c.id}`,
    pull_request_review_id: 1,
    diff_hunk: '',
    path: c.path,
    line: c.line,
    body: c.body,
    user: user(c.author),
    in_reply_to_id: c.inReplyTo ?? undefined,
    html_url: `${origin}/${owner}/${repo}/pull/${number}#discussion_r${c.id}`,
    created_at: '2024-01-01T00:00:00Z',
    updated_at: '2024-01-01T00:00:00Z',
  };
}

function checkRunJson(origin: string, owner: string, repo: string, sha: string, run: FakeCheckRun) {
  return {
    id: run.id,
    node_id: `CR_${run.id}`,
    head_sha: sha,
    name: run.name,
    status: run.conclusion === null ? 'in_progress' : 'completed',
    conclusion: run.conclusion,
    details_url: `${origin}/${owner}/${repo}/actions/runs/1/job/${run.id}`,
    output: { title: run.name, summary: run.summary, text: null, annotations_count: 0 },
    app: { id: 15368, slug: 'github-actions', name: 'GitHub Actions' },
    started_at: '2024-01-01T00:00:00Z',
    completed_at: run.conclusion === null ? null : '2024-01-01T00:01:00Z',
  };
}

/**
 * Answers the follow-up routes; false when `pathname` is none of them (the caller goes on). `pullExists`
 * tells whether a pull request is known, so an unknown one answers 404 as GitHub does.
 */
export function handleFollowupRoute(
  state: FollowupState,
  request: RecordedRequest,
  res: ServerResponse,
  pathname: string,
  origin: string,
  pullExists: (owner: string, repo: string, number: number) => boolean,
): boolean {
  const logs = /^\/_logs\/(\d+)$/.exec(pathname);
  if (logs && request.method === 'GET') {
    const text = state.logs.get(Number(logs[1]));
    if (text === undefined) sendJson(res, 404, { message: 'Not Found' });
    else {
      res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(text) });
      res.end(text);
    }
    return true;
  }
  const body = (typeof request.body === 'object' && request.body !== null ? request.body : {}) as Record<string, unknown>;
  const notFound = () => sendJson(res, 404, { message: 'Not Found', documentation_url: 'https://docs.github.com/rest' });

  const pr = /^\/repos\/([^/]+)\/([^/]+)\/pulls\/(\d+)\/(comments|reviews|requested_reviewers|comments\/(\d+)\/replies)$/.exec(pathname);
  if (pr) {
    const [, owner, repo, numberText, what, replyTo] = pr;
    const number = Number(numberText);
    if (!pullExists(owner, repo, number)) {
      notFound();
      return true;
    }
    const data = pullFollowups(state, owner, repo, number);
    if (what === 'comments' && request.method === 'GET') {
      sendJson(
        res,
        200,
        data.comments.map((c) => commentJson(origin, owner, repo, number, c)),
      );
      return true;
    }
    if (replyTo !== undefined && request.method === 'POST') {
      const parent = data.comments.find((c) => c.id === Number(replyTo));
      if (!parent || typeof body.body !== 'string') {
        notFound();
        return true;
      }
      const reply: FakeReviewComment = {
        id: state.nextId++,
        threadId: parent.threadId,
        author: 'autodev-bot',
        body: body.body,
        path: parent.path,
        line: parent.line,
        inReplyTo: parent.id,
      };
      data.comments.push(reply);
      sendJson(res, 201, commentJson(origin, owner, repo, number, reply));
      return true;
    }
    if (what === 'reviews' && request.method === 'GET') {
      sendJson(
        res,
        200,
        data.reviews.map((r) => ({ id: r.id, node_id: `PRR_${r.id}`, user: user(r.author), body: r.body, state: r.state })),
      );
      return true;
    }
    if (what === 'requested_reviewers' && request.method === 'POST') {
      const reviewers = Array.isArray(body.reviewers)
        ? (body.reviewers as unknown[]).filter((r): r is string => typeof r === 'string')
        : [];
      for (const r of reviewers) if (!data.requestedReviewers.includes(r)) data.requestedReviewers.push(r);
      sendJson(res, 201, { number, requested_reviewers: data.requestedReviewers.map(user) });
      return true;
    }
    return false;
  }

  const issueComment = /^\/repos\/([^/]+)\/([^/]+)\/issues\/(\d+)\/comments$/.exec(pathname);
  if (issueComment && request.method === 'POST') {
    const [, owner, repo, numberText] = issueComment;
    if (!pullExists(owner, repo, Number(numberText)) || typeof body.body !== 'string') {
      notFound();
      return true;
    }
    pullFollowups(state, owner, repo, Number(numberText)).issueComments.push(body.body);
    sendJson(res, 201, { id: state.nextId++, body: body.body, user: user('autodev-bot') });
    return true;
  }

  const checks = /^\/repos\/([^/]+)\/([^/]+)\/commits\/([^/]+)\/check-runs$/.exec(pathname);
  if (checks && request.method === 'GET') {
    const [, owner, repo, ref] = checks;
    const runs = state.checkRuns.get(`${owner}/${repo}@${decodeURIComponent(ref)}`.toLowerCase()) ?? [];
    sendJson(res, 200, { total_count: runs.length, check_runs: runs.map((r) => checkRunJson(origin, owner, repo, ref, r)) });
    return true;
  }

  const commit = /^\/repos\/([^/]+)\/([^/]+)\/commits\/([0-9a-f]{7,40})$/.exec(pathname);
  if (commit && request.method === 'GET') {
    const [, owner, repo, sha] = commit;
    const parents = state.parents.get(`${owner}/${repo}@${sha}`.toLowerCase());
    if (!parents) notFound();
    else
      sendJson(res, 200, {
        sha,
        node_id: `C_${sha}`,
        parents: parents.map((p) => ({ sha: p, url: `${origin}/repos/${owner}/${repo}/commits/${p}` })),
      });
    return true;
  }

  const job = /^\/repos\/([^/]+)\/([^/]+)\/actions\/jobs\/(\d+)\/logs$/.exec(pathname);
  if (job && request.method === 'GET') {
    if (!state.logs.has(Number(job[3]))) notFound();
    else {
      // GitHub answers with a redirect to a short-lived download URL.
      res.writeHead(302, { location: `${origin}/_logs/${job[3]}`, 'content-length': 0 });
      res.end();
    }
    return true;
  }
  return false;
}

/** The GraphQL `reviewThreads` query of a pull request; null when the query is not that one. */
export function reviewThreadsAnswer(state: FollowupState, query: string, variables: Record<string, unknown>): unknown {
  if (!/reviewThreads/.test(query)) return null;
  const owner = String(variables.owner);
  const repo = String(variables.repo);
  const number = Number(variables.number);
  const data = pullFollowups(state, owner, repo, number);
  const nodes = [...data.threads.entries()].map(([id, thread]) => ({
    id,
    isResolved: thread.resolved,
    isOutdated: thread.outdated,
    path: thread.path,
    line: thread.line,
    comments: {
      nodes: data.comments.filter((c) => c.threadId === id).map((c) => ({ databaseId: c.id, body: c.body, author: { login: c.author } })),
    },
  }));
  return { data: { repository: { pullRequest: { reviewThreads: { nodes } } } } };
}
