// The Rust toolchain's answers through the Toolchain interface: what verify, the planner's facts
// and the sandbox ask of it, on text and temp dirs.
import { afterEach, describe, expect, it } from '@jest/globals';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { rust } from '../../../src/toolchains/rust/index.js';

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

describe('rust toolchain', () => {
  it('asks the pinned toolchain for its version', () => {
    expect(rust.versionArgv!(['cargo', '+1.80.0', 'clippy', '--offline'])).toEqual(['cargo', '+1.80.0', '--version']);
    expect(rust.versionArgv!(['cargo', 'test', '--offline'])).toEqual(['cargo', '--version']);
  });

  it('reads rustc text only when cargo printed no JSON diagnostic and failed', () => {
    const rustc = 'error[E0308]: mismatched types\n --> src/lib.rs:2:5\n  |\n2 |     "x"\n  |     ^^^ expected `i32`, found `&str`\n';
    expect(rust.parse('cargo-json', { stdout: '', stderr: rustc, exitCode: 101 }).diagnostics.map((d) => d.code)).toEqual(['E0308']);
    expect(rust.parse('cargo-json', { stdout: '', stderr: rustc, exitCode: 0 }).diagnostics).toEqual([]);
    expect(rust.parse('tsc', { stdout: 'x', stderr: '', exitCode: 1 })).toEqual({ diagnostics: [], tests: null });
  });

  it('narrows a whole-workspace command to the touched package and its dependents', () => {
    const workspace = {
      members: [
        { name: 'core', dir: 'crates/core', dependsOn: [] },
        { name: 'cli', dir: 'crates/cli', dependsOn: ['core'] },
        { name: 'other', dir: 'crates/other', dependsOn: [] },
      ],
    };
    expect(rust.narrow!(['cargo', 'test', '--workspace'], workspace, ['crates/core/src/lib.rs'])).toEqual({
      argv: ['cargo', 'test', '-p', 'core', '-p', 'cli'],
      packages: ['core', 'cli'],
      label: '-p core -p cli',
    });
    // A root manifest change, or a command without --workspace, runs everything.
    expect(rust.narrow!(['cargo', 'test', '--workspace'], workspace, ['Cargo.toml'])).toBeNull();
    expect(rust.narrow!(['cargo', 'test'], workspace, ['crates/core/src/lib.rs'])).toBeNull();
  });

  it('finds workspace members on disk once, with the matcher the dependency check uses on file lists', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'autodev-rust-members-'));
    dirs.push(dir);
    const root = '[workspace]\nmembers = ["crates/*"]\nexclude = ["crates/skip"]\n';
    await writeFile(path.join(dir, 'Cargo.toml'), root);
    for (const name of ['a', 'b', 'skip']) {
      await mkdir(path.join(dir, 'crates', name), { recursive: true });
      await writeFile(path.join(dir, 'crates', name, 'Cargo.toml'), `[package]\nname = "${name}"\nversion = "0.1.0"\n`);
    }
    await mkdir(path.join(dir, 'crates', 'no-manifest'));
    const manifests: Record<string, string> = { 'Cargo.toml': root };
    expect(await rust.readMembers!(dir, manifests)).toEqual(['crates/a', 'crates/b']);
    expect(Object.keys(manifests).sort()).toEqual(['Cargo.toml', 'crates/a/Cargo.toml', 'crates/b/Cargo.toml']);
    const files = ['Cargo.toml', 'crates/a/Cargo.toml', 'crates/b/Cargo.toml', 'crates/skip/Cargo.toml'];
    expect(rust.dependencies!.memberManifests(root, files)).toEqual(['crates/a/Cargo.toml', 'crates/b/Cargo.toml']);
  });

  it('finds a rustup installation under a home, and none without cargo', async () => {
    const home = await mkdtemp(path.join(os.tmpdir(), 'autodev-rust-home-'));
    dirs.push(home);
    expect(rust.hostInstall!({ HOME: home }, home)).toBeNull();
    await mkdir(path.join(home, '.cargo', 'bin'), { recursive: true });
    await writeFile(path.join(home, '.cargo', 'bin', 'cargo'), '#!/bin/sh\n', { mode: 0o755 });
    expect(rust.hostInstall!({ HOME: home }, home)).toEqual({
      path: [path.join(home, '.cargo', 'bin')],
      env: { CARGO_HOME: path.join(home, '.cargo') },
    });
    await mkdir(path.join(home, '.rustup'));
    expect(rust.hostInstall!({ HOME: home }, home)?.env.RUSTUP_HOME).toBe(path.join(home, '.rustup'));
  });

  it('keeps downloads shared and written by the fetch only, build output per repository and copied for the change', () => {
    expect(rust.sandbox.caches).toEqual([
      { dir: 'cargo-home', perRepository: false, writer: 'deps', env: 'CARGO_HOME' },
      { dir: 'target', perRepository: true, writer: 'baseline', env: 'CARGO_TARGET_DIR', privateCopy: 'cargo-target' },
    ]);
    expect(rust.sandbox.offlineEnv).toEqual({ CARGO_NET_OFFLINE: 'true' });
  });
});
