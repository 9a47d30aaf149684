// bubblewrap for real: every isolation property is checked by running a command inside it.

import { hostInstalls } from '../../../src/toolchains/registry.js';
import { afterEach, describe, expect, it } from '@jest/globals';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createExec } from '../../../src/ports/exec.js';
import { sandboxBinds } from '../../../src/plan/toolchains.js';
import { bwrapArgv, createBwrapSandbox, scrubbedEnv, toolchainDirs, type BwrapLayout } from '../../../src/ports/sandbox/index.js';
import type { SandboxSpec } from '../../../src/ports/types.js';
import { uniqueSleepSeconds, waitUntilGone } from './process-helpers.js';

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

function spec(workspace: string, command: string[], overrides: Partial<SandboxSpec> = {}): SandboxSpec {
  // The toolchains' installations, as the plan hands them to the verify step.
  return {
    workspace,
    command,
    env: scrubbedEnv({}, { kind: 'bwrap', installs: hostInstalls() }),
    network: false,
    toolchains: sandboxBinds(),
    timeoutMs: 30_000,
    ...overrides,
  };
}

describe('bwrap sandbox (real)', () => {
  it('is usable on this machine', async () => {
    expect(await sandbox.check()).toBeNull();
  });

  it('runs a command in the workspace', async () => {
    const workspace = tempDir('autodev-bwrap-ws-');
    const result = await sandbox.run(spec(workspace, ['sh', '-c', 'echo hello; pwd']));
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toBe(`hello\n${workspace}\n`);
    expect(result.command[0]).toBe('bwrap');
  });

  it('unshares the network: only lo exists and a host server on 127.0.0.1 cannot be reached', async () => {
    const workspace = tempDir('autodev-bwrap-ws-');
    const server = net.createServer((socket) => {
      socket.on('error', () => undefined); // the probe exits as soon as it is connected
      socket.end('hi\n');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => server.close());
    const port = (server.address() as net.AddressInfo).port;
    const probe = [
      'node',
      '-e',
      `require('net').connect(${port}, '127.0.0.1')` +
        `.on('connect', () => { console.log('CONNECTED'); process.exit(0); })` +
        `.on('error', (e) => { console.log('FAILED ' + e.code); process.exit(7); })`,
    ];

    const devices = await sandbox.run(spec(workspace, ['cat', '/proc/net/dev']));
    const interfaces = devices.stdout
      .split('\n')
      .slice(2)
      .filter((line) => line.includes(':'))
      .map((line) => line.split(':')[0].trim());
    expect(interfaces).toEqual(['lo']);

    const isolated = await sandbox.run(spec(workspace, probe));
    expect(isolated.stdout).toMatch(/^FAILED /);
    expect(isolated.exitCode).toBe(7);

    // The same probe with network allowed reaches the server, so the failure above is the sandbox's doing.
    const open = await sandbox.run(spec(workspace, probe, { network: true }));
    expect(open.stdout).toBe('CONNECTED\n');
  });

  it('gives the command only the env of the spec', async () => {
    const workspace = tempDir('autodev-bwrap-ws-');
    process.env.FAKE_TOKEN = 'ghp_fake_value_for_the_bwrap_test';
    try {
      const env = scrubbedEnv({ MARKER: 'm1' }, { kind: 'bwrap' });
      expect(env.FAKE_TOKEN).toBeUndefined();
      const result = await sandbox.run(spec(workspace, ['/usr/bin/env'], { env }));
      expect(result.exitCode).toBe(0);
      expect(result.stdout).not.toContain('FAKE_TOKEN');
      expect(result.stdout).not.toContain('ghp_fake_value');
      const seen = Object.fromEntries(
        result.stdout
          .trim()
          .split('\n')
          .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
      );
      // bwrap's --chdir sets PWD; nothing else is added.
      expect(seen).toEqual({ ...env, PWD: workspace });
    } finally {
      delete process.env.FAKE_TOKEN;
    }
  });

  it('keeps the root read-only (even for root: no remount) and the workspace writable', async () => {
    const workspace = tempDir('autodev-bwrap-ws-');
    const probe = `autodev-probe-${process.pid}`;
    const result = await sandbox.run(
      spec(workspace, [
        'sh',
        '-c',
        `touch /usr/${probe} 2>/dev/null && echo ROOT-WRITABLE; ` +
          'mount -o remount,rw / 2>/dev/null && echo REMOUNTED; ' +
          `echo built > ${workspace}/out.txt && echo WS-OK; echo scratch > /tmp/scratch && echo TMP-OK`,
      ]),
    );
    expect(result.stdout).toBe('WS-OK\nTMP-OK\n');
    expect(existsSync(`/usr/${probe}`)).toBe(false);
    expect(readFileSync(path.join(workspace, 'out.txt'), 'utf8')).toBe('built\n');
    // The sandbox's /tmp is private.
    expect(existsSync('/tmp/scratch') && readFileSync('/tmp/scratch', 'utf8') === 'scratch\n').toBe(false);
  });

  it('hides the contents of the host home directory', async () => {
    const workspace = tempDir('autodev-bwrap-ws-');
    const home = os.homedir();
    const marker = path.join(home, `.autodev-test-secret-${process.pid}-${Date.now()}`);
    writeFileSync(marker, 'top secret\n');
    cleanups.push(() => rmSync(marker, { force: true }));
    const result = await sandbox.run(spec(workspace, ['sh', '-c', `cat ${marker} || echo HIDDEN; ls -A ${home}`]));
    expect(result.stdout).not.toContain('top secret');
    expect(result.stdout.split('\n')[0]).toBe('HIDDEN');
    // Only the toolchain directories bound back read-only remain visible.
    const visible = result.stdout
      .split('\n')
      .slice(1)
      .filter((line) => line.length > 0);
    for (const entry of visible) expect(['.cargo', '.rustup']).toContain(entry);
  });

  it('reaches no unix socket of the host: listeners under /var/tmp, /run, /tmp and /dev/shm are absent inside, abstract ones refused', async () => {
    const workspace = tempDir('autodev-bwrap-ws-');
    const varTmp = realpathSync(mkdtempSync('/var/tmp/autodev-sock-'));
    cleanups.push(() => rmSync(varTmp, { recursive: true, force: true }));
    const tag = `${process.pid}-${Date.now()}`;
    const files = [
      path.join(varTmp, 'agent.sock'),
      `/run/autodev-test-${tag}.sock`,
      path.join(tempDir('autodev-sock-'), 'x.sock'),
      `/dev/shm/autodev-test-${tag}.sock`,
    ];
    // An abstract socket has no path; it belongs to the network namespace, which the sandbox does not share.
    const sockets = [...files, `\0autodev-test-${tag}`];
    for (const socket of sockets) {
      const server = net.createServer((connection) => {
        connection.on('error', () => undefined); // the probe hangs up as soon as it is connected
        connection.end();
      });
      await new Promise<void>((resolve) => server.listen(socket, resolve));
      cleanups.push(() => server.close());
    }
    const probe = [
      'node',
      '-e',
      `const paths = ${JSON.stringify(sockets)};` +
        `(async () => { for (const p of paths) console.log(await new Promise((done) => require('net').connect(p)` +
        `.on('connect', function () { this.destroy(); done('CONNECTED'); }).on('error', (e) => done('FAILED ' + e.code)))); })();`,
    ];
    // The probe reaches every listener from the host, so a failure inside is the sandbox's doing.
    const host = await exec.run(probe, { env: { PATH: process.env.PATH ?? '/usr/bin:/bin' }, timeoutMs: 30_000 });
    expect(host.stdout).toBe('CONNECTED\n'.repeat(sockets.length));
    const inside = await sandbox.run(spec(workspace, probe));
    expect(inside.stdout).toBe(`${'FAILED ENOENT\n'.repeat(files.length)}FAILED ECONNREFUSED\n`);
    // And nothing of those directories' contents is there to find.
    const listing = await sandbox.run(spec(workspace, ['sh', '-c', 'ls -A /run /var/run/ /var/tmp /dev/shm']));
    expect(listing.exitCode).toBe(0);
    expect(listing.stdout.split('\n').filter((line) => line && !line.endsWith(':'))).toEqual([]);
  });

  it('shows none of the host beyond the system, a minimal /etc and the toolchains: no /etc/shadow, no other directory', async () => {
    const workspace = tempDir('autodev-bwrap-ws-');
    // A sibling project outside /tmp (which was always private), and this repository's own checkout.
    const sibling = realpathSync(mkdtempSync('/var/tmp/autodev-sibling-'));
    cleanups.push(() => rmSync(sibling, { recursive: true, force: true }));
    writeFileSync(path.join(sibling, 'secret.txt'), 'sibling secret\n');
    const project = path.join(process.cwd(), 'package.json');
    expect(readFileSync('/etc/shadow', 'utf8').length).toBeGreaterThan(0); // we run as root: the host file is readable
    const result = await sandbox.run(
      spec(workspace, [
        'sh',
        '-c',
        `cat /etc/shadow 2>/dev/null && echo SHADOW; cat ${sibling}/secret.txt 2>/dev/null; test -e ${project} && echo PROJECT; ` +
          'ls /; ls /etc | grep -c . ; test -e /etc/gitconfig && echo GITCONFIG; test -e /etc/ssl/private && echo SSL-PRIVATE; ' +
          'touch /newfile 2>/dev/null && echo ROOT-WRITABLE; touch /etc/newfile 2>/dev/null && echo ETC-WRITABLE; exit 0',
      ]),
    );
    expect(result.stderr).toBe('');
    const lines = result.stdout.trim().split('\n');
    const top = lines.slice(0, -1);
    // Only what builds need at the top level; the nonexistent /lib32 and friends are skipped.
    for (const entry of top)
      expect(['bin', 'dev', 'etc', 'lib', 'lib32', 'lib64', 'libx32', 'nix', 'proc', 'root', 'run', 'sbin', 'tmp', 'usr', 'var']).toContain(
        entry,
      );
    for (const absent of ['home', 'srv', 'opt', 'mnt', 'work', 'boot', 'media']) expect(top).not.toContain(absent);
    // /root is there only as the parent of the bound toolchain directories.
    expect(Number(lines.at(-1))).toBeLessThan(40);
    expect(result.stdout).not.toMatch(/SHADOW|sibling secret|PROJECT|GITCONFIG|SSL-PRIVATE|WRITABLE/);
  });

  it('hides engine sockets behind /dev/null', async () => {
    const workspace = tempDir('autodev-bwrap-ws-');
    const socket = path.join(workspace, 'engine.sock');
    const server = net.createServer((connection) => connection.end());
    await new Promise<void>((resolve) => server.listen(socket, resolve));
    cleanups.push(() => server.close());
    const hiding = createBwrapSandbox({ exec, hideFiles: [socket] });
    const result = await hiding.run(spec(workspace, ['stat', '-c', '%F', socket]));
    expect(result.stdout).toBe('character special file\n');
    const visible = await sandbox.run(spec(workspace, ['stat', '-c', '%F', socket]));
    expect(visible.stdout).toBe('socket\n');
  });

  it('keeps the rust toolchain usable: cargo --version works inside', async () => {
    const workspace = tempDir('autodev-bwrap-ws-');
    const cargoHome = tempDir('autodev-cargo-home-');
    const env = scrubbedEnv({ CARGO_HOME: cargoHome }, { kind: 'bwrap', installs: hostInstalls() });
    const result = await sandbox.run(
      spec(workspace, ['cargo', '--version'], { env, mounts: [{ host: cargoHome, target: cargoHome, writable: true }] }),
    );
    expect(result.stderr).toBe('');
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toMatch(/^cargo \d+\.\d+\.\d+/);
  });

  it('builds and tests a real cargo project with a read-only CARGO_HOME and a writable target dir', async () => {
    const workspace = tempDir('autodev-bwrap-crate-');
    const cargoHome = tempDir('autodev-cargo-home-');
    const targetDir = tempDir('autodev-cargo-target-');
    writeFileSync(path.join(workspace, 'Cargo.toml'), '[package]\nname = "probe"\nversion = "0.1.0"\nedition = "2021"\n');
    mkdirSync(path.join(workspace, 'src'));
    writeFileSync(path.join(workspace, 'src', 'lib.rs'), 'pub fn two() -> u32 { 2 }\n#[test]\nfn it_is_two() { assert_eq!(two(), 2); }\n');
    const env = scrubbedEnv(
      { CARGO_HOME: cargoHome, CARGO_TARGET_DIR: targetDir, CARGO_NET_OFFLINE: 'true' },
      { kind: 'bwrap', installs: hostInstalls() },
    );
    const mounts = [
      { host: cargoHome, target: cargoHome, writable: false },
      { host: targetDir, target: targetDir, writable: true },
    ];
    const result = await sandbox.run(spec(workspace, ['cargo', 'test', '-q'], { env, mounts, timeoutMs: 120_000 }));
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain('1 passed');
    expect(existsSync(path.join(targetDir, 'debug'))).toBe(true);
  });

  it('kills everything inside on timeout', async () => {
    const workspace = tempDir('autodev-bwrap-ws-');
    const seconds = uniqueSleepSeconds();
    const result = await sandbox.run(spec(workspace, ['sh', '-c', `sleep ${seconds} & sleep ${seconds}`], { timeoutMs: 700 }));
    expect(result.timedOut).toBe(true);
    expect(await waitUntilGone((p) => p.argv.includes(seconds))).toEqual([]);
  });

  it('kills everything inside when cancelled', async () => {
    const workspace = tempDir('autodev-bwrap-ws-');
    const seconds = uniqueSleepSeconds();
    const controller = new AbortController();
    const running = sandbox.run(
      spec(workspace, ['sh', '-c', `echo go; sleep ${seconds} & sleep ${seconds}`], {
        signal: controller.signal,
        onLine: () => setTimeout(() => controller.abort(), 300),
      }),
    );
    const result = await running;
    expect(result.cancelled).toBe(true);
    expect(await waitUntilGone((p) => p.argv.includes(seconds))).toEqual([]);
  });
});

describe('bwrapArgv (data)', () => {
  const env = { PATH: '/usr/bin:/bin:/home/dev/.cargo/bin:/opt/tools/bin', RUSTUP_HOME: '/home/dev/.rustup', HOME: '/tmp' };
  const base: SandboxSpec = {
    workspace: '/work/ws',
    command: ['cargo', 'build'],
    env,
    network: false,
    timeoutMs: 1000,
    mounts: [
      { host: '/cache/cargo', target: '/cache/cargo', writable: true },
      { host: '/data/ref', target: '/ref', writable: false },
    ],
  };
  const layout: BwrapLayout = {
    system: [
      { path: '/usr', link: null },
      { path: '/bin', link: 'usr/bin' },
      { path: '/lib64', link: null },
    ],
    etc: ['/etc/passwd', '/etc/ssl/certs'],
    // Inside /usr (bound already) and inside the workspace: not bound again.
    toolchains: ['/home/dev/.cargo/bin', '/home/dev/.rustup/toolchains', '/usr/lib/jvm/jdk', '/work/ws/tools'],
    hide: ['/home', '/home/dev', '/root'],
    // Only an engine socket inside something bound needs covering; /run is an empty tmpfs anyway.
    hideFiles: ['/run/docker.sock', '/work/ws/engine.sock'],
  };

  it('binds the system, a minimal /etc, toolchains, workspace and mounts; masks /tmp, /var/tmp, /run; never binds /', () => {
    expect(bwrapArgv(base, layout)).toEqual([
      'bwrap',
      '--die-with-parent',
      '--new-session',
      '--unshare-pid',
      '--unshare-ipc',
      '--unshare-uts',
      '--unshare-net',
      '--cap-drop',
      'ALL',
      '--ro-bind',
      '/usr',
      '/usr',
      '--symlink',
      'usr/bin',
      '/bin',
      '--ro-bind',
      '/lib64',
      '/lib64',
      '--dev',
      '/dev',
      '--proc',
      '/proc',
      '--tmpfs',
      '/tmp',
      '--tmpfs',
      '/var/tmp',
      '--tmpfs',
      '/run',
      '--symlink',
      '../run',
      '/var/run',
      '--ro-bind-try',
      '/etc/passwd',
      '/etc/passwd',
      '--ro-bind-try',
      '/etc/ssl/certs',
      '/etc/ssl/certs',
      '--ro-bind-try',
      '/home/dev/.cargo/bin',
      '/home/dev/.cargo/bin',
      '--ro-bind-try',
      '/home/dev/.rustup/toolchains',
      '/home/dev/.rustup/toolchains',
      '--bind',
      '/work/ws',
      '/work/ws',
      '--bind',
      '/cache/cargo',
      '/cache/cargo',
      '--ro-bind',
      '/data/ref',
      '/ref',
      '--ro-bind',
      '/dev/null',
      '/work/ws/engine.sock',
      '--remount-ro',
      '/',
      '--clearenv',
      '--setenv',
      'PATH',
      env.PATH,
      '--setenv',
      'RUSTUP_HOME',
      '/home/dev/.rustup',
      '--setenv',
      'HOME',
      '/tmp',
      '--chdir',
      '/work/ws',
      '--',
      'cargo',
      'build',
    ]);
  });

  it('shares the network only when asked, and honours cwd', () => {
    const argv = bwrapArgv({ ...base, network: true, cwd: '/work/ws/sub' }, { ...layout, hide: [], hideFiles: [] });
    expect(argv).not.toContain('--unshare-net');
    expect(argv).toContain('--unshare-pid');
    expect(argv.slice(argv.indexOf('--chdir'), argv.indexOf('--chdir') + 2)).toEqual(['--chdir', '/work/ws/sub']);
  });

  it('hides a home that lies inside the workspace after binding the workspace', () => {
    const argv = bwrapArgv({ ...base, workspace: '/home', mounts: [] }, { ...layout, toolchains: [], hide: ['/home/dev'], hideFiles: [] });
    const bind = argv.indexOf('--bind');
    expect(argv.slice(bind, bind + 5)).toEqual(['--bind', '/home', '/home', '--tmpfs', '/home/dev']);
  });
});

describe('toolchainDirs (real files)', () => {
  it("binds the PATH directory and the installation a program resolves to, rustup's parts, never a home", () => {
    const root = tempDir('autodev-toolchains-');
    const home = path.join(root, 'home', 'dev');
    // rustup's layout: proxies in ~/.cargo/bin link to rustup; ~/.cargo also holds credentials.
    mkdirSync(path.join(home, '.cargo', 'bin'), { recursive: true });
    writeFileSync(path.join(home, '.cargo', 'bin', 'rustup'), '#!/bin/sh\n', { mode: 0o755 });
    symlinkSync('rustup', path.join(home, '.cargo', 'bin', 'cargo'));
    writeFileSync(path.join(home, '.cargo', 'credentials.toml'), 'token = "x"\n');
    for (const dir of ['toolchains', 'update-hashes', 'downloads']) mkdirSync(path.join(home, '.rustup', dir), { recursive: true });
    writeFileSync(path.join(home, '.rustup', 'settings.toml'), '');
    // A node installation under /opt-like prefix, reached through a symlink in a PATH directory.
    const prefix = path.join(root, 'opt', 'node-v20');
    mkdirSync(path.join(prefix, 'bin'), { recursive: true });
    writeFileSync(path.join(prefix, 'bin', 'node'), '#!/bin/sh\n', { mode: 0o755 });
    mkdirSync(path.join(root, 'bin'));
    symlinkSync(path.join(prefix, 'bin', 'node'), path.join(root, 'bin', 'node'));
    // A program straight in the home's bin: its installation root would be the home itself.
    mkdirSync(path.join(home, 'bin'));
    writeFileSync(path.join(home, 'bin', 'go'), '#!/bin/sh\n', { mode: 0o755 });
    // Not executable: not a program.
    writeFileSync(path.join(root, 'bin', 'git'), '');

    const env = {
      PATH: [path.join(home, '.cargo', 'bin'), path.join(root, 'bin'), path.join(home, 'bin'), 'relative/bin'].join(':'),
      RUSTUP_HOME: path.join(home, '.rustup'),
    };
    expect(toolchainDirs(env, [path.join(root, 'home'), home], sandboxBinds()).sort()).toEqual(
      [
        path.join(home, '.cargo', 'bin'),
        path.join(home, '.rustup', 'toolchains'),
        path.join(home, '.rustup', 'settings.toml'),
        path.join(home, '.rustup', 'update-hashes'),
        path.join(root, 'bin'),
        prefix,
        path.join(home, 'bin'),
      ].sort(),
    );
  });
});
