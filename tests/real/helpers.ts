// One real `autodev run` on a fixture repository: the built bin, the local OpenAI and GitHub
// servers, bubblewrap and real cargo/npm. The process plumbing is tests/support/cli.ts; this adds the
// servers' lifecycle and the few lookups the tests below share.
import { startGitHubServer, type GitHubServer } from '../support/github-server.js';
import { startOpenAiServer, type OpenAiServer } from '../support/openai-server.js';
import { makeRepo } from '../support/fixture-repo.js';
import { parseJson, runArgs, type RunJson } from '../e2e/harness.js';
import { GITHUB_TOKEN, makeRunDir, OPENAI_KEY, runCli, taskEnv, type CliOutcome } from '../support/cli.js';
import type { Tree } from './fixtures.js';

export const RUN_TIMEOUT = 150_000;

export interface RealRun {
  /** The bare repository the task ran on. */
  bare: string;
  outcome: CliOutcome;
  json: RunJson;
  llm: OpenAiServer;
  github: GitHubServer;
}

export interface RealRunOptions {
  files: Tree;
  task: { title: string; description: string };
  replies: string[];
  /** Shared by the tests of one file so cargo's registry, git cache and target dirs are reused. */
  cache: string;
  /** owner/name the PR is opened on. */
  forgeRepo: string;
  args?: string[];
  /** Run on this bare repository instead of a new one holding `files` (a second task on the same repo). */
  bare?: string;
  /** More environment for the run (config keys as AUTODEV_* variables). */
  env?: Record<string, string>;
}

/** Runs `autodev run --json` on a bare repository holding `files`; the servers are closed afterwards. */
export async function realRun(options: RealRunOptions): Promise<RealRun> {
  const bare = options.bare ?? (await makeRepo(options.files, { bare: true }));
  const llm = await startOpenAiServer({ replies: options.replies.map((content) => ({ content })), apiKey: OPENAI_KEY });
  const github = await startGitHubServer({ token: GITHUB_TOKEN });
  try {
    const run = await makeRunDir();
    const env = taskEnv(run, { cache: options.cache, llm, github, extra: { AUTODEV_GIT_GITHUB_REPO: options.forgeRepo, ...options.env } });
    const outcome = await runCli(runArgs(bare, options.task, ...(options.args ?? [])), { cwd: run.cwd, env });
    return { bare, outcome, json: parseJson(outcome), llm, github };
  } finally {
    await llm.close();
    await github.close();
  }
}

/** `autodev run --plan-only --json` on a bare repository holding `files`. */
export async function planOnly(files: Tree, cache: string): Promise<{ outcome: CliOutcome; plan: PlanJson }> {
  const bare = await makeRepo(files, { bare: true });
  const run = await makeRunDir();
  const env = taskEnv(run, { cache });
  const outcome = await runCli(['run', '--plan-only', '--json', '--repo', bare, '--title', 'Look only'], { cwd: run.cwd, env });
  let doc: { plan?: PlanJson } & PlanJson;
  try {
    doc = JSON.parse(outcome.stdout) as { plan?: PlanJson } & PlanJson;
  } catch {
    throw new Error(`--plan-only --json printed no JSON (exit ${outcome.code}):\n${outcome.stdout}\n${outcome.stderr}`);
  }
  return { outcome, plan: doc.plan ?? doc };
}

export interface PlanJson {
  toolchain: string | null;
  steps: { id: string; tool: string; command?: string[]; network: boolean; inputs: Record<string, unknown> }[];
  notes: string[];
}

export function step(json: RunJson, id: string, filter: { mode?: string; round?: number } = {}): RunJson['steps'][number][] {
  return json.steps.filter(
    (s) => s.id === id && (filter.mode === undefined || s.mode === filter.mode) && (filter.round === undefined || s.round === filter.round),
  );
}

/** The user messages the model received, in order (repair feedback shows here). */
export function promptsSent(llm: OpenAiServer): string[] {
  return llm.chatBodies().map((body) => (body.messages ?? []).map((m) => m.content).join('\n'));
}

/** stderr, stdout and the step list: what a failing expectation should show. */
export function explain(run: { outcome: CliOutcome }): string {
  return `exit ${run.outcome.code}\nstderr:\n${run.outcome.stderr.slice(-6000)}\nstdout:\n${run.outcome.stdout.slice(0, 6000)}`;
}
