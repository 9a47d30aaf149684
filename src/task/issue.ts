// Intake from a GitHub issue: `owner/repo#N` or an issue URL → the issue's title and body (through the
// forge port) and the repository it lives in. Used by `run --issue` and by `serve` (field `issue`).
import type { Env } from '../config/load.js';
import type { Config } from '../config/schema.js';
import type { Forge } from '../ports/types.js';
import { ExternalError, UsageError } from '../util/errors.js';
import { redact, registerSecret } from '../util/redact.js';

export interface IssueRef {
  owner: string;
  repo: string;
  number: number;
}

const NAME = '[A-Za-z0-9_.-]+';
const SHORT = new RegExp(`^(${NAME})/(${NAME})#(\\d+)$`);
const PATH = new RegExp(`^/(${NAME})/(${NAME})/(?:issues|pull)/(\\d+)/?$`);

/** Null when `text` is neither `owner/repo#N` nor an http(s) URL of an issue. */
export function parseIssueRef(text: string): IssueRef | null {
  const value = text.trim();
  const short = SHORT.exec(value);
  let match: RegExpExecArray | null = short;
  if (!match) {
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      return null;
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') return null;
    match = PATH.exec(url.pathname);
  }
  if (!match) return null;
  const number = Number(match[3]);
  if (!Number.isSafeInteger(number) || number <= 0 || match[1] === '..' || match[2] === '..') return null;
  return { owner: match[1], repo: match[2].replace(/\.git$/, ''), number };
}

/** The clone URL of a repository on the GitHub whose REST API root is `apiUrl`. */
export function repoUrlFor(ref: Pick<IssueRef, 'owner' | 'repo'>, apiUrl: string): string {
  const api = new URL(apiUrl);
  let origin: string;
  if (api.hostname === 'api.github.com') origin = 'https://github.com';
  else if (api.hostname.startsWith('api.') && api.hostname.endsWith('.ghe.com')) origin = `https://${api.hostname.slice(4)}`;
  else origin = api.origin; // GitHub Enterprise Server: https://HOST/api/v3 → https://HOST
  return `${origin}/${ref.owner}/${ref.repo}.git`;
}

export interface IssueIntake {
  issue: IssueRef;
  title: string;
  description: string;
  repo: string;
}

/** Reads the issue; `title` is cut to the request schema's 200 characters. */
export async function readIssue(forge: Pick<Forge, 'getIssue'>, ref: IssueRef, apiUrl: string): Promise<IssueIntake> {
  const { title, body } = await forge.getIssue(ref.owner, ref.repo, ref.number);
  const line = title.replace(/\s+/g, ' ').trim();
  return {
    issue: ref,
    title: line.length > 200 ? `${line.slice(0, 199)}…` : line,
    description: `${body.trim()}\n\n(From issue ${ref.owner}/${ref.repo}#${ref.number}.)`.trim(),
    repo: repoUrlFor(ref, apiUrl),
  };
}

/**
 * `text` → the issue's request fields, reading it through the forge with the configured API and token.
 * Bad references are UsageErrors naming `what` (the flag or field); an unreadable issue is an ExternalError.
 */
export async function intakeIssue(text: string, config: Config, env: Env, what: string): Promise<IssueIntake> {
  const ref = parseIssueRef(text);
  if (!ref) throw new UsageError(`${what} ${JSON.stringify(text)}: not an issue`, 'give owner/repo#N or the issue URL');
  const { createForge } = await import('../ports/forge.js');
  const token = env[config.git.github_token_env] || null;
  registerSecret(token);
  const forge = createForge({ baseUrl: config.git.github_api_url, token });
  try {
    return await readIssue(forge, ref, config.git.github_api_url);
  } catch (error) {
    throw new ExternalError(`cannot read issue ${ref.owner}/${ref.repo}#${ref.number}: ${redact((error as Error).message)}`);
  }
}
