// The pull request's body: the task, what was done and the evidence that it was verified.
import type { Plan } from '../plan/types.js';
import type { TaskRequest } from '../config/request.js';
import { summarizeDependencies } from '../depcheck/index.js';
import type { TaskState } from './types.js';

export function prBody(input: { taskId: string; request: TaskRequest; plan: Plan; state: TaskState }): string {
  const { request, plan, state } = input;
  const lines: string[] = [];
  lines.push(`## Task`, '', `**${request.title}**`);
  if (request.description.trim()) lines.push('', request.description.trim());
  if (request.issue) lines.push('', `Fixes #${request.issue.number}`);
  if (state.abstain) {
    lines.push(
      '',
      '## Needs a human',
      '',
      `No candidate met the bar, so this is a draft for a human to finish, not a verified change: ${state.abstain.diagnosis}.`,
    );
  }
  if (state.generation) lines.push('', '## Rationale', '', state.generation.rationale);
  lines.push(...candidatesSection(state));
  lines.push('', '## Verification', '', '| check | result |', '| --- | --- |');
  const row = (name: string, value: string): void => {
    lines.push(`| ${name} | ${value.replace(/\|/g, '\\|').replace(/\n/g, ' ')} |`);
  };
  for (const kind of ['build', 'test', 'lint'] as const) {
    const outcome = state.verify[kind];
    if (outcome) row(kind, `${outcome.ok || kind === 'lint' ? '✅' : '⚠️'} ${outcome.summary}`);
  }
  if (state.dependencies) {
    const changed = state.dependencies.findings.length > 0;
    row('dependencies', `${changed ? '👀' : '✅'} ${summarizeDependencies(state.dependencies)}`);
  }
  if (state.secrets) row('secrets', `✅ no secrets found (${state.secrets.engine})`);
  if (state.policy) {
    const reasons = state.policy.reasons.map((r) => r.code).join(', ');
    row(
      'policy',
      `${state.policy.decision === 'allow' ? '✅' : '👀'} ${state.policy.decision} (${state.policy.engine})${reasons ? `: ${reasons}` : ''}`,
    );
  }
  lines.push(...dependencyTable(state));
  const evidence = state.verify.test?.evidence;
  if (evidence) {
    lines.push('', '### Evidence', '');
    for (const name of evidence.fixed.slice(0, 20)) lines.push(`- \`${name}\` failed on the base and passes with this change`);
    for (const name of evidence.failOnBase.slice(0, 20))
      lines.push(`- \`${name}\` (added or changed here) fails on the base and passes with this change`);
    for (const name of evidence.gone.slice(0, 20)) lines.push(`- \`${name}\` ran on the base and no longer runs (not evidence)`);
  }
  const fixed = new Set(evidence?.fixed ?? []);
  const baselineFailures = (state.baseline.test?.tests?.failed.map((f) => f.name) ?? []).filter((name) => !fixed.has(name));
  if (baselineFailures.length) {
    lines.push('', '### Already failing on the base (not caused by this change)', '');
    for (const name of baselineFailures.slice(0, 20)) lines.push(`- \`${name}\``);
  }
  const u = state.usage;
  lines.push(
    '',
    '## Details',
    '',
    `- toolchain: ${plan.toolchain ?? 'none'}; sandbox: ${plan.sandbox}; base: \`${plan.base ?? state.baseBranch ?? ''}\` at \`${(state.baseCommit ?? '').slice(0, 12)}\``,
    `- patch applied with: ${state.apply?.strategy ?? 'n/a'}; repair rounds: ${Math.max(0, state.generations - 1)}`,
    `- LLM usage: ${u.calls} call(s), ${u.promptTokens} prompt + ${u.completionTokens} completion tokens${u.costUsd !== null ? `, $${u.costUsd.toFixed(4)}` : ''}`,
    `- steps: ${plan.steps.map((s) => s.tool).join(' → ')}`,
    '',
    `<sub>Opened by autodev, task \`${input.taskId}\`. Every change was built, tested, linted, scanned for secrets and checked against policy in a sandbox before this PR was opened.</sub>`,
  );
  return `${lines.join('\n')}\n`;
}

/** How many candidates were tried and why this one: a few lines, the full table is in the task result. */
function candidatesSection(state: TaskState): string[] {
  const tried = state.candidates ?? [];
  const settled = tried.find((c) => c.status === 'chosen' || c.status === 'abstained');
  if (tried.length === 0 || !settled) return [];
  const models = [...new Set(tried.map((c) => c.model))];
  const rounds = Math.max(...tried.map((c) => c.round)) + 1;
  const lines = [
    '',
    '### Candidates',
    '',
    `${tried.length} candidate change(s) were tried${rounds > 1 ? ` over ${rounds} rounds` : ''} (${models.join(', ')}), each applied, built, tested and linted in its own copy of the repository.`,
    `This is ${settled.id} (${settled.model}, ${settled.format ?? settled.requestedFormat}, temperature ${settled.temperature}): ${settled.why}.`,
  ];
  for (const c of tried.filter((t) => t !== settled).slice(0, 8))
    lines.push(`- ${c.id} (${c.model}, ${c.format ?? c.requestedFormat}): ${c.why}`);
  return lines;
}

const MAX_DEPENDENCY_ROWS = 20;

/** The dependency findings as a short table, so a reviewer sees what the change pulls in. */
function dependencyTable(state: TaskState): string[] {
  const findings = state.dependencies?.findings ?? [];
  if (findings.length === 0) return [];
  const cell = (text: string | null | undefined): string => (text ? text.replace(/\|/g, '\\|').replace(/\n/g, ' ') : '');
  const lines = [
    '',
    '### Dependency changes',
    '',
    '| change | dependency | kind | where | from | to |',
    '| --- | --- | --- | --- | --- | --- |',
  ];
  for (const f of findings.slice(0, MAX_DEPENDENCY_ROWS)) {
    const kind = f.kind ? `${f.kind}${f.target ? ` (${f.target})` : ''}` : f.direct ? 'direct' : 'transitive';
    const declared = f.to ?? (f.type === 'added' && f.source ? `${f.source.kind} ${f.source.location}` : null);
    const to =
      f.type === 'features_enabled'
        ? (f.features ?? []).join(', ')
        : f.locked?.to && f.locked.to !== f.to
          ? `${declared ?? ''} (locked ${f.locked.to})`.trim()
          : declared;
    lines.push(
      `| ${f.type.replace(/_/g, ' ')} | \`${cell(f.name)}\` | ${kind} | ${cell(f.member ?? f.manifest)} | ${cell(f.from)} | ${cell(to)} |`,
    );
  }
  if (findings.length > MAX_DEPENDENCY_ROWS) lines.push('', `…and ${findings.length - MAX_DEPENDENCY_ROWS} more (see the task result).`);
  return lines;
}
