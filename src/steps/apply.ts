// apply: the patch goes onto the clean base (every round starts from the base, not from the
// previous attempt), on the task's branch, committed with the bot identity.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { picomatchLib } from '../util/libs.js';
import { applyPatchToDir, formatPatchError } from '../patch/apply-dir.js';
import { detectEditFormats, parseEdits } from '../patch/edits.js';
import { checkRepoPathReal } from '../patch/paths.js';
import { summarizeDiff } from '../secrets/added-lines.js';
import { hasRedactions, restoreRedactions } from '../secrets/redact-content.js';
import { inputsOf, type ApplyInputs } from '../plan/types.js';
import type { StepResult } from '../engine/types.js';
import type { Ctx, StepTool } from './types.js';

export const applyTool: StepTool = {
  name: 'apply',
  async run(ctx) {
    const { git } = ctx.ports;
    const inputs = inputsOf<ApplyInputs>(ctx.step);
    const dir = ctx.state.repoDir;
    const generation = ctx.state.generation;
    if (!generation) return { status: 'failed', summary: 'no patch to apply (codegen did not run)' };
    const branch = inputs.branch;
    const base = ctx.state.baseCommit ?? 'HEAD';
    // Every round starts from the base on the task's branch, whatever the previous round committed:
    // one checkout forces the tree, the index and the branch there, and the clean removes untracked
    // files (an earlier round's new files, the baseline's unignored output such as a Cargo.lock).
    await git.startBranch(dir, branch, base, { clean: true });
    const patch = await withSecretsRestored(dir, generation.patch);
    const result = await applyPatchToDir(dir, patch, {
      // --index: what git applies is staged as it is written, so the commit needs no `add`.
      gitApply: (d, p, check) => git.apply(d, p, { check, index: true }),
      allowSymlinks: inputs.allowSymlinks,
    });
    ctx.state.apply = result;
    if (!result.applied) {
      const error = result.error ?? 'the patch did not apply';
      if (/^refused path/.test(error)) {
        return { status: 'denied', summary: `patch refused: ${error.split('\n')[0]}`, data: { reason: 'path_outside_repo' } };
      }
      return {
        status: 'failed',
        summary: `patch did not apply: ${error.split('\n')[0]}`,
        feedback: formatPatchError(result, detectEditFormats(generation.patch)[0]),
      };
    }
    const protectedHit = result.files.filter((f) => inputs.protectedPaths.some((p) => picomatchLib()(p, { dot: true })(f)));
    if (protectedHit.length) {
      await git.resetHard(dir, ctx.state.baseCommit ?? undefined);
      return {
        status: 'denied',
        summary: `patch refused: it touches protected path(s) ${protectedHit.join(', ')} (policy.protected_paths)`,
        data: { reason: 'protected_path' },
      };
    }
    const reproduction = await placeReproduction(ctx, result.files);
    if (reproduction) return reproduction;
    // The text layers write files git has not seen: those are added (only those: never build output).
    const written = [...(result.strategy === 'git-apply' ? [] : result.files), ...keptReproduction(ctx)];
    const { commit, diff } = await git.commitIndex(dir, generation.commitMessage, inputs.author, written);
    // The diff already names every file (renames come as delete + add): no second pass over git.
    const files = summarizeDiff(diff).files;
    ctx.state.change = { branch, commit, diff, files };
    return {
      status: 'ok',
      summary: `applied (${result.strategy}) to ${files.length} file(s); committed ${commit.slice(0, 8)} on ${branch}`,
      data: { strategy: result.strategy, files, commit },
    };
  },
};

/**
 * The reproduction test (steps/reproduce.ts) is the fixed point of the task: a patch that edits it
 * is sent back. When it is kept (generate.keep_reproduction), it is written here, onto the clean
 * base with the patch, so it is committed with the change and every later check sees it.
 */
async function placeReproduction(ctx: Ctx, patched: string[]): Promise<StepResult | null> {
  const repro = ctx.state.reproduction;
  if (!repro) return null;
  if (patched.includes(repro.file)) {
    return {
      status: 'failed',
      summary: `the patch edits the reproduction test ${repro.file}`,
      feedback: `Your patch edits ${repro.file}, the reproduction test written before the fix (it fails on the base). Leave it exactly as it is and change the code it tests so that it passes.`,
    };
  }
  if (!repro.kept) return null;
  const target = path.join(ctx.state.repoDir, repro.file);
  await mkdir(path.dirname(target), { recursive: true });
  await writeFile(target, repro.content);
  return null;
}

function keptReproduction(ctx: Ctx): string[] {
  const repro = ctx.state.reproduction;
  return repro?.kept ? [repro.file] : [];
}

/**
 * The model was shown the files with their secrets as `[REDACTED:<kind>]` (generate/prompt.ts), so its
 * context lines quote the placeholders: the real values go back in before the patch is matched
 * against the files. The patch kept in the task state stays redacted.
 */
async function withSecretsRestored(dir: string, patch: string): Promise<string> {
  if (!hasRedactions(patch)) return patch;
  let paths: string[];
  try {
    paths = parseEdits(patch).files.flatMap((f) => [f.oldPath, f.newPath].filter((p): p is string => p !== null));
  } catch {
    return patch; // the applier reports the parse error
  }
  const originals: string[] = [];
  for (const p of new Set(paths)) {
    if (!(await checkRepoPathReal(dir, p)).ok) continue;
    const text = await readFile(path.join(dir, p), 'utf8').catch(() => null);
    if (text !== null) originals.push(text);
  }
  return restoreRedactions(patch, originals);
}
