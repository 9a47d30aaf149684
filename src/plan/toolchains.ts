// The toolchain table: how to recognise a project and which commands build, test and lint it.
// Adding a language is a new row here (and parsers in src/toolchains/), not new control flow.
import { parse as parseToml } from 'smol-toml';
import type { Config } from '../config/schema.js';
import type { ToolchainId } from './types.js';
import type { HostFacts, RepoFacts } from './facts.js';

export type OutputFormat = 'cargo-json' | 'cargo-test' | 'node-test' | 'tsc' | 'plain';

export interface ToolchainCommand {
  argv: string[];
  /** How the verify step reads the command's output. */
  format: OutputFormat;
}

export interface ToolchainPlan {
  id: ToolchainId;
  reason: string;
  deps: ToolchainCommand | null;
  build: ToolchainCommand | null;
  test: ToolchainCommand;
  lint: ToolchainCommand | null;
  notes: string[];
}

interface ToolchainRow {
  id: ToolchainId;
  /** Returns the reason (the file that told us) when the repo is of this kind. */
  detect(repo: RepoFacts): string | null;
  commands(repo: RepoFacts, host: HostFacts): Omit<ToolchainPlan, 'id' | 'reason'>;
}

const rust: ToolchainRow = {
  id: 'rust',
  detect: (repo) => (repo.files.includes('Cargo.toml') ? 'Cargo.toml' : null),
  commands(repo, host) {
    const notes: string[] = [];
    const locked = repo.files.includes('Cargo.lock');
    const toolchain = pinnedRustToolchain(repo);
    const plus: string[] = [];
    if (toolchain) {
      const installed = host.rustToolchains.some((t) => t === toolchain || t.startsWith(`${toolchain}-`));
      if (installed) {
        plus.push(`+${toolchain}`);
        notes.push(`rust-toolchain pins ${toolchain}; it is installed and used.`);
      } else {
        notes.push(
          `rust-toolchain pins ${toolchain}, which is not installed; the default toolchain is used (run \`rustup toolchain install ${toolchain}\` to honour it; nothing is downloaded in the sandbox).`,
        );
      }
    }
    const needsFetch = rustHasDependencies(repo);
    return {
      deps: needsFetch ? { argv: ['cargo', ...plus, 'fetch', ...(locked ? ['--locked'] : [])], format: 'plain' } : null,
      build: { argv: ['cargo', ...plus, 'build', '--offline', '--all-targets', '--message-format=json'], format: 'cargo-json' },
      test: { argv: ['cargo', ...plus, 'test', '--offline', '--no-fail-fast'], format: 'cargo-test' },
      lint: {
        argv: ['cargo', ...plus, 'clippy', '--offline', '--all-targets', '--message-format=json'],
        format: 'cargo-json',
      },
      notes,
    };
  },
};

const node: ToolchainRow = {
  id: 'node',
  detect: (repo) => (repo.files.includes('package.json') ? 'package.json' : null),
  commands(repo, host) {
    const pkg = readJson(repo.manifests['package.json']);
    const scripts = (pkg?.scripts ?? {}) as Record<string, string>;
    const manager = nodePackageManager(repo, host);
    const hasDeps = Object.keys({ ...(pkg?.dependencies ?? {}), ...(pkg?.devDependencies ?? {}) }).length > 0;
    const deps: ToolchainCommand | null = !hasDeps
      ? null
      : manager === 'pnpm'
        ? { argv: ['pnpm', 'install', '--frozen-lockfile'], format: 'plain' }
        : manager === 'yarn'
          ? { argv: ['yarn', 'install', '--frozen-lockfile'], format: 'plain' }
          : { argv: repo.files.includes('package-lock.json') ? ['npm', 'ci'] : ['npm', 'install'], format: 'plain' };
    const run = manager === 'npm' ? ['npm', 'run'] : [manager, 'run'];
    const lint: ToolchainCommand | null = scripts.lint
      ? { argv: [...run, 'lint'], format: 'plain' }
      : repo.files.includes('tsconfig.json')
        ? { argv: ['npx', '--no-install', 'tsc', '--noEmit'], format: 'tsc' }
        : null;
    return {
      deps,
      build: scripts.build ? { argv: [...run, 'build'], format: 'plain' } : null,
      test: { argv: manager === 'npm' ? ['npm', 'test'] : [manager, 'test'], format: 'node-test' },
      lint,
      notes: manager !== 'npm' ? [`lockfile says ${manager}`] : [],
    };
  },
};

export const TOOLCHAINS: readonly ToolchainRow[] = [rust, node];

/** Picks the first row that recognises the repo, then applies the config's command overrides. */
export function resolveToolchain(repo: RepoFacts, host: HostFacts, config: Config): ToolchainPlan | null {
  for (const row of TOOLCHAINS) {
    const reason = row.detect(repo);
    if (!reason) continue;
    const base = row.commands(repo, host);
    const overrides = config.toolchains[row.id] ?? {};
    const pick = (key: 'deps' | 'build' | 'test' | 'lint', current: ToolchainCommand | null): ToolchainCommand | null =>
      overrides[key] ? { argv: overrides[key]!, format: current?.format ?? 'plain' } : current;
    return {
      id: row.id,
      reason: `found ${reason}`,
      deps: pick('deps', base.deps),
      build: pick('build', base.build),
      test: pick('test', base.test)!,
      lint: pick('lint', base.lint),
      notes: base.notes,
    };
  }
  return null;
}

function pinnedRustToolchain(repo: RepoFacts): string | null {
  const toml = repo.manifests['rust-toolchain.toml'];
  if (toml) {
    try {
      const channel = (parseToml(toml) as { toolchain?: { channel?: unknown } }).toolchain?.channel;
      if (typeof channel === 'string') return channel;
    } catch {
      return null;
    }
  }
  const plain = repo.manifests['rust-toolchain']?.trim();
  return plain && !plain.includes('\n') ? plain : null;
}

/** True when the crate (or workspace) declares any dependency that must be fetched. */
function rustHasDependencies(repo: RepoFacts): boolean {
  const lock = repo.manifests['Cargo.lock'];
  if (lock && /source = "/.test(lock)) return true;
  const manifest = repo.manifests['Cargo.toml'];
  if (!manifest) return false;
  try {
    const doc = parseToml(manifest) as Record<string, any>;
    const tables = [doc.dependencies, doc['dev-dependencies'], doc['build-dependencies'], doc.workspace?.dependencies];
    for (const target of Object.values((doc.target ?? {}) as Record<string, any>)) {
      tables.push(target?.dependencies, target?.['dev-dependencies'], target?.['build-dependencies']);
    }
    return tables.some(
      (t) => t && Object.values(t as Record<string, unknown>).some((spec) => !(spec && typeof spec === 'object' && 'path' in spec)),
    );
  } catch {
    return true;
  }
}

function nodePackageManager(repo: RepoFacts, host: HostFacts): 'npm' | 'pnpm' | 'yarn' {
  if (repo.files.includes('pnpm-lock.yaml') && host.programs.pnpm) return 'pnpm';
  if (repo.files.includes('yarn.lock') && host.programs.yarn) return 'yarn';
  return 'npm';
}

function readJson(text: string | undefined): Record<string, any> | null {
  if (!text) return null;
  try {
    return JSON.parse(text) as Record<string, any>;
  } catch {
    return null;
  }
}
