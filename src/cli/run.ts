// `autodev run`: flags → request → config → gates → plan (→ run). Prints results; sets no exit code
// itself (returns it to main).
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { loadConfig } from '../config/load.js';
import { checkGates } from '../plan/gates.js';
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
  eventsFile?: string;
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
  if (flags.eventsFile === '') throw new UsageError('--events-file: empty path', 'give a path or a descriptor number');
  if (flags.resume !== undefined) return resumeCommand(flags.resume, flags, io);
  if (flags.issue === undefined && (flags.repo === undefined || flags.title === undefined)) {
    throw new UsageError(
      `required option '${flags.repo === undefined ? '--repo <url|path>' : '--title <text>'}' not specified`,
      'or take the task from an issue with --issue',
    );
  }
  const description = flags.descriptionFile !== undefined ? await readDescription(flags.descriptionFile, io) : flags.description;
  const loaded = await loadConfig({ cwd: io.cwd, env: io.env, configFile: flags.config, flags: { sandbox: flags.sandbox } });
  // When stderr is the event stream, the warnings become `log` events once the task has an id.
  if (!eventsOnStderr(flags)) for (const warning of loaded.warnings) io.stderr.write(`autodev: warning: ${warning}\n`);
  const { intakeRequest } = await import('../task/intake.js');
  const { request, cloneUrl } = await intakeRequest(
    {
      repo: flags.repo,
      title: flags.title,
      description,
      base: flags.base,
      risk: flags.risk,
      noPr: flags.pr === false,
      keepWorkspace: Boolean(flags.keepWorkspace),
      issue: flags.issue,
    },
    { config: loaded.config, env: io.env, cwd: io.cwd, fieldName: flagName },
  );

  if (flags.planOnly) {
    const { planOnly } = await import('../task/prepare.js');
    const { task, plan, missing } = await planOnly({ request, config: loaded.config, env: io.env, cloneUrl });
    if (eventsOnStderr(flags)) await writeWarningEvents(loaded.warnings, task.id, io);
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

/** `--events jsonl` without `--events-file`: stderr carries the event lines and nothing else. */
function eventsOnStderr(flags: RunFlags): boolean {
  return flags.events === 'jsonl' && flags.eventsFile === undefined;
}

/** Warnings as `log` events, for a run whose stderr is the event stream (`--plan-only` emits nothing else). */
async function writeWarningEvents(warnings: string[], taskId: string, io: CliIo): Promise<void> {
  if (!warnings.length) return;
  const [{ auditLine }, { redact }] = await Promise.all([import('../observe/audit.js'), import('../util/redact.js')]);
  for (const message of warnings) io.stderr.write(`${auditLine({ type: 'log', taskId, level: 'warn', message }, redact)}\n`);
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
  const conflict =
    RESUME_CONFLICTS.find(([key]) => flags[key] !== undefined) ?? (flags.pr === false ? (['pr', '--no-pr'] as const) : undefined);
  if (conflict) throw new UsageError(`--resume cannot be combined with ${conflict[1]}`, 'a resumed task keeps its request and plan');
  const loaded = await loadConfig({ cwd: io.cwd, env: io.env, configFile: flags.config });
  if (!eventsOnStderr(flags)) for (const warning of loaded.warnings) io.stderr.write(`autodev: warning: ${warning}\n`);
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
  return runTaskCommand({
    request,
    loaded,
    flags,
    io,
    resume: { taskId: task.id, from: resume },
  });
}

/** A request key as the flag that sets it: `keepWorkspace` → `--keep-workspace`. */
function flagName(key: string): string {
  return `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
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
    throw new UsageError(
      `--description-file ${file}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message}`,
    );
  }
}
