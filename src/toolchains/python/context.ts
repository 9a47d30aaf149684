// What context selection knows about Python files: which lines define names, which files are tests
// or lockfiles. Kept apart from the rest of the toolchain so `autodev context` loads only this.
import type { ContextHints } from '../types.js';

const PY_DEF = /^\s*(?:async\s+)?(?:def|class)\s+([A-Za-z_]\w*)/;
// Module-level names only (an indented assignment is a local or an attribute).
const PY_CONST = /^([A-Za-z_]\w*)\s*(?::[^=]+)?=(?!=)/;

function pythonDefinitions(line: string): string[] {
  const m = PY_DEF.exec(line) ?? PY_CONST.exec(line);
  return m ? [m[1]] : [];
}

export const pythonContext: ContextHints = {
  extensions: ['py', 'pyi'],
  definitions: pythonDefinitions,
  testFileNames: [/^test_.*\.py$/, /_test\.py$/],
  lockfiles: ['poetry.lock', 'uv.lock', 'pdm.lock', 'Pipfile.lock'],
};
