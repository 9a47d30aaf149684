// POST /api/v1/autodev/webhooks/github: GitHub's events, signed with the webhook secret
// (`X-Hub-Signature-256`, checked by @octokit/webhooks-methods before anything is read). A bad or
// missing signature is 401 and nothing happens; a delivery id seen before (GitHub redelivers) is
// answered 200 and ignored, remembered on disk so a restarted server ignores it too. Anything else
// is answered 202 at once; the work (reading the pull request, queueing the task) follows in the
// background and lands in the server's queue like any POSTed task.
//   issues.labeled (the configured label)            → a task for the issue
//   pull_request_review.submitted on an autodev PR   → `review`
//   check_suite.completed, failure, on an autodev PR → `ci-fix`; on a merge commit → auto-revert
import { mkdir, writeFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import type { Env } from '../config/load.js';
import type { TaskRequest } from '../config/request.js';
import type { Config } from '../config/schema.js';
import type { TaskStore } from '../store/task-store.js';
import { AutodevError } from '../util/errors.js';
import { redact, registerSecret } from '../util/redact.js';
import { HttpError, sendJson } from './http.js';

export const WEBHOOK_PATH = '/api/v1/autodev/webhooks/github';
/** GitHub caps payloads at 25 MB; the events used here are far smaller. */
const MAX_PAYLOAD = 5 * 1024 * 1024;

export interface WebhookDeps {
  config: Config;
  env: Env;
  cwd: string;
  stateDir: string;
  store: TaskStore;
  log: (line: string) => void;
  /** The server's POST /tasks: intake (the issue read from GitHub) and the queue. */
  createTask(fields: Record<string, unknown>): Promise<{ id: string }>;
  /** Queues a request made here (a follow-up). */
  enqueue(request: TaskRequest, cloneUrl?: string): Promise<string>;
  /** Work that outlives the request; the server waits for it when it closes. */
  background(work: Promise<void>): void;
}

async function readRaw(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_PAYLOAD) throw new HttpError(413, `payload larger than ${MAX_PAYLOAD} bytes`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** True the first time a delivery id is seen (by any server using this state dir); an atomic create. */
async function firstDelivery(stateDir: string, delivery: string): Promise<boolean> {
  const dir = path.join(stateDir, 'webhook-deliveries');
  await mkdir(dir, { recursive: true });
  try {
    await writeFile(path.join(dir, delivery), `${new Date().toISOString()}\n`, { flag: 'wx' });
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
}

type Payload = Record<string, any>;

export async function handleGithubWebhook(req: IncomingMessage, res: ServerResponse, deps: WebhookDeps): Promise<void> {
  if ((req.method ?? 'GET') !== 'POST') throw new HttpError(405, 'use POST');
  const raw = await readRaw(req);
  const secret = deps.env[deps.config.webhooks.secret_env] || '';
  registerSecret(secret);
  const signature = req.headers['x-hub-signature-256'];
  if (!secret) throw new HttpError(401, `webhooks are off: ${deps.config.webhooks.secret_env} holds no secret`);
  if (typeof signature !== 'string' || signature === '') throw new HttpError(401, 'missing X-Hub-Signature-256');
  const { verify } = await import('@octokit/webhooks-methods');
  const valid = await verify(secret, raw, signature).catch(() => false);
  if (!valid) throw new HttpError(401, 'bad X-Hub-Signature-256');
  const event = String(req.headers['x-github-event'] ?? '');
  const delivery = String(req.headers['x-github-delivery'] ?? '');
  if (!/^[A-Za-z0-9-]{1,100}$/.test(delivery)) throw new HttpError(400, 'missing or malformed X-GitHub-Delivery');
  let payload: Payload;
  try {
    payload = JSON.parse(raw) as Payload;
  } catch {
    throw new HttpError(400, 'the payload is not JSON');
  }
  if (!(await firstDelivery(deps.stateDir, delivery))) {
    deps.log(`webhook ${delivery} (${event}): delivered before; ignored`);
    sendJson(res, 200, { delivery, event, duplicate: true });
    return;
  }
  sendJson(res, 202, { delivery, event, accepted: true });
  deps.background(
    dispatch(event, payload, deps).catch((error: unknown) => {
      const message = redact(error instanceof Error ? error.message : String(error));
      deps.log(`webhook ${delivery} (${event}): ${error instanceof AutodevError ? '' : 'internal error: '}${message}`);
    }),
  );
}

async function dispatch(event: string, payload: Payload, deps: WebhookDeps): Promise<void> {
  const owner = String(payload.repository?.owner?.login ?? '');
  const repo = String(payload.repository?.name ?? '');
  const action = String(payload.action ?? '');
  if (!owner || !repo) return;
  if (event === 'issues' && action === 'labeled') {
    if (payload.label?.name !== deps.config.webhooks.label || payload.issue?.pull_request) return;
    const { id } = await deps.createTask({ issue: `${owner}/${repo}#${Number(payload.issue?.number)}` });
    deps.log(`webhook: issue ${owner}/${repo}#${payload.issue?.number} labelled ${deps.config.webhooks.label}: task ${id}`);
    return;
  }
  if (event === 'pull_request_review' && action === 'submitted') {
    if (!['changes_requested', 'commented'].includes(String(payload.review?.state ?? '').toLowerCase())) return;
    await followup('review', { owner, repo, number: Number(payload.pull_request?.number) }, deps);
    return;
  }
  if (event === 'check_suite' && action === 'completed' && payload.check_suite?.conclusion === 'failure') {
    const pulls: { number: number }[] = Array.isArray(payload.check_suite.pull_requests) ? payload.check_suite.pull_requests : [];
    for (const pull of pulls) await followup('ci-fix', { owner, repo, number: Number(pull.number) }, deps);
    if (deps.config.lifecycle.auto_revert && pulls.length === 0) await autoRevert(String(payload.check_suite.head_sha ?? ''), deps);
  }
}

async function ports(deps: Pick<WebhookDeps, 'config' | 'env'>) {
  const { createForge } = await import('../ports/forge.js');
  const token = deps.env[deps.config.git.github_token_env] || null;
  registerSecret(token);
  return createForge({ baseUrl: deps.config.git.github_api_url, token });
}

async function followup(kind: 'review' | 'ci-fix', ref: { owner: string; repo: string; number: number }, deps: WebhookDeps): Promise<void> {
  if (!Number.isSafeInteger(ref.number) || ref.number <= 0) return;
  const name = `${ref.owner}/${ref.repo}#${ref.number}`;
  const forge = await ports(deps);
  const common = { ref, config: deps.config, env: deps.env, cwd: deps.cwd, store: deps.store, forge };
  let prepared: { kind: string; message?: string; request?: TaskRequest; cloneUrl?: string };
  if (kind === 'review') {
    const { prepareReview } = await import('../task/review.js');
    prepared = await prepareReview(common);
  } else {
    const { prepareCiFix, reportOnBase } = await import('../task/ci-fix.js');
    const plan = await prepareCiFix(common);
    for (const warning of await reportOnBase(forge, ref, plan.onBase)) deps.log(`webhook: ${name}: ${warning}`);
    prepared = plan;
  }
  if (prepared.kind !== 'run' || !prepared.request) {
    deps.log(`webhook: ${kind} ${name}: ${prepared.message ?? prepared.kind}`);
    return;
  }
  const id = await deps.enqueue(prepared.request, prepared.cloneUrl);
  deps.log(`webhook: ${kind} ${name}: task ${id}`);
}

async function autoRevert(sha: string, deps: WebhookDeps): Promise<void> {
  if (!/^[0-9a-f]{40}$/i.test(sha)) return;
  const [{ autoRevertMerged }, { createGit }, { createExec }] = await Promise.all([
    import('../task/auto-revert.js'),
    import('../ports/git.js'),
    import('../ports/exec.js'),
  ]);
  const results = await autoRevertMerged({
    store: deps.store,
    config: deps.config,
    env: deps.env,
    git: createGit({ githubApiUrl: deps.config.git.github_api_url }),
    exec: createExec(),
    forge: await ports(deps),
    onlyCommit: sha,
  });
  for (const r of results) deps.log(`webhook: auto-revert ${r.id}: ${r.outcome}: ${r.detail}${r.revert ? ` → ${r.revert}` : ''}`);
}

/** Said on the pull request after a follow-up task the server ran; returns warnings. */
export async function afterFollowup(
  deps: Pick<WebhookDeps, 'config' | 'env'>,
  request: TaskRequest,
  result: Parameters<typeof import('../task/followup.js').finishFollowup>[0]['result'],
): Promise<string[]> {
  if (!request.followup) return [];
  const { finishFollowup } = await import('../task/followup.js');
  return finishFollowup({ request, result, forge: await ports(deps) });
}
