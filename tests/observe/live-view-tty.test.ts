// The built CLI on a real terminal (a tmux pane): the live view is on screen before the clone ends. The
// clone goes to a server that holds its first request until the test has seen the view, so "before the
// clone ends" holds by construction, not by timing. tmux shows the screen as a person would see it, so
// the test also proves the frames are redrawn in place (one header, no leftovers) and left at the end.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { BIN, makeRunDir, requireBuilt, taskEnv } from '../support/cli.js';
import { cleanup } from '../support/fixture-repo.js';
import { until } from '../support/poll.js';

const TITLE = 'Add a sub function';

describe('the live view on a terminal', () => {
  let socket = '';
  const held: ServerResponse[] = [];
  let release = false;
  const server = createServer((req, res) => {
    req.resume();
    if (release) res.writeHead(404).end('no such repository');
    else held.push(res);
  });

  beforeAll(async () => {
    requireBuilt();
    try {
      execFileSync('tmux', ['-V'], { stdio: 'ignore' });
    } catch {
      throw new Error('tmux is missing: this test needs a terminal to draw on (apt-get install tmux; .ci/run installs it)');
    }
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  });
  afterAll(async () => {
    if (socket) execFileSync('tmux', ['-S', socket, 'kill-server'], { stdio: 'ignore' });
    for (const res of held) res.destroy();
    await new Promise((resolve) => server.close(resolve));
    await cleanup();
  });

  it('draws before the clone ends, spins on the clone while it runs, and leaves the final frame', async () => {
    const run = await makeRunDir('autodev-tty-');
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/calc.git`;
    // A terminal that takes the live view: no CI, no NO_COLOR, a real TERM.
    const {
      CI: _ci,
      NO_COLOR: _nc,
      ...env
    } = taskEnv(run, { extra: { TERM: 'xterm-256color', AUTODEV_LLM_API_URL: 'http://127.0.0.1:9/v1' } });
    const assignments = Object.entries(env).map(([k, v]) => `${k}=${shellQuote(v)}`);
    const script = path.join(run.dir, 'run.sh');
    await writeFile(
      script,
      [
        `cd ${shellQuote(run.cwd)}`,
        `env -i ${assignments.join(' ')} ${shellQuote(process.execPath)} ${shellQuote(BIN)} run --repo ${shellQuote(url)} --title ${shellQuote(TITLE)} --no-pr`,
        'echo "autodev exited $?"',
        'exec sleep 600',
      ].join('\n'),
    );
    socket = path.join(run.dir, 'tmux.sock');
    execFileSync('tmux', ['-S', socket, '-f', '/dev/null', 'new-session', '-d', '-x', '120', '-y', '30', 'bash', script]);
    const capture = (): string => execFileSync('tmux', ['-S', socket, 'capture-pane', '-p'], { encoding: 'utf8' }).trimEnd();

    // The first thing on screen is the view: its header and rows, while the clone cannot have ended.
    const first = await until(
      () => `the view on screen; the pane:\n${capture()}`,
      () => {
        const text = capture();
        return text.trim() === '' ? null : text;
      },
      60_000,
      20,
    );
    expect(first.split('\n')[0]).toMatch(new RegExp(`^autodev run · ${TITLE} · `));
    expect(first).toMatch(/^ {2}\S setup /m);
    expect(first).toMatch(/^ {2}\S clone /m);

    // The clone runs (the server holds its request): its row spins and its time ticks.
    const spinning = await until(
      () => `the clone row spinning; the pane:\n${capture()}`,
      () => (held.length > 0 ? /^ {2}[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] clone +(\S+)/m.exec(capture()) : null),
      60_000,
      20,
    );
    const firstTime = spinning[1];
    await until(
      () => `the clone row's time to move past ${firstTime}; the pane:\n${capture()}`,
      () => {
        const now = /^ {2}[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] clone +(\S+)/m.exec(capture());
        return now !== null && now[1] !== firstTime;
      },
      60_000,
      50,
    );
    expect(held.length).toBeGreaterThan(0);

    // Now the clone may end: it fails, and the last frame stays above the result.
    release = true;
    for (const res of held.splice(0)) res.writeHead(404).end('no such repository');
    const end = await until(
      () => `autodev to exit; the pane:\n${capture()}`,
      () => {
        const text = capture();
        return /autodev exited \d+/.test(text) ? text : null;
      },
      60_000,
      50,
    );
    expect(end).toMatch(/^ {2}✖ clone +failed in /m);
    expect(end).toMatch(/^ {2}◌ plan +not run$/m);
    expect(end).toMatch(/^task failed: Add a sub function$/m);
    expect(end).toContain('autodev exited 1');
    // Redrawn in place: one header and one row per thing, however many frames were drawn.
    expect(end.match(/^autodev run · /gm)).toHaveLength(1);
    expect(end.match(/^ {2}\S clone /gm)).toHaveLength(1);
  });
});

function shellQuote(value: string): string {
  return `'${value.replaceAll("'", `'\\''`)}'`;
}
