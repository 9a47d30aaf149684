// Each toolchain's context hints, in the registry's order, without the toolchains themselves: context
// selection needs only these, and importing every toolchain's commands, output parsers and workspace
// readers cost `autodev context` more than the selection. tests/toolchains/registry.test.ts checks
// that this list and TOOLCHAINS agree.
import { goContext } from './go/context.js';
import { mavenContext } from './maven/context.js';
import { nodeContext } from './node/context.js';
import { pythonContext } from './python/context.js';
import { rustContext } from './rust/context.js';
import type { ContextHints } from './types.js';

export const CONTEXT_HINTS: readonly { id: string; context: ContextHints }[] = [
  { id: 'rust', context: rustContext },
  { id: 'maven', context: mavenContext },
  { id: 'python', context: pythonContext },
  { id: 'go', context: goContext },
  { id: 'node', context: nodeContext },
];
