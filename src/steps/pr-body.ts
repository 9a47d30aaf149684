// The pull request's body, written from what the tool ran: the commands with their exit codes and
// durations, where they ran, every test's verdict, lint, secrets, dependencies, guards, policy, and
// what the model cost. The model's own words are shown as its words, with the claims the facts
// contradict flagged. One function per section, so a new section is one new function and one line.
import type { Plan, PlanStep } from '../plan/types.js';
import type { TaskRequest } from '../config/request.js';
import { summarizeDependencies } from '../depcheck/index.js';
import { groupFindings } from '../guards/index.js';
import type { TestVerdict, TestVerdictKind } from '../toolchains/compare.js';
import { contradictedClaims } from './pr-claims.js';
import type { TaskState } from './types.js';

export interface PrBodyInput {
  taskId: string;
  request: TaskRequest;
  plan: Plan;
  state: TaskState;
}

type Section = (input: PrBodyInput) => string[];

/** The sections in order; each gives its lines (empty: left out), joined with a blank line. */
const SECTIONS: Section[] = [
  taskSection,
  abstainSection,
  rationaleSection,
  candidatesSection,
  verificationSection,
  commandsSection,
  testsSection,
  evidenceSection,
  reproductionSection,
  baseFailuresSection,
  guardsSection,
  dependencySection,
  detailsSection,
];

export function prBody(input: PrBodyInput): string {
  const parts = SECTIONS.map((section) => section(input)).filter((lines) => lines.length > 0);
  return `${parts.map((lines) => lines.join('\n')).join('\n\n')}\n`;
}

function cell(text: string | null | undefined): string {
  return text ? text.replace(/\|/g, '\\|').replace(/\n/g, ' ') : '';
}

function taskSection({ request }: PrBodyInput): string[] {
  const lines = ['## Task', '', `**${request.title}**`];
  if (request.description.trim()) lines.push('', request.description.trim());
  if (request.issue) lines.push('', `Fixes #${request.issue.number}`);
  return lines;
}

/** The model's rationale, quoted as its own, and the claims in it that the diff or the results contradict. */
function rationaleSection({ state }: PrBodyInput): string[] {
  if (!state.generation) return [];
  const rationale = state.generation.rationale.trim();
  const lines = ["## Rationale (the model's words, not checked by autodev)", '', ...rationale.split('\n').map((l) => `> ${l}`.trimEnd())];
  const flags = contradictedClaims(rationale, { files: state.change?.files ?? [], verdicts: state.verify.test?.verdicts ?? null });
  if (flags.length) {
    lines.push('', '**⚠️ Claims contradicted by the diff or the test results:**', '');
    for (const flag of flags) lines.push(`- the rationale ${flag}`);
  }
  return lines;
}

function verificationSection({ state }: PrBodyInput): string[] {
  const lines = ['## Verification', '', '| check | result |', '| --- | --- |'];
  const row = (name: string, value: string): void => {
    lines.push(`| ${name} | ${cell(value)} |`);
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
  return lines;
}

/** The commands as the plan ran them, with exit code and duration, on the base and with the change. */
function commandsSection({ plan, state }: PrBodyInput): string[] {
  const ran = (['build', 'test', 'lint'] as const)
    .map((kind) => ({ kind, step: plan.steps.find((s) => s.id === kind), base: state.baseline[kind], head: state.verify[kind] }))
    .filter((r) => r.step?.command && (r.base || r.head));
  if (ran.length === 0) return [];
  const network = (step: PlanStep | undefined) => (step?.network ? 'on' : 'off');
  const lines = [
    '### Commands',
    '',
    `Sandbox: ${plan.sandbox}; network off for build, test and lint${plan.steps.some((s) => s.tool === 'deps') ? ' (on only to fetch dependencies)' : ''}.`,
    '',
    '| step | command | network | base: exit, time | this change: exit, time |',
    '| --- | --- | --- | --- | --- |',
  ];
  const result = (o: { exitCode: number | null; durationMs: number } | undefined) =>
    o ? `${o.exitCode ?? 'killed'}, ${(o.durationMs / 1000).toFixed(1)}s` : 'not run';
  for (const r of ran) {
    lines.push(`| ${r.kind} | \`${cell(r.step!.command!.join(' '))}\` | ${network(r.step)} | ${result(r.base)} | ${result(r.head)} |`);
  }
  return lines;
}

const MAX_TEST_ROWS = 30;
const SHOWN: TestVerdictKind[] = ['fixed', 'regressed', 'flaky'];
const MARK = { passed: '✅ passed', failed: '❌ failed' } as const;

/** Every test's verdict: fixed, regressed and flaky as rows; the rest counted (and named when few). */
function testsSection({ state }: PrBodyInput): string[] {
  const verdicts = state.verify.test?.verdicts;
  if (!verdicts || verdicts.length === 0) return [];
  const shown = verdicts.filter((v) => SHOWN.includes(v.verdict));
  const lines = ['### Tests, base against this change', ''];
  if (shown.length) {
    lines.push('| test | base | this change | verdict |', '| --- | --- | --- | --- |');
    const side = (v: TestVerdict['base']) => (v ? MARK[v] : 'did not run');
    for (const v of shown.slice(0, MAX_TEST_ROWS)) {
      const verdict = v.verdict === 'flaky' ? 'flaky (flipped on a re-run: not blamed, not counted)' : v.verdict;
      lines.push(`| \`${cell(v.name)}\` | ${side(v.base)} | ${side(v.head)} | ${verdict} |`);
    }
    if (shown.length > MAX_TEST_ROWS) lines.push('', `…and ${shown.length - MAX_TEST_ROWS} more (see the task result).`);
    lines.push('');
  }
  const rest: [TestVerdictKind, string][] = [
    ['new', 'new (not on the base)'],
    ['still_failing', 'still failing as on the base'],
    ['gone', 'ran on the base, not with this change'],
    ['passed', 'passing on both'],
  ];
  const counts = rest
    .map(([kind, label]) => {
      const names = verdicts.filter((v) => v.verdict === kind).map((v) => v.name);
      if (names.length === 0) return null;
      const named = names.length <= 5 && kind !== 'passed' ? `: ${names.map((n) => `\`${n}\``).join(', ')}` : '';
      return `${names.length} ${label}${named}`;
    })
    .filter((s): s is string => s !== null);
  if (counts.length) lines.push(`${shown.length ? 'Besides: ' : ''}${counts.join('; ')}.`);
  else lines.pop();
  return lines;
}

function evidenceSection({ state }: PrBodyInput): string[] {
  const evidence = state.verify.test?.evidence;
  if (!evidence) return [];
  const lines = ['### Evidence', ''];
  for (const name of evidence.fixed.slice(0, 20)) lines.push(`- \`${name}\` failed on the base and passes with this change`);
  for (const name of evidence.failOnBase.slice(0, 20))
    lines.push(`- \`${name}\` (added or changed here) fails on the base and passes with this change`);
  for (const name of evidence.gone.slice(0, 20)) lines.push(`- \`${name}\` ran on the base and no longer runs (not evidence)`);
  return lines.length > 2 ? lines : [];
}

function baseFailuresSection({ state }: PrBodyInput): string[] {
  const fixed = new Set(state.verify.test?.evidence?.fixed ?? []);
  const failing = (state.baseline.test?.tests?.failed.map((f) => f.name) ?? []).filter((name) => !fixed.has(name));
  if (failing.length === 0) return [];
  return ['### Already failing on the base (not caused by this change)', '', ...failing.slice(0, 20).map((name) => `- \`${name}\``)];
}

/** Each test-integrity or scope finding, under its reason code: what a reviewer must look at. */
function guardsSection({ state }: PrBodyInput): string[] {
  const findings = state.guards ?? [];
  if (findings.length === 0) return [];
  const lines = ['### Test-integrity and scope findings (for review)', ''];
  for (const group of groupFindings(findings)) {
    for (const f of group.findings) lines.push(`- \`${group.code}\` ${f.file}${f.line !== null ? `:${f.line}` : ''}: ${f.message}`);
  }
  return lines;
}

/** The test written before the fix: how it failed on the base, how it does with the change, and where it is. */
function reproductionSection({ state }: PrBodyInput): string[] {
  const repro = state.reproduction;
  if (!repro) return [];
  const head = repro.head;
  const after = !head
    ? 'not run with this change'
    : head.failed.length || head.notRun.length
      ? `still failing with this change (${[...head.failed, ...head.notRun].join(', ')})`
      : 'passes with this change';
  const names = repro.tests.map((t) => `\`${t}\``).join(', ');
  return [
    '### Reproduction',
    '',
    `A test written before the fix, \`${repro.file}\` (${names}):`,
    '',
    `- before (base): fails: ${repro.baseFailure.replace(/\n/g, ' ')}`,
    `- after (this change): ${after}`,
    `- ${repro.kept ? 'committed with this change' : 'not part of this change (used to verify it only)'}`,
  ];
}

/** How many candidates were tried and why this one: a few lines, the full table is in the task result. */
/** No candidate met the bar (generate.on_no_winner = "draft"): this is a draft for a human, and why. */
function abstainSection({ state }: PrBodyInput): string[] {
  if (!state.abstain) return [];
  return [
    '## Needs a human',
    '',
    `No candidate met the bar, so this is a draft for a human to finish, not a verified change: ${state.abstain.diagnosis}.`,
  ];
}

function candidatesSection({ state }: PrBodyInput): string[] {
  const tried = state.candidates ?? [];
  const settled = tried.find((c) => c.status === 'chosen' || c.status === 'abstained');
  if (tried.length === 0 || !settled) return [];
  const models = [...new Set(tried.map((c) => c.model))];
  const rounds = Math.max(...tried.map((c) => c.round)) + 1;
  const lines = [
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
function dependencySection({ state }: PrBodyInput): string[] {
  const findings = state.dependencies?.findings ?? [];
  if (findings.length === 0) return [];
  const lines = [
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

function detailsSection({ taskId, plan, state }: PrBodyInput): string[] {
  const u = state.usage;
  const codegen = plan.steps.find((s) => s.tool === 'codegen')?.inputs ?? {};
  const model = typeof codegen.model === 'string' ? codegen.model : null;
  const format = state.generation?.format ?? (typeof codegen.format === 'string' ? codegen.format : null);
  const strategy = typeof codegen.strategy === 'string' ? codegen.strategy : null;
  return [
    '## Details',
    '',
    `- toolchain: ${plan.toolchain ?? 'none'}; sandbox: ${plan.sandbox}; base: \`${plan.base ?? state.baseBranch ?? ''}\` at \`${(state.baseCommit ?? '').slice(0, 12)}\``,
    ...(model ? [`- model: ${model}; edit format: ${format ?? 'n/a'}; strategy: ${strategy ?? 'n/a'}`] : []),
    `- patch applied with: ${state.apply?.strategy ?? 'n/a'}; repair rounds: ${Math.max(0, state.generations - 1)}`,
    `- LLM usage: ${u.calls} call(s), ${u.promptTokens} prompt + ${u.completionTokens} completion tokens${u.costUsd !== null ? `, $${u.costUsd.toFixed(4)}` : ''}`,
    `- steps: ${plan.steps.map((s) => s.tool).join(' → ')}`,
    '',
    `<sub>Opened by autodev, task \`${taskId}\`. Every change was built, tested, linted, scanned for secrets and checked against policy in a sandbox before this PR was opened.</sub>`,
  ];
}
