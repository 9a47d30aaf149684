// What a run needs before it spends anything (a workspace, a clone, a baseline build): the credentials
// its plan will use, a GitHub repository for its pull request, and an LLM endpoint that something
// answers at. `run` fails on what is missing before cloning; `--plan-only` lists it.
import type { Config } from '../config/schema.js';
import type { Env } from '../config/load.js';
import type { TaskRequest } from '../config/request.js';
import type { ForgeTarget } from '../plan/types.js';
import { probeUrl } from '../ports/reachability.js';
import { ConfigError, ExternalError, type AutodevError } from '../util/errors.js';
import { displayRepo } from '../util/display.js';

export interface Missing {
  /** What to fix: the environment variable or config key. */
  key: string;
  message: string;
  /**
   * `config`: the run cannot succeed without it (exit 2, before the clone); `unreachable`: nothing
   * answers at the endpoint (exit 1); `note`: the run goes on without it (e.g. it opens no pull request).
   */
  kind: 'config' | 'unreachable' | 'note';
}

// Servers people run on their own machines, which take no key.
const KEYLESS_PROVIDERS = new Set(['ollama', 'vllm', 'llamacpp']);

/**
 * OpenAI and Azure always want a key. Ollama, vLLM and llama.cpp servers take none; an
 * "openai-compatible" server takes none when it runs on this machine (LM Studio, a local proxy).
 */
export function llmKeyRequired(config: Config): boolean {
  if (KEYLESS_PROVIDERS.has(config.llm.provider)) return false;
  if (config.llm.provider === 'openai-compatible') return !isLoopbackUrl(config.llm.api_url);
  return true;
}

function isLoopbackUrl(url: string): boolean {
  try {
    const host = new URL(url).hostname.replace(/^\[|\]$/g, '').toLowerCase();
    return host === 'localhost' || host.endsWith('.localhost') || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
  } catch {
    return false;
  }
}

/**
 * The credentials and settings the run's plan depends on, from the config and the environment only.
 * `forge` is where the pull request would go (null: --repo is no GitHub repository and
 * git.github_repo names none); `prPlanned` says whether the plan opens one.
 */
export function missingCredentials(input: {
  config: Config;
  env: Env;
  request: TaskRequest;
  forge: ForgeTarget | null;
  prPlanned: boolean;
}): Missing[] {
  const { config, env, request } = input;
  const missing: Missing[] = [];
  const keyVar = config.llm.api_key_env;
  if (!env[keyVar] && llmKeyRequired(config)) {
    missing.push({
      key: keyVar,
      kind: 'config',
      message:
        `${keyVar} is not set (llm.api_key_env): the ${config.llm.provider} API at ${origin(config.llm.api_url)} needs an API key; ` +
        `export ${keyVar}=... (a local server that needs none: llm.provider = "ollama", "vllm" or "llamacpp")`,
    });
  }
  const tokenVar = config.git.github_token_env;
  if (input.prPlanned && input.forge && !env[tokenVar]) {
    missing.push({
      key: tokenVar,
      kind: 'config',
      message: `${tokenVar} is not set (git.github_token_env): it is needed to open the pull request on ${input.forge.owner}/${input.forge.repo}; export ${tokenVar}=..., or run with --no-pr`,
    });
  }
  if (!request.noPr && !input.forge) {
    missing.push({
      key: 'git.github_repo',
      kind: 'note',
      message: `${displayRepo(request.repo)} is not a GitHub repository, so no pull request can be opened (the branch is only pushed to it); set git.github_repo = "owner/name" to open one`,
    });
  }
  return missing;
}

/** Whether something answers at llm.api_url (a TCP connection; see ports/reachability). Never throws. */
export async function checkLlmEndpoint(config: Config, signal?: AbortSignal): Promise<Missing | null> {
  const answer = await probeUrl(config.llm.api_url, { timeoutMs: 5000, signal });
  if (answer.reachable !== false) return null;
  return {
    key: 'llm.api_url',
    kind: 'unreachable',
    message: `nothing answers at ${origin(config.llm.api_url)} (llm.api_url): ${answer.reason}`,
  };
}

/** The error a run stops with before spending anything, or null when nothing stands in its way. */
export function preflightError(missing: Missing[]): AutodevError | null {
  const blocking = missing.filter((m) => m.kind !== 'note');
  if (blocking.length === 0) return null;
  const [first] = blocking;
  const more =
    blocking.length > 1
      ? ` (and ${blocking.length - 1} more: ${blocking
          .slice(1)
          .map((m) => m.key)
          .join(', ')})`
      : '';
  const hint = 'autodev run --plan-only lists what a run needs';
  return first.kind === 'config' ? new ConfigError(`${first.message}${more}`, hint) : new ExternalError(`${first.message}${more}`, hint);
}

/** scheme://host[:port] of a URL: enough to recognise the endpoint, never a path or credentials. */
function origin(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return 'the configured URL';
  }
}
