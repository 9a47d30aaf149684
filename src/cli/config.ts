// `autodev config`: the effective configuration with the source of every value; `--schema` prints
// the JSON Schema editors use.
import { envVariables, loadConfig } from '../config/load.js';
import { configJsonSchema } from '../config/schema.js';
import { ExitCode } from '../util/errors.js';
import type { CliIo } from './index.js';

export async function configCommand(flags: { json?: boolean; schema?: boolean; config?: string }, io: CliIo): Promise<number> {
  if (flags.schema) {
    io.stdout.write(`${JSON.stringify(configJsonSchema(), null, 2)}\n`);
    return ExitCode.ok;
  }
  const loaded = await loadConfig({ cwd: io.cwd, env: io.env, configFile: flags.config });
  for (const warning of loaded.warnings) io.stderr.write(`autodev: warning: ${warning}\n`);
  const { config, sources } = loaded;
  // Secrets live only in environment variables; show whether they are set, never their values.
  const credentials = {
    [config.llm.api_key_env]: Boolean(io.env[config.llm.api_key_env]),
    [config.git.github_token_env]: Boolean(io.env[config.git.github_token_env]),
  };
  const allowlist = config.allowlist_repos.length ? config.allowlist_repos : null;
  if (flags.json) {
    io.stdout.write(
      `${JSON.stringify({ file: loaded.file, config, sources, credentials, allowlist: allowlist ?? 'all repositories allowed' }, null, 2)}\n`,
    );
    return ExitCode.ok;
  }
  const lines: string[] = [];
  lines.push(`config file: ${loaded.file ?? '(none found; defaults and environment only)'}`);
  const keys = Object.keys(sources).sort((a, b) => depth(a) - depth(b) || a.localeCompare(b));
  const width = Math.max(...keys.map((k) => k.length));
  for (const key of keys) {
    lines.push(`${key.padEnd(width)}  ${JSON.stringify(valueAt(config, key))}  (${sources[key]})`);
  }
  lines.push('');
  lines.push(`allowlist: ${allowlist ? allowlist.join(', ') : 'not set: every repository is allowed'}`);
  for (const [name, set] of Object.entries(credentials)) lines.push(`credential ${name}: ${set ? 'set' : 'not set'}`);
  lines.push(`environment overrides: ${envVariables().length} variables, e.g. AUTODEV_MAX_PARALLEL_TASKS, AUTODEV_LLM_MODEL`);
  io.stdout.write(`${lines.join('\n')}\n`);
  return ExitCode.ok;
}

function depth(key: string): number {
  return key.split('.').length;
}

function valueAt(value: unknown, dotted: string): unknown {
  return dotted
    .split('.')
    .reduce<unknown>((node, key) => (node && typeof node === 'object' ? (node as Record<string, unknown>)[key] : undefined), value);
}
