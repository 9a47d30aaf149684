// The built CLI as a process: help, version, usage errors, config errors, `config` and `init`.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { cleanup } from '../support/fixture-repo.js';
import { cleanEnv, lines, makeRunDir, requireBuilt, ROOT, runCli, type RunDir } from '../support/cli.js';

let box: RunDir;
beforeAll(() => requireBuilt());
beforeEach(async () => {
  box = await makeRunDir('clitest-');
});
afterAll(cleanup);

const cli = (args: string[], extraEnv: Record<string, string> = {}, input?: string) =>
  runCli(args, { cwd: box.cwd, env: cleanEnv(box, extraEnv), input });

/** Exit 2 and exactly one line on stderr, no stack trace; returns that line. */
function oneLineError(result: { code: number | null; stdout: string; stderr: string }): string {
  expect(result.code).toBe(2);
  expect(result.stdout).toBe('');
  const errLines = lines(result.stderr);
  expect(errLines).toHaveLength(1);
  expect(result.stderr).not.toMatch(/^\s+at /m);
  expect(result.stderr).not.toMatch(/internal error/);
  return errLines[0];
}

describe('help, version and usage errors', () => {
  it('prints help with every command and exits 0', async () => {
    const result = await cli(['--help']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^Usage: autodev/);
    for (const command of ['run', 'doctor', 'config', 'init']) expect(result.stdout).toContain(command);
    expect(result.stderr).toBe('');
  });

  it('prints the help of run with its flags', async () => {
    const result = await cli(['run', '--help']);
    expect(result.code).toBe(0);
    for (const flag of ['--repo', '--title', '--plan-only', '--description-file', '--no-pr', '--sandbox'])
      expect(result.stdout).toContain(flag);
  });

  it('prints the package version and exits 0', async () => {
    const pkg = JSON.parse(await readFile(path.join(ROOT, 'package.json'), 'utf8')) as { version: string };
    for (const flag of ['--version', '-V']) {
      const result = await cli([flag]);
      expect(result.code).toBe(0);
      expect(result.stdout.trim()).toBe(pkg.version);
    }
  });

  it('exits 2 on an unknown flag', async () => {
    const result = await cli(['--bogus']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("unknown option '--bogus'");
    expect(result.stdout).toBe('');
  });

  it('exits 2 on an unknown command, and on a bad --risk choice', async () => {
    expect((await cli(['frobnicate'])).code).toBe(2);
    const risk = await cli(['run', '--repo', 'x', '--title', 't', '--risk', 'extreme']);
    expect(risk.code).toBe(2);
    expect(risk.stderr).toContain('extreme');
  });

  it('exits 2 when run has no --repo (or no --title)', async () => {
    const noRepo = await cli(['run', '--title', 'Fix it']);
    expect(noRepo.code).toBe(2);
    expect(noRepo.stderr).toContain('--repo');
    const noTitle = await cli(['run', '--repo', '.']);
    expect(noTitle.code).toBe(2);
    expect(noTitle.stderr).toContain('--title');
  });

  it('exits 2 when --description and --description-file are both given', async () => {
    await writeFile(path.join(box.cwd, 'desc.txt'), 'x');
    const line = oneLineError(
      await cli(['run', '--repo', '.', '--title', 't', '--description', 'a', '--description-file', 'desc.txt', '--plan-only']),
    );
    expect(line).toMatch(/--description and --description-file/);
  });

  it('exits 2 when --description-file does not exist', async () => {
    const line = oneLineError(await cli(['run', '--repo', '.', '--title', 't', '--description-file', 'nope.txt', '--plan-only']));
    expect(line).toContain('nope.txt');
  });

  it('exits 2 on a blank title, naming the flag', async () => {
    const line = oneLineError(await cli(['run', '--repo', '.', '--title', '   ', '--plan-only']));
    expect(line).toContain('--title');
  });
});

describe('config errors: exit 2, one line naming the file and the key', () => {
  const cases: [string, string, RegExp[]][] = [
    [
      'a misspelled key',
      '[autodev]\nenabled = true\nmax_paralel_tasks = 3\n',
      [/autodev\.config\.toml:3:/, /max_paralel_tasks/, /did you mean "max_parallel_tasks"/],
    ],
    [
      'a string for a number',
      '[autodev]\n\n[autodev.llm]\nmax_tokens = "lots"\n',
      [/autodev\.config\.toml:4:/, /autodev\.llm\.max_tokens/, /expected number/],
    ],
    ['broken TOML', '[autodev]\nenabled = true\nmodel = "open\n', [/autodev\.config\.toml:3:/, /invalid TOML/]],
    ['a bad enum', '[autodev]\nsandbox = "vm"\n', [/autodev\.config\.toml:2:/, /autodev\.sandbox/, /"bwrap"/]],
  ];
  for (const [what, text, patterns] of cases) {
    it(`reports ${what}`, async () => {
      await writeFile(path.join(box.cwd, 'autodev.config.toml'), text);
      for (const args of [['config'], ['run', '--repo', '.', '--title', 't', '--plan-only']]) {
        const line = oneLineError(await cli(args));
        for (const pattern of patterns) expect(line).toMatch(pattern);
      }
    });
  }

  it('reports a broken package.json in the cwd (not an internal error)', async () => {
    await writeFile(path.join(box.cwd, 'package.json'), '{"name": "x",\n"autodev": {"sandbox": }\n}\n');
    // doctor reports it among its findings instead (tests/cli/doctor.test.ts).
    for (const args of [['config'], ['run', '--repo', '.', '--title', 't', '--plan-only']]) {
      const line = oneLineError(await cli(args));
      expect(line).toContain(path.join(box.cwd, 'package.json'));
      expect(line).toMatch(/JSON/);
    }
  });

  it('reads only the --config file: a broken package.json in the cwd does not matter then', async () => {
    await writeFile(path.join(box.cwd, 'package.json'), '{"name": "x",\n"autodev": {"sandbox": }\n}\n');
    await writeFile(path.join(box.cwd, 'good.toml'), '[autodev]\nmax_parallel_tasks = 5\n');
    const shown = await cli(['config', '--json', '--config', 'good.toml']);
    expect(shown.stderr).toBe('');
    expect(shown.code).toBe(0);
    expect(JSON.parse(shown.stdout).config.max_parallel_tasks).toBe(5);
    const planned = await cli(['run', '--config', 'good.toml', '--repo', '.', '--title', 't', '--plan-only']);
    expect(planned.stderr).not.toContain('package.json');
    expect(planned.stderr).not.toMatch(/JSON/);
  });

  it('reports a bad environment variable by name', async () => {
    const line = oneLineError(await cli(['config'], { AUTODEV_MAX_STEP_RETRIES: 'many' }));
    expect(line).toContain('AUTODEV_MAX_STEP_RETRIES');
  });

  it('reports --config naming a missing file', async () => {
    const line = oneLineError(await cli(['config', '--config', 'absent.toml']));
    expect(line).toContain('absent.toml');
    expect(line).toMatch(/not found/);
  });
});

describe('autodev config', () => {
  it('shows sources and whether credentials are set, never their values', async () => {
    const secret = 'sk-test-secret-value';
    const file = path.join(box.cwd, 'autodev.config.toml');
    await writeFile(file, '[autodev]\nmax_parallel_tasks = 4\n\n[autodev.llm]\nmodel = "file-model"\n');
    const result = await cli(['config', '--json'], { OPENAI_API_KEY: secret, AUTODEV_LLM_MODEL: 'env-model', AUTODEV_SANDBOX: 'bwrap' });
    expect(result.code).toBe(0);
    expect(result.stdout).not.toContain(secret);
    expect(result.stderr).not.toContain(secret);
    const doc = JSON.parse(result.stdout) as Record<string, any>;
    expect(doc.file).toBe(file);
    expect(doc.config.max_parallel_tasks).toBe(4);
    expect(doc.config.llm.model).toBe('env-model');
    expect(doc.sources.max_parallel_tasks).toBe(`file ${file}`);
    expect(doc.sources['llm.model']).toBe('env AUTODEV_LLM_MODEL');
    expect(doc.sources.sandbox).toBe('env AUTODEV_SANDBOX');
    expect(doc.sources.runner_timeout_secs).toBe('default');
    expect(doc.credentials).toEqual({ OPENAI_API_KEY: true, GITHUB_TOKEN: false });
    expect(doc.allowlist).toBe('all repositories allowed');

    const human = await cli(['config'], { OPENAI_API_KEY: secret });
    expect(human.code).toBe(0);
    expect(human.stdout).not.toContain(secret);
    expect(human.stdout).toContain('credential OPENAI_API_KEY: set');
    expect(human.stdout).toContain('credential GITHUB_TOKEN: not set');
    expect(human.stdout).toMatch(/max_parallel_tasks\s+4\s+\(file /);
  });

  it('follows api_key_env to the variable it names', async () => {
    await writeFile(path.join(box.cwd, '.autodevrc.toml'), '[autodev.llm]\napi_key_env = "MY_LLM_KEY"\n');
    const result = await cli(['config', '--json'], { MY_LLM_KEY: 'hunter2-secret', GITHUB_TOKEN: 'ghp_secretvalue' });
    expect(result.stdout).not.toContain('hunter2-secret');
    expect(result.stdout).not.toContain('ghp_secretvalue');
    expect(JSON.parse(result.stdout).credentials).toEqual({ MY_LLM_KEY: true, GITHUB_TOKEN: true });
  });

  it('reads the user config under XDG_CONFIG_HOME', async () => {
    const { mkdir } = await import('node:fs/promises');
    const dir = path.join(box.config, 'autodev');
    await mkdir(dir);
    await writeFile(path.join(dir, 'config.toml'), '[autodev]\nmax_repair_attempts = 7\n');
    const doc = JSON.parse((await cli(['config', '--json'])).stdout) as Record<string, any>;
    expect(doc.file).toBe(path.join(dir, 'config.toml'));
    expect(doc.config.max_repair_attempts).toBe(7);
  });

  it('prints the JSON Schema with --schema', async () => {
    const result = await cli(['config', '--schema']);
    expect(result.code).toBe(0);
    const schema = JSON.parse(result.stdout) as Record<string, any>;
    expect(schema.$schema).toMatch(/draft-07/);
    expect(schema.properties.autodev.properties.llm.properties.model.type).toBe('string');
    expect(schema.properties.autodev.additionalProperties).toBe(false);
  });
});

describe('autodev init', () => {
  it('writes the example file, refuses to overwrite it, overwrites with --force, and the file loads', async () => {
    const target = path.join(box.cwd, 'autodev.config.toml');
    const example = await readFile(path.join(ROOT, 'autodev.config.example.toml'), 'utf8');

    const first = await cli(['init']);
    expect(first.code).toBe(0);
    expect(first.stdout).toContain(target);
    expect(await readFile(target, 'utf8')).toBe(example);

    await writeFile(target, '# mine\n');
    const second = await cli(['init']);
    expect(second.code).toBe(2);
    expect(lines(second.stderr)).toHaveLength(1);
    expect(second.stderr).toMatch(/already exists.*--force/);
    expect(await readFile(target, 'utf8')).toBe('# mine\n');

    const forced = await cli(['init', '--force']);
    expect(forced.code).toBe(0);
    expect(await readFile(target, 'utf8')).toBe(example);

    const loaded = await cli(['config', '--json']);
    expect(loaded.code).toBe(0);
    expect(loaded.stderr).toBe('');
    const doc = JSON.parse(loaded.stdout) as Record<string, any>;
    expect(doc.file).toBe(target);
    expect(doc.sources.enabled).toBe(`file ${target}`);
  });
});
