// deps-check: what the change does to the supply chain. The base's manifests and lockfiles come
// from git (`git show <base>:<path>`), the change's from the working tree (after the build, so a
// lockfile the package manager updated shows what was really resolved). Findings go to the policy, the
// result and the PR body; this step itself never fails the task.
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import {
  addedPackages,
  compareDependencies,
  manifestPaths,
  summarizeDependencies,
  withCrateTraits,
  type CrateTraits,
  type DependencyFinding,
  type DependencyReport,
  type ManifestSnapshot,
} from '../depcheck/index.js';
import { dependencyReaders } from '../toolchains/registry.js';
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
  const readers = dependencyReaders();
  const baseRoots: Record<string, string | null> = {};
  for (const reader of readers) baseRoots[reader.manifest] = baseFiles.includes(reader.manifest) ? await baseText(reader.manifest) : null;
  const base: ManifestSnapshot = { files: {} };
  for (const file of manifestPaths(baseFiles, readers, baseRoots)) base.files[file] = await baseText(file);

  // The change's tracked files, plus a lockfile the base tracks that the build rewrote in place.
  const tracked = await git.listFiles(dir);
  const changeFiles = [...new Set([...tracked, ...readers.map((r) => r.lockfile).filter((f) => f in base.files)])];
  const readWorking = async (file: string): Promise<string | null> => {
    const full = path.join(dir, file);
    const info = await stat(full).catch(() => null);
    return info?.isFile() && info.size < MAX_MANIFEST_BYTES ? readFile(full, 'utf8') : null;
  };
  const changeRoots: Record<string, string | null> = {};
  for (const reader of readers) changeRoots[reader.manifest] = await readWorking(reader.manifest);
  const change: ManifestSnapshot = { files: {} };
  for (const file of manifestPaths(changeFiles, readers, changeRoots)) {
    const text = await readWorking(file);
    if (text !== null) change.files[file] = text;
  }
  const report = compareDependencies(base, change, readers);
  // What an added package's own manifest says (a build script, a proc-macro), where the toolchain can tell.
  const traits = new Map<DependencyFinding, CrateTraits | null>();
  for (const reader of readers) {
    if (!reader.traits) continue;
    for (const finding of addedPackages(report, reader.ecosystem))
      traits.set(finding, await reader.traits(finding, dir, ctx.ports.cacheDir));
  }
  return withCrateTraits(report, traits);
}
