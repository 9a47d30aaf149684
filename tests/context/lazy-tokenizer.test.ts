// `autodev context` ranks and fits files with the estimate: the BPE rank tables (js-tiktoken, ~2 s
// of CPU and ~200 MiB for o200k_base) must not load. A module-resolution hook records every module
// the CLI process resolves; the control shows the hook does see js-tiktoken when the exact counter
// is asked for.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { cleanEnv, makeRunDir, requireBuilt, ROOT, runCli, type RunDir } from '../support/cli.js';
import { cleanup, makeRepo } from '../support/fixture-repo.js';

const TOKENIZER = /node_modules\/js-tiktoken\//;
let box: RunDir;
let crate: string;
let log: string;
let register: string;

beforeAll(async () => {
  requireBuilt();
  box = await makeRunDir('lazy-tokenizer-');
  crate = await makeRepo({
    'Cargo.toml': '[package]\nname = "calc"\nversion = "0.1.0"\nedition = "2021"\n',
    'src/lib.rs': 'pub fn divide(a: i32, b: i32) -> i32 {\n    a / b\n}\n',
  });
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

function loaded(): string[] {
  return readFileSync(log, 'utf8').split('\n').filter(Boolean);
}

describe('the tokenizer loads lazily', () => {
  it('`autodev context` ranks and fits files without loading js-tiktoken', async () => {
    writeFileSync(log, '');
    const result = await runCli(['context', '--repo', crate, '--title', 'divide panics on zero', '--json'], {
      cwd: box.cwd,
      env: cleanEnv(box),
      nodeArgs: ['--import', register],
    });
    expect(result.code).toBe(0);
    const shown = JSON.parse(result.stdout) as { files: { path: string; tokens: number }[] };
    expect(shown.files.map((f) => f.path)).toContain('src/lib.rs');
    // The control: the bin's bundle (which carries dist/context inside it) did load.
    expect(loaded().some((url) => url.endsWith('/dist/bundle/index.js'))).toBe(true);
    expect(loaded().filter((url) => TOKENIZER.test(url))).toEqual([]);
  });

  it('loads it when an exact count is asked for (the control)', () => {
    writeFileSync(log, '');
    const tokenizer = path.join(ROOT, 'dist', 'context', 'tokenizer.js');
    const out = execFileSync(
      process.execPath,
      [
        '--import',
        register,
        '--input-type=module',
        '-e',
        `const { loadTokenCounter } = await import(${JSON.stringify(tokenizer)});\n` +
          `const [a, b] = await Promise.all([loadTokenCounter('gpt-4'), loadTokenCounter('gpt-3.5-turbo')]);\n` +
          `console.log(a.count('hello world'), b.count('hello world'));`,
      ],
      { encoding: 'utf8' },
    );
    expect(out.trim()).toBe('2 2');
    expect(loaded().some((url) => /js-tiktoken\/.*ranks\/cl100k_base/.test(url))).toBe(true);
  });
});
