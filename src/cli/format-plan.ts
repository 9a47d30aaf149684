// The plan, readable by a person, for `run --plan-only`.
import type { Plan } from '../plan/types.js';
import type { Missing } from '../task/preflight.js';
import type { TaskInfo } from '../task/task.js';

export function formatPlan(task: TaskInfo, plan: Plan, missing: Missing[] = []): string {
  const lines: string[] = [];
  lines.push(`Task ${task.id}: ${task.title}`);
  lines.push(`  repo:      ${task.repo}`);
  lines.push(`  base:      ${plan.base ?? '(remote default)'}`);
  lines.push(`  branch:    ${plan.branch}`);
  lines.push(`  risk:      ${task.risk}`);
  lines.push(`  toolchain: ${plan.toolchain ?? 'none'} (${plan.toolchainReason})`);
  lines.push(`  sandbox:   ${plan.sandbox}`);
  if (plan.repair) lines.push(`  repair:    up to ${plan.repair.budget} round(s), back to ${plan.repair.from}`);
  const baseline = plan.steps.filter((s) => s.baseline).map((s) => s.id);
  if (baseline.length) lines.push(`  baseline:  ${baseline.join(', ')} run first on the untouched base`);
  lines.push('');
  lines.push('Steps:');
  plan.steps.forEach((step, i) => {
    const flags = [
      step.sandbox ? `sandbox ${step.sandbox}${step.network ? ' +network' : ', offline'}` : null,
      `timeout ${step.timeoutSecs}s`,
      step.retries ? `retries ${step.retries}` : null,
      step.repairable ? 'repairable' : null,
    ].filter(Boolean);
    lines.push(`  ${String(i + 1).padStart(2)}. ${step.tool.padEnd(10)} ${step.title}  [${flags.join(', ')}]`);
    if (step.command) lines.push(`      $ ${step.command.map(quote).join(' ')}`);
  });
  if (plan.notes.length) {
    lines.push('');
    lines.push('Notes:');
    for (const note of plan.notes) lines.push(`  - ${note}`);
  }
  lines.push('');
  const blocking = missing.filter((m) => m.kind !== 'note');
  if (missing.length) {
    lines.push(blocking.length ? 'Missing (`autodev run` stops on this before building anything):' : 'Missing:');
    for (const m of [...blocking, ...missing.filter((m) => m.kind === 'note')]) lines.push(`  - ${m.message}`);
  } else {
    lines.push('Nothing missing: the credentials this plan needs are set, and something answers at llm.api_url.');
  }
  lines.push('');
  lines.push('Dry run: nothing was built, generated or pushed.');
  return `${lines.join('\n')}\n`;
}

function quote(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}
