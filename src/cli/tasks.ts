// `autodev tasks list|show|cancel|sync|watch`: the task history kept in the store.
import { metricsTextfile, stateDir } from '../observe/paths.js';
import { readTrajectory } from '../observe/trajectory.js';
import { isStale, requestCancel, summary } from '../store/control.js';
import { createTaskStore, isFinished, isTaskId, type StoredTask, type TaskStore } from '../store/task-store.js';
import { ExitCode, UsageError } from '../util/errors.js';
import type { TaskQueue } from '../queue/queue.js';
import type { CliIo } from './index.js';
import { formatWatchTable, watchRows } from './tasks-table.js';

/** With --queue (or AUTODEV_QUEUE_URL): the fleet's records in Redis; else this machine's files. */
interface Stores {
  store: TaskStore;
  fleet: TaskQueue | null;
}

async function openStores(opts: { queue?: string }, io: CliIo): Promise<Stores> {
  const url = opts.queue ?? io.env.AUTODEV_QUEUE_URL;
  if (!url) return { store: createTaskStore(stateDir(io.env)), fleet: null };
  const [{ openTaskQueue }, { defaultConfig }] = await Promise.all([import('../queue/queue.js'), import('../config/schema.js')]);
  const fleet = await openTaskQueue(url, defaultConfig(), opts.queue ? '--queue' : 'AUTODEV_QUEUE_URL');
  if (!(await fleet.ping())) {
    await fleet.close();
    throw new UsageError(`cannot reach the queue's Redis at ${fleet.target.shown}`, 'start redis-server, or check --queue');
  }
  return { store: fleet.store, fleet };
}

/** Runs `fn` with the stores, closing the queue's connection after (else the process would not exit). */
async function withStores<T>(opts: { queue?: string }, io: CliIo, fn: (stores: Stores) => Promise<T>): Promise<T> {
  const stores = await openStores(opts, io);
  try {
    return await fn(stores);
  } finally {
    await stores.fleet?.close();
  }
}

function storeFor(io: CliIo): TaskStore {
  return createTaskStore(stateDir(io.env));
}

function shownStatus(task: StoredTask): string {
  if (!isStale(task)) return task.status;
  // A server's unfinished tasks are queued again by the next `serve` to start.
  return task.owner.kind === 'serve' ? `${task.status} (server gone; re-queued on its next start)` : `${task.status} (owner gone)`;
}

async function mustGet(store: TaskStore, id: string): Promise<StoredTask> {
  const task = isTaskId(id) ? await store.get(id) : null;
  if (!task) throw new UsageError(`no task ${JSON.stringify(id)} in ${store.dir}`, 'see `autodev tasks list`');
  return task;
}

export async function tasksListCommand(opts: { json?: boolean; limit?: string; queue?: string }, io: CliIo): Promise<number> {
  return withStores(opts, io, ({ store }) => listTasks(store, opts, io));
}

async function listTasks(store: TaskStore, opts: { json?: boolean; limit?: string }, io: CliIo): Promise<number> {
  let tasks = await store.list();
  if (opts.limit !== undefined) {
    const limit = Number(opts.limit);
    if (!Number.isInteger(limit) || limit <= 0) throw new UsageError(`--limit ${opts.limit}: a positive whole number`);
    tasks = tasks.slice(0, limit);
  }
  if (opts.json) {
    io.stdout.write(`${JSON.stringify(tasks.map(summary), null, 2)}\n`);
    return ExitCode.ok;
  }
  if (tasks.length === 0) {
    io.stdout.write(`no tasks yet (the store is ${store.dir})\n`);
    return ExitCode.ok;
  }
  const rows = tasks.map((t) => [
    t.id,
    shownStatus(t),
    t.createdAt.replace('T', ' ').slice(0, 19),
    t.request.repo,
    t.request.title,
    t.pr?.url ?? '',
  ]);
  const header = ['ID', 'STATUS', 'CREATED (UTC)', 'REPO', 'TITLE', 'PR'];
  const widths = header.map((h, i) => Math.min(60, Math.max(h.length, ...rows.map((r) => r[i].length))));
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : (c.length > widths[i] ? `${c.slice(0, widths[i] - 1)}…` : c).padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  io.stdout.write(`${[line(header), ...rows.map(line)].join('\n')}\n`);
  return ExitCode.ok;
}

export async function tasksShowCommand(
  id: string,
  opts: { json?: boolean; trajectory?: boolean; queue?: string },
  io: CliIo,
): Promise<number> {
  const task = await withStores(opts, io, ({ store }) => mustGet(store, id));
  if (opts.trajectory) return showTrajectory(task, Boolean(opts.json), io);
  if (opts.json) {
    io.stdout.write(`${JSON.stringify({ ...task, stale: isStale(task) }, null, 2)}\n`);
    return ExitCode.ok;
  }
  const lines = [
    `task ${task.id}: ${shownStatus(task)}${task.reason ? ` (${task.reason})` : ''}`,
    `  title:    ${task.request.title}`,
    `  repo:     ${task.request.repo}${task.request.base ? ` (base ${task.request.base})` : ''}`,
  ];
  if (task.request.issue) lines.push(`  issue:    ${task.request.issue.owner}/${task.request.issue.repo}#${task.request.issue.number}`);
  lines.push(`  created:  ${task.createdAt}${task.finishedAt ? `, finished ${task.finishedAt}` : ''}`);
  lines.push(
    `  owner:    ${task.owner.kind}${task.owner.worker ? ` ${task.owner.worker}` : ''}${task.owner.pid !== null ? ` (pid ${task.owner.pid})` : ''}`,
  );
  if (task.queue) lines.push(`  runs:     ${task.queue.attempts}${task.queue.attempts > 1 ? ' (retried)' : ''}`);
  if (task.currentStep) lines.push(`  running:  ${task.currentStep}`);
  if (task.pr) lines.push(`  PR:       ${task.pr.url}${task.pr.draft ? ' (draft)' : ''}${task.pr.state ? ` [${task.pr.state}]` : ''}`);
  if (task.revert) lines.push(`  revert:   ${task.revert.url}`);
  if (task.change) lines.push(`  branch:   ${task.change.branch} (${task.change.commit.slice(0, 8)}): ${task.change.files.join(', ')}`);
  for (const step of task.steps) {
    const round = step.round > 0 ? ` round ${step.round}` : '';
    lines.push(`  ${step.mode === 'baseline' ? 'baseline ' : ''}${step.id}${round}: ${step.status}: ${step.summary}`);
  }
  const u = task.usage;
  lines.push(`  usage:    ${u.calls} LLM call(s), ${u.totalTokens} tokens${u.costUsd !== null ? `, $${u.costUsd.toFixed(4)}` : ''}`);
  io.stdout.write(`${lines.join('\n')}\n`);
  return ExitCode.ok;
}

/** Lines of a tool call's arguments and result shown under `--trajectory` (the audit trail keeps 2000 characters). */
const TRAJECTORY_LINES = 12;

async function showTrajectory(task: StoredTask, json: boolean, io: CliIo): Promise<number> {
  const trajectory = await readTrajectory(stateDir(io.env), task.id);
  if (trajectory === null) {
    io.stderr.write(`autodev: task ${task.id} has no audit trail to read the trajectory from\n`);
    return ExitCode.failed;
  }
  if (json) {
    io.stdout.write(`${JSON.stringify({ id: task.id, status: task.status, usage: task.usage, ...trajectory }, null, 2)}\n`);
    return ExitCode.ok;
  }
  if (trajectory.calls.length === 0 && trajectory.turns === 0) {
    io.stdout.write(`task ${task.id}: no agent trajectory (the agent strategy did not run)\n`);
    return ExitCode.ok;
  }
  const counts = Object.entries(trajectory.toolCalls)
    .map(([tool, n]) => `${tool} ${n}`)
    .join(', ');
  const lines = [`task ${task.id}: ${shownStatus(task)}; ${trajectory.turns} model call(s); tool calls: ${counts || 'none'}`];
  let heading = '';
  for (const call of trajectory.calls) {
    const at = `round ${call.round}, turn ${call.turn}`;
    if (at !== heading) {
      heading = at;
      lines.push('', `— ${at}`);
    }
    lines.push(`  ${call.ok ? '→' : '✗'} ${call.tool} ${oneLineArgs(call.arguments)}`);
    lines.push(...indentLines(call.result, '      '));
  }
  io.stdout.write(`${lines.join('\n')}\n`);
  return ExitCode.ok;
}

function oneLineArgs(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > 200 ? `${flat.slice(0, 199)}…` : flat;
}

function indentLines(text: string, indent: string): string[] {
  const all = text.split('\n');
  const shown = all.slice(0, TRAJECTORY_LINES).map((l) => `${indent}${l}`);
  if (all.length > TRAJECTORY_LINES) shown.push(`${indent}[… ${all.length - TRAJECTORY_LINES} more line(s)]`);
  return shown;
}

export async function tasksCancelCommand(id: string, opts: { queue?: string }, io: CliIo): Promise<number> {
  return withStores(opts, io, async ({ store, fleet }) => {
    const task = await mustGet(store, id);
    if (isFinished(task)) {
      io.stderr.write(`autodev: task ${task.id} already finished (${task.status}); nothing to cancel\n`);
      return ExitCode.failed;
    }
    if (fleet) {
      const outcome = await fleet.cancel(task.id);
      const said = {
        cancelled: `task ${task.id} cancelled (it had not started)`,
        cancelling: `cancelling task ${task.id} (its worker stops it)`,
        finished: `task ${task.id} already finished; nothing to cancel`,
      }[outcome];
      io.stdout.write(`${said}\n`);
      return outcome === 'finished' ? ExitCode.failed : ExitCode.ok;
    }
    const outcome = await requestCancel(store, task);
    io.stdout.write(`${outcome.message}\n`);
    return ExitCode.ok;
  });
}

export async function tasksSyncCommand(opts: { json?: boolean; metricsFile?: string; config?: string }, io: CliIo): Promise<number> {
  const { loadConfig } = await import('../config/load.js');
  const loaded = await loadConfig({ cwd: io.cwd, env: io.env, configFile: opts.config });
  for (const warning of loaded.warnings) io.stderr.write(`autodev: warning: ${warning}\n`);
  const { config } = loaded;
  const [{ createForge }, { syncTasks }, { createMetrics }, { openEventSession, writeMetrics }, { registerSecret }] = await Promise.all([
    import('../ports/forge.js'),
    import('../task/task-sync.js'),
    import('../observe/metrics.js'),
    import('../task/session.js'),
    import('../util/redact.js'),
  ]);
  const token = io.env[config.git.github_token_env] || null;
  registerSecret(token);
  const session = openEventSession({ stateDir: stateDir(io.env), metrics: createMetrics() });
  const synced = await syncTasks({
    store: storeFor(io),
    forge: createForge({ baseUrl: config.git.github_api_url, token }),
    emit: session.emit,
    onRevertMerged: () => session.metrics.recordRevert(),
  });
  if (config.lifecycle.auto_revert) {
    // After the sync, so merges it just learnt about are checked too.
    const { autoRevertMerged } = await import('../task/auto-revert.js');
    const [{ createGit }, { createExec }] = await Promise.all([import('../ports/git.js'), import('../ports/exec.js')]);
    const reverts = await autoRevertMerged({
      store: storeFor(io),
      config,
      env: io.env,
      git: createGit({ githubApiUrl: config.git.github_api_url }),
      exec: createExec(),
      forge: createForge({ baseUrl: config.git.github_api_url, token }),
    });
    for (const r of reverts) {
      if (r.outcome === 'reverted')
        session.emit({ type: 'log', taskId: r.id, level: 'info', message: `auto-revert: ${r.detail}; ${r.revert}` });
      io.stderr.write(`autodev: auto-revert ${r.id}: ${r.outcome}: ${r.detail}${r.revert ? ` → ${r.revert}` : ''}\n`);
    }
  }
  const warnings = [
    ...(await session.close()),
    ...(await writeMetrics(session.metrics, {
      textfile: metricsTextfile(opts.metricsFile, config.metrics.textfile, io.env),
      pushgatewayUrl: null,
    })),
  ];
  for (const warning of warnings) io.stderr.write(`autodev: warning: ${warning}\n`);
  if (opts.json) io.stdout.write(`${JSON.stringify(synced, null, 2)}\n`);
  else if (synced.length === 0) io.stdout.write('no open pull requests to sync\n');
  else {
    for (const s of synced) {
      const revert = s.revert ? `; revert ${s.revert}` : '';
      io.stdout.write(`${s.id}: ${s.error ? `error: ${s.error}` : `${s.state}${s.changed ? ' (changed)' : ''}${revert}`}  ${s.pr}\n`);
    }
  }
  return synced.some((s) => s.error) ? ExitCode.failed : ExitCode.ok;
}

export async function tasksRevertCommand(id: string, opts: { json?: boolean; config?: string }, io: CliIo): Promise<number> {
  const store = storeFor(io);
  const task = await mustGet(store, id);
  const { loadConfig } = await import('../config/load.js');
  const loaded = await loadConfig({ cwd: io.cwd, env: io.env, configFile: opts.config });
  const { config } = loaded;
  const [{ createForge }, { createGit }, { createExec }, { revertTask }, { createMetrics }, { openEventSession }, { registerSecret }] =
    await Promise.all([
      import('../ports/forge.js'),
      import('../ports/git.js'),
      import('../ports/exec.js'),
      import('../task/task-sync.js'),
      import('../observe/metrics.js'),
      import('../task/session.js'),
      import('../util/redact.js'),
    ]);
  const token = io.env[config.git.github_token_env] || null;
  registerSecret(token);
  // The revert goes to the task's audit trail like the run it undoes.
  const session = openEventSession({ stateDir: stateDir(io.env), metrics: createMetrics() });
  const log = (level: 'info' | 'error', message: string): void => session.emit({ type: 'log', taskId: task.id, level, message });
  try {
    const revert = await revertTask({
      task,
      store,
      config,
      env: io.env,
      git: createGit({ githubApiUrl: config.git.github_api_url }),
      exec: createExec(),
      forge: createForge({ baseUrl: config.git.github_api_url, token }),
    });
    log('info', `revert pull request opened: ${revert.url} (branch ${revert.branch})`);
    if (opts.json) io.stdout.write(`${JSON.stringify(revert, null, 2)}\n`);
    else io.stdout.write(`revert pull request for task ${task.id}: ${revert.url} (branch ${revert.branch})\n`);
    return ExitCode.ok;
  } catch (error) {
    log('error', `revert failed: ${(error as Error).message}`);
    throw error;
  } finally {
    for (const warning of await session.close()) io.stderr.write(`autodev: warning: ${warning}\n`);
  }
}

export async function tasksWatchCommand(opts: { interval?: string; limit?: string }, io: CliIo): Promise<number> {
  const intervalMs = Number(opts.interval ?? 1000);
  if (!Number.isInteger(intervalMs) || intervalMs < 100)
    throw new UsageError(`--interval ${opts.interval}: a whole number of milliseconds, at least 100`);
  const limit = Number(opts.limit ?? 20);
  if (!Number.isInteger(limit) || limit <= 0) throw new UsageError(`--limit ${opts.limit}: a positive whole number`);
  const store = storeFor(io);
  // Ink under CI renders only the last frame, at exit: a live view would show nothing until then.
  const ci = io.env.CI !== undefined && io.env.CI !== '' && io.env.CI !== 'false' && io.env.CI !== '0';
  if (!io.stdout.isTTY || ci) {
    io.stdout.write(formatWatchTable(watchRows(await store.list(), Date.now(), limit)));
    return ExitCode.ok;
  }
  // ink and React load only here, so every other command stays quick to start.
  const { watchTasks } = await import('./tasks-watch.js');
  await watchTasks({
    load: () => store.list(),
    intervalMs,
    limit,
    color: !io.env.NO_COLOR,
    stdout: io.stdout as NodeJS.WriteStream,
    stdin: io.stdin as NodeJS.ReadStream,
  });
  return ExitCode.ok;
}
