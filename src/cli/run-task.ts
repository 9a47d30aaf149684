import type { LoadedConfig } from '../config/load.js';
import type { TaskRequest } from '../engine/types.js';
import type { CliIo } from './index.js';
import type { RunFlags } from './run.js';
import { ExternalError } from '../util/errors.js';

export async function runTaskCommand(_input: { request: TaskRequest; loaded: LoadedConfig; flags: RunFlags; io: CliIo }): Promise<number> {
  throw new ExternalError('not wired yet');
}
