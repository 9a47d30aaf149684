// deps-check: what the change does to the supply chain. The base's manifests and lockfiles come
// from git (`git show <base>:<path>`), the change's from the working tree (after the build, so a
// lockfile cargo or npm updated shows what was really resolved). Findings go to the policy, the
// result and the PR body; this step itself never fails the task.
import { existsSync } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import {
  addedCrates,
  CARGO_LOCK,
  compareDependencies,
  crateTraits,
  manifestPaths,
  NPM_LOCK,
  parseCargoToml,
  summarizeDependencies,
  withCrateTraits,
  type CrateTraits,
  type DependencyFinding,
  type DependencyReport,
  type ManifestSnapshot,
} from '../depcheck/index.js';
import type { Ctx, StepTool } from './types.js';

const MAX_MANIFEST_BYTES = 5_000_000;

export const depsCheckTool: StepTool = {
  name: 'deps-check',
  async run(ctx) {
    const { state } = ctx;
    if (!state.change || !state.baseCommit) return { status: 'ok', summary: 'no change to compare' };
    let report: DependencyReport;
    try {
      report = await checkDependencies(ctx, state.baseCommit);
    } catch (error) {
      // A comparison that could not be made is said, not held against the change.
      const message = (error as Error).message.split('\n')[0];
      ctx.emit({ type: 'log', level: 'warn', message: `deps-check: ${message}` });
      state.dependencies = null;
      return { status: 'ok', summary: `dependencies not compared: ${message}` };
    }
    state.dependencies = report;
    for (const warning of report.warnings) ctx.emit({ type: 'log', level: 'info', message: `deps-check: ${warning}` });
    const summary = summarizeDependencies(report);
    return { status: 'ok', summary, data: { summary, manifests: report.manifests, findings: report.findings, warnings: report.warnings } };
  },
};

async function checkDependencies(ctx: Ctx, baseCommit: string): Promise<DependencyReport> {
  const dir = ctx.state.repoDir;
  const { git } = ctx.ports;
  const baseFiles = await git.listFiles(dir, baseCommit);
  const baseText = (file: string): Promise<string> => git.showFile(dir, baseCommit, file);
  const baseRoots = {
    cargoToml: baseFiles.includes('Cargo.toml') ? await baseText('Cargo.toml') : null,
    packageJson: baseFiles.includes('package.json') ? await baseText('package.json') : null,
  };
  const base: ManifestSnapshot = { files: {} };
  for (const file of manifestPaths(baseFiles, baseRoots)) base.files[file] = await baseText(file);

  // The change's tracked files, plus a lockfile the base tracks that the build rewrote in place.
  const tracked = await git.listFiles(dir);
  const changeFiles = [...new Set([...tracked, ...[CARGO_LOCK, NPM_LOCK].filter((f) => f in base.files)])];
  const readWorking = async (file: string): Promise<string | null> => {
    const full = path.join(dir, file);
    const info = await stat(full).catch(() => null);
    return info?.isFile() && info.size < MAX_MANIFEST_BYTES ? readFile(full, 'utf8') : null;
  };
  const changeRoots = { cargoToml: await readWorking('Cargo.toml'), packageJson: await readWorking('package.json') };
  const change: ManifestSnapshot = { files: {} };
  for (const file of manifestPaths(changeFiles, changeRoots)) {
    const text = await readWorking(file);
    if (text !== null) change.files[file] = text;
  }
  const report = compareDependencies(base, change);
  const traits = new Map<DependencyFinding, CrateTraits | null>();
  for (const finding of addedCrates(report)) {
    traits.set(finding, await findCrateTraits(finding, dir, path.join(ctx.ports.cacheDir, 'cargo-home')));
  }
  return withCrateTraits(report, traits);
}

/**
 * An added crate's own Cargo.toml, where it is on disk: a path dependency in the repository, or a
 * registry or git crate cargo unpacked into the task's CARGO_HOME while building. Null: unknown.
 */
async function findCrateTraits(finding: DependencyFinding, repoDir: string, cargoHome: string): Promise<CrateTraits | null> {
  const source = finding.source;
  const read = async (crateDir: string): Promise<CrateTraits | null> => {
    const text = await readFile(path.join(crateDir, 'Cargo.toml'), 'utf8').catch(() => null);
    if (text === null) return null;
    try {
      return crateTraits(text, existsSync(path.join(crateDir, 'build.rs')));
    } catch {
      return null;
    }
  };
  if (source?.kind === 'path' && finding.manifest) {
    const crateDir = path.resolve(repoDir, path.dirname(finding.manifest), source.location);
    // A path outside the repository is not read (and is unknown).
    if (crateDir !== repoDir && !crateDir.startsWith(`${repoDir}${path.sep}`)) return null;
    return read(crateDir);
  }
  const version = finding.locked?.to;
  if (source?.kind === 'registry' && version) {
    for (const index of await readdir(path.join(cargoHome, 'registry', 'src')).catch(() => [] as string[])) {
      const traits = await read(path.join(cargoHome, 'registry', 'src', index, `${finding.name}-${version}`));
      if (traits) return traits;
    }
    return null;
  }
  if (source?.kind === 'git') {
    // checkouts/<repo>-<hash>/<rev>/ holds a crate or a workspace of crates.
    const root = path.join(cargoHome, 'git', 'checkouts');
    for (const repo of await readdir(root).catch(() => [] as string[])) {
      for (const rev of await readdir(path.join(root, repo)).catch(() => [] as string[])) {
        const found = await crateDirNamed(path.join(root, repo, rev), finding.name, 2);
        if (found) return read(found);
      }
    }
  }
  return null;
}

async function crateDirNamed(dir: string, name: string, depth: number): Promise<string | null> {
  const text = await readFile(path.join(dir, 'Cargo.toml'), 'utf8').catch(() => null);
  if (text !== null && crateName(text) === name.replace(/-/g, '_')) return dir;
  if (depth === 0) return null;
  for (const entry of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
    if (!entry.isDirectory() || entry.name.startsWith('.') || entry.name === 'target') continue;
    const found = await crateDirNamed(path.join(dir, entry.name), name, depth - 1);
    if (found) return found;
  }
  return null;
}

function crateName(text: string): string | null {
  try {
    const name = (parseCargoToml(text).package as { name?: unknown } | undefined)?.name;
    // Cargo treats `-` and `_` in crate names alike.
    return typeof name === 'string' ? name.replace(/-/g, '_') : null;
  } catch {
    return null;
  }
}
