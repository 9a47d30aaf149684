// Which toolchain builds the repository, and its commands with the config's overrides applied.
// The toolchains themselves (detection, commands, parsers, ...) live in src/toolchains/<id>/.
import type { Config } from '../config/schema.js';
import { TOOLCHAINS } from '../toolchains/registry.js';
import type { HostFacts, RepoFacts, SandboxNeeds, Toolchain, ToolchainCommand, ToolchainCommands } from '../toolchains/types.js';

export interface ToolchainPlan extends ToolchainCommands {
  id: string;
  reason: string;
  sandbox: SandboxNeeds;
  /** The docker/podman image (see containerImage). */
  image: string;
}

type Overrides = Partial<Record<'deps' | 'build' | 'test' | 'lint', string[]>> & { image?: string };

/** The image the container sandboxes run when neither the config nor the toolchain names one. */
const DEFAULT_SANDBOX_IMAGE = 'rust:1-slim';

/** The docker/podman image: the toolchain's config key, else `sandbox_image`, else the toolchain's default. */
export function containerImage(config: Config, toolchain: Toolchain | null): string {
  const overrides: Overrides = toolchain ? ((config.toolchains as Record<string, Overrides | undefined>)[toolchain.id] ?? {}) : {};
  return overrides.image ?? config.sandbox_image ?? toolchain?.image ?? DEFAULT_SANDBOX_IMAGE;
}

/** Picks the first toolchain that recognises the repo, then applies the config's command overrides. */
export function resolveToolchain(
  repo: RepoFacts,
  host: HostFacts,
  config: Config,
  toolchains: readonly Toolchain[] = TOOLCHAINS,
): ToolchainPlan | null {
  for (const toolchain of toolchains) {
    const reason = toolchain.detect(repo);
    if (!reason) continue;
    const base = toolchain.commands(repo, host);
    const overrides: Overrides = (config.toolchains as Record<string, Overrides | undefined>)[toolchain.id] ?? {};
    const pick = (key: 'deps' | 'build' | 'test' | 'lint', current: ToolchainCommand | null): ToolchainCommand | null =>
      // An overriding command is read the same way (and from the same report files) as the one it replaces.
      overrides[key] ? { ...current, argv: overrides[key]!, format: current?.format ?? 'plain' } : current;
    return {
      id: toolchain.id,
      reason: `found ${reason}`,
      deps: pick('deps', base.deps),
      build: pick('build', base.build),
      test: pick('test', base.test)!,
      lint: pick('lint', base.lint),
      notes: base.notes,
      sandbox: toolchain.sandbox,
      image: containerImage(config, toolchain),
      ...(base.workspace ? { workspace: base.workspace } : {}),
    };
  }
  return null;
}

/** Why the repository is of a kind a toolchain knows but cannot verify (a Gradle build); null when none says so. */
export function unsupportedReason(repo: RepoFacts, toolchains: readonly Toolchain[] = TOOLCHAINS): string | null {
  for (const toolchain of toolchains) {
    const reason = toolchain.unsupported?.(repo);
    if (reason) return reason;
  }
  return null;
}

/** The toolchains autodev supports, for a hint: `Rust (Cargo.toml) and Node (package.json)`. */
export function supportedToolchains(toolchains: readonly Toolchain[] = TOOLCHAINS): string {
  const each = toolchains.map((t) => `${t.language} (${t.manifests[0]})`);
  return each.length > 1 ? `${each.slice(0, -1).join(', ')} and ${each.at(-1)}` : (each[0] ?? 'no');
}

/** What detection looks for, for the note of a repository no toolchain recognises. */
export function knownManifests(toolchains: readonly Toolchain[] = TOOLCHAINS): string[] {
  return toolchains.flatMap((t) => t.manifests.slice(0, 1));
}

/**
 * The host installations the sandbox shows, over every registered toolchain: the sandbox's
 * `ToolchainBinds` (src/ports/types.ts), spelled out here because the planner imports no port.
 */
export function sandboxBinds(toolchains: readonly Toolchain[] = TOOLCHAINS): {
  programs: string[];
  proxies: string[];
  homes: { env: string; parts: string[] }[];
} {
  return {
    programs: [...new Set(toolchains.flatMap((t) => t.sandboxPrograms))],
    proxies: [...new Set(toolchains.flatMap((t) => t.sandboxProxies?.programs ?? []))],
    homes: toolchains.flatMap((t) => t.sandboxProxies?.homes ?? []),
  };
}
