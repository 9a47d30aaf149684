// One entry to the sandboxes: make one by kind, or pick the first usable one.

import path from 'node:path';
import type { SandboxKind } from '../../plan/types.js';
import type { Exec, Sandbox } from '../types.js';
import { createBwrapSandbox } from './bwrap.js';
import { checkOnce } from './checked.js';
import { CONTAINER_WORKSPACE } from './container.js';
import { createDockerSandbox } from './docker.js';
import { createNoneSandbox } from './none.js';
import { createPodmanSandbox } from './podman.js';

export { bwrapArgv, createBwrapSandbox, toolchainDirs, type BwrapLayout } from './bwrap.js';
export { containerArgv } from './container.js';
export { createDockerSandbox } from './docker.js';
export { createPodmanSandbox } from './podman.js';
export { privateCopy } from './task-cache.js';
export { checkOnce, sandboxChecksFile } from './checked.js';
export { isSecretName, scrubbedEnv } from './scrubbed-env.js';

export interface SandboxFactoryOptions {
  exec: Exec;
  /** Image for docker/podman (e.g. "rust:1"); ignored by bwrap and none. */
  image?: string | null;
}

export function createSandbox(kind: SandboxKind, options: SandboxFactoryOptions): Sandbox {
  switch (kind) {
    case 'bwrap':
      return createBwrapSandbox({ exec: options.exec });
    case 'docker':
      return createDockerSandbox({ exec: options.exec, image: options.image });
    case 'podman':
      return createPodmanSandbox({ exec: options.exec, image: options.image });
    case 'none':
      return createNoneSandbox({ exec: options.exec });
  }
}

/** Where the workspace appears inside a sandbox of `kind` (the default cwd of a SandboxSpec). */
export function workspaceTarget(kind: SandboxKind, workspace: string): string {
  return kind === 'docker' || kind === 'podman' ? CONTAINER_WORKSPACE : path.resolve(workspace);
}

/** The order 'auto' tries; 'none' is never chosen implicitly. */
export const AUTO_ORDER: readonly SandboxKind[] = ['docker', 'podman', 'bwrap'];

export interface SandboxPick {
  /** The usable sandbox, or null when none is. */
  sandbox: Sandbox | null;
  /** Every kind checked, in order, with what was wrong (null: usable). */
  checked: { kind: SandboxKind; problem: string | null }[];
}

/**
 * The first usable sandbox of `preferred` ('auto': AUTO_ORDER). Each kind is tried at most once per
 * process (checked.ts), and bwrap once per machine state when `machineFile` is given.
 */
export async function pickSandbox(
  preferred: SandboxKind | 'auto',
  options: SandboxFactoryOptions & { machineFile?: string | null },
): Promise<SandboxPick> {
  const kinds = preferred === 'auto' ? AUTO_ORDER : [preferred];
  const checked: SandboxPick['checked'] = [];
  for (const kind of kinds) {
    const sandbox = createSandbox(kind, options);
    const problem = await checkOnce(sandbox, options);
    checked.push({ kind, problem });
    if (problem === null) return { sandbox, checked };
  }
  return { sandbox: null, checked };
}
