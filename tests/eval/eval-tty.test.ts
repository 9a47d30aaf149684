// `autodev eval` on a real terminal (a tmux pane): listr2 draws a header counting done, running and
// failed runs and one row per (task, model) with its outcome; stdout's figures follow.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { BIN, makeRunDir, requireBuilt, taskEnv } from '../support/cli.js';
import { cleanup } from '../support/fixture-repo.js';
import { until } from '../support/poll.js';

function shellQuote(s: string): string {
  return `'${s.replace(/'/g, "'\\''")}'`;
}

describe('autodev eval on a terminal', () => {
  let socket = '';
  beforeAll(() => {
    requireBuilt();
    execFileSync('tmux', ['-V'], { stdio: 'ignore' });
  });
  afterAll(async () => {
    if (socket) execFileSync('tmux', ['-S', socket, 'kill-server'], { stdio: 'ignore' });
    await cleanup();
  });

  it('draws the header and a row per run with its outcome', async () => {
    const run = await makeRunDir('autodev-eval-tty-');
    // Two tasks on repositories that do not exist: each run ends as an `error` at once, with no build.
    const tasks = ['gone-1', 'gone-2'].map((id) =>
      JSON.stringify({ id, repo: path.join(run.dir, `${id}.git`), base: 'main', title: `Fix ${id}` }),
    );
    const file = path.join(run.dir, 'tasks.jsonl');
    await writeFile(file, `${tasks.join('\n')}\n`);
    const { CI: _ci, NO_COLOR: _nc, ...env } = taskEnv(run, { extra: { TERM: 'xterm-256color' } });
    const assignments = Object.entries(env).map(([k, v]) => `${k}=${shellQuote(v)}`);
    const script = path.join(run.dir, 'run.sh');
    await writeFile(
      script,
      [
        `cd ${shellQuote(run.cwd)}`,
        `env -i ${assignments.join(' ')} ${shellQuote(process.execPath)} ${shellQuote(BIN)} eval ${shellQuote(file)} --models sim:perfect --jobs 2 --out out`,
        'echo "autodev exited $?"',
        'exec sleep 600',
      ].join('\n'),
    );
    socket = path.join(run.dir, 'tmux.sock');
    execFileSync('tmux', ['-S', socket, '-f', '/dev/null', 'new-session', '-d', '-x', '160', '-y', '40', 'bash', script]);
    const capture = (): string => execFileSync('tmux', ['-S', socket, 'capture-pane', '-p'], { encoding: 'utf8' }).trimEnd();
    const screen = await until(
      () => `eval to end; the pane:\n${capture()}`,
      () => (/autodev exited \d+/.test(capture()) ? capture() : null),
      120_000,
      50,
    );
    expect(screen).toMatch(/eval: 2\/2 done, 0 running, 2 not resolved, \$0\.0000/);
    expect(screen).toMatch(/gone-1 sim:perfect: error in \d+\.\ds/);
    expect(screen).toMatch(/gone-2 sim:perfect: error in \d+\.\ds/);
    // The figures on stdout, after the view.
    expect(screen).toMatch(/^sim:perfect +2 +0\.0%/m);
    // Runs the machinery could not prepare make the eval fail.
    expect(screen).toContain('autodev exited 1');
  }, 150_000);
});
