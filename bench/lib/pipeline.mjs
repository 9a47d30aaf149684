// What the benches that run the whole pipeline share: the built CLI and the local model and GitHub
// servers (from build/support), and git with a fixed identity and no user or system config.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = path.dirname(path.dirname(path.dirname(fileURLToPath(import.meta.url))));

/** The support servers and the calc crate, or exit 2 naming the build that is missing. */
export async function loadSupport() {
  for (const file of ['dist/cli/index.js', 'build/support/openai-server.js']) {
    if (!existsSync(path.join(root, file))) {
      console.error(`${file} is missing: run \`npm run build && npm run build:support\` first`);
      process.exit(2);
    }
  }
  const [{ startOpenAiServer }, { startGitHubServer }, { startGitHttpServer }, calc] = await Promise.all([
    import(path.join(root, 'build/support/openai-server.js')),
    import(path.join(root, 'build/support/github-server.js')),
    import(path.join(root, 'build/support/git-http-server.js')),
    import(path.join(root, 'build/support/calc-crate.js')),
  ]);
  return { startOpenAiServer, startGitHubServer, startGitHttpServer, calc };
}

/** git with a fixed identity and no user or system config; `extra` adds to its environment. */
export function gitWith(extra = {}) {
  const env = {
    ...process.env,
    ...extra,
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_AUTHOR_NAME: 'Bench',
    GIT_AUTHOR_EMAIL: 'bench@example.test',
    GIT_COMMITTER_NAME: 'Bench',
    GIT_COMMITTER_EMAIL: 'bench@example.test',
  };
  const git = (cwd, ...args) => execFileSync('git', args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] }).toString();
  return { env, git };
}

export function writeTree(dir, files) {
  for (const [file, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    writeFileSync(path.join(dir, file), text);
  }
}

/**
 * The environment of one `autodev run` in a bench: its own TMPDIR and XDG dirs under `runDir` (made
 * here), the shared cache, the local servers, bubblewrap, and the rustup variables cargo needs.
 */
export function autodevEnv({ runDir, cache, llm, github, repo = 'acme/calc', path: searchPath }) {
  for (const sub of ['tmp', 'state', 'config']) mkdirSync(path.join(runDir, sub), { recursive: true });
  mkdirSync(cache, { recursive: true });
  const home = process.env.HOME ?? '/root';
  const env = {
    PATH: searchPath ?? [path.join(process.env.CARGO_HOME ?? path.join(home, '.cargo'), 'bin'), process.env.PATH].join(':'),
    HOME: home,
    LANG: 'C.UTF-8',
    NO_COLOR: '1',
    CI: 'true',
    TMPDIR: path.join(runDir, 'tmp'),
    XDG_STATE_HOME: path.join(runDir, 'state'),
    XDG_CONFIG_HOME: path.join(runDir, 'config'),
    XDG_CACHE_HOME: cache,
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    OPENAI_API_KEY: 'bench-openai-key',
    GITHUB_TOKEN: 'bench-github-token',
    AUTODEV_SANDBOX: 'bwrap',
    AUTODEV_LLM_API_URL: llm.baseUrl,
    AUTODEV_LLM_MODEL: 'bench-model',
    AUTODEV_GIT_GITHUB_API_URL: github.url,
    AUTODEV_GIT_GITHUB_REPO: repo,
    // The scripted model answers every request with the fix: no reproduction is asked of it.
    AUTODEV_GENERATE_REPRODUCE: 'never',
  };
  for (const name of ['RUSTUP_HOME', 'CARGO_HOME', 'RUSTUP_TOOLCHAIN']) if (process.env[name]) env[name] = process.env[name];
  return env;
}
