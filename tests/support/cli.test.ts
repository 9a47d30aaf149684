// The CLI harness itself: a wait on stderr that cannot match ends when the process does, and teardown
// kills what a test left running.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { caught } from './caught.js';
import { cleanEnv, makeRunDir, requireBuilt, startCli, stopStarted } from './cli.js';
import { cleanup } from './fixture-repo.js';

beforeAll(() => requireBuilt());
afterAll(cleanup);

describe('startCli', () => {
  it('captures the output and exit code, and a wait on stderr fails as soon as the process exits', async () => {
    const run = await makeRunDir();
    const running = startCli(['--version'], { cwd: run.cwd, env: cleanEnv(run) });
    const error = await caught(running.waitForStderr(/never printed/));
    expect(error.message).toMatch(/^autodev exited before stderr matched \/never printed\//);
    const outcome = await running.done;
    expect(outcome.code).toBe(0);
    expect(outcome.stdout).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('stopStarted kills a process still running and waits for it (exit 128 + 9)', async () => {
    const run = await makeRunDir();
    // node runs the -e program and never loads the bin: a process that would run forever.
    const running = startCli([], { cwd: run.cwd, env: cleanEnv(run), nodeArgs: ['-e', 'setInterval(() => {}, 1000)'] });
    await stopStarted();
    expect(await running.done).toMatchObject({ code: 137, signal: 'SIGKILL' });
  });
});
