// docker and podman: the command line as data, check() against the real CLI (a docker CLI with no
// engine behind it on this machine), and the force-remove after a timeout through a recording exec.

import { describe, expect, it } from '@jest/globals';
import { createExec } from '../../../src/ports/exec.js';
import { containerArgv, createDockerSandbox, createPodmanSandbox } from '../../../src/ports/sandbox/index.js';
import type { Exec, ExecOptions, ExecResult, SandboxSpec } from '../../../src/ports/types.js';

const exec = createExec();

const spec: SandboxSpec = {
  workspace: '/tmp/task-1/repo',
  command: ['cargo', 'test', '--offline'],
  env: { HOME: '/tmp', CI: 'true', CARGO_HOME: '/cargo-cache' },
  network: false,
  timeoutMs: 60_000,
  mounts: [
    { host: '/var/cache/autodev/cargo', target: '/cargo-cache', writable: true },
    { host: '/srv/fixtures', target: '/fixtures', writable: false },
  ],
};

describe('containerArgv', () => {
  it('builds the docker command line', () => {
    expect(containerArgv('docker', spec, { image: 'rust:1', uid: 1000, gid: 1000 })).toEqual([
      'docker',
      'run',
      '--rm',
      '--init',
      '--pull',
      'never',
      '--network',
      'none',
      '--user',
      '1000:1000',
      '--cap-drop',
      'ALL',
      '--security-opt',
      'no-new-privileges',
      '-v',
      '/tmp/task-1/repo:/workspace',
      '-v',
      '/var/cache/autodev/cargo:/cargo-cache',
      '-v',
      '/srv/fixtures:/fixtures:ro',
      '-w',
      '/workspace',
      '-e',
      'HOME=/tmp',
      '-e',
      'CI=true',
      '-e',
      'CARGO_HOME=/cargo-cache',
      'rust:1',
      'cargo',
      'test',
      '--offline',
    ]);
  });

  it('uses the default network only when asked, and honours cwd and the run name', () => {
    const argv = containerArgv(
      'docker',
      { ...spec, network: true, cwd: '/workspace/crates/a' },
      { image: 'rust:1', uid: 0, gid: 0, name: 'autodev-7' },
    );
    expect(argv).not.toContain('--network');
    expect(argv.slice(0, 8)).toEqual(['docker', 'run', '--rm', '--init', '--pull', 'never', '--name', 'autodev-7']);
    expect(argv.slice(argv.indexOf('-w'), argv.indexOf('-w') + 2)).toEqual(['-w', '/workspace/crates/a']);
  });

  it('keeps the user id for rootless podman only', () => {
    const rootless = containerArgv('podman', spec, { image: 'rust:1', uid: 1000, gid: 1000 });
    expect(rootless[0]).toBe('podman');
    expect(rootless.slice(rootless.indexOf('--user'), rootless.indexOf('--user') + 4)).toEqual([
      '--user',
      '1000:1000',
      '--userns',
      'keep-id',
    ]);
    const root = containerArgv('podman', spec, { image: 'rust:1', uid: 0, gid: 0 });
    expect(root).not.toContain('--userns');
  });

  it('passes only the spec env entries', () => {
    process.env.FAKE_TOKEN = 'ghp_fake_value_for_the_container_test';
    try {
      const argv = createDockerSandbox({ exec, image: 'rust:1', uid: 1, gid: 2 }).argv(spec);
      expect(argv.filter((_arg, index) => argv[index - 1] === '-e')).toEqual(['HOME=/tmp', 'CI=true', 'CARGO_HOME=/cargo-cache']);
      expect(argv.join(' ')).not.toContain('FAKE_TOKEN');
      expect(argv).toContain('1:2');
    } finally {
      delete process.env.FAKE_TOKEN;
    }
  });
});

describe('container check() (real CLI)', () => {
  it('says clearly that no docker engine answers', async () => {
    const problem = await createDockerSandbox({ exec, image: 'rust:1' }).check();
    expect(problem).not.toBeNull();
    expect(problem).toMatch(/^docker: no engine answers \(.+\): start it \(`sudo systemctl start docker`\) or choose sandbox = "bwrap"$/);
    expect(problem).not.toContain('\n');
  });

  it('says when the engine is not installed', async () => {
    const problem = await createPodmanSandbox({ exec, image: 'rust:1' }).check();
    expect(problem).toBe('podman is not on PATH: install Podman or choose sandbox = "bwrap"');
  });
});

// A recording exec: answers from a script, so the engine-side protocol can be checked without an engine.
function recordingExec(
  answer: (command: string[]) => Partial<ExecResult>,
): Exec & { calls: { command: string[]; options?: ExecOptions }[] } {
  const calls: { command: string[]; options?: ExecOptions }[] = [];
  return {
    calls,
    async run(command, options) {
      calls.push({ command, options });
      return {
        command,
        exitCode: 0,
        signal: null,
        stdout: '',
        stderr: '',
        timedOut: false,
        cancelled: false,
        truncated: false,
        durationMs: 1,
        ...answer(command),
      };
    },
    async which(program) {
      return `/usr/bin/${program}`;
    },
  };
}

describe('container run()', () => {
  it('force-removes the named container after a timeout', async () => {
    const fake = recordingExec((command) => (command[1] === 'run' ? { exitCode: null, signal: 'SIGTERM', timedOut: true } : {}));
    const result = await createDockerSandbox({ exec: fake, image: 'rust:1', uid: 1000, gid: 1000 }).run(spec);
    expect(result.timedOut).toBe(true);
    expect(fake.calls).toHaveLength(2);
    const run = fake.calls[0];
    const name = run.command[run.command.indexOf('--name') + 1];
    expect(name).toMatch(/^autodev-\d+-[0-9a-f]{8}$/);
    expect(run.options?.timeoutMs).toBe(60_000);
    expect(run.options?.inheritEnv).toBe(true);
    expect(fake.calls[1].command).toEqual(['docker', 'rm', '--force', name]);
  });

  it('does not remove anything after a normal run', async () => {
    const fake = recordingExec(() => ({ exitCode: 101 }));
    const result = await createPodmanSandbox({ exec: fake, image: 'rust:1', uid: 1000, gid: 1000 }).run(spec);
    expect(result.exitCode).toBe(101);
    expect(fake.calls.map((call) => call.command[1])).toEqual(['run']);
  });

  it('reports a missing image as a spawnError and from check(), without running anything', async () => {
    const fake = recordingExec(() => ({}));
    const sandbox = createDockerSandbox({ exec: fake });
    const result = await sandbox.run(spec);
    expect(result.spawnError).toMatch(/no sandbox image configured for docker/);
    expect(fake.calls).toEqual([]);
    expect(await sandbox.check()).toMatch(/no sandbox image configured for docker/);
    expect(() => sandbox.argv(spec)).toThrow(/no sandbox image configured/);
  });

  it('tells which pull to run when the image is absent', async () => {
    const fake = recordingExec((command) => (command[1] === 'image' ? { exitCode: 1, stderr: 'Error: No such image: rust:1' } : {}));
    expect(await createDockerSandbox({ exec: fake, image: 'rust:1' }).check()).toBe(
      'docker: image rust:1 is not present locally (runs use --pull never): run `docker pull rust:1`',
    );
  });

  it('returns the real docker CLI failure as data when no engine answers', async () => {
    const result = await createDockerSandbox({ exec, image: 'rust:1' }).run({ ...spec, workspace: '/tmp', mounts: [], timeoutMs: 20_000 });
    expect(result.exitCode).not.toBe(0);
    expect(result.stderr.length).toBeGreaterThan(0);
  });
});
