// What this machine offers: programs on PATH, usable sandboxes, installed Rust toolchains.
// Shared by the planner's host facts and `autodev doctor`.
import type { HostFacts } from '../plan/facts.js';
import type { SandboxKind } from '../plan/types.js';
import type { Exec } from '../ports/types.js';
import { pickSandbox } from '../ports/sandbox/index.js';

export const PROGRAMS = ['git', 'rg', 'gitleaks', 'cargo', 'docker', 'podman', 'bwrap', 'npm', 'pnpm', 'yarn', 'rustup'] as const;

export async function gatherHostFacts(exec: Exec, options: { image?: string; sandbox: SandboxKind | 'auto' }): Promise<HostFacts> {
  const found = await Promise.all(PROGRAMS.map(async (p) => [p, (await exec.which(p)) !== null] as const));
  const programs = Object.fromEntries(found);
  let autoSandbox: HostFacts['autoSandbox'] = null;
  if (options.sandbox === 'auto') {
    const pick = await pickSandbox('auto', { exec, image: options.image });
    autoSandbox = (pick.sandbox?.kind as HostFacts['autoSandbox']) ?? null;
  }
  const rustToolchains = programs.rustup ? await listRustToolchains(exec) : [];
  return { programs, autoSandbox, rustToolchains };
}

async function listRustToolchains(exec: Exec): Promise<string[]> {
  const result = await exec.run(['rustup', 'toolchain', 'list'], { inheritEnv: true, timeoutMs: 10_000 });
  if (result.exitCode !== 0) return [];
  return result.stdout
    .split('\n')
    .map((l) => l.trim().split(/\s+/)[0])
    .filter(Boolean);
}
