import { describe, expect, it } from '@jest/globals';
import { mkdtempSync, realpathSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createExec, which } from '../../src/ports/exec.js';
import { liveProcesses, uniqueSleepSeconds, waitUntilGone } from './sandbox/process-helpers.js';

const exec = createExec({ killGraceMs: 500 });

describe('createExec().run', () => {
  it('returns output and a non-zero exit as data', async () => {
    const result = await exec.run(['sh', '-c', 'echo out; echo err >&2; exit 3']);
    expect(result.exitCode).toBe(3);
    expect(result.stdout).toBe('out\n');
    expect(result.stderr).toBe('err\n');
    expect(result.signal).toBeNull();
    expect(result.timedOut).toBe(false);
    expect(result.cancelled).toBe(false);
    expect(result.truncated).toBe(false);
    expect(result.spawnError).toBeUndefined();
    expect(result.command).toEqual(['sh', '-c', 'echo out; echo err >&2; exit 3']);
  });

  it('reports a missing program as a spawnError instead of throwing', async () => {
    const result = await exec.run(['autodev-no-such-program-xyz', '--flag']);
    expect(result.exitCode).toBeNull();
    expect(result.spawnError).toContain('autodev-no-such-program-xyz');
    expect(result.spawnError).toContain('ENOENT');
    expect(result.spawnError).not.toContain('--flag');
  });

  it('reports a missing cwd as a spawnError', async () => {
    const result = await exec.run(['true'], { cwd: '/autodev-no-such-dir' });
    expect(result.exitCode).toBeNull();
    expect(result.spawnError).toBeDefined();
  });

  it('gives the child only options.env unless inheritEnv', async () => {
    process.env.FAKE_TOKEN = 'ghp_fake_value_for_the_test';
    try {
      const scrubbed = await exec.run(['/usr/bin/env'], { env: { ONLY_THIS: 'yes' } });
      expect(scrubbed.stdout).toContain('ONLY_THIS=yes');
      expect(scrubbed.stdout).not.toContain('FAKE_TOKEN');
      expect(scrubbed.stdout).not.toContain('ghp_fake_value_for_the_test');
      const names = scrubbed.stdout
        .trim()
        .split('\n')
        .map((line) => line.split('=')[0]);
      expect(names).toEqual(['ONLY_THIS']);

      const inherited = await exec.run(['/usr/bin/env'], { env: { EXTRA: '1' }, inheritEnv: true });
      expect(inherited.stdout).toContain('FAKE_TOKEN=ghp_fake_value_for_the_test');
      expect(inherited.stdout).toContain('EXTRA=1');
    } finally {
      delete process.env.FAKE_TOKEN;
    }
  });

  it('passes input on stdin and runs in cwd', async () => {
    const dir = realpathSync(mkdtempSync(path.join(os.tmpdir(), 'autodev-exec-')));
    try {
      const result = await exec.run(['sh', '-c', 'cat; pwd'], { input: 'hello\n', cwd: dir });
      expect(result.stdout).toBe(`hello\n${dir}\n`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('streams lines of both streams to onLine, including a last line without newline', async () => {
    const lines: string[] = [];
    const result = await exec.run(['sh', '-c', 'printf "a\\nb\\r\\n"; printf "e1\\n" >&2; printf "tail"'], {
      onLine: (stream, line) => lines.push(`${stream}:${line}`),
    });
    expect(result.exitCode).toBe(0);
    expect(lines.filter((line) => line.startsWith('stdout:'))).toEqual(['stdout:a', 'stdout:b', 'stdout:tail']);
    expect(lines).toContain('stderr:e1');
  });

  it('caps each stream, keeping the head and the tail, and sets truncated', async () => {
    const result = await exec.run(['seq', '1', '100000'], { maxOutputBytes: 1000 });
    expect(result.exitCode).toBe(0);
    expect(result.truncated).toBe(true);
    expect(result.stdout.startsWith('1\n2\n3\n')).toBe(true);
    expect(result.stdout.endsWith('99999\n100000\n')).toBe(true);
    expect(result.stdout).toMatch(/\[\.\.\. \d+ bytes omitted by autodev \.\.\.\]/);
    expect(Buffer.byteLength(result.stdout)).toBeLessThan(1100);

    const small = await exec.run(['seq', '1', '10'], { maxOutputBytes: 1000 });
    expect(small.truncated).toBe(false);
    expect(small.stdout).toBe('1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n');
  });

  it('kills the whole process group on timeout', async () => {
    const seconds = uniqueSleepSeconds();
    let group = 0;
    const result = await exec.run(['sh', '-c', `echo $$; sleep ${seconds} & sleep ${seconds}`], {
      timeoutMs: 700,
      onLine: (_stream, line) => {
        group = Number(line);
      },
    });
    expect(result.timedOut).toBe(true);
    expect(result.cancelled).toBe(false);
    expect(result.exitCode).toBeNull();
    expect(group).toBeGreaterThan(1);
    const left = await waitUntilGone((p) => p.pgrp === group || p.argv.includes(seconds));
    expect(left).toEqual([]);
  });

  it('kills the whole process group when the AbortSignal fires', async () => {
    const seconds = uniqueSleepSeconds();
    const controller = new AbortController();
    let group = 0;
    const result = await exec.run(['sh', '-c', `echo $$; sleep ${seconds} & sleep ${seconds}`], {
      signal: controller.signal,
      onLine: (_stream, line) => {
        group = Number(line);
        // Let the shell start both sleeps before the abort.
        setTimeout(() => controller.abort(), 300);
      },
    });
    expect(result.cancelled).toBe(true);
    expect(result.timedOut).toBe(false);
    expect(group).toBeGreaterThan(1);
    const left = await waitUntilGone((p) => p.pgrp === group || p.argv.includes(seconds));
    expect(left).toEqual([]);
  });

  it('does not start a command whose signal is already aborted', async () => {
    const controller = new AbortController();
    controller.abort();
    const seconds = uniqueSleepSeconds();
    const result = await exec.run(['sleep', seconds], { signal: controller.signal });
    expect(result.cancelled).toBe(true);
    expect(result.exitCode).toBeNull();
    expect(liveProcesses().filter((p) => p.argv.includes(seconds))).toEqual([]);
  });

  it('returns when the leader exits even if a background child holds its output open, and kills that child', async () => {
    const seconds = uniqueSleepSeconds();
    const result = await exec.run(['sh', '-c', `sleep ${seconds} & echo started`]);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toBe('started\n');
    const left = await waitUntilGone((p) => p.argv.includes(seconds));
    expect(left).toEqual([]);
  });
});

describe('which', () => {
  it('finds programs on PATH and returns null for missing ones', async () => {
    const sh = await exec.which('sh');
    expect(sh).not.toBeNull();
    expect(path.isAbsolute(sh as string)).toBe(true);
    expect(await exec.which('autodev-no-such-program-xyz')).toBeNull();
  });

  it('searches the given PATH only and ignores relative entries', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'autodev-which-'));
    try {
      expect(await which('sh', dir)).toBeNull();
      expect(await which('sh', `.:${path.dirname((await exec.which('sh')) as string)}`)).toBe(await exec.which('sh'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
