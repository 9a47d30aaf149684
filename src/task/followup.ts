// Follow-ups on a pull request autodev opened (`review`, `ci-fix`, and the webhooks that start them):
// which pull request, whether autodev opened it, how many follow-ups it has had, the request that
// commits on top of its branch, and what is said on the pull request once that task has ended. The
// task itself runs like any other (intake, session, run-task): the same gates, the same evidence.
import type { Env } from '../config/load.js';
import type { TaskRequest } from '../config/request.js';
import type { Config } from '../config/schema.js';
import type { FollowupForge, Forge, PullRequestDetails } from '../ports/types.js';
import type { StoredTask, TaskStore } from '../store/task-store.js';
import { RefusedError, UsageError } from '../util/errors.js';
import { redact } from '../util/redact.js';
import { intakeRequest } from './intake.js';
import { parseIssueRef, repoUrlFor, type IssueRef } from './issue.js';
import type { TaskResult } from './run-task.js';
import { pullRef } from './task-sync.js';

export type FollowupKind = 'review' | 'ci-fix';
export type FollowupRequest = NonNullable<TaskRequest['followup']>;
export type FollowupPorts = Forge & FollowupForge;

/** Put in what autodev writes on a pull request, so a later follow-up knows its own words. */
export const AUTODEV_MARK = '<!-- autodev -->';

/** `owner/repo#N` or a pull request URL → its reference; a usage error naming `what` otherwise. */
export function parsePullArg(text: string, what: string): IssueRef {
  const ref = parseIssueRef(text);
  if (!ref) throw new UsageError(`${what} ${JSON.stringify(text)}: not a pull request`, 'give owner/repo#N or the pull request URL');
  return ref;
}

/** The stored task that opened this pull request, if this store has it. */
export function openingTask(tasks: StoredTask[], ref: IssueRef): StoredTask | null {
  return (
    tasks.find((t) => {
      if (!t.pr || t.request.followup) return false;
      const opened = pullRef(t.pr.url);
      return (
        opened !== null &&
        opened.number === ref.number &&
        opened.owner.toLowerCase() === ref.owner.toLowerCase() &&
        opened.repo.toLowerCase() === ref.repo.toLowerCase()
      );
    }) ?? null
  );
}

/** Whether a pull request's body says autodev opened it (the footer every autodev PR body carries). */
export function bodyMarksAutodev(body: string): boolean {
  return /Opened by autodev, task `[^`]+`/.test(body) || body.includes(AUTODEV_MARK);
}

/** Earlier follow-ups of one kind on one pull request, oldest first (the task store is the record). */
export function earlierFollowups(tasks: StoredTask[], ref: IssueRef, kind: FollowupKind): StoredTask[] {
  return tasks
    .filter((t) => {
      const f = t.request.followup;
      return (
        f !== undefined &&
        f.kind === kind &&
        f.number === ref.number &&
        f.owner.toLowerCase() === ref.owner.toLowerCase() &&
        f.repo.toLowerCase() === ref.repo.toLowerCase()
      );
    })
    .reverse();
}

export interface FollowupTarget {
  ref: IssueRef;
  pull: PullRequestDetails;
  /** The task that opened it, when this store has it. */
  opener: StoredTask | null;
  earlier: StoredTask[];
}

/** What `review` and `ci-fix` are given: the pull request, where to read config and records, the forge. */
export interface FollowupInput {
  ref: IssueRef;
  config: Config;
  env: Env;
  cwd: string;
  store: TaskStore;
  forge: FollowupPorts;
  force?: boolean;
  repo?: string;
}

/**
 * Reads the pull request and refuses (exit 3) what a follow-up may not touch: a pull request that is
 * not open, one autodev did not open (unless `force`), one whose branch lives in a fork, and one
 * that has had `lifecycle.max_followups` follow-ups of this kind already.
 */
export async function resolveTarget(input: {
  ref: IssueRef;
  kind: FollowupKind;
  config: Config;
  store: TaskStore;
  forge: Pick<FollowupPorts, 'getPullRequestDetails'>;
  force?: boolean;
}): Promise<FollowupTarget> {
  const { ref, kind, config } = input;
  const name = `${ref.owner}/${ref.repo}#${ref.number}`;
  const pull = await input.forge.getPullRequestDetails(ref.owner, ref.repo, ref.number);
  if (pull.state !== 'open') throw new RefusedError(`pull request ${name} is ${pull.state}: a follow-up needs an open one`);
  const tasks = await input.store.list();
  const opener = openingTask(tasks, ref);
  if (!opener && !bodyMarksAutodev(pull.body) && !input.force) {
    throw new RefusedError(
      `pull request ${name} was not opened by autodev (no task in the store, no autodev footer in its body)`,
      'pass --force to work on it anyway',
    );
  }
  if (pull.headRepo !== null && pull.headRepo.toLowerCase() !== `${ref.owner}/${ref.repo}`.toLowerCase()) {
    throw new RefusedError(
      `pull request ${name} comes from the fork ${pull.headRepo}: autodev pushes only to branches of ${ref.owner}/${ref.repo}`,
    );
  }
  const earlier = earlierFollowups(tasks, ref, kind);
  const cap = config.lifecycle.max_followups;
  if (earlier.length >= cap) {
    throw new RefusedError(
      `pull request ${name} has had ${earlier.length} ${kind} follow-up(s), the most lifecycle.max_followups (${cap}) allows`,
      'a human takes it from here (or raise lifecycle.max_followups)',
    );
  }
  return { ref, pull, opener, earlier };
}

/**
 * The request of a follow-up task: the repository the pull request's task used (or the GitHub
 * repository), based on the pull request's head branch, committing on top of it.
 */
export async function followupRequest(input: {
  target: FollowupTarget;
  title: string;
  description: string;
  followup: Omit<FollowupRequest, 'owner' | 'repo' | 'number' | 'branch'>;
  config: Config;
  env: Env;
  cwd: string;
  /** What to clone and push to, when not the task's repository nor the GitHub one (`--repo`). */
  repo?: string;
}): Promise<{ request: TaskRequest; cloneUrl?: string }> {
  const { target, config } = input;
  const repo = input.repo ?? target.opener?.request.repo ?? repoUrlFor(target.ref, config.git.github_api_url);
  const title = input.title.length > 200 ? `${input.title.slice(0, 199)}…` : input.title;
  const intake = await intakeRequest(
    {
      repo,
      title,
      description: input.description.slice(0, 100_000),
      base: target.pull.headRef,
      ...(target.opener ? { risk: target.opener.request.risk } : {}),
    },
    { config, env: input.env, cwd: input.cwd, fieldName: (key) => key },
  );
  const followup: FollowupRequest = {
    ...input.followup,
    owner: target.ref.owner,
    repo: target.ref.repo,
    number: target.ref.number,
    branch: target.pull.headRef,
  };
  return { request: { ...intake.request, followup }, ...(intake.cloneUrl ? { cloneUrl: intake.cloneUrl } : {}) };
}

/** One line on what the task did, for the pull request. */
function outcomeLine(result: Pick<TaskResult, 'status' | 'reason' | 'change' | 'pushed' | 'task'>): string {
  if (result.pushed && result.change) {
    const subject = result.change.commit.slice(0, 8);
    return `pushed ${subject} to \`${result.pushed.branch}\` (built, tested, linted, scanned and policy-checked in the sandbox first; task \`${result.task.id}\`)`;
  }
  return `made no change: ${result.status}${result.reason ? ` (${redact(result.reason)})` : ''} (task \`${result.task.id}\`)`;
}

/**
 * After a follow-up task: `review` answers each thread it took with what was done (or why not) and,
 * when a commit was pushed, requests the reviewers' review again; `ci-fix` comments on the pull
 * request. Returns what could not be said (warnings: the task's own result stands).
 */
export async function finishFollowup(input: {
  request: TaskRequest;
  result: Pick<TaskResult, 'status' | 'reason' | 'change' | 'pushed' | 'task'>;
  forge: Pick<FollowupPorts, 'replyToReviewComment' | 'requestReviewers' | 'addIssueComment'>;
}): Promise<string[]> {
  const followup = input.request.followup;
  if (!followup) return [];
  const { owner, repo, number } = followup;
  const warnings: string[] = [];
  const pushed = Boolean(input.result.pushed && input.result.change);
  const what = outcomeLine(input.result);
  const attempt = async (label: string, fn: () => Promise<void>): Promise<void> => {
    await fn().catch((error: Error) => warnings.push(`${label}: ${redact(error.message)}`));
  };
  if (followup.kind === 'review') {
    for (const commentId of followup.replyTo) {
      const text = pushed ? `autodev addressed this: ${what}.` : `autodev did not address this: it ${what}.`;
      await attempt(`answering review comment ${commentId}`, () =>
        input.forge.replyToReviewComment(owner, repo, number, commentId, `${text}\n\n${AUTODEV_MARK}`),
      );
    }
    if (followup.replyTo.length === 0) {
      await attempt('commenting on the pull request', () =>
        input.forge.addIssueComment(owner, repo, number, `autodev, on the review: ${what}.\n\n${AUTODEV_MARK}`),
      );
    }
    if (pushed && followup.reviewers.length > 0) {
      await attempt('requesting review again', () => input.forge.requestReviewers(owner, repo, number, followup.reviewers));
    }
  } else {
    await attempt('commenting on the pull request', () =>
      input.forge.addIssueComment(owner, repo, number, `autodev, on the failing checks: ${what}.\n\n${AUTODEV_MARK}`),
    );
  }
  return warnings;
}
