// What context selection knows about Go files: which lines define names, which files are tests
// or lockfiles. Kept apart from the rest of the toolchain so `autodev context` loads only this.
import type { ContextHints } from '../types.js';

// `func Name(`, `func (r *T) Name(`, `type Name …`, and top-level `var`/`const` names.
const GO_FUNC = /^func\s+(?:\(\s*(?:[A-Za-z_]\w*\s+)?\*?\s*(?:[A-Za-z_]\w*)(?:\[[^\]]*\])?\s*\)\s*)?([A-Za-z_]\w*)/;
const GO_TYPE = /^\s*type\s+([A-Za-z_]\w*)\b(?!\s*\()/;
const GO_VALUE = /^(?:var|const)\s+([A-Za-z_]\w*)/;

function goDefinitions(line: string): string[] {
  const fn = GO_FUNC.exec(line);
  // A method defines its own name; its receiver's type is defined where `type` says so.
  if (fn) return [fn[1]];
  const m = GO_TYPE.exec(line) ?? GO_VALUE.exec(line);
  return m ? [m[1]] : [];
}

export const goContext: ContextHints = {
  extensions: ['go'],
  definitions: goDefinitions,
  testFileNames: [/_test\.go$/],
  lockfiles: ['go.sum', 'go.work.sum'],
};
