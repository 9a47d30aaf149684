// Tools by name: the only place that knows which module does which step.
import type { ToolName } from '../plan/types.js';
import { applyTool } from './apply.js';
import { cloneTool } from './clone.js';
import { codegenTool } from './codegen.js';
import { depsCheckTool } from './deps-check.js';
import { policyTool } from './policy.js';
import { prTool } from './pr.js';
import { reproduceTool } from './reproduce.js';
import { searchTool } from './search.js';
import { secretsTool } from './secrets.js';
import { selectTool } from './select.js';
import type { StepTool } from './types.js';
import { verifyTool } from './verify.js';

export function createRegistry(): Map<ToolName | string, StepTool> {
  return new Map<string, StepTool>([
    ['clone', cloneTool],
    ['deps', verifyTool],
    ['search', searchTool],
    ['reproduce', reproduceTool],
    ['codegen', codegenTool],
    ['select', selectTool],
    ['apply', applyTool],
    ['build', verifyTool],
    ['test', verifyTool],
    ['lint', verifyTool],
    ['deps-check', depsCheckTool],
    ['secrets', secretsTool],
    ['policy', policyTool],
    ['pr', prTool],
    // --no-pr: the same step stops after the push.
    ['push', prTool],
  ]);
}
