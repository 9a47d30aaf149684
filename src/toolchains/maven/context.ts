// What context selection knows about Java files: which lines define names, which files are tests
// or lockfiles. Kept apart from the rest of the toolchain so `autodev context` loads only this.
import type { ContextHints } from '../types.js';

const MODIFIERS =
  '(?:(?:public|protected|private|static|final|abstract|sealed|non-sealed|strictfp|synchronized|native|default|transient|volatile)\\s+)';
const JAVA_TYPE = new RegExp(
  `^\\s*(?:@[\\w.]+(?:\\([^)]*\\))?\\s+)*${MODIFIERS}*(?:class|interface|enum|record|@interface)\\s+([A-Za-z_$][\\w$]*)`,
);
// `[<modifiers>] [<T>] [Type] name(`: the type possibly qualified, generic or an array; a
// constructor has modifiers and no type.
const JAVA_METHOD = new RegExp(
  `^\\s*(?:@[\\w.]+(?:\\([^)]*\\))?\\s+)*(${MODIFIERS}*)(?:<.+?>\\s+)?(?:([\\w$.]+(?:<[^()]*>)?(?:\\[\\])*)\\s+)?([A-Za-z_$][\\w$]*)\\s*\\(`,
);
const NOT_NAMES = new Set([
  'if',
  'for',
  'while',
  'switch',
  'catch',
  'return',
  'new',
  'else',
  'throw',
  'synchronized',
  'try',
  'do',
  'assert',
  'super',
  'this',
  'yield',
  'case',
]);

/** The class, interface, enum, record or method (constructor) a line of Java defines. */
export function javaDefinitions(line: string): string[] {
  const type = JAVA_TYPE.exec(line);
  if (type) return [type[1]];
  const m = JAVA_METHOD.exec(line);
  if (!m) return [];
  const [, modifiers, returns, name] = m;
  // A bare `name(` is a call; `return f(`, `new F(`, `x = f(` are statements.
  if (!modifiers && !returns) return [];
  if ((returns && NOT_NAMES.has(returns)) || NOT_NAMES.has(name)) return [];
  if (line.slice(0, line.indexOf('(')).includes('=')) return [];
  return [name];
}

export const mavenContext: ContextHints = {
  extensions: ['java'],
  definitions: javaDefinitions,
  testFileNames: [/^(?:Test[A-Z]\w*|\w+(?:Test|Tests|IT|TestCase))\.java$/],
  lockfiles: [],
};
