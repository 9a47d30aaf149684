// Node with npm, pnpm or yarn: everything autodev knows about it, behind the Toolchain interface.
import type { Toolchain } from '../types.js';
import { nodeCommands } from './commands.js';
import { npmDeclared, npmLocked, npmWorkspaceDirs } from './manifest.js';
import { isNodeTestFile, parseNodeTestOutput, parseTsc } from './output.js';

const JS_DEF =
  /^\s*(?:export\s+)?(?:default\s+)?(?:declare\s+)?(?:abstract\s+)?(?:async\s+)?(?:function\s*\*?|class|interface|type|enum|namespace)\s+([A-Za-z_$][\w$]*)/;
// Variables only at the top level of a module: an indented `const` is a local.
const JS_VAR_DEF = /^(?:export\s+)?(?:const|let|var)\s+([A-Za-z_$][\w$]*)/;
const JS_METHOD =
  /^\s+(?:(?:public|private|protected|static|async|readonly|override|get|set)\s+)*\*?([A-Za-z_$][\w$]*)\s*(?:<[^>]*>)?\s*\([^)]*\)?[^;]*\{\s*$/;
const JS_KEYWORDS = new Set([
  'if',
  'for',
  'while',
  'switch',
  'catch',
  'return',
  'function',
  'do',
  'else',
  'with',
  'await',
  'new',
  'typeof',
]);

function jsDefinitions(line: string): string[] {
  const m = JS_DEF.exec(line) ?? JS_VAR_DEF.exec(line);
  if (m) return [m[1]];
  const method = JS_METHOD.exec(line);
  if (method && !JS_KEYWORDS.has(method[1])) return [method[1]];
  return [];
}

export const node: Toolchain = {
  id: 'node',
  language: 'Node',
  manifests: ['package.json', 'package-lock.json', 'pnpm-lock.yaml', 'yarn.lock', 'tsconfig.json'],
  // pnpm and yarn are used when the lockfile says so and they are installed.
  hostPrograms: ['npm', 'pnpm', 'yarn'],
  sandboxPrograms: ['node', 'npm', 'npx', 'pnpm', 'yarn'],
  doctor: [{ name: 'npm', command: ['npm', '--version'], purpose: 'Node projects', fallback: 'none: Node projects cannot be verified' }],
  detect: (repo) => (repo.files.includes('package.json') ? 'package.json' : null),
  commands: nodeCommands,
  // node_modules lives in the repository's own checkout: no shared cache.
  sandbox: { caches: [], env: {}, offlineEnv: {} },
  parse(format, { stdout, stderr }) {
    if (format === 'node-test') return { diagnostics: [], tests: parseNodeTestOutput(stdout, stderr) };
    if (format === 'tsc') return { diagnostics: parseTsc(`${stdout}\n${stderr}`), tests: null };
    return { diagnostics: [], tests: null };
  },
  isTestFile: isNodeTestFile,
  dependencies: {
    ecosystem: 'npm',
    manifest: 'package.json',
    lockfile: 'package-lock.json',
    registry: 'npm',
    memberManifests: (rootText, files) => npmWorkspaceDirs(rootText, files).map((dir) => `${dir}/package.json`),
    declared: (file, text) => npmDeclared(file, text),
    locked: npmLocked,
    localLockedIsOwnCode: false,
    lockInstallScripts: true,
    buildDependenciesRun: false,
  },
  context: {
    extensions: ['ts', 'tsx', 'js', 'jsx', 'mjs', 'cjs', 'mts', 'cts'],
    definitions: jsDefinitions,
    testFileNames: [/\.(test|spec)\.[cm]?[jt]sx?$/],
    lockfiles: ['package-lock.json', 'yarn.lock', 'pnpm-lock.yaml'],
  },
};
