// reproduce: before the fix, the model writes a test of the reported behaviour; it is run on the
// base in the sandbox (the test step's command, narrowed to the one file where the toolchain allows)
// and kept only if it ran and failed there. A try that does not compile, passes on the base or does
// not run is sent back with the reason, within the plan's tries; after them the task goes on without
// one, and says so. The kept test is what codegen is shown and what the test step requires to pass.
import { lstat, mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { StepResult } from '../engine/types.js';
import { budgetMeter } from '../generate/budget.js';
import { askReproduction, buildReproduceMessages, parseReproduction, type PreviousTry } from '../generate/reproduce.js';
import { judgeReproduction, rejection, rejectionFeedback, type ReproduceVerdict } from '../generate/reproduce-verdict.js';
import { ReplyFormatError } from '../generate/types.js';
import { checkRepoPathReal } from '../patch/paths.js';
import { inputsOf, type ReproduceInputs } from '../plan/types.js';
import { toolchainById } from '../toolchains/registry.js';
import type { Toolchain } from '../toolchains/types.js';
import type { Ctx, StepTool, VerifyOutcome } from './types.js';
import { runTestCommand, targetTests } from './verify.js';

export const reproduceTool: StepTool = {
  name: 'reproduce',
  async run(ctx): Promise<StepResult> {
    const inputs = inputsOf<ReproduceInputs>(ctx.step);
    const toolchain = toolchainById(ctx.step.inputs.toolchain);
    const base = ctx.state.baseline.test;
    const skip = whyNotReproduce(inputs, toolchain, base, ctx);
    if (skip) return { status: 'skipped', summary: skip };

    const budget = budgetMeter(inputs, ctx.state.usage, (call) => ctx.emit({ type: 'llm.usage', ...call }));
    const llm = await ctx.ports.llm();
    const conventions = toolchain!.reproduction?.conventions ?? genericConventions(toolchain!);
    let previous: PreviousTry | null = null;
    const rejected: string[] = [];
    for (let attempt = 1; attempt <= inputs.tries; attempt++) {
      const messages = buildReproduceMessages({
        task: { title: ctx.request.title, description: ctx.request.description },
        context: ctx.state.context,
        toolchain: { language: toolchain!.language, conventions },
        previous,
      });
      const call = await askReproduction({ llm, budget, messages, settings: inputs, signal: ctx.signal });
      if (!call.ok) {
        rejected.push(call.reason);
        break;
      }
      const tried = await tryReply(ctx, toolchain!, base!, call.reply);
      if (tried.kind === 'reproduces') {
        ctx.state.reproduction = {
          file: tried.file,
          content: tried.content,
          tests: tried.tests,
          baseFailure: tried.failure,
          kept: inputs.keep,
        };
        const names = tried.tests.join(', ');
        ctx.emit({ type: 'log', level: 'info', message: `reproduce: ${tried.file} fails on the base (${tried.failure})` });
        return {
          status: 'ok',
          summary: `${tried.file} reproduces the task: ${names} fail${tried.tests.length === 1 ? 's' : ''} on the base${inputs.keep ? ' (kept in the change)' : ''}`,
          data: { file: tried.file, tests: tried.tests, baseFailure: tried.failure, tries: attempt, kept: inputs.keep },
        };
      }
      rejected.push(tried.reason);
      ctx.emit({ type: 'log', level: 'warn', message: `reproduce: try ${attempt} of ${inputs.tries} not kept: ${tried.reason}` });
      previous = { file: tried.file, content: tried.content, problem: tried.feedback };
    }
    const why = rejected.at(-1) ?? 'no try was made';
    const note = `No reproduction test: ${why} (after ${rejected.length} tr${rejected.length === 1 ? 'y' : 'ies'}); going on without one.`;
    ctx.state.notes.push(note);
    ctx.emit({ type: 'log', level: 'warn', message: `reproduce: ${note}` });
    return { status: 'ok', summary: `no reproduction: ${why}; going on without one`, data: { tries: rejected.length, rejected } };
  },
};

/** Why no reproduction is asked for in this task; null when it is. */
export function whyNotReproduce(
  inputs: Pick<ReproduceInputs, 'mode'>,
  toolchain: Toolchain | null,
  base: VerifyOutcome | undefined,
  ctx: Pick<Ctx, 'request'>,
): string | null {
  if (!toolchain) return 'no toolchain: no test can be run';
  if (!base?.tests || base.couldNotRun) {
    return `the base's tests do not run (${base?.couldNotRun ?? base?.summary ?? 'no baseline test run'}): a reproduction could not be judged`;
  }
  if (inputs.mode === 'auto') {
    const named = targetTests(
      base.tests.failed.map((f) => f.name),
      `${ctx.request.title}\n${ctx.request.description}`,
      toolchain.testLeaf ? (name) => toolchain.testLeaf!(name) : undefined,
    );
    if (named.length) return `the task names test(s) failing on the base (${named.join(', ')}): no reproduction needed`;
  }
  return null;
}

type Tried =
  | { kind: 'reproduces'; file: string; content: string; tests: string[]; failure: string }
  | { kind: 'rejected'; file: string | null; content: string | null; reason: string; feedback: string };

/** One reply: read, placed in the base's work tree, run there, judged, and removed again. */
async function tryReply(ctx: Ctx, toolchain: Toolchain, base: VerifyOutcome, reply: string): Promise<Tried> {
  let file: string;
  let content: string;
  try {
    ({ file, content } = parseReproduction(reply));
  } catch (error) {
    if (!(error instanceof ReplyFormatError)) throw error;
    const reason = `the reply could not be used: ${error.message}`;
    return { kind: 'rejected', file: null, content: null, reason, feedback: `${reason}. Reply in exactly the required layout.` };
  }
  const placed = await checkPlace(ctx.state.repoDir, file, toolchain);
  if (placed) return { kind: 'rejected', file, content, reason: placed, feedback: `The test was rejected: ${placed}.` };

  const target = path.join(ctx.state.repoDir, file);
  await mkdir(path.dirname(target), { recursive: true });
  await writeFile(target, content);
  let run: VerifyOutcome;
  try {
    const command = ctx.step.command ?? [];
    const argv = toolchain.reproduction?.narrowToFile?.(command, file) ?? command;
    ctx.emit({ type: 'log', level: 'info', message: `reproduce: running ${file} on the base (${argv.join(' ')})` });
    run = await runTestCommand(ctx, argv);
  } finally {
    // The base's work tree stays as it was: codegen and apply start from it.
    await rm(target, { force: true });
  }
  const verdict: ReproduceVerdict = judgeReproduction({ file, base, run });
  if (verdict.kind === 'reproduces') return { kind: 'reproduces', file, content, tests: verdict.tests, failure: verdict.failure };
  return { kind: 'rejected', file, content, reason: rejection(verdict), feedback: rejectionFeedback(verdict) };
}

/** Why the file cannot be the reproduction: outside the repository, not test code, or one that exists. */
async function checkPlace(dir: string, file: string, toolchain: Toolchain): Promise<string | null> {
  const checked = await checkRepoPathReal(dir, file);
  if (!checked.ok) return `${file} is not a path inside the repository (${checked.reason})`;
  if (!toolchain.isTestFile(file))
    return `${file} is not where ${toolchain.language} tests go (write a new test file in the project's test idiom)`;
  const exists = await lstat(path.join(dir, file)).then(
    () => true,
    () => false,
  );
  if (exists) return `${file} already exists: write a new test file, leaving the existing ones as they are`;
  return null;
}

/** For a toolchain without its own advice: its language and what counts as a test file there. */
function genericConventions(toolchain: Toolchain): string {
  const names = toolchain.context.testFileNames.map((r) => r.source).join(', ');
  return `A new ${toolchain.language} test file where the project keeps its tests, in the test framework it already uses${names ? ` (test file names match: ${names})` : ''}.`;
}
