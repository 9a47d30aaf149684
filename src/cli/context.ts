// `autodev context`: what codegen would be shown for a task, best first, within the budget.
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { loadConfig } from '../config/load.js';
import { selectContext, toContextJson } from '../context/index.js';
import { createGit } from '../ports/git.js';
import { createSearcher } from '../ports/search.js';
import { ExitCode, UsageError } from '../util/errors.js';
import type { CliIo } from './index.js';

export async function contextCommand(
  flags: { repo: string; title: string; description?: string; budget?: string; json?: boolean; config?: string },
  io: CliIo,
): Promise<number> {
  const dir = path.resolve(io.cwd, flags.repo);
  if (!(await stat(dir).catch(() => null))?.isDirectory()) throw new UsageError(`--repo ${flags.repo}: not a directory`);
  const budget = flags.budget === undefined ? undefined : Number(flags.budget);
  if (budget !== undefined && (!Number.isInteger(budget) || budget <= 0))
    throw new UsageError(`--budget ${flags.budget}: a positive whole number of tokens`);
  // `git log` starts now and runs while the config loads and the files are searched; outside a git
  // repository (or in one without commits) there is no history to rank by.
  const history = createGit()
    .history(dir, 300)
    .catch((): string[][] => []);
  const { config } = await loadConfig({ cwd: io.cwd, env: io.env, configFile: flags.config });
  const searcher = createSearcher();
  const started = Date.now();
  const selection = await selectContext({
    dir,
    title: flags.title,
    description: flags.description ?? '',
    budgetTokens: budget ?? config.llm.context_tokens,
    model: config.llm.model,
    searcher,
    listFiles: (d) => searcher.listFiles(d),
    history,
  });
  if (flags.json) {
    io.stdout.write(`${JSON.stringify(toContextJson(selection), null, 2)}\n`);
    return ExitCode.ok;
  }
  const lines = [
    `${selection.files.length} file(s), ~${selection.tokens} of ${selection.budgetTokens} tokens (estimated for ${selection.encoding}, errs high), ${Date.now() - started} ms:`,
  ];
  selection.files.forEach((f, i) => {
    const ranges = f.ranges ? ` lines ${f.ranges.map(([a, b]) => `${a}-${b}`).join(', ')}` : '';
    const why =
      selection.ranking
        .find((r) => r.path === f.path)
        ?.reasons.slice(0, 3)
        .join('; ') ?? '';
    lines.push(
      `  ${String(i + 1).padStart(2)}. ${f.path}${ranges}  (~${f.tokens} tokens, score ${f.score.toFixed(2)}${why ? `: ${why}` : ''})`,
    );
  });
  io.stdout.write(`${lines.join('\n')}\n`);
  return ExitCode.ok;
}
