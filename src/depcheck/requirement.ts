// What a change to a version requirement means, on node-semver ranges (each toolchain's manifest
// reader turns its own requirement syntax into one, unless it brings its own VersionScheme).
import { semverLib } from '../util/libs.js';
import type { RequirementChange, VersionScheme } from './types.js';

/**
 * How a requirement moved. Loosened: the new range admits every version the old one did and more
 * (`=1.2.3` → `^1`, `*`). Otherwise the lowest admitted version tells up from down; a range that
 * only narrows (`^1.2` → `~1.2`) is no finding.
 */
export function requirementChange(from: string | null, to: string | null): RequirementChange {
  if (!from || !to || from === to) return null;
  try {
    const widened = semverLib().subset(from, to) && !semverLib().subset(to, from);
    if (widened) return 'loosened';
    const lowFrom = semverLib().minVersion(from);
    const lowTo = semverLib().minVersion(to);
    if (!lowFrom || !lowTo) return null;
    const order = semverLib().compare(lowTo, lowFrom);
    return order > 0 ? 'upgraded' : order < 0 ? 'downgraded' : null;
  } catch {
    return null;
  }
}

/** -1, 0 or 1; versions that are not semver compare as text, so the answer is at least stable. */
export function compareVersions(a: string, b: string): number {
  const va = semverLib().valid(a, { loose: true });
  const vb = semverLib().valid(b, { loose: true });
  if (va && vb) return semverLib().compare(va, vb, { loose: true });
  return a < b ? -1 : a > b ? 1 : 0;
}

/** node-semver's order and ranges: what a reader without its own `versions` gets. */
export const SEMVER_VERSIONS: VersionScheme = { compare: compareVersions, requirementChange };
