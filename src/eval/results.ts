// What one (task, model) run of `autodev eval` came to, appended to results.jsonl as it ends, so an
// eval killed half-way keeps every finished result and a rerun skips them.
import { appendFile, mkdir, open, readFile } from 'node:fs/promises';
import path from 'node:path';

/**
 * How a run ended, from the grader's point of view:
 * - resolved: the run claimed a verified change and the grading agrees;
 * - wrong: the run claimed a verified change and the grading says it is not (the trust figure);
 * - abstained: the run made no claim (unproven: no test showed the change works; denied by policy);
 * - failed: the run ended failed (the build or tests never passed, no patch applied, the model gave up);
 * - error: the machinery failed (preparing the base, grading): not the model's doing.
 * A change the run did not claim is still graded; `resolved` says how that went.
 */
export type EvalCategory = 'resolved' | 'wrong' | 'abstained' | 'failed' | 'error';

export interface EvalOutcome {
  v: 1;
  task: string;
  model: string;
  /** The generation strategy, when the eval compared strategies (`--strategies`); absent otherwise. */
  strategy?: string;
  category: EvalCategory;
  /** The run's status (`verified`, `unproven`, `failed`, ...), or null when it did not run. */
  status: string | null;
  /** The run said "verified". */
  claimed: boolean;
  /** The grading's verdict; null when there was nothing to grade. */
  resolved: boolean | null;
  /** Why, in one line: the run's reason, or what the grading found. */
  reason: string | null;
  grade: {
    failToPass: { name: string; passed: boolean }[];
    passToPassFailed: string[];
  } | null;
  /** Repair rounds the run used, and patches that did not apply. */
  rounds: number;
  applyFailures: number;
  usage: { promptTokens: number; completionTokens: number; calls: number; costUsd: number | null };
  wallMs: number;
  finishedAt: string;
}

export function outcomeKey(task: string, model: string): string {
  return JSON.stringify([task, model]);
}

/**
 * What the figures compare: the model, or the model with its strategy (`gpt-4o@agent`) when the eval
 * compared strategies. Results of an eval without `--strategies` keep their plain model names.
 */
export function variantLabel(model: string, strategy?: string): string {
  return strategy ? `${model}@${strategy}` : model;
}

export function outcomeLabel(outcome: Pick<EvalOutcome, 'model' | 'strategy'>): string {
  return variantLabel(outcome.model, outcome.strategy);
}

/**
 * The results already in `file` (none when it does not exist). A last line cut short by a kill is
 * dropped, not an error: that run is simply done again.
 */
export async function readOutcomes(file: string): Promise<EvalOutcome[]> {
  const text = await readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return '';
    throw error;
  });
  const outcomes: EvalOutcome[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      const value = JSON.parse(line) as EvalOutcome;
      if (value && value.v === 1 && typeof value.task === 'string' && typeof value.model === 'string') outcomes.push(value);
    } catch {
      // A torn line from an interrupted write.
    }
  }
  return outcomes;
}

/** Appends one result as a line of its own (a torn previous line is ended first, so the new one stays readable). */
export async function appendOutcome(file: string, outcome: EvalOutcome): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  const lead = (await endsTorn(file)) ? '\n' : '';
  await appendFile(file, `${lead}${JSON.stringify(outcome)}\n`);
}

/** Whether the file's last byte is not a newline (an interrupted write): only that byte is read. */
async function endsTorn(file: string): Promise<boolean> {
  const handle = await open(file, 'r').catch(() => null);
  if (!handle) return false;
  try {
    const { size } = await handle.stat();
    if (size === 0) return false;
    const last = Buffer.alloc(1);
    await handle.read(last, 0, 1, size - 1);
    return last[0] !== 0x0a;
  } finally {
    await handle.close();
  }
}
