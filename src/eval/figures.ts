// The figures of an eval, per model and side by side: what was resolved, how often a "verified"
// claim was wrong (the trust figure), what it cost. Rendered for a terminal, as Markdown, as JSON,
// and as an SVG plot of resolved % against cost.
import { outcomeLabel, type EvalCategory, type EvalOutcome } from './results.js';

export interface ModelFigures {
  model: string;
  tasks: number;
  resolved: number;
  /** Claimed verified, graded wrong. */
  wrong: number;
  abstained: number;
  failed: number;
  errors: number;
  /** Tasks with at least one patch that did not apply. */
  applyFailures: number;
  /** Percentages of `tasks`, one decimal. */
  resolvedPct: number;
  wrongPct: number;
  abstainedPct: number;
  applyFailurePct: number;
  /** Of the claims of "verified", the share that grading confirmed (null with no claim). */
  claimPrecisionPct: number | null;
  meanRounds: number;
  promptTokens: number;
  completionTokens: number;
  /** Total cost in USD, or null when the model's price is unknown for some task. */
  costUsd: number | null;
  wallMsMedian: number;
  wallMsP90: number;
}

export interface EvalFigures {
  models: ModelFigures[];
  /** One row per task: each model's category. */
  tasks: { task: string; outcomes: Record<string, EvalCategory> }[];
}

export function computeFigures(outcomes: EvalOutcome[], models: string[], taskIds: string[]): EvalFigures {
  // `models` are the labels compared: model names, or `model@strategy` when strategies are compared.
  const byModel = new Map<string, EvalOutcome[]>(models.map((m) => [m, []]));
  for (const o of outcomes) byModel.get(outcomeLabel(o))?.push(o);
  const figures = models.map((model) => modelFigures(model, byModel.get(model) ?? []));
  const tasks = taskIds.map((task) => ({
    task,
    outcomes: Object.fromEntries(
      outcomes.filter((o) => o.task === task && models.includes(outcomeLabel(o))).map((o) => [outcomeLabel(o), o.category]),
    ),
  }));
  return { models: figures, tasks };
}

function modelFigures(model: string, runs: EvalOutcome[]): ModelFigures {
  const n = runs.length;
  const count = (category: EvalCategory): number => runs.filter((r) => r.category === category).length;
  const pct = (k: number, of = n): number => (of === 0 ? 0 : Math.round((1000 * k) / of) / 10);
  const claims = runs.filter((r) => r.claimed);
  const walls = runs.map((r) => r.wallMs).sort((a, b) => a - b);
  const costs = runs.map((r) => r.usage.costUsd);
  return {
    model,
    tasks: n,
    resolved: count('resolved'),
    wrong: count('wrong'),
    abstained: count('abstained'),
    failed: count('failed'),
    errors: count('error'),
    applyFailures: runs.filter((r) => r.applyFailures > 0).length,
    resolvedPct: pct(count('resolved')),
    wrongPct: pct(count('wrong')),
    abstainedPct: pct(count('abstained')),
    applyFailurePct: pct(runs.filter((r) => r.applyFailures > 0).length),
    claimPrecisionPct: claims.length ? pct(claims.filter((r) => r.resolved).length, claims.length) : null,
    meanRounds: n ? Math.round((100 * runs.reduce((s, r) => s + r.rounds, 0)) / n) / 100 : 0,
    promptTokens: runs.reduce((s, r) => s + r.usage.promptTokens, 0),
    completionTokens: runs.reduce((s, r) => s + r.usage.completionTokens, 0),
    costUsd: n && costs.every((c) => c !== null) ? Math.round(costs.reduce((s: number, c) => s + (c ?? 0), 0) * 10000) / 10000 : null,
    wallMsMedian: quantile(walls, 0.5),
    wallMsP90: quantile(walls, 0.9),
  };
}

/** The nearest-rank quantile of sorted values (0 for none). */
function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

const COLUMNS: { head: string; cell(f: ModelFigures): string }[] = [
  { head: 'model', cell: (f) => f.model },
  { head: 'tasks', cell: (f) => String(f.tasks) },
  { head: 'resolved', cell: (f) => `${f.resolvedPct.toFixed(1)}%` },
  { head: 'verified but wrong', cell: (f) => `${f.wrongPct.toFixed(1)}%` },
  { head: 'abstained', cell: (f) => `${f.abstainedPct.toFixed(1)}%` },
  { head: 'apply failed', cell: (f) => `${f.applyFailurePct.toFixed(1)}%` },
  { head: 'rounds', cell: (f) => f.meanRounds.toFixed(2) },
  { head: 'prompt tok', cell: (f) => String(f.promptTokens) },
  { head: 'completion tok', cell: (f) => String(f.completionTokens) },
  { head: 'cost', cell: (f) => (f.costUsd === null ? 'n/a' : `$${f.costUsd.toFixed(4)}`) },
  { head: 'time p50', cell: (f) => seconds(f.wallMsMedian) },
  { head: 'time p90', cell: (f) => seconds(f.wallMsP90) },
];

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)}s`;
}

/** The models side by side, then each task's outcome per model, as aligned text. */
export function renderText(figures: EvalFigures): string {
  const rows = [COLUMNS.map((c) => c.head), ...figures.models.map((f) => COLUMNS.map((c) => c.cell(f)))];
  const widths = COLUMNS.map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  const line = (cells: string[]): string =>
    cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join('  ');
  const out = [line(rows[0]), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.slice(1).map(line)];
  const models = figures.models.map((f) => f.model);
  const taskRows = [['task', ...models], ...figures.tasks.map((t) => [t.task, ...models.map((m) => t.outcomes[m] ?? '-')])];
  const taskWidths = taskRows[0].map((_, i) => Math.max(...taskRows.map((r) => r[i].length)));
  out.push(
    '',
    ...taskRows.map((r) =>
      r
        .map((cell, i) => cell.padEnd(taskWidths[i]))
        .join('  ')
        .trimEnd(),
    ),
  );
  return `${out.join('\n')}\n`;
}

export function renderMarkdown(figures: EvalFigures): string {
  const escape = (s: string): string => s.replace(/\|/g, '\\|');
  const out = [
    `| ${COLUMNS.map((c) => c.head).join(' | ')} |`,
    `| ${COLUMNS.map((_, i) => (i === 0 ? '---' : '---:')).join(' | ')} |`,
    ...figures.models.map((f) => `| ${COLUMNS.map((c) => escape(c.cell(f))).join(' | ')} |`),
  ];
  const models = figures.models.map((f) => f.model);
  out.push('', `| task | ${models.map(escape).join(' | ')} |`, `| --- | ${models.map(() => '---').join(' | ')} |`);
  for (const t of figures.tasks) out.push(`| ${escape(t.task)} | ${models.map((m) => t.outcomes[m] ?? '-').join(' | ')} |`);
  return `${out.join('\n')}\n`;
}

/**
 * Resolved % (y) against cost per task (x) for each model, as a self-contained SVG. With no known
 * cost, tokens per task stand in (the axis says which).
 */
export function renderPlot(figures: EvalFigures): string {
  const width = 640;
  const height = 400;
  const margin = { left: 70, right: 30, top: 30, bottom: 60 };
  const useCost = figures.models.every((f) => f.costUsd !== null);
  const xOf = (f: ModelFigures): number =>
    f.tasks === 0 ? 0 : useCost ? (f.costUsd ?? 0) / f.tasks : (f.promptTokens + f.completionTokens) / f.tasks;
  const xMax = Math.max(...figures.models.map(xOf), useCost ? 0.0001 : 1) * 1.1;
  const px = (x: number): number => margin.left + (x / xMax) * (width - margin.left - margin.right);
  const py = (y: number): number => height - margin.bottom - (y / 100) * (height - margin.top - margin.bottom);
  const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    `<line x1="${margin.left}" y1="${py(0)}" x2="${width - margin.right}" y2="${py(0)}" stroke="black"/>`,
    `<line x1="${margin.left}" y1="${py(0)}" x2="${margin.left}" y2="${py(100)}" stroke="black"/>`,
  ];
  for (const tick of [0, 25, 50, 75, 100]) {
    parts.push(`<text x="${margin.left - 8}" y="${py(tick) + 4}" text-anchor="end">${tick}%</text>`);
    parts.push(`<line x1="${margin.left}" y1="${py(tick)}" x2="${width - margin.right}" y2="${py(tick)}" stroke="#ddd"/>`);
  }
  for (let i = 0; i <= 4; i++) {
    const x = (xMax * i) / 4;
    const label = useCost ? `$${x.toFixed(x < 0.01 ? 5 : 3)}` : String(Math.round(x));
    parts.push(`<text x="${px(x)}" y="${py(0) + 18}" text-anchor="middle">${label}</text>`);
  }
  parts.push(
    `<text x="${(margin.left + width - margin.right) / 2}" y="${height - 15}" text-anchor="middle">${useCost ? 'cost per task (USD)' : 'tokens per task (cost unknown)'}</text>`,
    `<text x="18" y="${(margin.top + height - margin.bottom) / 2}" text-anchor="middle" transform="rotate(-90 18 ${(margin.top + height - margin.bottom) / 2})">resolved</text>`,
  );
  for (const f of figures.models) {
    const x = px(xOf(f));
    const y = py(f.resolvedPct);
    parts.push(`<circle cx="${x}" cy="${y}" r="5" fill="#1f77b4"><title>${esc(f.model)}: ${f.resolvedPct}% resolved</title></circle>`);
    parts.push(`<text x="${x + 8}" y="${y - 8}">${esc(f.model)} (${f.resolvedPct}%, wrong ${f.wrongPct}%)</text>`);
  }
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}
