// `autodev run`: flags → request → config → gates → plan (→ run). Prints results; sets no exit code
// itself (returns it to main).
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { loadConfig } from '../config/load.js';
import { requestSchema } from '../config/request.js';
import { canonicalRepo, checkGates } from '../plan/gates.js';
import type { TaskRequest } from '../config/request.js';
import { ExitCode, UsageError } from '../util/errors.js';
import type { CliIo } from './index.js';

export interface RunFlags {
  repo?: string;
  title?: string;
  issue?: string;
  description?: string;
  descriptionFile?: string;
  base?: string;
  risk?: 'low' | 'medium' | 'high';
  planOnly?: boolean;
  json?: boolean;
  config?: string;
  sandbox?: 'docker' | 'podman' | 'bwrap' | 'none';
  pr?: boolean;
  keepWorkspace?: boolean;
  events?: string;
  metricsFile?: string;
  resume?: string;
}

export async function runCommand(flags: RunFlags, io: CliIo): Promise<number> {
  if (flags.description !== undefined && flags.descriptionFile !== undefined) {
    throw new UsageError('--description and --description-file cannot be used together', 'give one of them');
  }
  if (flags.events !== undefined && flags.events !== 'jsonl') {
    throw new UsageError(`--events ${flags.events}: unknown format`, 'the only format is jsonl');
  }
  if (flags.resume !== undefined) return resumeCommand(flags.resume, flags, io);
  if (flags.issue === undefined && (flags.repo === undefined || flags.title === undefined)) {
    throw new UsageError(`required option '${flags.repo === undefined ? '--repo <url|path>' : '--title <text>'}' not specified`, 'or take the task from an issue with --issue');
  }
  let description = flags.descriptionFile !== undefined ? await readDescription(flags.descriptionFile, io) : flags.description;
  const loaded = await loadConfig({ cwd: io.cwd, env: io.env, configFile: flags.config, flags: { sandbox: flags.sandbox } });
  for (const warning of loaded.warnings) io.stderr.write(`autodev: warning: ${warning}\n`);
  let { repo, title } = flags;
  let issue: TaskRequest['issue'];
  if (flags.issue !== undefined) {
    const { intakeIssue } = await import('../task/issue.js');
    const intake = await intakeIssue(flags.issue, loaded.config, io.env, '--issue');
    issue = intake.issue;
    repo ??= intake.repo;
    title ??= intake.title;
    description ??= intake.description;
  }
  const parsed = requestSchema.safeParse({
    repo,
    title,
    description: description ?? '',
    base: flags.base,
    risk: flags.risk,
    noPr: flags.pr === false,
    keepWorkspace: Boolean(flags.keepWorkspace),
  });
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new UsageError(`--${String(issue.path[0] ?? 'repo').replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}: ${issue.message}`);
  }
  const request: TaskRequest = { ...parsed.data, risk: parsed.data.risk ?? loaded.config.default_risk_tier, ...(issue ? { issue } : {}) };
  // The request holds the URL without credentials; only the clone gets the one given.
  const cloneUrl = repo !== undefined && repo.trim() !== parsed.data.repo ? repo.trim() : undefined;
  // Local paths are resolved against the caller's directory once, so the plan and the clone agree.
  // A local one by its real path: the allowlist checks, and the clone and push use, where it really is.
  request.repo = canonicalRepo(resolveRepo(request.repo, io.cwd, loaded.config.git.github_api_url), io.cwd);
  checkGates(loaded.config, request.repo, io.cwd);

  if (flags.planOnly) {
    const { planOnly } = await import('../task/plan-only.js');
    const { task, plan, missing } = await planOnly({ request, config: loaded.config, env: io.env, cloneUrl });
    if (flags.json) io.stdout.write(`${JSON.stringify({ task, plan, missing }, null, 2)}\n`);
    else {
      const { formatPlan } = await import('./format-plan.js');
      io.stdout.write(formatPlan(task, plan, missing));
    }
    return ExitCode.ok;
  }
  const { runTaskCommand } = await import('./run-task.js');
  return runTaskCommand({ request, loaded, flags, io, cloneUrl });
}

// The task, its plan and its workspace are the stored ones: flags that would change them are refused.
const RESUME_CONFLICTS: [keyof RunFlags, string][] = [
  ['repo', '--repo'],
  ['title', '--title'],
  ['issue', '--issue'],
  ['description', '--description'],
  ['descriptionFile', '--description-file'],
  ['base', '--base'],
  ['risk', '--risk'],
  ['planOnly', '--plan-only'],
  ['sandbox', '--sandbox'],
];

async function resumeCommand(id: string, flags: RunFlags, io: CliIo): Promise<number> {
  const conflict = RESUME_CONFLICTS.find(([key]) => flags[key] !== undefined) ?? (flags.pr === false ? (['pr', '--no-pr'] as const) : undefined);
  if (conflict) throw new UsageError(`--resume cannot be combined with ${conflict[1]}`, 'a resumed task keeps its request and plan');
  const loaded = await loadConfig({ cwd: io.cwd, env: io.env, configFile: flags.config });
  for (const warning of loaded.warnings) io.stderr.write(`autodev: warning: ${warning}\n`);
  const [{ prepareResume }, { createTaskStore }, { stateDir }, { createExec }] = await Promise.all([
    import('../task/resume.js'),
    import('../store/task-store.js'),
    import('../observe/paths.js'),
    import('../ports/exec.js'),
  ]);
  const { task, resume } = await prepareResume({ store: createTaskStore(stateDir(io.env)), id, exec: createExec(), env: io.env });
  // The gates hold for a resumed task too: the tool may have been switched off or the repo disallowed since.
  checkGates(loaded.config, task.request.repo, io.cwd);
  const request: TaskRequest = { ...task.request, keepWorkspace: Boolean(flags.keepWorkspace) };
  const { runTaskCommand } = await import('./run-task.js');
  return runTaskCommand({ request, loaded, flags, io, resume: { taskId: task.id, from: resume } });
}

/**
 * A local path becomes absolute; `owner/name` that is no directory here means the GitHub repository
 * (on the configured GitHub host); a path that does not exist is a usage error, named.
 */
export function resolveRepo(repo: string, cwd: string, githubApiUrl: string): string {
  if (!isLocalPath(repo)) return repo;
  const local = path.resolve(cwd, repo);
  if (existsSync(local)) return local;
  if (/^[\w.-]+\/[\w.-]+$/.test(repo) && !repo.startsWith('.')) {
    const host = new URL(githubApiUrl).host.replace(/^api\./, '');
    return `https://${host === 'api.github.com' ? 'github.com' : host}/${repo.replace(/\.git$/, '')}.git`;
  }
  throw new UsageError(`--repo ${repo}: no such directory`, 'give a local path, a URL, or owner/name for a GitHub repository');
}

export function isLocalPath(repo: string): boolean {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(repo)) return false;
  if (/^[\w.-]+@[\w.-]+:/.test(repo)) return false;
  return true;
}

async function readDescription(file: string, io: CliIo): Promise<string> {
  try {
    if (file === '-') {
      const chunks: Buffer[] = [];
      for await (const chunk of io.stdin) chunks.push(Buffer.from(chunk as Buffer));
      return Buffer.concat(chunks).toString('utf8');
    }
    return await readFile(path.resolve(io.cwd, file), 'utf8');
  } catch (error) {
    throw new UsageError(`--description-file ${file}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message}`);
  }
}
