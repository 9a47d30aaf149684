// `autodev init`: writes the commented example configuration into the current directory.
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ExitCode, UsageError } from '../util/errors.js';
import type { CliIo } from './index.js';

export async function initCommand(flags: { force?: boolean }, io: CliIo): Promise<number> {
  const target = path.join(io.cwd, 'autodev.config.toml');
  const text = await readFile(new URL('../../autodev.config.example.toml', import.meta.url), 'utf8');
  try {
    await writeFile(target, text, { flag: flags.force ? 'w' : 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new UsageError(`${target} already exists`, 'use --force to overwrite it');
    }
    throw error;
  }
  io.stdout.write(`wrote ${target}\n`);
  return ExitCode.ok;
}
