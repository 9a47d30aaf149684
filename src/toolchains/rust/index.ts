// Rust with Cargo: everything autodev knows about it, behind the Toolchain interface.
import path from 'node:path';
import type { Toolchain } from '../types.js';
import { rustContext } from './context.js';
import { rustCommands, selectCargoTests } from './commands.js';
import { rustHostInstall } from './host-install.js';
import { findCrateTraits } from './crate-traits.js';
import { cargoDeclared, cargoLocked, cargoWorkspaceDeps } from './manifest.js';
import { depsFailureLine, isRustTestFile, parseCargoMessages, parseCargoTest, parseRustcText, withChangeTestModules } from './output.js';
import { cargoMemberDirs, narrowCommand, readCargoMembers, scopeBaselineFailures } from './workspace.js';

// The shared cache CARGO_HOME points at: where the fetch unpacks crates, and so where the
// dependency check finds an added crate's own Cargo.toml.
const CARGO_HOME_CACHE = 'cargo-home';

export const rust: Toolchain = {
  id: 'rust',
  language: 'Rust',
  manifests: ['Cargo.toml', 'Cargo.lock', 'rust-toolchain.toml', 'rust-toolchain'],
  hostPrograms: ['cargo', 'rustup'],
  // A rust-toolchain pin is honoured only when that toolchain is installed (nothing is downloaded).
  hostQuery: {
    program: 'rustup',
    argv: ['rustup', 'toolchain', 'list'],
    parse: (stdout) =>
      stdout
        .split('\n')
        .map((l) => l.trim().split(/\s+/)[0])
        .filter(Boolean),
    // `rustup toolchain install/uninstall` adds or removes a directory here.
    inputs: (env, home) => [path.join(env.RUSTUP_HOME ?? path.join(home, '.rustup'), 'toolchains')],
  },
  sandboxPrograms: ['cargo', 'rustc'],
  // rustup's proxies live in CARGO_HOME/bin, whose parent also holds the host's registry and
  // credentials: only that bin directory is bound, and RUSTUP_HOME's toolchains and settings (rustup
  // insists that update-hashes exists).
  sandboxProxies: { programs: ['rustup'], homes: [{ env: 'RUSTUP_HOME', parts: ['toolchains', 'settings.toml', 'update-hashes'] }] },
  hostInstall: rustHostInstall,
  doctor: [
    { name: 'cargo', command: ['cargo', '--version'], purpose: 'Rust build and test', fallback: 'none: Rust projects cannot be verified' },
    {
      name: 'cargo clippy',
      command: ['cargo', 'clippy', '--version'],
      purpose: 'Rust lint',
      fallback: 'none: the lint step of Rust projects fails',
    },
  ],
  detect: (repo) => (repo.files.includes('Cargo.toml') ? 'Cargo.toml' : null),
  readMembers: readCargoMembers,
  commands: rustCommands,
  // The registry and git checkouts are shared by every task (only the fetch writes them); build
  // output is kept per repository, written by the base's runs, copied for the change's.
  sandbox: {
    caches: [
      { dir: CARGO_HOME_CACHE, perRepository: false, writer: 'deps', env: 'CARGO_HOME' },
      { dir: 'target', perRepository: true, writer: 'baseline', env: 'CARGO_TARGET_DIR', privateCopy: 'cargo-target' },
    ],
    // Plain output: colour codes would reach the parsers and the model.
    env: { CARGO_TERM_COLOR: 'never' },
    offlineEnv: { CARGO_NET_OFFLINE: 'true' },
  },
  // The pinned toolchain's version (`cargo +1.80.0 --version`), not the default's.
  versionArgv: (command) => [command[0], ...(command[1]?.startsWith('+') ? [command[1]] : []), '--version'],
  // Cargo's JSON lines are for us, not for the progress view.
  isMachineLine: (line) => line.startsWith('{"reason"'),
  parse(format, { stdout, stderr, exitCode }) {
    if (format === 'cargo-json') {
      const diagnostics = parseCargoMessages(stdout);
      return { diagnostics: diagnostics.length === 0 && exitCode !== 0 ? parseRustcText(stderr) : diagnostics, tests: null };
    }
    if (format === 'cargo-test') {
      const report = parseCargoTest(stdout, stderr);
      return { diagnostics: report.compileErrors, tests: report };
    }
    return { diagnostics: [], tests: null };
  },
  depsFailureLine,
  narrow: narrowCommand,
  selectTests: selectCargoTests,
  scopeBaselineFailures,
  isTestFile: isRustTestFile,
  reproduction: {
    conventions:
      'A new integration test file `tests/<name>.rs` (at the top of the crate) that uses the crate by its name from Cargo.toml (`use <crate_name>::...;`, hyphens as underscores) and holds one or a few `#[test] fn` functions with `assert_eq!`/`assert!`. It sees only the public API; no new dependencies.',
    // Only that file's test binary runs (`--test <name>`); a workspace-wide command stays whole.
    narrowToFile: (argv, file) => {
      const m = /^tests\/([A-Za-z0-9_-]+)\.rs$/.exec(file);
      if (!m || argv.includes('--workspace') || argv.includes('-p')) return null;
      return [...argv, '--test', m[1]];
    },
  },
  withChangeTestCode: (file, baseText, changeText) => (file.endsWith('.rs') ? withChangeTestModules(baseText, changeText) : null),
  dependencies: {
    ecosystem: 'cargo',
    manifest: 'Cargo.toml',
    lockfile: 'Cargo.lock',
    registry: 'crates.io',
    memberManifests: (rootText, files) => cargoMemberDirs(rootText, files).map((dir) => `${dir}/Cargo.toml`),
    declared: (file, text, rootText) => ({ declared: cargoDeclared(file, text, cargoWorkspaceDeps(rootText)), scripts: [] }),
    locked: cargoLocked,
    localLockedIsOwnCode: true,
    lockInstallScripts: false,
    buildDependenciesRun: true,
    traits: (finding, repoDir, cacheDir) => findCrateTraits(finding, repoDir, path.join(cacheDir, CARGO_HOME_CACHE)),
  },
  context: rustContext,
};
