// Bad input to the fleet's commands: one line naming what to fix, exit 2, no stack trace.
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { closedPort } from '../support/http-util.js';
import { cleanEnv, makeRunDir, requireBuilt, runCli, type RunDir } from '../support/cli.js';
import { cleanup } from '../support/fixture-repo.js';

let box: RunDir;

beforeAll(async () => {
  requireBuilt();
  box = await makeRunDir('autodev-queue-usage-');
});

afterAll(cleanup);

const env = (): Record<string, string> => cleanEnv(box, process.env.NODE_PATH ? { NODE_PATH: process.env.NODE_PATH } : {});

it.each([
  [['worker'], 'autodev: autodev worker needs a queue (give --queue redis://host:port, or set queue.url in the config)'],
  [['worker', '--queue', 'http://127.0.0.1:6379'], 'autodev: --queue http://127.0.0.1:6379: not a redis:// URL (give redis://host:port)'],
  [['worker', '--queue', 'redis://127.0.0.1:6379', '--concurrency', '0'], 'autodev: --concurrency 0: a whole number from 1 to 64'],
  [['tasks', 'list', '--queue', 'redis://h:1/x'], 'autodev: --queue redis://h:1/x: the path must be a database number'],
])('%j', async (args, line) => {
  const outcome = await runCli(args, { cwd: box.cwd, env: env() });
  expect({ code: outcome.code, stderr: outcome.stderr }).toEqual({ code: 2, stderr: `${line}\n` });
});

it('a Redis nobody answers at: one line and exit 2, not a hang', async () => {
  const port = await closedPort();
  const outcome = await runCli(['tasks', 'list', '--queue', `redis://127.0.0.1:${port}`], { cwd: box.cwd, env: env() });
  expect({ code: outcome.code, stderr: outcome.stderr }).toEqual({
    code: 2,
    stderr: `autodev: cannot reach the queue's Redis at redis://127.0.0.1:${port} (start redis-server, or check --queue)\n`,
  });
});
