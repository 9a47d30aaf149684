// A task's private copy of the shared target dir, for real: cargo in bubblewrap builds the base into
// the shared dir, the change builds in the copy, and the copy is warm (the unchanged dependency is
// fresh) while the shared dir stays exactly as the base left it.

import { hostInstalls } from '../../../src/toolchains/registry.js';
import { sandboxBinds } from '../../../src/plan/toolchains.js';
import { afterEach, describe, expect, it } from '@jest/globals';
import { mkdirSync, mkdtempSync, readdirSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createExec } from '../../../src/ports/exec.js';
import { createBwrapSandbox, privateCopy, scrubbedEnv } from '../../../src/ports/sandbox/index.js';
import type { Mount } from '../../../src/ports/types.js';

const exec = createExec({ killGraceMs: 500 });
const sandbox = createBwrapSandbox({ exec });
const cleanups: (() => void)[] = [];

afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

function tempDir(prefix: string): string {
  const dir = realpathSync(mkdtempSync(path.join(os.tmpdir(), prefix)));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Every file under `dir` with its size and mtime: what a build would change. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    const file = path.join(entry.parentPath, entry.name);
    const stat = statSync(file);
    out[path.relative(dir, file)] = `${stat.size}:${stat.mtimeMs}`;
  }
  return out;
}

/** `cargo build` in bwrap with `targetDir` as the only writable cache; the crates it compiled, and whether each was fresh. */
async function build(workspace: string, cargoHome: string, targetDir: string): Promise<Record<string, boolean>> {
  const mounts: Mount[] = [
    { host: cargoHome, target: cargoHome, writable: false },
    { host: targetDir, target: targetDir, writable: true },
  ];
  const env = scrubbedEnv(
    { CARGO_HOME: cargoHome, CARGO_TARGET_DIR: targetDir, CARGO_NET_OFFLINE: 'true' },
    { kind: 'bwrap', installs: hostInstalls() },
  );
  const result = await sandbox.run({
    workspace,
    command: ['cargo', 'build', '--offline', '--message-format=json'],
    env,
    network: false,
    mounts,
    toolchains: sandboxBinds(),
    timeoutMs: 120_000,
  });
  expect({ exitCode: result.exitCode, stderr: result.exitCode ? result.stderr : '' }).toEqual({ exitCode: 0, stderr: '' });
  const fresh: Record<string, boolean> = {};
  for (const line of result.stdout.split('\n')) {
    if (!line.startsWith('{')) continue;
    const message = JSON.parse(line) as { reason: string; target?: { name: string }; fresh?: boolean };
    if (message.reason === 'compiler-artifact' && message.target) fresh[message.target.name] = message.fresh ?? false;
  }
  return fresh;
}

describe('privateCopy (real cargo in bwrap)', () => {
  it('gives the change a warm copy of the shared target dir and leaves the shared one untouched', async () => {
    const workspace = tempDir('autodev-copy-ws-');
    const cargoHome = tempDir('autodev-copy-home-');
    const shared = tempDir('autodev-copy-shared-');
    const taskDir = tempDir('autodev-copy-task-');
    writeFileSync(
      path.join(workspace, 'Cargo.toml'),
      '[package]\nname = "app"\nversion = "0.1.0"\nedition = "2021"\n\n[dependencies]\nhelper = { path = "helper" }\n',
    );
    mkdirSync(path.join(workspace, 'src'));
    writeFileSync(path.join(workspace, 'src', 'lib.rs'), 'pub fn two() -> u32 { helper::one() + 1 }\n');
    mkdirSync(path.join(workspace, 'helper', 'src'), { recursive: true });
    writeFileSync(path.join(workspace, 'helper', 'Cargo.toml'), '[package]\nname = "helper"\nversion = "0.1.0"\nedition = "2021"\n');
    writeFileSync(path.join(workspace, 'helper', 'src', 'lib.rs'), 'pub fn one() -> u32 { 1 }\n');

    // The base builds into the shared dir.
    expect(await build(workspace, cargoHome, shared)).toEqual({ helper: false, app: false });
    const before = snapshot(shared);

    // The change builds in the task's copy: only what it touched is compiled again.
    const copy = await privateCopy(exec, shared, path.join(taskDir, 'cargo-target'));
    expect(copy).toMatchObject({ dir: path.join(taskDir, 'cargo-target'), how: 'copied' });
    writeFileSync(path.join(workspace, 'src', 'lib.rs'), 'pub fn two() -> u32 { helper::one() + helper::one() }\n');
    expect(await build(workspace, cargoHome, copy.dir)).toEqual({ helper: true, app: false });
    expect(snapshot(shared)).toEqual(before);
    expect(readdirSync(taskDir)).toEqual(['cargo-target']);

    // Later rounds of the same task keep building in the same copy.
    expect(await privateCopy(exec, shared, copy.dir)).toMatchObject({ how: 'reused' });
  });

  it('starts empty when there is no shared dir yet', async () => {
    const taskDir = tempDir('autodev-copy-task-');
    const copy = await privateCopy(exec, path.join(taskDir, 'missing'), path.join(taskDir, 'cargo-target'));
    expect(copy.how).toBe('empty');
    expect(readdirSync(copy.dir)).toEqual([]);
  });
});
