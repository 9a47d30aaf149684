// A task request, validated the same way whether it comes from flags or (later) the REST API.
import * as z from 'zod';
import { generateSchema, llmSchema, type Config } from './schema.js';

// `scheme://userinfo@`: greedy up to the last `@` before the path, as URL parsers read it.
const URL_USERINFO = /^([a-z][a-z0-9+.-]*:\/\/)([^/?#\s]*)@/i;

/**
 * `repo` as it may be stored, logged and shown: without the credentials of a URL. Over http(s) all
 * of the userinfo goes (`https://TOKEN@host/…` is a token too); elsewhere only a password, since the
 * user name is how ssh logs in (`ssh://git@host/…`). The clone may still use what the user gave.
 */
export function withoutCredentials(repo: string): string {
  const match = URL_USERINFO.exec(repo);
  if (!match) return repo;
  const [whole, scheme, userinfo] = match;
  const user = /^https?:\/\/$/i.test(scheme) ? '' : userinfo.split(':')[0];
  return `${scheme}${user ? `${user}@` : ''}${repo.slice(whole.length)}`;
}

// Newlines, escapes and the other controls (and Unicode's line separators and bidi overrides) in a
// title would let whoever posts a task forge lines in the logs and PR lists that show it.
const CONTROL = /[\p{Cc}\p{Zl}\p{Zp}\u202a-\u202e\u2066-\u2069]/u;

export const requestSchema = z.strictObject({
  // Credentials never enter a request: it is stored, logged and shown (the caller keeps the URL it was given for the clone).
  repo: z.string().trim().min(1, 'a repository URL or path').transform(withoutCredentials),
  title: z
    .string()
    .trim()
    .min(1, 'a non-empty title')
    .max(200, 'at most 200 characters')
    .refine((title) => !CONTROL.test(title), 'one line of text without control characters (newlines, tabs, escape sequences)'),
  description: z.string().max(100_000).default(''),
  base: z
    .string()
    .regex(/^(?!-)[^\s~^:?*[\\]+$/, 'a branch name')
    .optional(),
  risk: z.enum(['low', 'medium', 'high']).optional(),
  noPr: z.boolean().default(false),
  keepWorkspace: z.boolean().default(false),
  /** Candidate changes for this task (over generate.candidates); the REST body's `candidates`. */
  candidates: z.int().min(1, 'at least 1').max(16, 'at most 16').optional(),
  /** How this task's change is generated (over generate.strategy); the REST body's `strategy`. */
  strategy: generateSchema.shape.strategy,
  /** The edit format this task's model writes (over llm.edit_format); the REST body's `edit_format`. */
  editFormat: llmSchema.shape.edit_format.unwrap().optional(),
});

export type RequestInput = z.input<typeof requestSchema>;

/** What `risk` and the issue a task came from are, once intake has decided them. */
export const taskRequestSchema = requestSchema.extend({
  risk: z.enum(['low', 'medium', 'high']),
  issue: z.strictObject({ owner: z.string(), repo: z.string(), number: z.number().int().positive() }).optional(),
  /**
   * A follow-up on a pull request autodev opened (`review`, `ci-fix`): the change goes on top of the
   * PR's head branch (`base` names it too) and is pushed to it; no new pull request is opened.
   * `fingerprints` are the CI failures a ci-fix chases (how "the same failure again" is recognised).
   */
  followup: z
    .strictObject({
      kind: z.enum(['review', 'ci-fix']),
      owner: z.string(),
      repo: z.string(),
      number: z.number().int().positive(),
      branch: z.string(),
      fingerprints: z.array(z.string()).default([]),
      /** `review`: the review comments (REST ids, one per thread) answered when the task ends. */
      replyTo: z.array(z.number().int()).default([]),
      /** `review`: the reviews the task addresses (so a later follow-up does not take them again). */
      reviews: z.array(z.number().int()).default([]),
      /** `review`: whose review is requested again once the change is pushed. */
      reviewers: z.array(z.string()).default([]),
    })
    .optional(),
});

/** One task's request, the same from flags, a REST body or an issue: the type is the schema's. */
export type TaskRequest = z.output<typeof taskRequestSchema>;

/**
 * The REST body's field names: snake_case first (the seed's `base_branch` and `risk_tier`, and
 * `no_pr`, `keep_workspace`), the flag-like camelCase names as aliases. Each maps to the request key.
 */
export const BODY_FIELD_NAMES: Record<string, keyof RequestInput> = {
  base_branch: 'base',
  base: 'base',
  risk_tier: 'risk',
  risk: 'risk',
  no_pr: 'noPr',
  noPr: 'noPr',
  keep_workspace: 'keepWorkspace',
  keepWorkspace: 'keepWorkspace',
  candidates: 'candidates',
  strategy: 'strategy',
  edit_format: 'editFormat',
  editFormat: 'editFormat',
};

/**
 * The config a task runs with: its request's own generation options over the config's, as the
 * flags of `run` lay them over the file (`--candidates`, `--strategy`): a strategy asked for by name
 * is that strategy or a failure, so an agent request on an endpoint without tool calls fails
 * instead of running another strategy. The planner and the gates read this, never the bare config.
 */
export function withRequestOptions(config: Config, request: Pick<RequestInput, 'candidates' | 'strategy' | 'editFormat'>): Config {
  const { candidates, strategy, editFormat } = request;
  if (candidates === undefined && strategy === undefined && editFormat === undefined) return config;
  return {
    ...config,
    llm: editFormat === undefined ? config.llm : { ...config.llm, edit_format: editFormat },
    generate: {
      ...config.generate,
      ...(candidates !== undefined ? { candidates } : {}),
      ...(strategy !== undefined ? { strategy } : {}),
    },
    agent: strategy === 'agent' ? { ...config.agent, on_unsupported: 'fail' } : config.agent,
  };
}
