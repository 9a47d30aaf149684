// bin/autodev.js runs the esbuild bundle; with --debug (or AUTODEV_DEBUG=1) it turns on the bundle's
// source maps, so the stack trace of an error names the src/ files and lines, not minified chunks.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { cleanEnv, makeRunDir, requireBuilt, runCli, type RunDir } from '../support/cli.js';
import { cleanup } from '../support/fixture-repo.js';

let box: RunDir;

beforeAll(async () => {
  requireBuilt();
  box = await makeRunDir('debug-stack-');
  // A config error with a stack: package.json (read for its "autodev" key) that is not JSON.
  writeFileSync(path.join(box.cwd, 'package.json'), '{"autodev": 5');
});

afterAll(async () => {
  await cleanup();
});

describe('--debug stack traces', () => {
  it('name the source files, not the bundle', async () => {
    const result = await runCli(['config', '--debug'], { cwd: box.cwd, env: cleanEnv(box) });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^autodev: config: JSON Error in /);
    expect(result.stderr).toMatch(/ at \w+ \(\S*\/src\/config\/load\.ts:\d+:\d+\)/);
    expect(result.stderr).not.toMatch(/dist\/bundle\/chunk-/);
  });

  it('AUTODEV_DEBUG=1 does the same; without either there is no stack', async () => {
    const debug = await runCli(['config'], { cwd: box.cwd, env: cleanEnv(box, { AUTODEV_DEBUG: '1' }) });
    expect(debug.stderr).toMatch(/\/src\/config\/load\.ts:\d+/);
    const plain = await runCli(['config'], { cwd: box.cwd, env: cleanEnv(box) });
    expect(plain.code).toBe(2);
    expect(plain.stderr).not.toMatch(/ at /);
  });
});
