// What context selection knows about Rust files: which lines define names, which files are tests
// or lockfiles. Kept apart from the rest of the toolchain so `autodev context` loads only this.
import type { ContextHints } from '../types.js';

const RUST_DEF =
  /^\s*(?:pub(?:\([^)]*\))?\s+)?(?:(?:async|const|unsafe|default|extern\s+"[^"]*")\s+)*(?:fn|struct|enum|trait|type|union|const|static|mod|macro_rules!)\s+([A-Za-z_]\w*)/;
const RUST_IMPL = /^\s*(?:unsafe\s+)?impl\b(?:\s*<[^>]*>)?\s+(?:([\w:]+)(?:<[^>]*>)?\s+for\s+)?([\w:]+)/;

function rustDefinitions(line: string): string[] {
  const m = RUST_DEF.exec(line);
  // `mod foo;` only declares a module that lives in another file.
  if (m && !/^\s*(?:pub(?:\([^)]*\))?\s+)?mod\s+\w+\s*;/.test(line)) return [m[1]];
  const impl = RUST_IMPL.exec(line);
  if (impl) return [impl[2], impl[1]].filter((n): n is string => Boolean(n)).map((n) => n.split('::').pop()!);
  return [];
}

export const rustContext: ContextHints = {
  extensions: ['rs'],
  definitions: rustDefinitions,
  testFileNames: [/_test\.rs$/],
  lockfiles: ['Cargo.lock'],
};
