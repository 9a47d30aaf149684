// What context selection knows about JavaScript and TypeScript files: which lines define names, which files are tests
// or lockfiles. Kept apart from the rest of the toolchain so `autodev context` loads only this.
import type { ContextHints } from '../types.js';

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

export const nodeContext: ContextHints = {
  extensions: ['ts', 'tsx', 'js', 'jsx', 'mjs', 'cjs', 'mts', 'cts'],
  definitions: jsDefinitions,
  testFileNames: [/\.(test|spec)\.[cm]?[jt]sx?$/],
  lockfiles: ['package-lock.json', 'yarn.lock', 'pnpm-lock.yaml'],
};
