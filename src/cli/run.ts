// `autodev run`: flags → request → config → gates → plan (→ run). Prints results; sets no exit code
// itself (returns it to main).
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { TaskRequest } from '../config/request.js';
import type { LiveProgress } from '../observe/progress-live.js';
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
  strategy?: 'single' | 'agent';
  allowUnsandboxedAgent?: boolean;
  pr?: boolean;
  keepWorkspace?: boolean;
  events?: string;
  eventsFile?: string;
  metricsFile?: string;
  sarif?: string;
  resume?: string;
  /** `--candidates N` (a string as commander gives it). */
  candidates?: string;
}

export async function runCommand(flags: RunFlags, io: CliIo): Promise<number> {
  if (flags.description !== undefined && flags.descriptionFile !== undefined) {
    throw new UsageError('--description and --description-file cannot be used together', 'give one of them');
  }
  if (flags.events !== undefined && flags.events !== 'jsonl') {
    throw new UsageError(`--events ${flags.events}: unknown format`, 'the only format is jsonl');
  }
  if (flags.eventsFile === '') throw new UsageError('--events-file: empty path', 'give a path or a descriptor number');
  if (flags.sarif !== undefined) await checkSarifTarget(flags.sarif, io);
  if (flags.resume !== undefined) return resumeCommand(flags.resume, flags, io);
  if (flags.issue === undefined && (flags.repo === undefined || flags.title === undefined)) {
    throw new UsageError(
      `required option '${flags.repo === undefined ? '--repo <url|path>' : '--title <text>'}' not specified`,
      'or take the task from an issue with --issue',
    );
  }
  // Drawn now, before config, the run's modules and the clone load or start: the terminal never sits blank.
  const view = flags.planOnly ? null : await openLiveView(flags, io, flags.title ?? `issue ${flags.issue}`, false);
  try {
    return await prepareAndRun(flags, io, view);
  } catch (error) {
    view?.discard();
    throw error;
  }
}

async function prepareAndRun(flags: RunFlags, io: CliIo, view: LiveProgress | null): Promise<number> {
  const description = flags.descriptionFile !== undefined ? await readDescription(flags.descriptionFile, io) : flags.description;
  const { loadConfig } = await import('../config/load.js');
  const loaded = await loadConfig({
    cwd: io.cwd,
    env: io.env,
    configFile: flags.config,
    flags: {
      sandbox: flags.sandbox,
      candidates: candidatesFlag(flags.candidates),
      strategy: flags.strategy,
      allowUnsandboxedAgent: flags.allowUnsandboxedAgent,
    },
  });
  // When stderr is the event stream, the warnings become `log` events once the task has an id.
  if (!eventsOnStderr(flags)) for (const warning of loaded.warnings) warn(io, view, warning);
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
  return runTaskCommand({ request, loaded, flags, io, cloneUrl, view });
}

/** A warning for stderr: under the live view's rows while it draws (a line past it would be drawn over). */
function warn(io: CliIo, view: LiveProgress | null, warning: string): void {
  const line = `autodev: warning: ${warning}`;
  if (view?.live) view.note(line);
  else io.stderr.write(`${line}\n`);
}

/**
 * The live view, on a terminal that takes it (not for plain lines, nor when stderr carries `--events
 * jsonl`). Its module imports only node built-ins, so the first frame costs milliseconds.
 */
async function openLiveView(flags: RunFlags, io: CliIo, title: string, resume: boolean): Promise<LiveProgress | null> {
  if (eventsOnStderr(flags)) return null;
  const { shouldUsePlain } = await import('../observe/progress-plain.js');
  if (shouldUsePlain({ isTTY: io.stderr.isTTY, env: io.env })) return null;
  const [{ createLiveProgress }, { redact }] = await Promise.all([import('../observe/progress-live.js'), import('../util/redact.js')]);
  return createLiveProgress({ stream: io.stderr, title, resume, redact });
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
  ['strategy', '--strategy'],
  ['allowUnsandboxedAgent', '--allow-unsandboxed-agent'],
];

async function resumeCommand(id: string, flags: RunFlags, io: CliIo): Promise<number> {
  const conflict =
    RESUME_CONFLICTS.find(([key]) => flags[key] !== undefined) ?? (flags.pr === false ? (['pr', '--no-pr'] as const) : undefined);
  if (conflict) throw new UsageError(`--resume cannot be combined with ${conflict[1]}`, 'a resumed task keeps its request and plan');
  const view = await openLiveView(flags, io, `resume ${id}`, true);
  try {
    const { loadConfig } = await import('../config/load.js');
    const loaded = await loadConfig({ cwd: io.cwd, env: io.env, configFile: flags.config });
    if (!eventsOnStderr(flags)) for (const warning of loaded.warnings) warn(io, view, warning);
    const [{ prepareResume }, { createTaskStore }, { stateDir }, { createExec }, { checkGates }, { withRequestOptions }] =
      await Promise.all([
        import('../task/resume.js'),
        import('../store/task-store.js'),
        import('../observe/paths.js'),
        import('../ports/exec.js'),
        import('../plan/gates.js'),
        import('../config/request.js'),
      ]);
    const { task, resume } = await prepareResume({ store: createTaskStore(stateDir(io.env)), id, exec: createExec(), env: io.env });
    // The gates hold for a resumed task too: the tool may have been switched off or the repo disallowed since.
    checkGates(withRequestOptions(loaded.config, task.request), task.request.repo, io.cwd);
    const request: TaskRequest = { ...task.request, keepWorkspace: Boolean(flags.keepWorkspace) };
    const { runTaskCommand } = await import('./run-task.js');
    return await runTaskCommand({
      request,
      loaded,
      flags,
      io,
      resume: { taskId: task.id, from: resume },
      view,
    });
  } catch (error) {
    view?.discard();
    throw error;
  }
}

/** `--sarif <file>`: refused before anything runs when its directory is missing or not writable. */
async function checkSarifTarget(file: string, io: CliIo): Promise<void> {
  if (file === '') throw new UsageError('--sarif: empty path', 'give the file to write the SARIF log to');
  const dir = path.dirname(path.resolve(io.cwd, file));
  const { access, constants } = await import('node:fs/promises');
  try {
    await access(dir, constants.W_OK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new UsageError(
      `--sarif ${file}: ${code === 'ENOENT' ? `no such directory ${dir}` : `cannot write in ${dir} (${code ?? 'error'})`}`,
      'give a file in an existing, writable directory',
    );
  }
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

/** `--candidates N`: a whole number from 1 to 16, as generate.candidates takes it. */
function candidatesFlag(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!/^\d+$/.test(text.trim()) || !Number.isInteger(n) || n < 1 || n > 16) {
    throw new UsageError(`--candidates ${text}: not a whole number from 1 to 16`, 'e.g. --candidates 3');
  }
  return n;
}
