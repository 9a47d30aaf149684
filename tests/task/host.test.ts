// Host facts kept per machine: the answers that cost a process (rustup's toolchain list, a sandbox
// trial) are asked once and asked again when what decides them changes. Real rustup and bubblewrap,
// counted through the exec port.
import { afterAll, describe, expect, it } from '@jest/globals';
import { mkdir, readFile, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createExec } from '../../src/ports/exec.js';
import { checkOnce, createBwrapSandbox, sandboxChecksFile } from '../../src/ports/sandbox/index.js';
import { forgetChecks } from '../../src/ports/sandbox/checked.js';
import type { Exec } from '../../src/ports/types.js';
import { gatherHostFacts } from '../../src/task/host.js';
import { cleanup, makeTempDir } from '../support/fixture-repo.js';

afterAll(async () => {
  await cleanup();
});

/** The real exec, recording the argv of each process it starts. */
function recordingExec(): { exec: Exec; ran: string[][] } {
  const real = createExec();
  const ran: string[][] = [];
  return { ran, exec: { ...real, run: (argv, options) => (ran.push(argv), real.run(argv, options)) } };
}

const rustupOnPath = async (): Promise<boolean> => (await createExec().which('rustup')) !== null;

describe('host facts kept per machine', () => {
  it('asks rustup once, reuses the answer, and asks again when the toolchains dir changes', async () => {
    expect(await rustupOnPath()).toBe(true);
    const cacheDir = await makeTempDir('autodev-host-cache-');
    // The fingerprint follows RUSTUP_HOME's toolchains dir: a stand-in home lets the test change it
    // without touching the machine's (the query itself runs with this process's environment).
    const rustupHome = await makeTempDir('autodev-rustup-home-');
    await mkdir(path.join(rustupHome, 'toolchains'));
    const env: Record<string, string | undefined> = { ...process.env, RUSTUP_HOME: rustupHome };
    const { exec, ran } = recordingExec();
    const asked = (): number => ran.filter((argv) => argv[0] === 'rustup').length;

    const first = await gatherHostFacts(exec, { sandbox: 'bwrap', cacheDir, env });
    expect(asked()).toBe(1);
    expect(first.installed.rust?.length).toBeGreaterThan(0);
    const kept = JSON.parse(await readFile(path.join(cacheDir, 'host-facts.json'), 'utf8'));
    expect(kept.queries.rust.answer).toEqual(first.installed.rust);

    const second = await gatherHostFacts(exec, { sandbox: 'bwrap', cacheDir, env });
    expect(asked()).toBe(1);
    expect(second).toEqual(first);

    // A toolchain installed or removed changes the dir's mtime: the answer may be wrong, so it is asked.
    const later = new Date(Date.now() + 5_000);
    await utimes(path.join(rustupHome, 'toolchains'), later, later);
    await gatherHostFacts(exec, { sandbox: 'bwrap', cacheDir, env });
    expect(asked()).toBe(2);

    // Another PATH is another machine state too.
    await gatherHostFacts(exec, { sandbox: 'bwrap', cacheDir, env: { ...env, PATH: `/nonexistent:${env.PATH}` } });
    expect(asked()).toBe(3);
    // Without a cache dir nothing is kept: asked every time.
    await gatherHostFacts(exec, { sandbox: 'bwrap', env });
    expect(asked()).toBe(4);
  });

  it('tries bubblewrap once per process, keeps its pass per machine, and tries again when the fingerprint differs', async () => {
    const cacheDir = await makeTempDir('autodev-sandbox-checks-');
    const machineFile = sandboxChecksFile(cacheDir);
    const { exec, ran } = recordingExec();
    const trials = (): number => ran.filter((argv) => argv[0] === 'bwrap').length;
    const sandbox = createBwrapSandbox({ exec });
    forgetChecks();

    expect(await checkOnce(sandbox, { exec, machineFile })).toBeNull();
    expect(trials()).toBe(1);
    expect(await checkOnce(sandbox, { exec, machineFile })).toBeNull();
    expect(trials()).toBe(1);

    // A new process on the same machine: the kept pass holds.
    forgetChecks();
    expect(await checkOnce(sandbox, { exec, machineFile })).toBeNull();
    expect(trials()).toBe(1);

    // A pass kept under another fingerprint (another bwrap, boot, user or namespace switch): tried again.
    forgetChecks();
    await writeFile(machineFile, JSON.stringify({ bwrap: '["another machine state"]' }));
    expect(await checkOnce(sandbox, { exec, machineFile })).toBeNull();
    expect(trials()).toBe(2);
    expect(JSON.parse(await readFile(machineFile, 'utf8')).bwrap).not.toBe('["another machine state"]');
  });

  it('never keeps a failure: a sandbox that is not usable is checked again', async () => {
    const cacheDir = await makeTempDir('autodev-sandbox-fail-');
    const machineFile = sandboxChecksFile(cacheDir);
    const real = createExec();
    let lookups = 0;
    // bwrap missing from PATH, as the exec port sees it.
    const exec: Exec = { ...real, which: async (program) => (program === 'bwrap' ? (lookups++, null) : real.which(program)) };
    const sandbox = createBwrapSandbox({ exec });
    forgetChecks();
    expect(await checkOnce(sandbox, { exec, machineFile })).toMatch(/bwrap is not on PATH/);
    const after = lookups;
    expect(await checkOnce(sandbox, { exec, machineFile })).toMatch(/bwrap is not on PATH/);
    expect(lookups).toBeGreaterThan(after);
    await expect(readFile(machineFile, 'utf8')).rejects.toThrow(/ENOENT/);
  });
});
