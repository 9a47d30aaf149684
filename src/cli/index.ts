// The thin entry: commander parses, each command's module is imported only when it runs (so
// `--help` loads none of openai, octokit, ink or listr2), and this is the one place that turns
// errors into the documented exit codes.
import { Command, CommanderError, Option } from 'commander';
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
  const debug = argv.includes('--debug') || io.env.AUTODEV_DEBUG === '1';
  const program = new Command('autodev')
    .description('Turn a task into a verified pull request: every change is built, tested, linted, scanned and policy-checked in a sandbox first.')
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
    .requiredOption('--repo <url|path>', 'repository URL (https, ssh, file) or local path; a local path is cloned, never written to')
    .requiredOption('--title <text>', 'what to do, in one line (e.g. "Fix flaky test")')
    .option('--description <text>', 'more detail for the task')
    .option('--description-file <path>', 'read the description from a file (- for stdin)')
    .option('--base <branch>', "branch to start from and open the PR against (default: the remote's default branch)")
    .addOption(new Option('--risk <tier>', 'risk tier (default: config default_risk_tier)').choices(['low', 'medium', 'high']))
    .option('--plan-only', 'print the plan and stop: no LLM call, no build, no push')
    .option('--json', 'print one JSON document on stdout')
    .option('--config <file>', 'use this config file instead of searching for one')
    .addOption(new Option('--sandbox <kind>', 'where project code runs').choices(['docker', 'podman', 'bwrap', 'none']))
    .option('--no-pr', 'push the branch but open no pull request')
    .option('--keep-workspace', 'keep the task workspace and print its path')
    .option('--events <format>', 'also stream engine events on stderr (jsonl)')
    .option('--metrics-file <path>', 'write Prometheus metrics to this file (textfile format, accumulating)')
    .action(async (opts) => {
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

  try {
    await program.parseAsync(argv);
    return exitCode;
  } catch (error) {
    return handleError(error, io, debug);
  }
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
