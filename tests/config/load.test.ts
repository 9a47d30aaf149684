// loadConfig against real files in temp dirs: the four layers, where each value came from, and every
// way a config file or environment variable can be wrong (one line, naming the file, line and key).
import { afterEach, describe, expect, it } from '@jest/globals';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { envVariables, loadConfig, userConfigDir } from '../../src/config/load.js';
import { defaultConfig } from '../../src/config/schema.js';
import { ConfigError, ExitCode } from '../../src/util/errors.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const EXAMPLE = path.join(ROOT, 'autodev.config.example.toml');

const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'cfgtest-'));
  dirs.push(dir);
  return dir;
}
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

/** A dir holding `autodev.config.toml` with `text`; returns [dir, file]. */
async function withToml(text: string, name = 'autodev.config.toml'): Promise<[string, string]> {
  const dir = await tempDir();
  const file = path.join(dir, name);
  await writeFile(file, text);
  return [dir, file];
}

/** The ConfigError loadConfig throws (fails the test when it resolves). */
async function configError(promise: Promise<unknown>): Promise<ConfigError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ConfigError);
  const configErr = error as ConfigError;
  expect(configErr.exitCode).toBe(ExitCode.usage);
  expect(configErr.message).not.toContain('\n');
  return configErr;
}

describe('layering defaults < file < env < flags', () => {
  it('gives the defaults, every source "default", when there is no file and no env', async () => {
    const cwd = await tempDir();
    const loaded = await loadConfig({ cwd, env: {} });
    expect(loaded.file).toBeNull();
    expect(loaded.config).toEqual(defaultConfig());
    expect(loaded.sources.max_parallel_tasks).toBe('default');
    expect(loaded.sources['llm.model']).toBe('default');
    expect(loaded.sources['git.branch_prefix']).toBe('default');
    expect(Object.values(loaded.sources).every((s) => s === 'default')).toBe(true);
    expect(loaded.warnings).toEqual([]);
  });

  it('lets the file override defaults, env override the file and flags override env, naming each source', async () => {
    const [cwd, file] = await withToml(
      [
        '[autodev]',
        'max_parallel_tasks = 4',
        'sandbox = "none"',
        'max_step_retries = 5',
        '',
        '[autodev.llm]',
        'model = "from-file"',
        'temperature = 0.5',
        '',
      ].join('\n'),
    );
    const loaded = await loadConfig({
      cwd,
      env: { AUTODEV_MAX_PARALLEL_TASKS: '8', AUTODEV_SANDBOX: 'podman', AUTODEV_LLM_MODEL: 'from-env' },
      flags: { sandbox: 'bwrap' },
    });
    expect(loaded.file).toBe(file);
    // file only
    expect(loaded.config.max_step_retries).toBe(5);
    expect(loaded.sources.max_step_retries).toBe(`file ${file}`);
    expect(loaded.config.llm.temperature).toBe(0.5);
    expect(loaded.sources['llm.temperature']).toBe(`file ${file}`);
    // env over file
    expect(loaded.config.max_parallel_tasks).toBe(8);
    expect(loaded.sources.max_parallel_tasks).toBe('env AUTODEV_MAX_PARALLEL_TASKS');
    expect(loaded.config.llm.model).toBe('from-env');
    expect(loaded.sources['llm.model']).toBe('env AUTODEV_LLM_MODEL');
    // flag over env over file
    expect(loaded.config.sandbox).toBe('bwrap');
    expect(loaded.sources.sandbox).toBe('flag --sandbox');
    // untouched keys stay defaults, nested tables are merged rather than replaced
    expect(loaded.config.llm.max_tokens).toBe(4096);
    expect(loaded.sources['llm.max_tokens']).toBe('default');
    expect(loaded.sources.runner_timeout_secs).toBe('default');
  });

  it('names env as the source of a key the file does not set', async () => {
    const cwd = await tempDir();
    const loaded = await loadConfig({ cwd, env: { AUTODEV_GIT_BRANCH_PREFIX: 'bot/' } });
    expect(loaded.config.git.branch_prefix).toBe('bot/');
    expect(loaded.sources['git.branch_prefix']).toBe('env AUTODEV_GIT_BRANCH_PREFIX');
  });

  it('ignores env vars that are not config keys, warning about unknown AUTODEV_* ones with a suggestion', async () => {
    const cwd = await tempDir();
    const loaded = await loadConfig({
      cwd,
      env: { AUTODEV_DEBUG: '1', AUTODEV_CONFIG: 'x', AUTODEV_MAX_PARALEL_TASKS: '3', HOME: '/nowhere', PATH: '/bin' },
    });
    expect(loaded.config.max_parallel_tasks).toBe(2);
    expect(loaded.warnings).toHaveLength(1);
    expect(loaded.warnings[0]).toContain('AUTODEV_MAX_PARALEL_TASKS');
    expect(loaded.warnings[0]).toContain('AUTODEV_MAX_PARALLEL_TASKS');
  });
});

describe('environment coercion', () => {
  it('reads numbers, booleans, comma lists and JSON arrays', async () => {
    const cwd = await tempDir();
    const loaded = await loadConfig({
      cwd,
      env: {
        AUTODEV_RUNNER_TIMEOUT_SECS: ' 60 ',
        AUTODEV_LLM_TEMPERATURE: '0.7',
        AUTODEV_ENABLED: 'no',
        AUTODEV_POLICY_ALLOW_DEPENDENCY_SOURCE_CHANGE: 'TRUE',
        AUTODEV_ALLOWLIST_REPOS: 'acme/*, other/repo ,',
        AUTODEV_POLICY_PROTECTED_PATHS: '["a/**", "b,c"]',
      },
    });
    expect(loaded.config.runner_timeout_secs).toBe(60);
    expect(loaded.config.llm.temperature).toBe(0.7);
    expect(loaded.config.enabled).toBe(false);
    expect(loaded.config.policy.allow_dependency_source_change).toBe(true);
    expect(loaded.config.allowlist_repos).toEqual(['acme/*', 'other/repo']);
    expect(loaded.config.policy.protected_paths).toEqual(['a/**', 'b,c']);
    expect(loaded.sources['policy.protected_paths']).toBe('env AUTODEV_POLICY_PROTECTED_PATHS');
  });

  it('reads an empty list variable as an empty list', async () => {
    const cwd = await tempDir();
    const loaded = await loadConfig({ cwd, env: { AUTODEV_POLICY_PROTECTED_PATHS: '' } });
    expect(loaded.config.policy.protected_paths).toEqual([]);
  });

  it.each([
    ['AUTODEV_MAX_PARALLEL_TASKS', 'lots', 'max_parallel_tasks'],
    ['AUTODEV_MAX_PARALLEL_TASKS', '2.5', 'max_parallel_tasks'],
    ['AUTODEV_MAX_PARALLEL_TASKS', '1000', 'max_parallel_tasks'],
    ['AUTODEV_ENABLED', 'maybe', 'enabled'],
    ['AUTODEV_SANDBOX', 'vm', 'sandbox'],
    ['AUTODEV_LLM_API_URL', 'not a url', 'llm.api_url'],
    ['AUTODEV_LLM_API_URL', 'ftp://x', 'llm.api_url'],
    ['AUTODEV_OPA_URL', 'file:///etc/opa', 'opa_url'],
    ['AUTODEV_POLICY_PROTECTED_PATHS', '[1, 2]', 'policy.protected_paths'],
  ])('refuses %s=%s with one line naming the variable', async (variable, value, key) => {
    const cwd = await tempDir();
    const error = await configError(loadConfig({ cwd, env: { [variable]: value } }));
    expect(error.message).toContain(variable);
    expect(error.message).toContain(key);
    expect(error.message).toContain(JSON.stringify(value));
  });

  it('lists an environment variable for every scalar key, nested tables included', () => {
    const names = envVariables().map((v) => v.variable);
    expect(names).toEqual(
      expect.arrayContaining(['AUTODEV_ENABLED', 'AUTODEV_LLM_MODEL', 'AUTODEV_GIT_CLONE_DEPTH', 'AUTODEV_METRICS_TEXTFILE']),
    );
    expect(names.some((n) => n.startsWith('AUTODEV_TOOLCHAINS'))).toBe(false);
    expect(new Set(names).size).toBe(names.length);
  });
});

describe('config file errors', () => {
  it('reports broken TOML with the file and the line', async () => {
    const [cwd, file] = await withToml('[autodev]\nenabled = true\n\n[autodev.llm]\nmodel = "unterminated\nmax_tokens = 5\n');
    const error = await configError(loadConfig({ cwd, env: {} }));
    expect(error.message).toContain(`${file}:5:`);
    expect(error.message).toMatch(/invalid TOML/);
  });

  it('reports an unknown key with a "did you mean" and its line', async () => {
    const [cwd, file] = await withToml('[autodev]\nenabled = true\nmax_paralel_tasks = 3\n');
    const error = await configError(loadConfig({ cwd, env: {} }));
    expect(error.message).toContain(`${file}:3:`);
    expect(error.message).toContain('max_paralel_tasks');
    expect(error.message).toContain('did you mean "max_parallel_tasks"');
  });

  it('reports a string where a number belongs with its line and key', async () => {
    const [cwd, file] = await withToml('# comment\n[autodev]\nenabled = true\nrunner_timeout_secs = "900"\n');
    const error = await configError(loadConfig({ cwd, env: {} }));
    expect(error.message).toContain(`${file}:4:`);
    expect(error.message).toContain('runner_timeout_secs');
    expect(error.message).toMatch(/expected number/);
  });

  it('reports a bad enum value with the allowed values', async () => {
    const [cwd, file] = await withToml('[autodev]\ndefault_risk_tier = "extreme"\n');
    const error = await configError(loadConfig({ cwd, env: {} }));
    expect(error.message).toContain(`${file}:2:`);
    expect(error.message).toContain('default_risk_tier');
    expect(error.message).toMatch(/"low".*"medium".*"high"/);
  });

  it('reports errors inside nested tables ([autodev.llm]) with the dotted key and line', async () => {
    const [cwd, file] = await withToml('[autodev]\nenabled = true\n\n[autodev.llm]\nmodel = "m"\nmax_tokens = -1\n');
    const error = await configError(loadConfig({ cwd, env: {} }));
    expect(error.message).toContain(`${file}:6:`);
    expect(error.message).toContain('autodev.llm.max_tokens');
  });

  it.each([
    ['[autodev.llm]\napi_url = "ftp://x"\n', 2, 'autodev.llm.api_url: expected an http:// or https:// URL'],
    ['[autodev.git]\ngithub_api_url = "file:///srv/github"\n', 2, 'autodev.git.github_api_url: expected an http:// or https:// URL'],
    ['[autodev]\nenabled = true\nopa_url = "localhost:8181"\n', 3, 'autodev.opa_url: expected "" (off) or an http:// or https:// URL'],
    [
      '[autodev.metrics]\npushgateway_url = "htps://gw.example"\n',
      2,
      'autodev.metrics.pushgateway_url: expected "" (off) or an http:// or https:// URL',
    ],
  ])('refuses a URL that is not http(s), naming the key and the line: %j', async (text, line, message) => {
    const [cwd, file] = await withToml(text);
    const error = await configError(loadConfig({ cwd, env: {} }));
    expect(error.message).toBe(`${file}:${line}: ${message}`);
  });

  it('accepts http(s) URLs, and "" where a URL is optional', async () => {
    const [cwd] = await withToml(
      '[autodev]\nopa_url = ""\n[autodev.llm]\napi_url = "http://127.0.0.1:11434/v1"\n[autodev.git]\ngithub_api_url = "https://ghe.example/api/v3"\n[autodev.metrics]\npushgateway_url = "http://gw:9091"\n',
    );
    const { config } = await loadConfig({ cwd, env: {} });
    expect([config.opa_url, config.llm.api_url, config.git.github_api_url, config.metrics.pushgateway_url]).toEqual([
      '',
      'http://127.0.0.1:11434/v1',
      'https://ghe.example/api/v3',
      'http://gw:9091',
    ]);
  });

  it('suggests the right key for a misspelling inside [autodev.llm]', async () => {
    const [cwd, file] = await withToml('[autodev.llm]\nprovider = "ollama"\nmodle = "llama3"\n');
    const error = await configError(loadConfig({ cwd, env: {} }));
    expect(error.message).toContain(`${file}:3:`);
    expect(error.message).toContain('unknown key "autodev.llm.modle"');
    expect(error.message).toContain('did you mean "model"');
  });

  it('finds the line of a dotted key written under [autodev]', async () => {
    const [cwd, file] = await withToml('[autodev]\nenabled = true\nllm.provider = "gpt"\n');
    const error = await configError(loadConfig({ cwd, env: {} }));
    expect(error.message).toContain(`${file}:3:`);
    expect(error.message).toContain('autodev.llm.provider');
  });

  it('reports an unknown top-level table', async () => {
    const [cwd] = await withToml('[autodevv]\nenabled = true\n');
    const error = await configError(loadConfig({ cwd, env: {} }));
    expect(error.message).toContain(':1:');
    expect(error.message).toContain('did you mean "autodev"');
  });

  it('reports --config naming a missing file', async () => {
    const cwd = await tempDir();
    const error = await configError(loadConfig({ cwd, env: {}, configFile: 'missing.toml' }));
    expect(error.message).toContain('missing.toml');
    expect(error.message).toMatch(/not found/);
  });

  it('refuses --config naming a file that is neither TOML nor package.json', async () => {
    const cwd = await tempDir();
    await writeFile(path.join(cwd, 'settings.json'), '{"autodev": {}}');
    const error = await configError(loadConfig({ cwd, env: {}, configFile: 'settings.json' }));
    expect(error.message).toMatch(/TOML/);
  });
});

describe('finding the config file', () => {
  it('reads autodev.config.toml in the current directory', async () => {
    const [cwd, file] = await withToml('[autodev]\nmax_repair_attempts = 5\n');
    const loaded = await loadConfig({ cwd, env: {} });
    expect(loaded.file).toBe(file);
    expect(loaded.config.max_repair_attempts).toBe(5);
  });

  it('reads .autodevrc.toml', async () => {
    const [cwd, file] = await withToml('[autodev]\nmax_repair_attempts = 6\n', '.autodevrc.toml');
    const loaded = await loadConfig({ cwd, env: {} });
    expect(loaded.file).toBe(file);
    expect(loaded.config.max_repair_attempts).toBe(6);
    expect(loaded.sources.max_repair_attempts).toBe(`file ${file}`);
  });

  it('reads the "autodev" key of package.json, and its errors name package.json', async () => {
    const cwd = await tempDir();
    const file = path.join(cwd, 'package.json');
    await writeFile(file, JSON.stringify({ name: 'x', autodev: { max_repair_attempts: 7, llm: { model: 'pkg-model' } } }));
    const loaded = await loadConfig({ cwd, env: {} });
    expect(loaded.file).toBe(file);
    expect(loaded.config.max_repair_attempts).toBe(7);
    expect(loaded.config.llm.model).toBe('pkg-model');
    expect(loaded.sources['llm.model']).toBe(`file ${file}`);

    await writeFile(file, JSON.stringify({ name: 'x', autodev: { sandbox: 'vm' } }));
    const error = await configError(loadConfig({ cwd, env: {} }));
    expect(error.message).toContain(file);
    expect(error.message).toContain('autodev.sandbox');
  });

  it('searches from a subdirectory up, skipping a package.json without an "autodev" key', async () => {
    const [root, file] = await withToml('[autodev]\nmax_parallel_tasks = 9\n');
    const deep = path.join(root, 'a', 'b', 'c');
    await mkdir(deep, { recursive: true });
    await writeFile(path.join(root, 'a', 'package.json'), JSON.stringify({ name: 'no-autodev-key' }));
    const loaded = await loadConfig({ cwd: deep, env: {} });
    expect(loaded.file).toBe(file);
    expect(loaded.config.max_parallel_tasks).toBe(9);
  });

  it('prefers the nearest file', async () => {
    const [root] = await withToml('[autodev]\nmax_parallel_tasks = 9\n');
    const sub = path.join(root, 'sub');
    await mkdir(sub);
    await writeFile(path.join(sub, '.autodevrc.toml'), '[autodev]\nmax_parallel_tasks = 3\n');
    const loaded = await loadConfig({ cwd: sub, env: {} });
    expect(loaded.file).toBe(path.join(sub, '.autodevrc.toml'));
    expect(loaded.config.max_parallel_tasks).toBe(3);
  });

  it('uses exactly the --config file, not the one the search would find', async () => {
    const [cwd] = await withToml('[autodev]\nmax_parallel_tasks = 9\n');
    const other = path.join(cwd, 'other.toml');
    await writeFile(other, '[autodev]\nmax_parallel_tasks = 4\n');
    const loaded = await loadConfig({ cwd, env: {}, configFile: 'other.toml' });
    expect(loaded.file).toBe(other);
    expect(loaded.config.max_parallel_tasks).toBe(4);
  });

  it('falls back to $XDG_CONFIG_HOME/autodev/config.toml', async () => {
    const cwd = await tempDir();
    const xdg = await tempDir();
    const file = path.join(xdg, 'autodev', 'config.toml');
    await mkdir(path.dirname(file));
    await writeFile(file, '[autodev.git]\nbranch_prefix = "xdg/"\n');
    expect(userConfigDir({ XDG_CONFIG_HOME: xdg })).toBe(path.join(xdg, 'autodev'));
    const loaded = await loadConfig({ cwd, env: { XDG_CONFIG_HOME: xdg } });
    expect(loaded.file).toBe(file);
    expect(loaded.config.git.branch_prefix).toBe('xdg/');
    // a project file wins over the user's
    await writeFile(path.join(cwd, 'autodev.config.toml'), '[autodev.git]\nbranch_prefix = "proj/"\n');
    const project = await loadConfig({ cwd, env: { XDG_CONFIG_HOME: xdg } });
    expect(project.config.git.branch_prefix).toBe('proj/');
  });

  it('uses $HOME/.config/autodev when XDG_CONFIG_HOME is unset', () => {
    expect(userConfigDir({ HOME: '/home/someone' })).toBe('/home/someone/.config/autodev');
  });
});

describe('the example configuration', () => {
  it('loads cleanly and holds exactly the defaults', async () => {
    const cwd = await tempDir();
    const loaded = await loadConfig({ cwd, env: {}, configFile: EXAMPLE });
    expect(loaded.config).toEqual(defaultConfig());
    expect(loaded.sources.max_parallel_tasks).toBe(`file ${EXAMPLE}`);
    expect(loaded.sources['llm.model']).toBe(`file ${EXAMPLE}`);
  });

  it('still loads with every commented-out key switched on', async () => {
    const text = await readFile(EXAMPLE, 'utf8');
    const uncommented = text
      .split('\n')
      .map((l) => (/^# (\[autodev\.toolchains|[a-z_]+ = )/.test(l) ? l.slice(2) : l))
      .join('\n');
    const [cwd] = await withToml(uncommented);
    const loaded = await loadConfig({ cwd, env: {} });
    expect(loaded.config.llm.max_cost_usd).toBe(1);
    expect(loaded.config.git.github_repo).toBe('myorg/myrepo');
    expect(loaded.config.toolchains.rust?.deps).toEqual(['cargo', 'fetch', '--locked']);
    expect(loaded.config.toolchains.node?.test).toEqual(['npm', 'test']);
  });
});

describe('a broken package.json', () => {
  it('does not matter when --config names another file: that file is the only one read', async () => {
    const cwd = await tempDir();
    await writeFile(path.join(cwd, 'package.json'), '{"name": "x",\n"autodev": {"sandbox": }\n}');
    await writeFile(path.join(cwd, 'good.toml'), '[autodev]\nmax_repair_attempts = 4\n');
    const loaded = await loadConfig({ cwd, env: {}, configFile: 'good.toml' });
    expect(loaded.file).toBe(path.join(cwd, 'good.toml'));
    expect(loaded.config.max_repair_attempts).toBe(4);
  });

  it('is named when --config names it', async () => {
    const cwd = await tempDir();
    const file = path.join(cwd, 'package.json');
    await writeFile(file, '{"name": "x",\n"autodev": {"sandbox": }\n}');
    const error = await configError(loadConfig({ cwd, env: {}, configFile: 'package.json' }));
    expect(error.message).toContain(file);
    expect(error.message).toMatch(/invalid JSON/);
  });

  it('is a one-line config error naming the file and the reason', async () => {
    const cwd = await tempDir();
    const file = path.join(cwd, 'package.json');
    await writeFile(file, `{"name": "x",\n"description": "${'long '.repeat(200)}",\n"autodev": {"sandbox": }\n}`);
    const error = await configError(loadConfig({ cwd, env: {} }));
    expect(error.message).toContain(file);
    expect(error.message).toMatch(/JSON/);
    expect(error.message).toMatch(/Unexpected token/);
    // the reason, not the whole file
    expect(error.message.length).toBeLessThan(400);
  });
});
