// --help, config and run --plan-only must not load the heavy libraries (openai, octokit, ink,
// listr2): a module-resolution hook records every package the CLI process loads.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { cleanup, makeRepo } from '../support/fixture-repo.js';
import { cleanEnv, makeRunDir, requireBuilt, runCli, type RunDir } from '../support/cli.js';

const HEAVY = /node_modules\/(openai|@octokit|ink|listr2|react)\//;
let box: RunDir;
let crate: string;
let log: string;
let register: string;

beforeAll(async () => {
  requireBuilt();
  box = await makeRunDir('clitest-');
  crate = await makeRepo({ 'Cargo.toml': '[package]\nname = "c"\nversion = "0.1.0"\nedition = "2021"\n', 'src/lib.rs': 'pub fn f() {}\n' });
  log = path.join(box.dir, 'loaded.log');
  const hooks = path.join(box.dir, 'hooks.mjs');
  writeFileSync(
    hooks,
    `import { appendFileSync } from 'node:fs';\n` +
      `export async function resolve(specifier, context, next) {\n` +
      `  const result = await next(specifier, context);\n` +
      `  appendFileSync(${JSON.stringify(log)}, result.url + '\\n');\n` +
      `  return result;\n}\n`,
  );
  register = path.join(box.dir, 'register.mjs');
  writeFileSync(register, `import { register } from 'node:module';\nregister(${JSON.stringify(new URL(`file://${hooks}`).href)});\n`);
});

afterAll(async () => {
  await cleanup();
});

async function loadedBy(args: string[]): Promise<string[]> {
  writeFileSync(log, '');
  const result = await runCli(args, { cwd: box.cwd, env: cleanEnv(box), nodeArgs: ['--import', register] });
  expect(result.code).toBe(0);
  return readFileSync(log, 'utf8').split('\n').filter(Boolean);
}

describe('start-up loads only what the command needs', () => {
  it.each([[['--help']], [['config', '--json']], [['run', '--repo', '<crate>', '--title', 't', '--plan-only', '--json']]])(
    '%j',
    async (args) => {
      const loaded = await loadedBy(args.map((a) => (a === '<crate>' ? crate : a)));
      expect(loaded.some((url) => url.includes('/dist/cli/index.js'))).toBe(true);
      expect(loaded.filter((url) => HEAVY.test(url))).toEqual([]);
    },
  );

  it('sees the packages a command does load (the control: zod and cosmiconfig for config)', async () => {
    const loaded = await loadedBy(['config', '--json']);
    expect(loaded.some((url) => url.includes('node_modules/zod/'))).toBe(true);
    expect(loaded.some((url) => url.includes('node_modules/cosmiconfig/'))).toBe(true);
  });
});
