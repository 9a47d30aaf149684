// Intake: what a caller asks for (the flags of `run`, a REST body, a GitHub issue) → one validated
// TaskRequest. The CLI and the server both come through here, so a repository named `owner/name`,
// a local path, a URL or a bad value means the same thing whichever way the task arrives.
import { existsSync } from 'node:fs';
import path from 'node:path';
import * as z from 'zod';
import type { Env } from '../config/load.js';
import { requestSchema, withoutCredentials, withRequestOptions, type TaskRequest } from '../config/request.js';
import type { Config } from '../config/schema.js';
import { canonicalRepo, checkAgentSandbox, checkGates } from '../plan/gates.js';
import { RefusedError, UsageError } from '../util/errors.js';
import { intakeIssue } from './issue.js';

// The request's fields, plus `issue`; with an issue, repo, title and description default to the issue's.
const intakeSchema = requestSchema.extend({
  repo: z.string().trim().min(1, 'a repository URL or path').optional(),
  title: z.string().trim().min(1, 'a non-empty title').max(200, 'at most 200 characters').optional(),
  description: z.string().max(100_000).optional(),
  issue: z.string().trim().min(1, 'owner/repo#N or an issue URL').optional(),
});

export interface IntakeOptions {
  config: Config;
  env: Env;
  /** Local repository paths are resolved against this. */
  cwd: string;
  /** How the caller names a request key in errors (`--base` for the CLI, `base_branch` for a body). */
  fieldName: (key: string) => string;
  /** See GateOptions: `serve` without a token takes local repositories only when the allowlist names them. */
  localNeedsAllowlist?: boolean;
}

export interface Intake {
  /** Holds no credentials: it is stored, logged and shown. */
  request: TaskRequest;
  /** What to clone when the repository URL given carries credentials (kept in memory, never stored). */
  cloneUrl?: string;
}

/** A field intake refuses (exit 2; 400 from the server), named the way the caller sent it. */
export class RequestFieldError extends UsageError {
  constructor(
    readonly field: string,
    message: string,
    hint?: string,
  ) {
    super(message, hint);
  }
}

/** A field whose value the gates refuse (exit 3; 403 from the server), named the way the caller sent it. */
export class RequestRefusedError extends RefusedError {
  constructor(
    readonly field: string,
    message: string,
    hint?: string,
  ) {
    super(message, hint);
  }
}

/**
 * Validates the fields, reads the issue if one is named, resolves the repository and checks the
 * gates. Throws RequestFieldError for a bad value, RefusedError (exit 3) when the gates say no, and
 * ExternalError when the issue cannot be read.
 */
export async function intakeRequest(fields: Record<string, unknown>, options: IntakeOptions): Promise<Intake> {
  const { config, env, cwd, fieldName } = options;
  const parsed = intakeSchema.safeParse(fields);
  if (!parsed.success) throw fieldError(parsed.error, fieldName);
  const input = parsed.data;
  let { repo, title, description } = input;
  let issue: TaskRequest['issue'];
  if (input.issue !== undefined) {
    try {
      const intake = await intakeIssue(input.issue, config, env, fieldName('issue'));
      issue = intake.issue;
      repo ??= intake.repo;
      title ??= intake.title;
      description ??= intake.description;
    } catch (error) {
      if (error instanceof UsageError) throw new RequestFieldError('issue', error.message, error.hint);
      throw error;
    }
  }
  const { issue: _text, ...rest } = input;
  const checked = requestSchema.safeParse({ ...rest, repo, title, description: description ?? '' });
  if (!checked.success) throw fieldError(checked.error, fieldName);
  const request: TaskRequest = {
    ...checked.data,
    repo: resolveRepo(checked.data.repo, { cwd, githubApiUrl: config.git.github_api_url, fieldName }),
    risk: checked.data.risk ?? config.default_risk_tier,
    ...(issue ? { issue } : {}),
  };
  // The gates see the task's own options: an agent asked for in the request is refused as `--strategy agent` is.
  const effective = withRequestOptions(config, request);
  if (request.strategy === 'agent') {
    try {
      checkAgentSandbox(effective);
    } catch (error) {
      if (error instanceof RefusedError) throw new RequestRefusedError(fieldName('strategy'), error.message, error.hint);
      throw error;
    }
  }
  checkGates(effective, request.repo, cwd, { localNeedsAllowlist: options.localNeedsAllowlist });
  // The request holds the URL without credentials; only the clone gets the one given.
  const given = repo!.trim();
  return { request, ...(withoutCredentials(given) !== given ? { cloneUrl: given } : {}) };
}

/**
 * The one repository resolution: a URL stays as it is; an existing local path becomes its real
 * absolute path (what the allowlist checks is what is cloned and pushed to); `owner/name` that is no
 * directory here means the repository on the configured GitHub host; any other missing path is refused.
 */
export function resolveRepo(repo: string, options: { cwd: string; githubApiUrl: string; fieldName?: (key: string) => string }): string {
  if (!isLocalPath(repo)) return canonicalRepo(repo, options.cwd);
  if (existsSync(path.resolve(options.cwd, repo))) return canonicalRepo(repo, options.cwd);
  if (/^[\w.-]+\/[\w.-]+$/.test(repo) && !repo.startsWith('.')) {
    const host = new URL(options.githubApiUrl).host.replace(/^api\./, '');
    return `https://${host === 'api.github.com' ? 'github.com' : host}/${repo.replace(/\.git$/, '')}.git`;
  }
  const name = options.fieldName?.('repo') ?? 'repo';
  throw new RequestFieldError(
    'repo',
    `${name} ${repo}: no such directory`,
    'give a local path, a URL, or owner/name for a GitHub repository',
  );
}

function isLocalPath(repo: string): boolean {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(repo)) return false;
  if (/^[\w.-]+@[\w.-]+:/.test(repo)) return false;
  return true;
}

function fieldError(error: z.ZodError, fieldName: (key: string) => string): RequestFieldError {
  const issue = error.issues[0];
  let key = '(body)';
  if (issue.path.length > 0) key = issue.path.map(String).join('.');
  else if (issue.code === 'unrecognized_keys') key = issue.keys.join(',');
  const field = fieldName(key);
  return new RequestFieldError(field, `${field}: ${issue.message}`);
}
