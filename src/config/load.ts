// Layers defaults < file < AUTODEV_* environment < flags into one validated Config, remembering
// where every value came from. Takes env and argv-derived flags as parameters: nothing here reads
// process.env, so tests can drive every layer.
import { readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';
import os from 'node:os';
import { cosmiconfig } from 'cosmiconfig';
import { closest } from 'fastest-levenshtein';
import type * as z from 'zod';
import { autodevSchema, fileSchema, type Config } from './schema.js';
import { findTomlKeyLine } from './locate.js';
import { ConfigError } from '../util/errors.js';
import { tomlLib } from '../util/libs.js';

export type Env = Record<string, string | undefined>;

export interface FlagOverrides {
  sandbox?: Config['sandbox'];
  /** `--candidates N`: generate.candidates. */
  candidates?: number;
  /** `--strategy`: agent mode demanded on the command line fails rather than falls back. */
  strategy?: Config['generate']['strategy'];
  /** `--allow-unsandboxed-agent`. */
  allowUnsandboxedAgent?: boolean;
}

export interface LoadOptions {
  cwd: string;
  env: Env;
  /** `--config <file>`: use exactly this file, no search. */
  configFile?: string;
  flags?: FlagOverrides;
}

export interface LoadedConfig {
  config: Config;
  /** Dotted key (e.g. `llm.model`) → `default`, `file <path>`, `env AUTODEV_X` or `flag --x`. */
  sources: Record<string, string>;
  file: string | null;
  warnings: string[];
}

/** The flag that sets a key, where its name is not the key's. */
const FLAG_NAMES: Record<string, string> = {
  'generate.strategy': 'strategy',
  'agent.on_unsupported': 'strategy',
  'agent.allow_unsandboxed': 'allow-unsandboxed-agent',
};

/** Environment variables the tool reads that are not config keys. */
const NON_CONFIG_ENV = new Set(['AUTODEV_DEBUG', 'AUTODEV_CONFIG', 'AUTODEV_EVENTS']);

export async function loadConfig(options: LoadOptions): Promise<LoadedConfig> {
  const warnings: string[] = [];
  const found = await findConfigFile(options);
  let fileLayer: Record<string, unknown> = {};
  if (found) fileLayer = validateFileLayer(found.filepath, found.text, found.value);

  const envLayer = readEnvLayer(options.env, warnings);
  const flagLayer: Record<string, unknown> = {};
  if (options.flags?.sandbox) flagLayer.sandbox = options.flags.sandbox;
  if (options.flags?.candidates !== undefined) flagLayer.generate = { candidates: options.flags.candidates };
  if (options.flags?.strategy) {
    flagLayer.generate = { ...(flagLayer.generate as object), strategy: options.flags.strategy };
    // Asked for by name on this run: an endpoint without tool calls fails it instead of silently running another strategy.
    if (options.flags.strategy === 'agent') flagLayer.agent = { on_unsupported: 'fail' };
  }
  if (options.flags?.allowUnsandboxedAgent) flagLayer.agent = { ...(flagLayer.agent as object), allow_unsandboxed: true };

  const sources: Record<string, string> = {};
  const defaults = autodevSchema.parse({}) as Record<string, unknown>;
  recordSources(defaults, 'default', sources);
  const merged = structuredClone(defaults);
  const fileLabel = found ? `file ${found.filepath}` : '';
  mergeInto(merged, fileLayer, fileLabel, sources);
  for (const [key, { value, variable }] of Object.entries(envLayer)) {
    setPath(merged, key.split('.'), value);
    sources[key] = `env ${variable}`;
  }
  mergeInto(merged, flagLayer, 'flag', sources, (key) => `flag --${FLAG_NAMES[key] ?? key}`);

  const result = autodevSchema.safeParse(merged);
  if (!result.success) {
    // Every layer was validated on its own above; this is a combination no single layer explains.
    throw new ConfigError(`invalid configuration: ${describeIssue(result.error.issues[0])}`);
  }
  return { config: result.data, sources, file: found?.filepath ?? null, warnings };
}

interface FoundFile {
  filepath: string;
  text: string;
  value: unknown;
}

async function findConfigFile(options: LoadOptions): Promise<FoundFile | null> {
  // `--config` names the one file read: nothing else (no package.json here, no search) can break the run.
  if (options.configFile) {
    const filepath = path.resolve(options.cwd, options.configFile);
    if (!existsSync(filepath)) throw new ConfigError(`${options.configFile}: config file not found`, 'check the --config flag');
    return loadNamed(filepath);
  }
  try {
    // Inside the try: cosmiconfig reads package.json (its "meta config") while being constructed,
    // and a broken package.json is a config error, not a crash.
    const explorer = cosmiconfig('autodev', {
      searchPlaces: ['autodev.config.toml', '.autodevrc.toml', 'package.json'],
      loaders: {
        '.toml': (filepath: string, content: string) => parseTomlOrThrow(filepath, content),
        // cosmiconfig's global places include config.js and friends; a config file must never run code.
        ...Object.fromEntries(['.js', '.mjs', '.cjs', '.ts'].map((ext) => [ext, refuseScript])),
      },
      searchStrategy: 'global',
      packageProp: 'autodev',
      cache: false,
    });
    const result = await explorer.search(options.cwd);
    if (result) return await finish(result.filepath, result.config);
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    const message = error instanceof Error ? error.message : String(error);
    // cosmiconfig's JSON errors put the file on the first line and the reason on the second.
    const [head, reason] = message
      .split('\n')
      .map((l) => l.trim().replace(/ while parsing .*$/, ''))
      .filter(Boolean);
    throw new ConfigError(`config: ${head ?? message}${head?.endsWith(':') && reason ? ` ${reason}` : ''}`);
  }
  // The user's config dir (XDG): cosmiconfig's own global places know no .toml.
  const globalFile = path.join(userConfigDir(options.env), 'config.toml');
  if (existsSync(globalFile)) return loadNamed(globalFile);
  return null;
}

/** Reads one named file: TOML, or package.json's `autodev` key. */
async function loadNamed(filepath: string): Promise<FoundFile> {
  if (!/\.toml$|package\.json$/.test(filepath)) {
    throw new ConfigError(`${filepath}: config files are TOML (.toml) or package.json's "autodev" key`);
  }
  let text: string;
  try {
    text = await readFile(filepath, 'utf8');
  } catch (error) {
    throw new ConfigError(`${displayPath(filepath)}: cannot read: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  if (filepath.endsWith('.toml')) return { filepath, text, value: parseTomlOrThrow(filepath, text) };
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(
      `${displayPath(filepath)}: invalid JSON: ${firstLine((error as Error).message)}`,
      'fix package.json, or name a TOML file with --config',
    );
  }
  const value = typeof json === 'object' && json !== null && 'autodev' in json ? json.autodev : {};
  return { filepath, text, value: { autodev: value } };
}

async function finish(filepath: string, value: unknown): Promise<FoundFile> {
  const text = await readFile(filepath, 'utf8');
  // package.json's `autodev` key holds what the TOML file's [autodev] table holds.
  const normalized = path.basename(filepath) === 'package.json' ? { autodev: value } : value;
  return { filepath, text, value: normalized };
}

export function userConfigDir(env: Env): string {
  const base = env.XDG_CONFIG_HOME || path.join(env.HOME || os.homedir(), '.config');
  return path.join(base, 'autodev');
}

function refuseScript(filepath: string): never {
  throw new ConfigError(
    `${displayPath(filepath)}: script config files are not read (autodev configuration is TOML)`,
    'move the settings to config.toml',
  );
}

function parseTomlOrThrow(filepath: string, content: string): unknown {
  // Loaded here, not at the top: most commands run without a config file.
  const { parse, TomlError } = tomlLib();
  try {
    return parse(content);
  } catch (error) {
    if (error instanceof TomlError) {
      const reason = firstLine(error.message).replace(/^Invalid TOML document:\s*/i, '');
      throw new ConfigError(`${displayPath(filepath)}:${error.line}: invalid TOML: ${reason}`, 'fix the TOML syntax');
    }
    throw error;
  }
}

function validateFileLayer(filepath: string, text: string, value: unknown): Record<string, unknown> {
  const result = fileSchema.safeParse(value ?? {});
  if (result.success) {
    // Keep only what the file itself set, so sources say "default" for the rest.
    const raw = (value as { autodev?: unknown } | null)?.autodev;
    return raw && typeof raw === 'object' ? (raw as Record<string, unknown>) : {};
  }
  const issue = result.error.issues[0];
  const line = findTomlKeyLine(text, issuePathForLine(issue));
  const where = line ? `${displayPath(filepath)}:${line}` : displayPath(filepath);
  throw new ConfigError(`${where}: ${describeIssue(issue)}`);
}

function issuePathForLine(issue: z.core.$ZodIssue): (string | number)[] {
  const keys = issue.path.map((k) => (typeof k === 'number' ? k : String(k)));
  return issue.code === 'unrecognized_keys' ? [...keys, issue.keys[0]] : keys;
}

/** One line naming the key and what was expected. */
export function describeIssue(issue: z.core.$ZodIssue, root = ''): string {
  const keyPath = [root, ...issue.path.map(String)].filter(Boolean).join('.');
  if (issue.code === 'unrecognized_keys') {
    const key = issue.keys[0];
    const full = keyPath ? `${keyPath}.${key}` : key;
    const known = knownKeys(issue.path.map(String));
    const suggestion = known.length ? closest(key, known) : null;
    const hint = suggestion ? ` (did you mean "${suggestion}"?)` : '';
    return `unknown key "${full}"${hint}`;
  }
  const message = issue.message.replace(/^Invalid input: /, '');
  return `${keyPath || '(root)'}: ${message}`;
}

function knownKeys(objectPath: string[]): string[] {
  let schema: unknown = fileSchema;
  for (const key of objectPath) {
    const shape = shapeOf(schema);
    if (!shape || !(key in shape)) return [];
    schema = shape[key];
  }
  return Object.keys(shapeOf(schema) ?? {});
}

function unwrap(schema: unknown): any {
  let s: any = schema;
  while (s?._zod?.def && ['default', 'optional', 'nullable', 'prefault'].includes(s._zod.def.type)) {
    s = s._zod.def.innerType;
  }
  return s;
}

function shapeOf(schema: unknown): Record<string, unknown> | null {
  const s = unwrap(schema);
  return s?._zod?.def?.type === 'object' ? (s._zod.def.shape as Record<string, unknown>) : null;
}

/** Every config key an environment variable can set: AUTODEV_<KEY>, AUTODEV_<TABLE>_<KEY>. */
export function envVariables(): { variable: string; key: string; kind: string }[] {
  const out: { variable: string; key: string; kind: string }[] = [];
  const top = shapeOf(autodevSchema)!;
  for (const [key, schema] of Object.entries(top)) {
    const nested = shapeOf(schema);
    if (nested && key !== 'toolchains') {
      for (const [sub, subSchema] of Object.entries(nested)) {
        out.push({ variable: `AUTODEV_${key}_${sub}`.toUpperCase(), key: `${key}.${sub}`, kind: unwrap(subSchema)._zod.def.type });
      }
    } else if (!nested) {
      out.push({ variable: `AUTODEV_${key}`.toUpperCase(), key, kind: unwrap(schema)._zod.def.type });
    }
  }
  return out;
}

function readEnvLayer(env: Env, warnings: string[]): Record<string, { value: unknown; variable: string }> {
  const known = envVariables();
  const byName = new Map(known.map((k) => [k.variable, k]));
  const layer: Record<string, { value: unknown; variable: string }> = {};
  for (const [variable, raw] of Object.entries(env)) {
    if (!variable.startsWith('AUTODEV_') || raw === undefined || NON_CONFIG_ENV.has(variable)) continue;
    const entry = byName.get(variable);
    if (!entry) {
      warnings.push(`ignoring unknown environment variable ${variable} (did you mean ${closest(variable, [...byName.keys()])}?)`);
      continue;
    }
    const value = coerceEnv(raw, entry.kind);
    const schema = schemaAt(entry.key);
    const checked = schema.safeParse(value);
    if (!checked.success) {
      const message = checked.error.issues[0].message.replace(/^Invalid input: /, '');
      throw new ConfigError(`environment variable ${variable} (${entry.key}): ${message}, got ${JSON.stringify(raw)}`);
    }
    layer[entry.key] = { value: checked.data, variable };
  }
  return layer;
}

function schemaAt(dotted: string): z.ZodType {
  let schema: unknown = autodevSchema;
  for (const key of dotted.split('.')) schema = shapeOf(schema)![key];
  return unwrap(schema) as z.ZodType;
}

function coerceEnv(raw: string, kind: string): unknown {
  const text = raw.trim();
  switch (kind) {
    case 'boolean':
      if (/^(true|1|yes|on)$/i.test(text)) return true;
      if (/^(false|0|no|off)$/i.test(text)) return false;
      return text;
    case 'number':
      return text !== '' && Number.isFinite(Number(text)) ? Number(text) : text;
    case 'array':
      if (text.startsWith('[')) {
        try {
          return JSON.parse(text);
        } catch {
          return text;
        }
      }
      return text === ''
        ? []
        : text
            .split(',')
            .map((s) => s.trim())
            .filter(Boolean);
    default:
      return raw;
  }
}

function mergeInto(
  target: Record<string, unknown>,
  layer: Record<string, unknown>,
  label: string,
  sources: Record<string, string>,
  labelFor?: (key: string) => string,
  prefix = '',
): void {
  for (const [key, value] of Object.entries(layer)) {
    const dotted = prefix ? `${prefix}.${key}` : key;
    const isTable = value !== null && typeof value === 'object' && !Array.isArray(value);
    if (isTable) {
      const existing = target[key];
      const next = existing && typeof existing === 'object' && !Array.isArray(existing) ? existing : {};
      target[key] = next;
      mergeInto(next as Record<string, unknown>, value as Record<string, unknown>, label, sources, labelFor, dotted);
    } else {
      target[key] = value;
      sources[dotted] = labelFor ? labelFor(dotted) : label;
    }
  }
}

function recordSources(value: Record<string, unknown>, label: string, sources: Record<string, string>, prefix = ''): void {
  for (const [key, v] of Object.entries(value)) {
    const dotted = prefix ? `${prefix}.${key}` : key;
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) recordSources(v as Record<string, unknown>, label, sources, dotted);
    else sources[dotted] = label;
  }
}

function setPath(target: Record<string, unknown>, keys: string[], value: unknown): void {
  let node = target;
  for (const key of keys.slice(0, -1)) {
    if (!node[key] || typeof node[key] !== 'object') node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[keys[keys.length - 1]] = value;
}

function displayPath(filepath: string): string {
  const rel = path.relative(process.cwd(), filepath);
  return rel && !rel.startsWith('..') ? rel : filepath;
}

function firstLine(text: string): string {
  return (
    text
      .split('\n')
      .find((l) => l.trim() !== '')
      ?.trim() ?? text
  );
}
