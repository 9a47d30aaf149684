// Cargo's commands for a repository: fetch (only when something must be fetched), build, test and
// clippy over the whole workspace (narrowed at run time), with the pinned toolchain when installed.
import { tomlLib } from '../../util/libs.js';
import type { HostFacts, RepoFacts, ToolchainCommands } from '../types.js';
import { cargoWorkspace, dependencyTables } from './workspace.js';

export function rustCommands(repo: RepoFacts, host: HostFacts): ToolchainCommands {
  const notes: string[] = [];
  const locked = repo.files.includes('Cargo.lock');
  const toolchain = pinnedRustToolchain(repo);
  const plus: string[] = [];
  if (toolchain) {
    const installed = (host.installed.rust ?? []).some((t) => t === toolchain || t.startsWith(`${toolchain}-`));
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
  const workspace = cargoWorkspace(repo);
  // The plan exists before the change does, so it names the whole workspace; verify narrows it.
  const scope = workspace ? ['--workspace'] : [];
  if (workspace) {
    const names = workspace.members.map((m) => m.name);
    notes.push(
      `Cargo workspace with ${names.length} member(s) (${names.slice(0, 6).join(', ')}${names.length > 6 ? ', …' : ''}): build, test and lint run with --workspace, narrowed to the touched packages at run time (-p <name>, plus the members that depend on them); the baseline covers the whole workspace.`,
    );
  }
  return {
    deps: needsFetch ? { argv: ['cargo', ...plus, 'fetch', ...(locked ? ['--locked'] : [])], format: 'plain' } : null,
    build: { argv: ['cargo', ...plus, 'build', '--offline', ...scope, '--all-targets', '--message-format=json'], format: 'cargo-json' },
    test: { argv: ['cargo', ...plus, 'test', '--offline', ...scope, '--no-fail-fast'], format: 'cargo-test' },
    lint: {
      argv: ['cargo', ...plus, 'clippy', '--offline', ...scope, '--all-targets', '--message-format=json'],
      format: 'cargo-json',
    },
    notes,
    ...(workspace ? { workspace } : {}),
  };
}

function pinnedRustToolchain(repo: RepoFacts): string | null {
  const toml = repo.manifests['rust-toolchain.toml'];
  if (toml) {
    try {
      const channel = (tomlLib().parse(toml) as { toolchain?: { channel?: unknown } }).toolchain?.channel;
      if (typeof channel === 'string') return channel;
    } catch {
      return null;
    }
  }
  const plain = repo.manifests['rust-toolchain']?.trim();
  return plain && !plain.includes('\n') ? plain : null;
}

/** True when the crate (or any workspace member) declares a dependency that must be fetched. */
function rustHasDependencies(repo: RepoFacts): boolean {
  const lock = repo.manifests['Cargo.lock'];
  if (lock && /source = "/.test(lock)) return true;
  const manifest = repo.manifests['Cargo.toml'];
  if (!manifest) return false;
  let rootDoc: Record<string, any>;
  try {
    rootDoc = tomlLib().parse(manifest) as Record<string, any>;
  } catch {
    return true;
  }
  const workspaceDeps = (rootDoc.workspace?.dependencies ?? {}) as Record<string, unknown>;
  // `{ workspace = true }` is as local as the workspace's own entry for that name.
  const remote = (name: string, spec: unknown): boolean => {
    if (!spec || typeof spec !== 'object') return true;
    if ('path' in spec) return false;
    if ((spec as { workspace?: unknown }).workspace === true) return remote(name, workspaceDeps[name]);
    return true;
  };
  const members = (repo.members?.rust ?? []).filter((dir) => dir !== '.');
  const docs: Record<string, any>[] = [rootDoc];
  for (const dir of members) {
    try {
      docs.push(tomlLib().parse(repo.manifests[`${dir}/Cargo.toml`] ?? '') as Record<string, any>);
    } catch {
      return true;
    }
  }
  return docs.some((doc) => dependencyTables(doc).some((t) => Object.entries(t).some(([name, spec]) => remote(name, spec))));
}

/**
 * `cargo test` narrowed to the suspected flaky tests: libtest's filters after `--`, matched
 * `--exact`ly against each binary's test paths (the name without the `<target>::` the parser adds). A
 * path another binary has too runs there as well, which costs a little and decides nothing. Doc
 * tests (rustdoc's names drop suffixes the filter would need) and a binary that died as a whole
 * (named by its target alone) cannot be named: then the whole command runs again.
 */
export function selectCargoTests(argv: string[], names: string[], format: string): string[] | null {
  if (format !== 'cargo-test' || names.length === 0) return null;
  const paths: string[] = [];
  for (const name of names) {
    const at = name.indexOf('::');
    if (at < 0 || / - .*\(line \d+\)$/.test(name)) return null;
    paths.push(name.slice(at + 2));
  }
  const unique = [...new Set(paths)];
  const dashes = argv.indexOf('--');
  if (dashes < 0) return [...argv, '--', '--exact', ...unique];
  // The command's own test-binary arguments stay; the filters join them.
  return [...argv.slice(0, dashes + 1), '--exact', ...argv.slice(dashes + 1), ...unique];
}
