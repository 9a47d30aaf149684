import { afterEach, describe, expect, it } from '@jest/globals';
import { hostInstalls } from '../../../src/toolchains/registry.js';
import { rust } from '../../../src/toolchains/rust/index.js';
import { chmodSync, mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createExec } from '../../../src/ports/exec.js';
import { createSandbox, isSecretName, pickSandbox, scrubbedEnv, workspaceTarget } from '../../../src/ports/sandbox/index.js';

const exec = createExec();
const cleanups: (() => void)[] = [];

afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

function tempDir(prefix: string): string {
  const dir = realpathSync(mkdtempSync(path.join(os.tmpdir(), prefix)));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

// A home with rustup's layout: ~/.cargo/bin/cargo and ~/.rustup.
function fakeRustHome(): string {
  const home = tempDir('autodev-home-');
  mkdirSync(path.join(home, '.cargo', 'bin'), { recursive: true });
  mkdirSync(path.join(home, '.rustup'));
  writeFileSync(path.join(home, '.cargo', 'bin', 'cargo'), '#!/bin/sh\n');
  chmodSync(path.join(home, '.cargo', 'bin', 'cargo'), 0o755);
  return home;
}

describe('scrubbedEnv', () => {
  it('derives PATH and the rust homes and copies no host variable', () => {
    const home = fakeRustHome();
    const hostEnv = {
      HOME: home,
      PATH: `/opt/tool/bin:${home}/bin:relative/bin`,
      GITHUB_TOKEN: 'ghp_x',
      AWS_SECRET_ACCESS_KEY: 'y',
      RUST_BACKTRACE: '1',
      SOMETHING_ELSE: 'z',
    };
    // As the verify step builds it: the toolchain's fixed env as extra, its host installation located.
    const env = scrubbedEnv({ ...rust.sandbox.env }, { kind: 'bwrap', hostEnv, installs: hostInstalls() });
    expect(env.HOME).toBe('/tmp');
    expect(env.LANG).toBe('C.UTF-8');
    expect(env.CARGO_TERM_COLOR).toBe('never');
    expect(env.CI).toBe('true');
    expect(env.CARGO_HOME).toBe(path.join(home, '.cargo'));
    expect(env.RUSTUP_HOME).toBe(path.join(home, '.rustup'));
    const entries = env.PATH.split(':');
    expect(entries).toContain('/usr/bin');
    expect(entries).toContain(path.join(home, '.cargo', 'bin'));
    expect(entries).toContain('/opt/tool/bin');
    expect(entries).toContain(path.dirname(process.execPath));
    expect(entries).not.toContain(`${home}/bin`);
    expect(entries).not.toContain('relative/bin');
    expect(Object.keys(env).sort()).toEqual(['CARGO_HOME', 'CARGO_TERM_COLOR', 'CI', 'HOME', 'LANG', 'PATH', 'RUSTUP_HOME']);
  });

  it('honours CARGO_HOME and RUSTUP_HOME of the host and a writable CARGO_HOME from the caller', () => {
    const home = fakeRustHome();
    const hostEnv = { HOME: '/nonexistent-home', CARGO_HOME: path.join(home, '.cargo'), RUSTUP_HOME: path.join(home, '.rustup') };
    expect(scrubbedEnv({}, { kind: 'none', hostEnv, installs: hostInstalls() }).RUSTUP_HOME).toBe(path.join(home, '.rustup'));
    const env = scrubbedEnv({ CARGO_HOME: '/cache/cargo' }, { kind: 'bwrap', hostEnv, installs: hostInstalls() });
    expect(env.CARGO_HOME).toBe('/cache/cargo');
    expect(env.PATH.split(':')).toContain(path.join(home, '.cargo', 'bin'));
  });

  it('sets no rust variables without cargo', () => {
    const env = scrubbedEnv({}, { kind: 'bwrap', hostEnv: { HOME: tempDir('autodev-home-'), PATH: '/usr/bin' }, installs: hostInstalls() });
    expect(env.CARGO_HOME).toBeUndefined();
    expect(env.RUSTUP_HOME).toBeUndefined();
  });

  it('gives containers no host paths (the image has its own)', () => {
    const env = scrubbedEnv(
      { ...rust.sandbox.env, RUST_LOG: 'debug' },
      { kind: 'docker', hostEnv: { HOME: fakeRustHome(), PATH: '/usr/bin' }, installs: hostInstalls() },
    );
    expect(env).toEqual({ HOME: '/tmp', LANG: 'C.UTF-8', CARGO_TERM_COLOR: 'never', CI: 'true', RUST_LOG: 'debug' });
  });

  it('never passes a secret-looking name, from the host or from extra', () => {
    const hostEnv = { HOME: '/nonexistent-home', RUST_BACKTRACE: '1', NPM_TOKEN: 'a', DB_PASSWORD: 'b' };
    const env = scrubbedEnv(
      { OPENAI_API_KEY: 'sk-x', MY_SECRET: 's', FEATURE: 'on' },
      { kind: 'none', hostEnv, passthrough: ['RUST_BACKTRACE', 'NPM_TOKEN', 'DB_PASSWORD', 'MISSING'] },
    );
    expect(env.RUST_BACKTRACE).toBe('1');
    expect(env.FEATURE).toBe('on');
    for (const name of ['NPM_TOKEN', 'DB_PASSWORD', 'OPENAI_API_KEY', 'MY_SECRET', 'MISSING']) expect(env[name]).toBeUndefined();
  });

  it('recognises secret names', () => {
    for (const name of [
      'GITHUB_TOKEN',
      'GH_TOKEN',
      'AWS_SECRET_ACCESS_KEY',
      'OPENAI_API_KEY',
      'APIKEY',
      'PGPASSWORD',
      'SSH_KEY',
      'NPM_AUTH',
      'GH_PAT',
      'CARGO_REGISTRIES_X_TOKEN',
      'SENTRY_DSN',
    ]) {
      expect([name, isSecretName(name)]).toEqual([name, true]);
    }
    for (const name of ['PATH', 'HOME', 'LANG', 'CARGO_HOME', 'RUSTUP_HOME', 'CI', 'RUST_BACKTRACE', 'KEYBOARD_LAYOUT', 'MONKEY']) {
      expect([name, isSecretName(name)]).toEqual([name, false]);
    }
  });
});

describe('createSandbox / pickSandbox / workspaceTarget', () => {
  it('creates each kind', () => {
    for (const kind of ['docker', 'podman', 'bwrap', 'none'] as const) {
      expect(createSandbox(kind, { exec, image: 'rust:1' }).kind).toBe(kind);
    }
  });

  it('picks bwrap on this machine after docker (no engine) and podman (not installed), never none', async () => {
    const pick = await pickSandbox('auto', { exec, image: 'rust:1' });
    expect(pick.sandbox?.kind).toBe('bwrap');
    expect(pick.checked.map((entry) => entry.kind)).toEqual(['docker', 'podman', 'bwrap']);
    expect(pick.checked[0].problem).toMatch(/^docker: no engine answers/);
    expect(pick.checked[1].problem).toMatch(/^podman is not on PATH/);
    expect(pick.checked[2].problem).toBeNull();
  });

  it('returns no sandbox with the reason when the preferred one is unusable', async () => {
    const pick = await pickSandbox('docker', { exec, image: 'rust:1' });
    expect(pick.sandbox).toBeNull();
    expect(pick.checked).toHaveLength(1);
    expect(pick.checked[0].problem).toMatch(/docker/);
  });

  it('takes none only when asked', async () => {
    const pick = await pickSandbox('none', { exec });
    expect(pick.sandbox?.kind).toBe('none');
  });

  it('knows where the workspace appears', () => {
    expect(workspaceTarget('docker', '/tmp/x')).toBe('/workspace');
    expect(workspaceTarget('podman', '/tmp/x')).toBe('/workspace');
    expect(workspaceTarget('bwrap', '/tmp/x/')).toBe('/tmp/x');
    expect(workspaceTarget('none', '/tmp/x')).toBe('/tmp/x');
  });
});

describe('none sandbox (real)', () => {
  it('runs in the workspace with the given env only', async () => {
    const workspace = tempDir('autodev-none-ws-');
    process.env.FAKE_TOKEN = 'ghp_fake_value_for_the_none_test';
    try {
      const sandbox = createSandbox('none', { exec });
      const env = scrubbedEnv({}, { kind: 'none' });
      const spec = { workspace, command: ['sh', '-c', 'pwd; env'], env, network: false, timeoutMs: 10_000 };
      expect(sandbox.argv(spec)).toEqual(['sh', '-c', 'pwd; env']);
      const result = await sandbox.run(spec);
      expect(result.exitCode).toBe(0);
      expect(result.stdout.split('\n')[0]).toBe(workspace);
      expect(result.stdout).not.toContain('FAKE_TOKEN');
      expect(result.stdout).toContain('CI=true');
    } finally {
      delete process.env.FAKE_TOKEN;
    }
  });
});
