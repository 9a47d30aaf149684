// `autodev review <PR>` (and the pull_request_review webhook): the reviewers' unresolved threads and
// review notes become the description of a task that commits on top of the pull request's branch.
import type { TaskRequest } from '../config/request.js';
import type { Review, ReviewThread } from '../ports/types.js';
import { AUTODEV_MARK, followupRequest, resolveTarget, type FollowupInput } from './followup.js';

export type ReviewPlan =
  { kind: 'run'; request: TaskRequest; cloneUrl?: string; threads: number; reviews: number } | { kind: 'nothing'; message: string };

/** A thread still waiting for autodev: unresolved, and its last word not autodev's own answer. */
function open(thread: ReviewThread): boolean {
  if (thread.resolved || thread.comments.length === 0) return false;
  return !thread.comments[thread.comments.length - 1].body.includes(AUTODEV_MARK);
}

function quote(text: string): string {
  return text
    .trim()
    .split('\n')
    .map((line) => `> ${line}`)
    .join('\n');
}

export function reviewDescription(pull: { number: number; title: string }, threads: ReviewThread[], reviews: Review[]): string {
  const parts = [
    `Address the review of pull request #${pull.number} (${pull.title}). Each item below is a reviewer's request that is still open;`,
    'change the code on this branch so that every one is satisfied, and change nothing else.',
  ];
  threads.forEach((thread, index) => {
    const where = thread.path ? `${thread.path}${thread.line !== null ? ` line ${thread.line}` : ''}` : 'the change';
    parts.push('', `### Thread ${index + 1}: ${where}${thread.outdated ? ' (on an earlier version of the code)' : ''}`);
    for (const comment of thread.comments) parts.push(`${comment.author ?? 'someone'} wrote:`, quote(comment.body));
  });
  for (const review of reviews) {
    parts.push('', `### Review by ${review.author ?? 'someone'} (${review.state.toLowerCase().replace(/_/g, ' ')})`, quote(review.body));
  }
  return parts.join('\n');
}

export async function prepareReview(input: FollowupInput): Promise<ReviewPlan> {
  const { ref, forge } = input;
  const target = await resolveTarget({ ...input, kind: 'review' });
  const taken = new Set(target.earlier.flatMap((t) => t.request.followup?.reviews ?? []));
  const [threads, allReviews] = await Promise.all([
    forge.listReviewThreads(ref.owner, ref.repo, ref.number),
    forge.listReviews(ref.owner, ref.repo, ref.number),
  ]);
  const pending = threads.filter(open);
  // A review's own text asks for something only when it has text; each is taken once.
  const reviews = allReviews.filter(
    (r) =>
      r.body.trim() !== '' && !r.body.includes(AUTODEV_MARK) && !taken.has(r.id) && ['CHANGES_REQUESTED', 'COMMENTED'].includes(r.state),
  );
  if (pending.length === 0 && reviews.length === 0) {
    return {
      kind: 'nothing',
      message: `pull request ${ref.owner}/${ref.repo}#${ref.number} has no unresolved review thread or review to address`,
    };
  }
  const authors = [...pending.map((t) => t.comments[0].author), ...reviews.map((r) => r.author)].filter(
    (a): a is string => a !== null && !a.endsWith('[bot]'),
  );
  const { request, cloneUrl } = await followupRequest({
    target,
    title: `Address the review of #${ref.number}: ${target.pull.title}`,
    description: reviewDescription(target.pull, pending, reviews),
    followup: {
      kind: 'review',
      fingerprints: [],
      replyTo: pending.map((t) => t.comments[0].id),
      reviews: reviews.map((r) => r.id),
      reviewers: [...new Set(authors)],
    },
    config: input.config,
    env: input.env,
    cwd: input.cwd,
    ...(input.repo !== undefined ? { repo: input.repo } : {}),
  });
  return { kind: 'run', request, ...(cloneUrl ? { cloneUrl } : {}), threads: pending.length, reviews: reviews.length };
}
