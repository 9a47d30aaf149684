// `autodev eval`: flags → tasks and models → runEval → figures on stdout (text, or JSON), and the
// figures, Markdown table and plot written beside the results. Progress goes to stderr: a line per
// finished run, and on a terminal a status line that says how far it got and what it cost.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { loadConfig } from '../config/load.js';
import { computeFigures, renderMarkdown, renderPlot, renderText } from '../eval/figures.js';
import type { EvalProgress } from '../eval/run.js';
import { ExitCode, UsageError } from '../util/errors.js';
import type { CliIo } from './index.js';

export interface EvalFlags {
  models?: string;
  jobs?: string;
  out?: string;
  maxCost?: string;
  maxTokens?: string;
  seed?: string;
  checkGold?: boolean;
  json?: boolean;
  config?: string;
  sandbox?: 'docker' | 'podman' | 'bwrap' | 'none';
  strategies?: string;
}

/** `--strategies a,b`: names the strategies table knows, each once. */
async function strategyList(flag: string): Promise<string[]> {
  const { strategyNames } = await import('../generate/strategies/index.js');
  const known = strategyNames();
  const names = flag
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (names.length === 0) throw new UsageError('--strategies: no strategy named', `give a comma-separated list of ${known.join(', ')}`);
  const unknown = names.find((n) => !known.includes(n));
  if (unknown) throw new UsageError(`--strategies: unknown strategy "${unknown}"`, `known: ${known.join(', ')}`);
  if (new Set(names).size !== names.length) throw new UsageError(`--strategies ${flag}: a strategy is named twice`);
  return names;
}

function positiveNumber(flag: string, value: string | undefined, integer: boolean): number | null {
  if (value === undefined) return null;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n))) {
    throw new UsageError(`${flag} ${value}: not a positive ${integer ? 'whole number' : 'number'}`);
  }
  return n;
}

export async function evalCommand(file: string, flags: EvalFlags, io: CliIo): Promise<number> {
  const jobs = positiveNumber('--jobs', flags.jobs ?? '1', true)!;
  const maxCostUsd = positiveNumber('--max-cost', flags.maxCost, false);
  const maxTokens = positiveNumber('--max-tokens', flags.maxTokens, true);
  const seed = Number(flags.seed ?? '1');
  if (!Number.isInteger(seed)) throw new UsageError(`--seed ${flags.seed}: not a whole number`);
  const { readTaskFile } = await import('../eval/tasks.js');
  const tasks = await readTaskFile(path.resolve(io.cwd, file));
  const loaded = await loadConfig({ cwd: io.cwd, env: io.env, configFile: flags.config, flags: { sandbox: flags.sandbox } });
  for (const warning of loaded.warnings) io.stderr.write(`autodev: warning: ${warning}\n`);
  const models = (flags.models ?? loaded.config.llm.model)
    .split(',')
    .map((m) => m.trim())
    .filter(Boolean);
  if (models.length === 0) throw new UsageError('--models: no model named', 'give a comma-separated list');
  if (new Set(models).size !== models.length) throw new UsageError(`--models ${flags.models}: a model is named twice`);
  const strategies = flags.strategies === undefined ? undefined : await strategyList(flags.strategies);
  const labels = (await import('../eval/run.js')).evalVariants(models, strategies).map((v) => v.label);
  const outDir = path.resolve(io.cwd, flags.out ?? 'autodev-eval');
  await mkdir(outDir, { recursive: true });

  const controller = new AbortController();
  let interrupts = 0;
  const onSignal = (signal: NodeJS.Signals): void => {
    interrupts += 1;
    if (interrupts > 1) process.exit(ExitCode.interrupted);
    io.stderr.write(`\nautodev: ${signal}: stopping the runs under way (finished results are kept; press Ctrl-C again to force)\n`);
    controller.abort(new Error(signal));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // On a terminal, listr2 runs the jobs and draws them; elsewhere (CI, pipes) a plain line per finished run.
  const tty = Boolean(io.stderr.isTTY) && !io.env.CI && !io.env.NO_COLOR;
  const progress = createProgress(io, !tty);
  const schedule =
    tty && !flags.checkGold ? await (await import('./eval-view.js')).listrScheduler(io.stderr as NodeJS.WriteStream) : undefined;
  if (flags.checkGold) {
    let checks;
    try {
      const { checkGold } = await import('../eval/run.js');
      checks = await checkGold({
        tasks,
        config: loaded.config,
        env: io.env,
        cwd: io.cwd,
        outDir,
        signal: controller.signal,
        onProgress: progress.update,
      });
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
    const unsound = checks.filter((c) => !c.sound);
    if (flags.json) io.stdout.write(`${JSON.stringify({ checks }, null, 2)}\n`);
    else {
      const width = Math.max(4, ...checks.map((c) => c.task.length));
      for (const c of checks) io.stdout.write(`${c.task.padEnd(width)}  ${c.sound ? 'sound' : `not sound: ${c.reason}`}\n`);
      io.stdout.write(`${checks.length - unsound.length} of ${tasks.length} task(s) sound\n`);
    }
    if (controller.signal.aborted) return ExitCode.interrupted;
    return unsound.length || checks.length < tasks.length ? ExitCode.failed : ExitCode.ok;
  }
  let summary;
  try {
    const { runEval } = await import('../eval/run.js');
    summary = await runEval({
      tasks,
      models,
      ...(strategies ? { strategies } : {}),
      config: loaded.config,
      env: io.env,
      cwd: io.cwd,
      outDir,
      jobs,
      maxCostUsd,
      maxTokens,
      seed,
      signal: controller.signal,
      onProgress: progress.update,
      ...(schedule ? { schedule } : {}),
    });
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  const figures = computeFigures(
    summary.outcomes,
    labels,
    tasks.map((t) => t.id),
  );
  await writeFile(path.join(outDir, 'figures.json'), `${JSON.stringify(figures, null, 2)}\n`);
  await writeFile(path.join(outDir, 'figures.md'), renderMarkdown(figures));
  await writeFile(path.join(outDir, 'plot.svg'), renderPlot(figures));
  if (flags.json) {
    io.stdout.write(`${JSON.stringify({ ...figures, skipped: summary.skipped, stoppedBy: summary.stoppedBy, out: outDir }, null, 2)}\n`);
  } else {
    io.stdout.write(renderText(figures));
    io.stdout.write(
      `\nresults: ${summary.resultsFile}; table: ${path.join(outDir, 'figures.md')}; plot: ${path.join(outDir, 'plot.svg')}\n`,
    );
    if (summary.skipped)
      io.stdout.write(
        `not done: ${summary.skipped} run(s) (${summary.stoppedBy ?? 'stopped'}); run the same command again to finish them\n`,
      );
  }
  if (controller.signal.aborted) return ExitCode.interrupted;
  // The eval did its job when every run ran and was graded; how the runs went is in the figures.
  const errors = summary.outcomes.filter((o) => o.category === 'error').length;
  if (errors && !flags.json) io.stdout.write(`${errors} run(s) could not be prepared or graded (category "error"): see results.jsonl\n`);
  return summary.skipped || errors ? ExitCode.failed : ExitCode.ok;
}

/** Progress on stderr as plain lines: one per finished run (or checked task), and why the eval stopped. */
function createProgress(io: CliIo, lines: boolean): { update(event: EvalProgress): void } {
  let total = 0;
  let done = 0;
  const line = (text: string): void => {
    if (lines) io.stderr.write(`${text}\n`);
  };
  return {
    update(event) {
      if (event.type === 'planned') {
        total = event.total;
        done = event.done;
        if (done) io.stderr.write(`autodev eval: ${done} of ${total} run(s) already in the results; doing the other ${total - done}\n`);
      } else if (event.type === 'finished') {
        const o = event.outcome;
        done += 1;
        const spent = o.usage.costUsd !== null ? `, $${o.usage.costUsd.toFixed(4)}` : '';
        line(
          `[${done}/${total}] ${o.task} ${o.model}: ${o.category}${o.reason ? ` (${o.reason})` : ''} in ${(o.wallMs / 1000).toFixed(1)}s${spent}`,
        );
      } else if (event.type === 'checked') {
        const c = event.check;
        io.stderr.write(`${c.task}: ${c.sound ? 'sound' : `not sound: ${c.reason}`}\n`);
      } else if (event.type === 'stopped') {
        io.stderr.write(`autodev eval: stopped: ${event.reason}\n`);
      }
    },
  };
}
