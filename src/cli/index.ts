// The thin entry: commander parses, each command's module is imported only when it runs (so
// `--help` loads none of openai, octokit, ink or listr2), and this is the one place that turns
// errors into the documented exit codes.
import { createRequire } from 'node:module';
import type * as Commander from 'commander';
// commander is CommonJS: requiring it directly skips the ESM wrapper's CJS lexing at start-up.
const { Command, CommanderError, Option } = createRequire(import.meta.url)('commander') as typeof Commander;
import { AutodevError, ExitCode } from '../util/errors.js';
import { version } from './version.js';

export interface CliIo {
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
  stdin: NodeJS.ReadableStream;
  env: Record<string, string | undefined>;
  cwd: string;
}

export async function main(argv: string[], io: CliIo = defaultIo()): Promise<number> {
  let exitCode: number = ExitCode.ok;
  // `run --events jsonl` without a file: stderr is the event stream, so even its error is an event.
  let eventStream = false;
  const debug = argv.includes('--debug') || io.env.AUTODEV_DEBUG === '1';
  const program = new Command('autodev')
    .description(
      'Turn a task into a verified pull request: every change is built, tested, linted, scanned and policy-checked in a sandbox first.',
    )
    .version(version(), '-V, --version')
    .option('--debug', 'print stack traces of internal errors')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
    });

  program
    .command('run')
    .description('Plan and run a task on a repository: clone, search, generate, apply, build, test, lint, scan, check policy, open a PR.')
    .option(
      '--repo <url|path>',
      'repository URL (https, ssh, file) or local path; a local path is cloned, never written to (required unless --issue or --resume)',
    )
    .option('--title <text>', 'what to do, in one line (e.g. "Fix flaky test"; default with --issue: the issue\'s title)')
    .option('--issue <owner/repo#N|url>', 'take the task from a GitHub issue (title and body); the PR says "Fixes #N"')
    .option('--description <text>', 'more detail for the task')
    .option('--description-file <path>', 'read the description from a file (- for stdin)')
    .option('--base <branch>', "branch to start from and open the PR against (default: the remote's default branch)")
    .addOption(new Option('--risk <tier>', 'risk tier (default: config default_risk_tier)').choices(['low', 'medium', 'high']))
    .option('--plan-only', 'print the plan and stop: no LLM call, no build, no push')
    .option('--json', 'print one JSON document on stdout')
    .option('--config <file>', 'use this config file instead of searching for one')
    .addOption(new Option('--sandbox <kind>', 'where project code runs').choices(['docker', 'podman', 'bwrap', 'none']))
    .addOption(
      new Option(
        '--strategy <name>',
        'how the change is generated (generate.strategy); agent fails if the endpoint has no tool calls',
      ).choices(['single', 'agent']),
    )
    .option('--allow-unsandboxed-agent', 'let agent mode run its commands with sandbox = "none", on this machine')
    .option('--no-pr', 'push the branch but open no pull request')
    .option('--candidates <n>', 'ask for n candidate changes and keep the best verified one (generate.candidates)')
    .option('--keep-workspace', 'keep the task workspace and print its path')
    .option('--events <format>', 'stream engine events as JSON lines (jsonl) on stderr, which then carries nothing else')
    .option('--events-file <path|fd>', 'write the JSONL events to this file (appended) or inherited descriptor; stderr keeps the progress')
    .option('--metrics-file <path>', 'write Prometheus metrics to this file (textfile format, accumulating)')
    .option('--sarif <file>', 'write the lint diagnostics and secret findings as SARIF 2.1.0 (for code-scanning upload)')
    .option(
      '--resume <id>',
      'continue a task that was killed, or failed with --keep-workspace, from its last good step (same id, same workspace)',
    )
    .action(async (opts) => {
      eventStream = opts.events === 'jsonl' && opts.eventsFile === undefined;
      const { runCommand } = await import('./run.js');
      exitCode = await runCommand(opts, io);
    });

  program
    .command('doctor')
    .description('Check the programs, sandboxes and credentials autodev may use.')
    .option('--json', 'print one JSON document on stdout')
    .option('--config <file>', 'use this config file')
    .action(async (opts) => {
      const { doctorCommand } = await import('./doctor.js');
      exitCode = await doctorCommand(opts, io);
    });

  program
    .command('config')
    .description('Show the effective configuration and where each value came from.')
    .option('--json', 'print one JSON document on stdout')
    .option('--schema', 'print the JSON Schema of the config file')
    .option('--config <file>', 'use this config file')
    .action(async (opts) => {
      const { configCommand } = await import('./config.js');
      exitCode = await configCommand(opts, io);
    });

  program
    .command('init')
    .description('Write a commented autodev.config.toml in the current directory.')
    .option('--force', 'overwrite an existing autodev.config.toml')
    .action(async (opts) => {
      const { initCommand } = await import('./init.js');
      exitCode = await initCommand(opts, io);
    });

  const tasks = program.command('tasks').description('The task history: list, show, cancel and sync tasks of `run` and `serve`.');
  tasks
    .command('list')
    .description('List tasks, newest first.')
    .option('--json', 'print one JSON document on stdout')
    .option('--limit <n>', 'show at most n tasks')
    .option('--queue <redis-url>', "the fleet's records in Redis (redis://host:port; default AUTODEV_QUEUE_URL) instead of this machine's")
    .action(async (opts) => {
      const { tasksListCommand } = await import('./tasks.js');
      exitCode = await tasksListCommand(opts, io);
    });
  tasks
    .command('show')
    .description('Show one task: request, status, steps, PR and usage.')
    .argument('<id>', 'the task id')
    .option('--json', 'print one JSON document on stdout')
    .option('--trajectory', "print the agent's trajectory from the audit trail: each model call, its tool calls, arguments and results")
    .option('--queue <redis-url>', "the fleet's records in Redis (redis://host:port; default AUTODEV_QUEUE_URL) instead of this machine's")
    .action(async (id, opts) => {
      const { tasksShowCommand } = await import('./tasks.js');
      exitCode = await tasksShowCommand(id, opts, io);
    });
  tasks
    .command('cancel')
    .description('Cancel a running or queued task (exit 1 if it already finished, 2 if unknown).')
    .argument('<id>', 'the task id')
    .option('--queue <redis-url>', "the fleet's records in Redis (redis://host:port; default AUTODEV_QUEUE_URL) instead of this machine's")
    .action(async (id, opts) => {
      const { tasksCancelCommand } = await import('./tasks.js');
      exitCode = await tasksCancelCommand(id, opts, io);
    });

  tasks
    .command('watch')
    .description(
      'A live view of running and recent tasks (status, current step, elapsed time, PR); q or Ctrl-C quits. When stdout is not a terminal (or CI is set), prints the table once and exits 0.',
    )
    .option('--interval <ms>', 'refresh every this many milliseconds', '1000')
    .option('--limit <n>', 'show at most n tasks (running ones always show)', '20')
    .action(async (opts) => {
      const { tasksWatchCommand } = await import('./tasks.js');
      exitCode = await tasksWatchCommand(opts, io);
    });

  tasks
    .command('sync')
    .description("Ask GitHub what became of each task's pull request; record merged or closed (feeds autodev_merges_total).")
    .option('--json', 'print one JSON document on stdout')
    .option('--metrics-file <path>', 'add the merges and reverts seen to this Prometheus textfile')
    .option('--config <file>', 'use this config file')
    .action(async (opts) => {
      const { tasksSyncCommand } = await import('./tasks.js');
      exitCode = await tasksSyncCommand(opts, io);
    });
  tasks
    .command('revert')
    .description("Open a pull request that reverts a merged task's change (run `tasks sync` first).")
    .argument('<id>', 'the task id')
    .option('--json', 'print one JSON document on stdout')
    .option('--config <file>', 'use this config file')
    .action(async (id, opts) => {
      const { tasksRevertCommand } = await import('./tasks.js');
      exitCode = await tasksRevertCommand(id, opts, io);
    });

  for (const [kind, what] of [
    [
      'review',
      'Address the unresolved review threads of a pull request autodev opened: a new commit on its branch, each thread answered, review requested again.',
    ],
    [
      'ci-fix',
      'Repair the failing checks a pull request autodev opened caused (a failure also on the base branch is reported, not chased): a new commit on its branch.',
    ],
  ] as const) {
    program
      .command(kind)
      .description(what)
      .argument('<pr>', 'the pull request: owner/repo#N or its URL')
      .option('--json', 'print one JSON document on stdout')
      .option('--config <file>', 'use this config file instead of searching for one')
      .option('--force', 'work on a pull request autodev did not open')
      .option(
        '--repo <url|path>',
        "what to clone and push to (default: the repository of the task that opened the PR, else the PR's GitHub repository)",
      )
      .addOption(new Option('--sandbox <kind>', 'where project code runs').choices(['docker', 'podman', 'bwrap', 'none']))
      .option('--metrics-file <path>', 'write Prometheus metrics to this file (textfile format, accumulating)')
      .action(async (pr: string, opts) => {
        const { followupCommand } = await import('./review.js');
        exitCode = await followupCommand(kind, pr, opts, io);
      });
  }

  program
    .command('serve')
    .description('Serve the REST API: create, list, show and cancel tasks over HTTP; /metrics for Prometheus.')
    .option('--port <n>', 'TCP port (0 picks a free one)', '8080')
    .option('--host <address>', 'address to bind; anything but loopback needs a token (serve_token_env)', '127.0.0.1')
    .option('--config <file>', 'use this config file')
    .addOption(new Option('--sandbox <kind>', 'where project code runs').choices(['docker', 'podman', 'bwrap', 'none']))
    .option(
      '--queue <redis-url>',
      'queue tasks in Redis (redis://host:port) for `autodev worker`s instead of running them here (default: queue.url)',
    )
    .action(async (opts) => {
      const { serveCommand } = await import('./serve.js');
      exitCode = await serveCommand(opts, io);
    });

  program
    .command('worker')
    .description('Run tasks from the queue (BullMQ on Redis) as `run` would, until SIGTERM; /metrics, /healthz and /readyz on --port.')
    .option('--queue <redis-url>', 'the queue (redis://host:port; default: queue.url)')
    .option('--concurrency <n>', 'tasks this worker runs at once', '1')
    .option('--port <n>', 'TCP port of /metrics and the probes (0 picks a free one)', '0')
    .option('--host <address>', 'address of /metrics and the probes', '127.0.0.1')
    .option('--name <name>', "this worker's name in metrics and task records (default: host-pid)")
    .option('--config <file>', 'use this config file')
    .addOption(new Option('--sandbox <kind>', 'where project code runs').choices(['docker', 'podman', 'bwrap', 'none']))
    .action(async (opts) => {
      const { workerCommand } = await import('./worker.js');
      exitCode = await workerCommand(opts, io);
    });

  const patch = program.command('patch').description('Work with unified diffs as LLMs write them.');
  patch
    .command('apply')
    .description('Apply a unified diff to a working tree, leniently but never wrongly (exit 0 applied, 1 not applied).')
    .argument('<file>', 'the patch file, or - for stdin')
    .requiredOption('--repo <dir>', 'the working tree to apply it to')
    .option('--check', 'only report whether it applies; change nothing')
    .option('--allow-symlinks', 'let the patch create symbolic links that stay inside the repository (refused by default)')
    .option('--json', 'print one JSON document on stdout')
    .action(async (file, opts) => {
      const { patchApplyCommand } = await import('./patch.js');
      exitCode = await patchApplyCommand(file, opts, io);
    });

  program
    .command('eval')
    .description(
      'Run a task set with one or more models, grade every result on its own, and print resolve rate, trust and cost side by side.',
    )
    .argument('<tasks.jsonl>', "the tasks, one JSON object per line (autodev's fields or SWE-bench's)")
    .option('--models <a,b,...>', 'the models to compare (default: llm.model); sim:<preset|rates> is the simulated model')
    .option(
      '--strategies <a,b,...>',
      'generation strategies to compare side by side on the same tasks (e.g. single,agent); each model runs each, shown as model@strategy',
    )
    .option('--jobs <n>', 'runs at once', '1')
    .option('--out <dir>', 'where results.jsonl, the figures and the plot go (a rerun skips what is there)', 'autodev-eval')
    .option('--max-cost <usd>', 'stop starting runs, and cap each run, once the whole eval has cost this much')
    .option('--max-tokens <n>', 'the same for tokens')
    .option('--seed <n>', "the simulated model's seed", '1')
    .option('--check-gold', 'ask no model: check each task is sound (its fail-to-pass tests fail on the base, the gold patch resolves it)')
    .option('--json', 'print one JSON document on stdout')
    .option('--config <file>', 'use this config file')
    .addOption(new Option('--sandbox <kind>', 'where project code runs').choices(['docker', 'podman', 'bwrap', 'none']))
    .action(async (file, opts) => {
      const { evalCommand } = await import('./eval.js');
      exitCode = await evalCommand(file, opts, io);
    });

  program
    .command('context')
    .description('Show the files (and line ranges) the model would be shown for a task, best first, within the token budget.')
    .requiredOption('--repo <dir>', 'the repository checkout')
    .requiredOption('--title <text>', 'the task title')
    .option('--description <text>', 'the task description')
    .option('--budget <tokens>', 'token budget (default: llm.context_tokens, 8000)')
    .option('--json', 'print one JSON document on stdout')
    .option('--config <file>', 'use this config file')
    .action(async (opts) => {
      const { contextCommand } = await import('./context.js');
      exitCode = await contextCommand(opts, io);
    });

  try {
    await program.parseAsync(argv);
    return exitCode;
  } catch (error) {
    return handleError(error, eventStream ? { ...io, stderr: asLogEvents(io.stderr) } : io, debug);
  }
}

/**
 * A stderr that turns each line into a `log` event of schema version 1 (as observe/audit.ts writes
 * them), for the error that ends a run whose stderr carries events only. No task id: none may exist yet.
 */
function asLogEvents(stderr: CliIo['stderr']): CliIo['stderr'] {
  const write = (text: string): boolean => {
    for (const message of text.split('\n').filter(Boolean)) {
      stderr.write(`${JSON.stringify({ v: 1, ts: new Date().toISOString(), taskId: null, type: 'log', level: 'error', message })}\n`);
    }
    return true;
  };
  return Object.assign(Object.create(stderr) as CliIo['stderr'], { write });
}

function handleError(error: unknown, io: CliIo, debug: boolean): number {
  if (error instanceof CommanderError) {
    // Help and version are "errors" under exitOverride; commander already printed the message.
    if (error.exitCode === 0 || error.code === 'commander.helpDisplayed' || error.code === 'commander.version') return ExitCode.ok;
    return ExitCode.usage;
  }
  if (error instanceof AutodevError) {
    const hint = error.hint ? ` (${error.hint})` : '';
    io.stderr.write(`autodev: ${error.message}${hint}\n`);
    if (debug && error.stack) io.stderr.write(`${error.stack}\n`);
    return error.exitCode;
  }
  const message = error instanceof Error ? error.message : String(error);
  io.stderr.write(`autodev: internal error: ${message.split('\n')[0]}\n`);
  io.stderr.write('This is a bug in autodev; please report it with the command you ran (add --debug for the stack trace).\n');
  if (debug && error instanceof Error && error.stack) io.stderr.write(`${error.stack}\n`);
  return ExitCode.internal;
}

function defaultIo(): CliIo {
  return { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, env: process.env, cwd: process.cwd() };
}
