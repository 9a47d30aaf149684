// The configuration file's shape, its defaults and its documentation, in one place. Types are
// inferred from the schemas; `autodev config --schema` prints the JSON Schema generated from them.
import * as z from 'zod';
import { GUARD_ACTIONS, GUARD_CODES } from '../guards/codes.js';

const argv = z.array(z.string().min(1)).min(1);

// Every URL the tool sends requests to is reached over HTTP: anything else (ftp://, file://, a typo
// like htps://) is refused when the config loads, not after a clone and a baseline build.
const HTTP_URL = 'an http:// or https:// URL';
function isHttpUrl(text: string): boolean {
  try {
    const url = new URL(text);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '';
  } catch {
    return false;
  }
}
// The pattern is for editors (it lands in the JSON Schema); the refinement parses the URL for real.
const httpUrl = z
  .string()
  .regex(/^https?:\/\//i, `expected ${HTTP_URL}`)
  .refine(isHttpUrl, { message: `expected ${HTTP_URL}`, abort: true });
/** Empty means "not used". */
const optionalHttpUrl = z
  .string()
  .regex(/^$|^https?:\/\//i, `expected "" (off) or ${HTTP_URL}`)
  .refine((text) => text === '' || isHttpUrl(text), { message: `expected "" (off) or ${HTTP_URL}`, abort: true });

const toolchainCommands = z
  .strictObject({
    deps: argv.optional().describe('Fetch dependencies (runs with network, scrubbed environment).'),
    build: argv.optional().describe('Build command (offline, in the sandbox).'),
    test: argv.optional().describe('Test command (offline, in the sandbox).'),
    lint: argv.optional().describe('Lint command (offline, in the sandbox).'),
    image: z.string().min(1).optional().describe("Container image for this toolchain's commands under docker and podman."),
  })
  .describe("Overrides for one toolchain's commands, each an argv array.");

export const llmSchema = z
  .strictObject({
    provider: z
      .enum(['openai', 'azure', 'ollama', 'vllm', 'llamacpp', 'openai-compatible'])
      .default('openai')
      .describe('Which OpenAI-compatible service answers; all are reached through the OpenAI wire format.'),
    model: z.string().min(1).default('gpt-4o').describe('Model name sent with every request.'),
    api_key_env: z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'an environment variable name')
      .default('OPENAI_API_KEY')
      .describe('Name of the environment variable holding the API key (the key itself never goes in a file).'),
    api_url: httpUrl
      .default('https://api.openai.com/v1')
      .describe('Base URL of the API; a URL ending in /chat/completions is accepted and trimmed.'),
    edit_format: z
      .enum(['auto', 'udiff', 'search-replace', 'apply-patch', 'whole'])
      .default('auto')
      .describe('How the model writes its edits; auto picks by model name (GPT/o-series: apply-patch, others: search-replace).'),
    max_tokens: z.int().positive().default(4096).describe('Maximum completion tokens per request.'),
    temperature: z.number().min(0).max(2).default(0.2).describe('Sampling temperature.'),
    context_tokens: z.int().positive().default(8000).describe('Token budget for the code shown to the model.'),
    max_total_tokens: z
      .int()
      .positive()
      .default(200000)
      .describe('Stop the task when all its LLM calls together (retries included) reach this many tokens.'),
    request_timeout_secs: z.int().positive().default(120).describe('Timeout of one LLM request.'),
    prompt_price_per_1k: z.number().nonnegative().optional().describe('USD per 1000 prompt tokens, to report cost.'),
    completion_price_per_1k: z.number().nonnegative().optional().describe('USD per 1000 completion tokens.'),
    max_cost_usd: z.number().positive().optional().describe('Stop the task when its cost reaches this (needs prices).'),
    prices: z
      .record(
        z.string().min(1),
        z.strictObject({
          prompt_per_1k: z.number().nonnegative().describe('USD per 1000 prompt tokens.'),
          completion_per_1k: z.number().nonnegative().describe('USD per 1000 completion tokens.'),
        }),
      )
      .default({})
      .describe('Prices by model name (`autodev eval --models` compares several); a model listed here overrides the two prices above.'),
  })
  .describe('The language model.');

export const generateSchema = z
  .strictObject({
    strategy: z
      .enum(['single', 'candidates', 'agent'])
      .optional()
      .describe(
        'How the change is generated: single (one reply, repaired), candidates (several, the best verified one kept); unset: candidates when candidates > 1, else single.',
      ),
    candidates: z
      .int()
      .positive()
      .max(16)
      .default(1)
      .describe(
        'Candidate changes asked for per round; each is applied, built, tested and linted in its own copy of the workspace and the best is kept.',
      ),
    parallel: z
      .int()
      .positive()
      .max(64)
      .optional()
      .describe('Candidates verified at once (each in its own sandbox); unset: the number of cores.'),
    models: z
      .array(z.string().min(1))
      .default([])
      .describe('Models the candidates are asked of, in turn (candidate i gets models[i mod n]); empty: llm.model for all.'),
    on_no_winner: z
      .enum(['draft', 'none'])
      .default('draft')
      .describe(
        'When no candidate meets the bar: open a draft PR labelled needs-human with the best one (draft), or none (none); the task ends unproven either way.',
      ),
    reproduce: z
      .enum(['auto', 'always', 'never'])
      .default('auto')
      .describe(
        'Ask the model for a test of the reported behaviour before the fix, kept only if it fails on the base: auto when the task names no failing test, always, or never.',
      ),
    keep_reproduction: z
      .boolean()
      .default(false)
      .describe('Commit the reproduction test with the change; false: it is present only while the change is tested.'),
    reproduce_tries: z
      .int()
      .positive()
      .max(5)
      .default(2)
      .describe('Model calls (each run on the base) for a reproduction test before going on without one.'),
  })
  .describe('How the change is generated: the strategy, candidates, reproduction first.');

export const gitSchema = z
  .strictObject({
    github_token_env: z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'an environment variable name')
      .default('GITHUB_TOKEN')
      .describe('Name of the environment variable holding the GitHub token.'),
    git_author_name: z.string().min(1).default('autodev[bot]').describe("Author and committer name of the bot's commits."),
    git_author_email: z
      .email()
      .default('autodev-bot@users.noreply.github.com')
      .describe("Author and committer e-mail of the bot's commits."),
    github_api_url: httpUrl.default('https://api.github.com').describe('GitHub API base URL (GitHub Enterprise: https://HOST/api/v3).'),
    branch_prefix: z.string().min(1).default('autodev/').describe('Prefix of the branches the tool creates.'),
    clone_depth: z.int().positive().default(1).describe('Depth of the shallow clone.'),
    clone_cache: z
      .boolean()
      .default(true)
      .describe(
        'Keep a local mirror of each repository (in the cache dir), fetched before each clone; false: clone from the remote each time.',
      ),
    github_repo: z
      .string()
      .regex(/^[\w.-]+\/[\w.-]+$/, 'owner/name')
      .optional()
      .describe(
        'GitHub repository (owner/name) for pull requests when --repo is a local path or a mirror; default: from the repository URL.',
      ),
  })
  .describe('Git and the forge.');

export const policySchema = z
  .strictObject({
    allow_dependency_source_change: z
      .boolean()
      .default(false)
      .describe('Allow a change to switch a dependency to another source (git, path, registry).'),
    protected_paths: z.array(z.string()).default(['.github/workflows/**']).describe('Glob patterns of paths a patch may not touch.'),
    allow_symlinks: z
      .boolean()
      .default(false)
      .describe('Let a patch create or change symbolic links (targets must stay inside the repository).'),
    guards: z
      .union([z.enum(GUARD_ACTIONS), z.partialRecord(z.enum(GUARD_CODES), z.enum(GUARD_ACTIONS))])
      .default('review')
      .describe(
        `What a test-integrity or scope finding leads to: "review" (draft PR, review label, each finding listed), "deny", or "off"; or a table by code (${GUARD_CODES.join(', ')}), unlisted codes reviewing. Local rules and OPA input alike.`,
      ),
  })
  .describe('Local policy rules.');

export const verifySchema = z
  .strictObject({
    flaky_reruns: z
      .int()
      .nonnegative()
      .max(10)
      .default(2)
      .describe(
        'Re-runs, on the change and on the base, of a test that fails with the change but passed on the base, before it is blamed; one whose result flips is reported flaky (neither blamed nor counted passing). 0: no re-runs.',
      ),
  })
  .describe('Judging the test runs.');

export const metricsSchema = z
  .strictObject({
    textfile: z
      .string()
      .default('')
      .describe('Metrics file (node_exporter textfile format) written after each run; empty: <state dir>/metrics.prom; "off": none.'),
    pushgateway_url: optionalHttpUrl.default('').describe('Push metrics to this Prometheus Pushgateway after each run.'),
  })
  .describe('Prometheus metrics.');

/** Follow-ups on a pull request autodev opened: `review`, `ci-fix`, auto-revert. */
export const lifecycleSchema = z
  .strictObject({
    max_followups: z
      .int()
      .nonnegative()
      .max(50)
      .default(3)
      .describe('Follow-up tasks `review` (and, counted apart, `ci-fix`) may run on one pull request; past it they refuse.'),
    auto_revert: z
      .boolean()
      .default(false)
      .describe(
        "Open a revert pull request (once per task) when the checks of an autodev PR's merge commit fail and those of the commit before it passed (`tasks sync`, the check_suite webhook).",
      ),
  })
  .describe('What autodev does with a pull request after opening it.');

/** GitHub webhooks received by `serve`. */
export const webhooksSchema = z
  .strictObject({
    secret_env: z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'an environment variable name')
      .refine((name) => !name.toUpperCase().startsWith('AUTODEV_'), 'a name outside AUTODEV_* (those are config keys)')
      .default('AUTODEVD_WEBHOOK_SECRET')
      .describe(
        'Name of the environment variable holding the webhook secret; unset or empty: the webhook route answers 401 to everything.',
      ),
    label: z.string().min(1).default('autodev').describe('The issue label that starts a task (`issues.labeled`).'),
  })
  .describe('POST /api/v1/autodev/webhooks/github in `serve`.');

export const agentSchema = z
  .strictObject({
    max_turns: z.int().positive().max(1000).default(40).describe('Model calls one agent conversation may make (repair rounds included).'),
    max_wall_secs: z.int().positive().default(1800).describe("Wall time of the agent's conversation (repair rounds included)."),
    command_timeout_secs: z.int().positive().max(3600).default(300).describe('Timeout of each command the agent runs in the sandbox.'),
    max_output_chars: z
      .int()
      .min(1000)
      .max(1_000_000)
      .default(12_000)
      .describe("Characters of a tool's result the model is shown (a command's output: its head and tail)."),
    context_tokens: z
      .int()
      .min(4000)
      .default(60_000)
      .describe('Estimated tokens of the conversation past which the oldest tool results are elided, so it fits the model window.'),
    stream: z.boolean().default(true).describe('Stream the replies (server-sent events); false asks for one JSON reply per call.'),
    on_unsupported: z
      .enum(['single', 'fail'])
      .default('single')
      .describe(
        'When the endpoint does not do tool calls: fall back to the single strategy, or fail the task (--strategy agent on the command line fails).',
      ),
    allow_unsandboxed: z
      .boolean()
      .default(false)
      .describe('Let the agent run commands with sandbox = "none", directly on this machine (--allow-unsandboxed-agent).'),
  })
  .describe('The agent strategy: its limits and what it may do.');

export const queueSchema = z
  .strictObject({
    url: z
      .string()
      .default('')
      .refine((url) => url === '' || /^rediss?:\/\/[^\s/]+(\/\d+)?\/?$/.test(url), 'a redis://host:port URL (or rediss://)')
      .describe('Redis of the task queue (redis://host:port); empty: `serve` runs tasks in-process and keeps them in files.'),
    max_attempts: z
      .int()
      .positive()
      .max(10)
      .default(3)
      .describe('Runs of one task at most: a worker that dies mid-task (its lock expires) hands it to another until then.'),
    lock_secs: z
      .int()
      .min(2)
      .max(3600)
      .default(30)
      .describe("A worker's lock on its task, renewed at half this; a task whose worker stopped renewing it is retried after this long."),
    shutdown_grace_secs: z
      .int()
      .nonnegative()
      .max(86_400)
      .default(60)
      .describe('On SIGTERM a worker takes no new task and waits this long for its running ones; then it hands them back to the queue.'),
    per_repo_concurrency: z
      .int()
      .positive()
      .max(64)
      .default(1)
      .describe('Tasks on one repository running at once across every worker (1: two tasks never race on a repository).'),
    model_calls_per_minute: z
      .int()
      .nonnegative()
      .default(0)
      .describe('Model calls per minute across every worker (a shared token bucket in Redis); 0: no limit.'),
    daily_cost_usd: z
      .number()
      .nonnegative()
      .default(0)
      .describe('Model spend per UTC day across every worker, checked before a task starts and before each model call; 0: no limit.'),
  })
  .describe('The shared task queue (BullMQ on Redis) for `serve --queue` and `autodev worker`.');

export const autodevSchema = z
  .strictObject({
    enabled: z.boolean().default(true).describe('false refuses every run (a global off switch).'),
    provider: z.enum(['github']).default('github').describe('Forge where pull requests are opened.'),
    max_parallel_tasks: z.int().positive().max(64).default(2).describe('Tasks `serve` runs at once; the rest wait.'),
    queue_limit: z
      .int()
      .positive()
      .max(100_000)
      .default(100)
      .describe('Tasks `serve` keeps waiting beyond those running; past it a new task is answered 429 with Retry-After.'),
    serve_token_env: z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'an environment variable name')
      .refine((name) => !name.toUpperCase().startsWith('AUTODEV_'), 'a name outside AUTODEV_* (those are config keys)')
      .default('AUTODEVD_TOKEN')
      .describe('Name of the environment variable holding the bearer token `serve` requires (when set; required off loopback).'),
    max_step_retries: z
      .int()
      .nonnegative()
      .max(10)
      .default(3)
      .describe('Retries, with exponential backoff, of a step that failed transiently (network, 429/5xx).'),
    max_repair_attempts: z
      .int()
      .nonnegative()
      .max(10)
      .default(2)
      .describe('Rounds in which a failed apply/build/test/lint goes back to the model.'),
    default_risk_tier: z.enum(['low', 'medium', 'high']).default('medium').describe('Risk tier when --risk is not given.'),
    sandbox: z
      .enum(['auto', 'docker', 'podman', 'bwrap', 'none'])
      .default('auto')
      .describe('Where project code runs: auto picks docker, podman, then bwrap; none must be chosen explicitly.'),
    sandbox_image: z
      .string()
      .min(1)
      .optional()
      .describe(
        "Container image for the docker and podman sandboxes, whatever the toolchain; unset: the toolchain's own (toolchains.<id>.image, else its default, e.g. golang:1), else rust:1-slim.",
      ),
    runner_timeout_secs: z.int().positive().default(900).describe('Timeout of each build, test and lint command.'),
    opa_url: optionalHttpUrl.default('').describe('Open Policy Agent server; empty uses the local rules.'),
    policy_package: z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/, 'a dotted Rego package name')
      .default('autodev.policy')
      .describe('Rego package queried at POST /v1/data/<package>.'),
    allowlist_repos: z
      .array(z.string().min(1))
      .default([])
      .describe('Repository patterns (globs on owner/name, URL or path) the tool may touch; empty allows all.'),
    llm: llmSchema.default(llmSchema.parse({})),
    generate: generateSchema.default(generateSchema.parse({})),
    git: gitSchema.default(gitSchema.parse({})),
    policy: policySchema.default(policySchema.parse({})),
    verify: verifySchema.default(verifySchema.parse({})),
    metrics: metricsSchema.default(metricsSchema.parse({})),
    lifecycle: lifecycleSchema.default(lifecycleSchema.parse({})),
    webhooks: webhooksSchema.default(webhooksSchema.parse({})),
    agent: agentSchema.default(agentSchema.parse({})),
    queue: queueSchema.default(queueSchema.parse({})),
    toolchains: z
      .strictObject({
        rust: toolchainCommands.optional(),
        node: toolchainCommands.optional(),
        maven: toolchainCommands.optional(),
        python: toolchainCommands.optional(),
        go: toolchainCommands.optional(),
      })
      .default({})
      .describe('Per-toolchain command overrides.'),
  })
  .describe('autodev settings.');

export const fileSchema = z
  .strictObject({ autodev: autodevSchema.default(autodevSchema.parse({})) })
  .describe('autodev configuration file (autodev.config.toml).');

export type Config = z.infer<typeof autodevSchema>;

export function defaultConfig(): Config {
  return autodevSchema.parse({});
}

/** The JSON Schema of the configuration file, for editors (Taplo / Even Better TOML). */
export function configJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(fileSchema, { io: 'input', target: 'draft-7' }) as Record<string, unknown>;
  return { ...schema, title: 'autodev configuration', $id: 'https://autodev.dev/schema/config.json' };
}
