// `autodev patch apply`: the pipeline's layered applier on its own, for any working tree.
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { applyPatchToDir } from '../patch/apply-dir.js';
import { createGit } from '../ports/git.js';
import { ExitCode, UsageError } from '../util/errors.js';
import type { CliIo } from './index.js';

export async function patchApplyCommand(
  file: string,
  flags: { repo: string; json?: boolean; check?: boolean; allowSymlinks?: boolean },
  io: CliIo,
): Promise<number> {
  const dir = path.resolve(io.cwd, flags.repo);
  const info = await stat(dir).catch(() => null);
  if (!info?.isDirectory()) throw new UsageError(`--repo ${flags.repo}: not a directory`);
  const text = await readInput(file, io);
  const git = createGit();
  const isGit = await git.headCommit(dir).then(
    () => true,
    () => false,
  );
  const result = await applyPatchToDir(dir, text, {
    check: Boolean(flags.check),
    gitApply: isGit ? (d, p, check) => git.apply(d, p, { check }) : undefined,
    allowSymlinks: flags.allowSymlinks === true,
  });
  if (flags.json) {
    io.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  } else if (result.applied) {
    const verb = flags.check ? 'would apply' : 'applied';
    io.stdout.write(`${verb} (${result.strategy}) to ${result.files.length} file(s): ${result.files.join(', ')}\n`);
    for (const hunk of result.hunks) {
      if (hunk.strategy !== 'exact' && hunk.strategy !== 'git-apply') {
        io.stdout.write(`  ${hunk.file}: ${hunk.strategy}${hunk.offset ? ` (offset ${hunk.offset > 0 ? '+' : ''}${hunk.offset})` : ''}\n`);
      }
    }
  } else {
    io.stderr.write(`not applied; nothing was changed.\n${result.error ?? ''}\n`);
  }
  return result.applied ? ExitCode.ok : ExitCode.failed;
}

async function readInput(file: string, io: CliIo): Promise<string> {
  if (file === '-') {
    const chunks: Buffer[] = [];
    for await (const chunk of io.stdin) chunks.push(Buffer.from(chunk as Buffer));
    return Buffer.concat(chunks).toString('utf8');
  }
  try {
    return await readFile(path.resolve(io.cwd, file), 'utf8');
  } catch {
    throw new UsageError(`${file}: cannot read the patch file`);
  }
}
