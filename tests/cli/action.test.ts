// The GitHub Action (action.yml): its script run for real by bash, as the runner would run it (the
// inputs in the step's environment), with `npx` replaced by a recorder of the command line it gets.
import { describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { ROOT } from '../support/cli.js';

interface Action {
  inputs: Record<string, { required?: boolean; default?: string }>;
  runs: { using: string; steps: { id?: string; run?: string; env?: Record<string, string> }[] };
}

async function loadAction(): Promise<Action> {
  return parse(await readFile(path.join(ROOT, 'action.yml'), 'utf8')) as Action;
}

/** Runs the action's script with `inputs` (defaults for the rest); returns the argv npx got and its environment. */
async function runAction(
  inputs: Record<string, string>,
): Promise<{ argv: string[]; env: Record<string, string>; output: string; files: string[] }> {
  const action = await loadAction();
  const step = action.runs.steps.find((s) => s.id === 'run')!;
  const dir = await mkdtemp(path.join(os.tmpdir(), 'autodev-action-'));
  try {
    const bin = path.join(dir, 'bin');
    await mkdir(bin);
    // The recorder: argv as JSON lines, then the environment, then a JSON result on stdout.
    await writeFile(
      path.join(bin, 'npx'),
      `#!/bin/bash\nfor a in "$@"; do printf '%s\\0' "$a"; done > "${dir}/argv"\nenv -0 > "${dir}/env"\necho '{"status":"pr_created"}'\n`,
    );
    await chmod(path.join(bin, 'npx'), 0o755);
    const value = (template: string): string =>
      template.replace(/\$\{\{\s*inputs\.([\w-]+)\s*\}\}/g, (_m, name: string) => inputs[name] ?? action.inputs[name]?.default ?? '');
    const env: Record<string, string> = {
      PATH: `${bin}:/usr/bin:/bin`,
      GITHUB_REPOSITORY: 'acme/calc',
      GITHUB_SERVER_URL: 'https://github.com',
      GITHUB_API_URL: 'https://api.github.com',
      RUNNER_TEMP: dir,
      GITHUB_OUTPUT: path.join(dir, 'output'),
    };
    for (const [name, template] of Object.entries(step.env ?? {})) env[name] = value(template);
    await promisify(execFile)('bash', ['-e', '-c', step.run!], { env, cwd: dir });
    const argv = (await readFile(path.join(dir, 'argv'), 'utf8')).split('\0').slice(0, -1);
    const seen = Object.fromEntries(
      (await readFile(path.join(dir, 'env'), 'utf8'))
        .split('\0')
        .filter(Boolean)
        .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
    );
    return { argv, env: seen, output: await readFile(path.join(dir, 'output'), 'utf8'), files: await readdir(dir) };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

describe('action.yml', () => {
  it('is a composite action whose scripts take inputs from the environment only', async () => {
    const action = await loadAction();
    expect(action.runs.using).toBe('composite');
    expect(action.inputs['api-key'].required).toBe(true);
    for (const step of action.runs.steps) if (step.run) expect(step.run).not.toMatch(/\$\{\{/);
  });

  it('runs autodev on an issue of the repository, the model and key from the inputs', async () => {
    const { argv, env, output } = await runAction({
      issue: '42',
      'api-key': 'sk-test-key-123456',
      model: 'gpt-test',
      'github-token': 'ghs_x',
    });
    expect(argv).toEqual(['--yes', 'autodev@latest', 'run', '--json', '--issue', 'acme/calc#42']);
    expect(env).toMatchObject({ OPENAI_API_KEY: 'sk-test-key-123456', GITHUB_TOKEN: 'ghs_x', AUTODEV_LLM_MODEL: 'gpt-test' });
    expect(env.AUTODEV_LLM_API_URL).toBeUndefined();
    expect(argv.join(' ')).not.toContain('sk-test-key');
    expect(output).toMatch(/^result=.*autodev-result\.json$/m);
  });

  it('runs a titled task on this repository; a title with shell syntax stays text', async () => {
    const title = 'Fix $(touch pwned) `id` "quotes"';
    const { argv, files } = await runAction({ title, body: 'details', config: 'ci/autodev.toml', 'api-key': 'k', version: '0.1.0' });
    expect(argv).toEqual([
      '--yes',
      'autodev@0.1.0',
      'run',
      '--json',
      '--repo',
      'https://github.com/acme/calc.git',
      '--title',
      title,
      '--description',
      'details',
      '--config',
      'ci/autodev.toml',
    ]);
    expect(files).not.toContain('pwned');
  });
});
