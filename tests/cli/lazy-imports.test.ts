// --help, config and run --plan-only must not load the heavy libraries (openai, octokit, ink,
// listr2), and a whole `run --no-pr` loads neither octokit (no pull request) nor secretlint when
// gitleaks scans: a module-resolution hook records every package the CLI process loads.
// `context` and `run --plan-only` load none of the manifest/lockfile/output parsers either (they are
// required on first use); the register script also records CommonJS `require`s, which the ESM hook
// does not see, so a parser required eagerly would show too.
// bin/autodev.js loads the esbuild bundle (dist/bundle, packages external but zod): the package
// checks run against it; the checks naming our own modules run the per-file tsc output (dist/cli),
// whose import graph is the same source's.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { CALC_FILES, CALC_TASK, FIXED_REPLY } from '../support/calc-crate.js';
import { cleanup, makeRepo } from '../support/fixture-repo.js';
import { cleanEnv, GITHUB_TOKEN, makeRunDir, OPENAI_KEY, requireBuilt, ROOT, runCli, taskEnv, type RunDir } from '../support/cli.js';
import { startGitHubServer } from '../support/github-server.js';
import { startOpenAiServer } from '../support/openai-server.js';

// prom-client (and the OpenTelemetry API it requires) loads in a run at its first event, never for --help,
// config or --plan-only; bullmq and the OpenTelemetry SDK load only with a queue or an OTLP endpoint.
const HEAVY = /node_modules\/(openai|@octokit|ink|listr2|react|prom-client|bullmq|@opentelemetry)\//;
const PARSERS = /node_modules\/(yaml|smol-toml|fast-xml-parser|@renovatebot\/pep440|@yarnpkg\/lockfile|npm-package-arg)\//;
let box: RunDir;
let crate: string;
let log: string;
let register: string;
/** Runs the per-file dist/cli instead of the bundle: our own modules keep their names there. */
let perFile: string;

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
  writeFileSync(
    register,
    `import { appendFileSync } from 'node:fs';\n` +
      `import Module, { register } from 'node:module';\n` +
      `register(${JSON.stringify(new URL(`file://${hooks}`).href)});\n` +
      // CommonJS requires (createRequire included) do not pass the ESM hook: record what they resolve to.
      `const resolveFilename = Module._resolveFilename;\n` +
      `Module._resolveFilename = function (...args) {\n` +
      `  const file = resolveFilename.apply(this, args);\n` +
      `  appendFileSync(${JSON.stringify(log)}, 'file://' + file + '\\n');\n` +
      `  return file;\n};\n`,
  );
  perFile = path.join(box.dir, 'per-file-cli.mjs');
  writeFileSync(
    perFile,
    `import { main } from ${JSON.stringify(new URL(`file://${path.join(ROOT, 'dist/cli/index.js')}`).href)};\n` +
      `process.exitCode = await main(process.argv);\n`,
  );
});

afterAll(async () => {
  await cleanup();
});

async function loadedBy(args: string[], env: Record<string, string> = cleanEnv(box), bin?: string): Promise<string[]> {
  writeFileSync(log, '');
  const result = await runCli(args, { cwd: box.cwd, env, nodeArgs: ['--import', register], ...(bin ? { bin } : {}) });
  expect({ code: result.code, stderr: result.code === 0 ? '' : result.stderr }).toEqual({ code: 0, stderr: '' });
  return readFileSync(log, 'utf8').split('\n').filter(Boolean);
}

/**
 * A stand-in `gitleaks` (the machine may have none): it answers `version` and writes an empty
 * report where --report-path says, so the plan picks gitleaks and the scan finds nothing.
 */
function standInGitleaks(dir: string): string {
  const bin = path.join(dir, 'stand-in-bin');
  mkdirSync(bin, { recursive: true });
  const file = path.join(bin, 'gitleaks');
  writeFileSync(
    file,
    '#!/bin/sh\nif [ "$1" = version ]; then echo 8.24.2; exit 0; fi\n' +
      'while [ $# -gt 0 ]; do if [ "$1" = --report-path ]; then echo "[]" > "$2"; fi; shift; done\nexit 0\n',
  );
  chmodSync(file, 0o755);
  return bin;
}

describe('start-up loads only what the command needs', () => {
  it.each([
    [['--help']],
    [['config', '--json']],
    [['run', '--repo', '<crate>', '--title', 't', '--plan-only', '--json']],
    [['tasks', 'list', '--json']],
  ])('%j', async (args) => {
    const loaded = await loadedBy(args.map((a) => (a === '<crate>' ? crate : a)));
    // The bin runs the bundle, and the bundle's chunks keep the heavy packages lazy.
    expect(loaded.some((url) => url.includes('/dist/bundle/index.js'))).toBe(true);
    expect(loaded.filter((url) => url.includes('/dist/cli/'))).toEqual([]);
    expect(loaded.filter((url) => HEAVY.test(url))).toEqual([]);
  });

  it("context loads the toolchains' context hints only: no toolchain, no manifest, lockfile or output parser", async () => {
    const loaded = await loadedBy(['context', '--repo', crate, '--title', 'x', '--json'], cleanEnv(box), perFile);
    expect(loaded.some((url) => url.includes('/dist/toolchains/rust/context.js'))).toBe(true);
    expect(loaded.filter((url) => /\/dist\/toolchains\/(registry|\w+\/index)\.js$/.test(url))).toEqual([]);
    expect(loaded.filter((url) => PARSERS.test(url))).toEqual([]);
    // The bundle keeps the parsers out of `context` too.
    const bundled = await loadedBy(['context', '--repo', crate, '--title', 'x', '--json']);
    expect(bundled.some((url) => url.includes('/dist/bundle/index.js'))).toBe(true);
    expect(bundled.filter((url) => PARSERS.test(url) || HEAVY.test(url))).toEqual([]);
  });

  it('run --plan-only loads no lockfile or output parser (only smol-toml: planning a crate reads Cargo.toml)', async () => {
    const loaded = await loadedBy(['run', '--repo', crate, '--title', 't', '--plan-only', '--json'], cleanEnv(box), perFile);
    expect(loaded.some((url) => url.includes('/dist/toolchains/registry.js'))).toBe(true);
    expect(loaded.filter((url) => PARSERS.test(url) && !url.includes('node_modules/smol-toml/'))).toEqual([]);
  });

  it('sees a parser required on first use (the control: a TOML config file loads smol-toml)', async () => {
    const file = path.join(box.dir, 'autodev.toml');
    writeFileSync(file, '[autodev]\nenabled = true\n');
    const loaded = await loadedBy(['config', '--json', '--config', file]);
    expect(loaded.some((url) => url.includes('node_modules/smol-toml/'))).toBe(true);
  });

  it('sees the packages a command does load (the control: zod and cosmiconfig for config)', async () => {
    const loaded = await loadedBy(['config', '--json'], cleanEnv(box), perFile);
    expect(loaded.some((url) => url.includes('node_modules/zod/'))).toBe(true);
    expect(loaded.some((url) => url.includes('node_modules/cosmiconfig/'))).toBe(true);
  });

  it('the bundle carries zod inside (no zod module from node_modules) and loads the other packages from there', async () => {
    const loaded = await loadedBy(['config', '--json']);
    expect(loaded.filter((url) => url.includes('node_modules/zod/'))).toEqual([]);
    expect(loaded.some((url) => url.includes('node_modules/cosmiconfig/'))).toBe(true);
  });

  it('run --no-pr with gitleaks: no octokit (no pull request), no secretlint (gitleaks scans), no listr2 without a TTY', async () => {
    const repo = await makeRepo(CALC_FILES, { bare: true });
    const run = await makeRunDir('lazy-run-');
    const llm = await startOpenAiServer({ apiKey: OPENAI_KEY, onRequest: () => ({ content: FIXED_REPLY }) });
    const github = await startGitHubServer({ token: GITHUB_TOKEN });
    try {
      const env = taskEnv(run, { llm, github });
      env.PATH = `${standInGitleaks(run.dir)}:${env.PATH}`;
      const loaded = await loadedBy(
        ['run', '--no-pr', '--json', '--repo', repo, '--title', CALC_TASK.title, '--description', CALC_TASK.description],
        env,
      );
      // The control: the run did ask the model (openai loads on first use).
      expect(loaded.some((url) => url.includes('node_modules/openai/'))).toBe(true);
      // And it counted its events (the metrics textfile is on by default): prom-client did load.
      expect(loaded.some((url) => url.includes('node_modules/prom-client/'))).toBe(true);
      expect(
        loaded.filter((url) => /node_modules\/(@octokit|@secretlint|listr2|ink|react|bullmq|@opentelemetry\/(?!api\/))/.test(url)),
      ).toEqual([]);
    } finally {
      await Promise.all([llm.close(), github.close()]);
    }
  }, 120_000);
});
