// The toolchains autodev knows, in the order detection tries them: one line per toolchain.
// Adding a language is a new folder beside these and a new line here (and its context hints in context-hints.ts).
import { go } from './go/index.js';
import { maven } from './maven/index.js';
import { node } from './node/index.js';
import { python } from './python/index.js';
import { rust } from './rust/index.js';
import type { DependencyReader } from '../depcheck/types.js';
import type { HostInstallLocator, Toolchain } from './types.js';

// Maven before Node: a Java project often has a package.json for its web assets, rarely the reverse;
// Python and Go likewise (a pyproject.toml or go.mod beside a package.json for the docs or the front end).
export const TOOLCHAINS: readonly Toolchain[] = [rust, maven, python, go, node];

/** The registered toolchain with this id, or null (an id from an older plan, say). */
export function toolchainById(id: unknown, toolchains: readonly Toolchain[] = TOOLCHAINS): Toolchain | null {
  return toolchains.find((t) => t.id === id) ?? null;
}

/** How to find each toolchain's installation on the host (for the sandboxes that show host directories). */
export function hostInstalls(toolchains: readonly Toolchain[] = TOOLCHAINS): HostInstallLocator[] {
  return toolchains.flatMap((t) => (t.hostInstall ? [t.hostInstall] : []));
}

/** The dependency check's manifest and lockfile readers, one per toolchain that has them. */
export function dependencyReaders(toolchains: readonly Toolchain[] = TOOLCHAINS): DependencyReader[] {
  return toolchains.flatMap((t) => [...(t.dependencies ? [t.dependencies] : []), ...(t.otherLockfiles ?? [])]);
}
