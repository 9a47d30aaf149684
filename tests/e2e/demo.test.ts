// `npm run demo` as a new user runs it: the real script, the built CLI, a real cargo build in the
// sandbox. It must leave the user's own state, cache and config directories untouched, and its output
// must say what happened in words a newcomer can follow.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFile, spawn } from 'node:child_process';
import { mkdir, readdir } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { cleanup, makeTempDir } from '../support/fixture-repo.js';
import { requireBuilt, ROOT } from '../support/cli.js';

const DEMO_TIMEOUT = 180_000;

beforeAll(async () => {
  requireBuilt();
  // The demo imports the test servers from build/support (what `npm run demo` builds first).
  await promisify(execFile)(
    process.execPath,
    [path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.support.json'],
    { cwd: ROOT },
  );
}, 60_000);

afterAll(async () => {
  await cleanup();
});

function runDemo(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(ROOT, 'scripts', 'demo.js'), ...args], {
      cwd: ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (text: string) => (stdout += text));
    child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('npm run demo', () => {
  it(
    'leaves the user’s XDG directories untouched and tells the run in plain words',
    async () => {
      const home = await makeTempDir('autodev-demo-user-');
      const user = {
        state: path.join(home, 'state'),
        cache: path.join(home, 'cache'),
        config: path.join(home, 'config'),
        tmp: path.join(home, 'tmp'),
      };
      await Promise.all(Object.values(user).map((dir) => mkdir(dir)));
      const env: Record<string, string> = {
        PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
        HOME: process.env.HOME ?? '/root',
        LANG: 'C.UTF-8',
        CI: 'true',
        TMPDIR: user.tmp,
        XDG_STATE_HOME: user.state,
        XDG_CACHE_HOME: user.cache,
        XDG_CONFIG_HOME: user.config,
        GIT_CONFIG_NOSYSTEM: '1',
        GIT_CONFIG_GLOBAL: '/dev/null',
        // A user's own setting must not change what the demo shows.
        AUTODEV_SANDBOX: 'none',
      };
      for (const name of ['RUSTUP_HOME', 'CARGO_HOME', 'RUSTUP_TOOLCHAIN']) if (process.env[name]) env[name] = process.env[name]!;

      const demo = await runDemo([], env);
      const output = `${demo.stderr}\n${demo.stdout}`;
      expect(demo.code).toBe(0);

      // Nothing in the user's own directories, and the demo's temporary one is gone.
      for (const dir of [user.state, user.cache, user.config]) expect(await readdir(dir)).toEqual([]);
      expect(await readdir(user.tmp)).toEqual([]);
      expect(output).toContain('went to a temporary directory, now removed');

      // The repair round names the build error it is about, not a header ending in a colon.
      const repair = output.split('\n').filter((line) => line.startsWith('repair: '));
      expect(repair).toEqual([
        'repair: build failed; starting repair round 1 of 2: The build failed with 1 error: error[E0308]: mismatched types',
      ]);
      // The base's failing test is named, not reported as "ok".
      expect(output).toMatch(/^test \[baseline, round 0, attempt 1\]: ran in \S+: base: 1 test failing \(lib::tests::adds\)/m);
      // The summary: one name for the pull request, the sandbox used (not the user's "none").
      expect(demo.stdout).toMatch(/^pull request ready: /);
      expect(demo.stdout).toMatch(/^ {2}pull request: http:\/\/127\.0\.0\.1:\d+\/acme\/calc\/pull\/1$/m);
      expect(demo.stdout).toMatch(/^ {2}sandbox: +(bwrap|docker|podman)\b/m);
      expect(demo.stdout).toContain('  base:         1 test failing before the change: lib::tests::adds\n');
      expect(output).not.toMatch(/\bPRs?\b|merge request/);
    },
    DEMO_TIMEOUT,
  );
});
