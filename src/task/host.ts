// What this machine offers: programs on PATH, usable sandboxes, and what each toolchain asks about
// the host (its hostQuery, e.g. the installed Rust toolchains).
// Shared by the planner's host facts and `autodev doctor`.
//
// The costly facts are kept per machine in the cache dir, each under a fingerprint of what decides
// it: a toolchain's answer under the program's binary and the places installs land (its
// hostQuery.inputs), a sandbox's pass under what ports/sandbox/checked.ts names. Programs on PATH
// are looked up every time: a lookup costs no more than checking a fingerprint would.
import { readFile, realpath, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import writeFileAtomic from 'write-file-atomic';
import { availableParallelism } from 'node:os';
import type { HostFacts } from '../plan/facts.js';
import type { SandboxKind } from '../plan/types.js';
import type { Exec } from '../ports/types.js';
import { pickSandbox, sandboxChecksFile } from '../ports/sandbox/index.js';
import { TOOLCHAINS } from '../toolchains/registry.js';
import type { Toolchain } from '../toolchains/types.js';

const PROGRAMS = ['git', 'rg', 'gitleaks', 'docker', 'podman', 'bwrap', ...TOOLCHAINS.flatMap((t) => t.hostPrograms)];

export interface HostFactsOptions {
  image?: string;
  sandbox: SandboxKind | 'auto';
  /** Where the per-machine answers are kept ($XDG_CACHE_HOME/autodev); none: everything is asked. */
  cacheDir?: string | null;
  /** The environment the queries run in (default: this process's). */
  env?: Record<string, string | undefined>;
}

interface KeptAnswers {
  queries?: Record<string, { fingerprint: string; answer: string[] }>;
}

export async function gatherHostFacts(exec: Exec, options: HostFactsOptions): Promise<HostFacts> {
  const env = options.env ?? process.env;
  const found = await Promise.all(PROGRAMS.map(async (p) => [p, await exec.which(p)] as const));
  const programs = Object.fromEntries(found.map(([p, at]) => [p, at !== null]));
  const where = Object.fromEntries(found);
  const factsFile = options.cacheDir ? path.join(options.cacheDir, 'host-facts.json') : null;
  const machineFile = options.cacheDir ? sandboxChecksFile(options.cacheDir) : null;
  const kept: KeptAnswers = factsFile ? await readKept(factsFile) : {};
  let changed = false;

  const sandboxPick =
    options.sandbox === 'auto'
      ? pickSandbox('auto', { exec, image: options.image, machineFile }).then((pick) => pick.sandbox?.kind ?? null)
      : null;
  const answers = await Promise.all(
    TOOLCHAINS.map(async (toolchain): Promise<[string, string[]] | null> => {
      const query = toolchain.hostQuery;
      const program = query ? where[query.program] : null;
      if (!query || !program) return null;
      const fingerprint = await queryFingerprint(toolchain, program, env);
      const known = fingerprint !== null ? kept.queries?.[toolchain.id] : undefined;
      if (known && known.fingerprint === fingerprint) return [toolchain.id, known.answer];
      const result = await exec.run(query.argv, { inheritEnv: true, timeoutMs: 10_000 });
      const answer = result.exitCode === 0 ? query.parse(result.stdout) : [];
      if (result.exitCode === 0 && fingerprint !== null) {
        kept.queries = { ...kept.queries, [toolchain.id]: { fingerprint, answer } };
        changed = true;
      }
      return [toolchain.id, answer];
    }),
  );
  const installed: Record<string, string[]> = Object.fromEntries(answers.filter((a): a is [string, string[]] => a !== null));
  const autoSandbox = ((await sandboxPick) as HostFacts['autoSandbox'] | null) ?? null;
  if (changed && factsFile) await writeFileAtomic(factsFile, JSON.stringify(kept)).catch(() => undefined);
  return { programs, autoSandbox, installed, cores: availableParallelism() };
}

async function readKept(file: string): Promise<KeptAnswers> {
  try {
    const data = JSON.parse(await readFile(file, 'utf8')) as unknown;
    return data && typeof data === 'object' ? (data as KeptAnswers) : {};
  } catch {
    return {};
  }
}

/** What decides a toolchain's hostQuery answer; null when it names nothing (then it is always asked). */
async function queryFingerprint(toolchain: Toolchain, program: string, env: Record<string, string | undefined>): Promise<string | null> {
  const query = toolchain.hostQuery;
  if (!query?.inputs) return null;
  const stamp = async (file: string): Promise<unknown> => {
    try {
      const info = await stat(await realpath(file));
      return [file, info.size, info.mtimeMs, info.ino];
    } catch {
      return [file, 'missing'];
    }
  };
  const inputs = query.inputs(env, env.HOME ?? os.homedir());
  return JSON.stringify([query.argv, env.PATH ?? '', await stamp(program), ...(await Promise.all(inputs.map(stamp)))]);
}
