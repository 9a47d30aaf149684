// `autodev doctor`: every external program the plan may use, found or missing, and what is used
// instead; the sandboxes; whether the credentials' environment variables are set (never values).
import { loadConfig, type LoadedConfig } from '../config/load.js';
import { autodevSchema } from '../config/schema.js';
import { createExec } from '../ports/exec.js';
import { AUTO_ORDER, createSandbox } from '../ports/sandbox/index.js';
import { containerImage } from '../plan/toolchains.js';
import { TOOLCHAINS } from '../toolchains/registry.js';
import type { ProgramCheck, Toolchain } from '../toolchains/types.js';
import { ConfigError, ExitCode } from '../util/errors.js';
import type { CliIo } from './index.js';
import { llmKeyRequired } from '../task/preflight.js';

const GENERAL: ProgramCheck[] = [
  { name: 'git', command: ['git', '--version'], purpose: 'clone, branch, commit, push', fallback: 'none: git is required' },
  { name: 'rg', command: ['rg', '--version'], purpose: 'code search', fallback: 'git grep' },
  { name: 'gitleaks', command: ['gitleaks', 'version'], purpose: 'secrets scan', fallback: 'the built-in secrets scanner' },
];

const SANDBOXES: ProgramCheck[] = [
  { name: 'docker', command: ['docker', '--version'], purpose: 'sandbox', fallback: 'the next sandbox (podman, then bwrap)' },
  { name: 'podman', command: ['podman', '--version'], purpose: 'sandbox', fallback: 'the next sandbox (bwrap)' },
  { name: 'bwrap', command: ['bwrap', '--version'], purpose: 'sandbox', fallback: 'none left: set sandbox = "none" to run unisolated' },
];

interface ProgramResult {
  name: string;
  found: boolean;
  version: string | null;
  purpose: string;
  insteadWhenMissing: string | null;
}

/**
 * Every registered toolchain (whatever registry.ts lists) with its own checks' results, and what a
 * project of that kind would miss here: a missing program with no fallback (`none: …`) means such a
 * project cannot be verified; one with a fallback only changes how.
 */
function toolchainReports(toolchains: readonly Toolchain[], results: Map<string, ProgramResult>) {
  return toolchains.map((t) => {
    const programs = t.doctor.map((check) => results.get(checkKey(check))!);
    const missing = programs.filter((p) => !p.found).map((p) => ({ name: p.name, consequence: p.insteadWhenMissing ?? '' }));
    return {
      id: t.id,
      language: t.language,
      detectedBy: t.manifests[0] ?? null,
      usable: missing.every((m) => !m.consequence.startsWith('none')),
      programs,
      missing,
    };
  });
}

function checkKey(check: ProgramCheck): string {
  return JSON.stringify(check.command);
}

export async function doctorCommand(flags: { json?: boolean; config?: string }, io: CliIo): Promise<number> {
  // A broken config file (or a broken package.json where the search looks) is one of the problems
  // doctor is there to report: the rest is checked with the defaults.
  let loaded: Pick<LoadedConfig, 'config' | 'file'>;
  let configProblem: string | null = null;
  try {
    loaded = await loadConfig({ cwd: io.cwd, env: io.env, configFile: flags.config });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    configProblem = `${error.message}${error.hint ? ` (${error.hint})` : ''}`;
    loaded = { config: autodevSchema.parse({}), file: null };
  }
  const { config } = loaded;
  const exec = createExec();
  // A program two toolchains check (or a toolchain and the general list) runs once.
  const checks = [...GENERAL, ...TOOLCHAINS.flatMap((t) => t.doctor), ...SANDBOXES];
  const unique = [...new Map(checks.map((c) => [checkKey(c), c])).values()];
  const results = new Map<string, ProgramResult>(
    await Promise.all(
      unique.map(async (check): Promise<[string, ProgramResult]> => {
        const result = await exec.run(check.command, { inheritEnv: true, timeoutMs: 15_000 });
        const found = result.exitCode === 0;
        const version = found ? (result.stdout || result.stderr).split('\n')[0].trim() : null;
        return [
          checkKey(check),
          { name: check.name, found, version, purpose: check.purpose, insteadWhenMissing: found ? null : check.fallback },
        ];
      }),
    ),
  );
  const programs = unique.map((c) => results.get(checkKey(c))!);
  const toolchains = toolchainReports(TOOLCHAINS, results);
  const sandboxes = await Promise.all(
    (['docker', 'podman', 'bwrap', 'none'] as const).map(async (kind) => {
      const problem = await createSandbox(kind, { exec, image: containerImage(config, null) }).check();
      return { kind, usable: problem === null, problem };
    }),
  );
  const auto = config.sandbox === 'auto' ? (sandboxes.find((s) => AUTO_ORDER.includes(s.kind) && s.usable)?.kind ?? null) : config.sandbox;
  const credentials = [
    { key: 'llm.api_key_env', variable: config.llm.api_key_env, set: Boolean(io.env[config.llm.api_key_env]) },
    { key: 'git.github_token_env', variable: config.git.github_token_env, set: Boolean(io.env[config.git.github_token_env]) },
  ];
  const modelKey = { variable: config.llm.api_key_env, required: llmKeyRequired(config), set: credentials[0].set };
  const missing = whatARunLacks({ configProblem, programs, configured: config.sandbox, used: auto, sandboxes, modelKey });
  const report = {
    ready: missing.length === 0,
    missing,
    configFile: loaded.file,
    configProblem,
    enabled: config.enabled,
    allowlist: config.allowlist_repos.length ? config.allowlist_repos : 'not set: every repository is allowed',
    programs,
    toolchains,
    sandbox: { configured: config.sandbox, used: auto, kinds: sandboxes },
    credentials,
  };
  // Not ready is a failed check (exit 1), so a script can gate on `autodev doctor` alone.
  const exitCode = report.ready ? ExitCode.ok : ExitCode.failed;
  if (flags.json) {
    io.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    return exitCode;
  }
  const lines: string[] = [];
  if (configProblem) lines.push(`config: PROBLEM: ${configProblem}; the checks below use the defaults`);
  else lines.push(`config: ${loaded.file ?? '(none found)'}; ${config.enabled ? 'enabled' : 'DISABLED (enabled = false)'}`);
  lines.push(`allowlist: ${typeof report.allowlist === 'string' ? report.allowlist : report.allowlist.join(', ')}`);
  lines.push('');
  const programLine = (p: ProgramResult, indent: string) =>
    p.found
      ? `${indent}ok       ${p.name.padEnd(13)} ${p.version}`
      : `${indent}missing  ${p.name.padEnd(13)} ${p.purpose}; instead: ${p.insteadWhenMissing}`;
  const toolchainPrograms = new Set(TOOLCHAINS.flatMap((t) => t.doctor.map(checkKey)));
  lines.push('programs:');
  for (const check of [...GENERAL, ...SANDBOXES]) {
    if (!toolchainPrograms.has(checkKey(check))) lines.push(programLine(results.get(checkKey(check))!, '  '));
  }
  lines.push('');
  lines.push('toolchains:');
  for (const t of toolchains) {
    const state =
      t.missing.length === 0
        ? 'ready'
        : t.usable
          ? `usable, without ${t.missing.map((m) => m.name).join(', ')}`
          : `a ${t.language} project would miss ${t.missing
              .filter((m) => m.consequence.startsWith('none'))
              .map((m) => m.name)
              .join(', ')}`;
    lines.push(`  ${t.language}${t.detectedBy ? ` (${t.detectedBy})` : ''}: ${state}`);
    for (const p of t.programs) lines.push(programLine(p, '    '));
  }
  lines.push('');
  lines.push(`sandbox: configured ${config.sandbox}, used ${auto ?? 'none usable'}`);
  for (const s of sandboxes) lines.push(`  ${s.usable ? 'ok     ' : 'no     '}  ${s.kind.padEnd(7)} ${s.problem ?? ''}`.trimEnd());
  lines.push('');
  lines.push('credentials (environment variables named by config):');
  for (const c of credentials) lines.push(`  ${c.set ? 'set    ' : 'not set'}  ${c.variable} (${c.key})`);
  lines.push('');
  if (report.ready) lines.push('ready: a run has what it needs');
  else {
    lines.push('NOT READY: a run would stop for lack of:');
    for (const m of missing) lines.push(`  ${m.name.padEnd(7)} ${m.problem}`);
  }
  io.stdout.write(`${lines.join('\n')}\n`);
  return exitCode;
}

/**
 * What every run needs and this machine (or config) lacks: a readable config, git, the sandbox the
 * config asks for (with `auto`, any usable one), and the model's API key unless the provider needs
 * none (every run asks the model; `run` stops on a missing key before it clones). Toolchain programs
 * depend on the repository and the GitHub token on whether a pull request is opened: those stay in the
 * report without making it not ready.
 */
function whatARunLacks(facts: {
  configProblem: string | null;
  programs: { name: string; found: boolean }[];
  configured: string;
  used: string | null;
  sandboxes: { kind: string; usable: boolean; problem: string | null }[];
  modelKey: { variable: string; required: boolean; set: boolean };
}): { name: string; problem: string }[] {
  const missing: { name: string; problem: string }[] = [];
  if (facts.configProblem) missing.push({ name: 'config', problem: facts.configProblem });
  if (!facts.programs.find((p) => p.name === 'git')?.found) missing.push({ name: 'git', problem: 'git not found on PATH' });
  const chosen = facts.sandboxes.find((s) => s.kind === facts.used);
  if (facts.used === null)
    missing.push({ name: 'sandbox', problem: 'no usable sandbox (docker, podman or bwrap); or set sandbox = "none"' });
  else if (chosen && !chosen.usable) missing.push({ name: 'sandbox', problem: `${chosen.kind}: ${chosen.problem ?? 'not usable'}` });
  const key = facts.modelKey;
  if (key.required && !key.set) {
    missing.push({
      name: key.variable,
      problem: `${key.variable} is not set (llm.api_key_env): every run asks the model, and stops without it`,
    });
  }
  return missing;
}
