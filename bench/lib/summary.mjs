// Headline figures of one bench, for bench/run.mjs's final table. A bench calls headline() for each
// figure it compares; when run by bench/run.mjs (BENCH_SUMMARY_FILE set) the rows are written there
// as JSON, otherwise nothing happens: the bench's own printout is the report.
import { writeFileSync } from 'node:fs';

const rows = [];

/**
 * One compared figure: what autodev got, what the alternative got, and autodev/alternative
 * (`better` says which direction is good, for the reader: 'lower' for times, 'higher' for hit rates).
 */
export function headline({ figure, autodev, alternative, against, unit = '', better = 'lower', goal }) {
  const ratio = typeof autodev === 'number' && typeof alternative === 'number' && alternative !== 0 ? autodev / alternative : null;
  rows.push({ figure, autodev, alternative, against, unit, better, ratio, goal: goal ?? null });
  if (process.env.BENCH_SUMMARY_FILE) writeFileSync(process.env.BENCH_SUMMARY_FILE, JSON.stringify(rows));
  return ratio;
}

/** `1.23×` (or `n/a` when there is no ratio). */
export function times(ratio) {
  return ratio === null || !Number.isFinite(ratio) ? 'n/a' : `${ratio.toFixed(2)}×`;
}
