// What this machine offers: programs on PATH, usable sandboxes, and what each toolchain asks about
// the host (its hostQuery, e.g. the installed Rust toolchains).
// Shared by the planner's host facts and `autodev doctor`.
import type { HostFacts } from '../plan/facts.js';
import type { SandboxKind } from '../plan/types.js';
import type { Exec } from '../ports/types.js';
import { pickSandbox } from '../ports/sandbox/index.js';
import { TOOLCHAINS } from '../toolchains/registry.js';

const PROGRAMS = ['git', 'rg', 'gitleaks', 'docker', 'podman', 'bwrap', ...TOOLCHAINS.flatMap((t) => t.hostPrograms)];

export async function gatherHostFacts(exec: Exec, options: { image?: string; sandbox: SandboxKind | 'auto' }): Promise<HostFacts> {
  const found = await Promise.all(PROGRAMS.map(async (p) => [p, (await exec.which(p)) !== null] as const));
  const programs = Object.fromEntries(found);
  let autoSandbox: HostFacts['autoSandbox'] = null;
  if (options.sandbox === 'auto') {
    const pick = await pickSandbox('auto', { exec, image: options.image });
    autoSandbox = (pick.sandbox?.kind as HostFacts['autoSandbox']) ?? null;
  }
  const installed: Record<string, string[]> = {};
  for (const toolchain of TOOLCHAINS) {
    const query = toolchain.hostQuery;
    if (!query || !programs[query.program]) continue;
    const result = await exec.run(query.argv, { inheritEnv: true, timeoutMs: 10_000 });
    installed[toolchain.id] = result.exitCode === 0 ? query.parse(result.stdout) : [];
  }
  return { programs, autoSandbox, installed };
}
