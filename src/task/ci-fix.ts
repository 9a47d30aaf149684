// `autodev ci-fix <PR>` (and the check_suite webhook): the failed check runs of the pull request's
// head, compared with the base branch's latest runs; only failures the pull request caused are
// chased, each by its distilled log, and a failure that comes back after a fix attempt stops it.
import { createHash } from 'node:crypto';
import type { TaskRequest } from '../config/request.js';
import type { CheckRun } from '../ports/types.js';
import { redact } from '../util/redact.js';
import { AUTODEV_MARK, followupRequest, resolveTarget, type FollowupInput } from './followup.js';

const FAILED = new Set(['failure', 'timed_out']);
/** How much of one failure's log the model is shown. */
const LOG_CHARS = 4000;

export interface CiFailure {
  name: string;
  /** The distilled log (redacted). */
  log: string;
  fingerprint: string;
}

export type CiFixPlan =
  | { kind: 'run'; request: TaskRequest; cloneUrl?: string; chased: CiFailure[]; onBase: string[] }
  | { kind: 'nothing'; message: string; onBase: string[] }
  | { kind: 'stop'; message: string; onBase: string[] };

// GitHub Actions prefixes each log line with a timestamp; colour codes come from the tools.
const TIMESTAMP = /^\uFEFF?\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z ?/;
const ANSI = /\u001b\[[0-9;]*[A-Za-z]/g;
const TELLING = /error|fail|panic|assert|expected|exception|traceback|cannot|undefined|not found|denied/i;

function cleanLines(log: string): string[] {
  return log.split(/\r?\n/).map((line) => line.replace(TIMESTAMP, '').replace(ANSI, '').trimEnd());
}

/** The lines that say what failed (with a line of context each), else the log's tail; redacted and capped. */
export function distillLog(log: string): string {
  const lines = cleanLines(log).filter((line) => line.trim() !== '' && !/^##\[(group|endgroup)\]/.test(line));
  const keep = new Set<number>();
  lines.forEach((line, i) => {
    if (TELLING.test(line)) for (const j of [i - 1, i, i + 1]) if (j >= 0 && j < lines.length) keep.add(j);
  });
  const chosen = keep.size > 0 ? [...keep].sort((a, b) => a - b).map((i) => lines[i]) : lines.slice(-40);
  let text = redact(chosen.join('\n'));
  if (text.length > LOG_CHARS) text = `…\n${text.slice(-LOG_CHARS)}`;
  return text;
}

/**
 * The same failure, whatever run it came from: the check's name and its error lines with what
 * changes from run to run (numbers, hashes, durations, temp paths) taken out.
 */
export function failureFingerprint(name: string, log: string): string {
  const telling = cleanLines(log)
    .filter((line) => TELLING.test(line))
    .slice(0, 30)
    .map((line) =>
      line
        .replace(/\/tmp\/\S+/g, '/tmp/…')
        .replace(/\b[0-9a-f]{7,64}\b/gi, 'H')
        .replace(/\d+(\.\d+)?/g, 'N')
        .trim(),
    );
  return createHash('sha256')
    .update(`${name}\n${telling.join('\n')}`)
    .digest('hex')
    .slice(0, 16);
}

/** A check re-run on the same commit keeps its name: the latest run of each name counts. */
function latest(runs: CheckRun[]): CheckRun[] {
  const byName = new Map<string, CheckRun>();
  for (const run of runs) {
    const seen = byName.get(run.name);
    if (!seen || run.id > seen.id) byName.set(run.name, run);
  }
  return [...byName.values()];
}

function failed(run: CheckRun): boolean {
  return run.status === 'completed' && run.conclusion !== null && FAILED.has(run.conclusion);
}

export function ciFixDescription(pull: { number: number; title: string; baseRef: string }, chased: CiFailure[], onBase: string[]): string {
  const parts = [
    `The checks of pull request #${pull.number} (${pull.title}) fail. Fix the code on this branch so that the failing checks below pass.`,
    'The logs are excerpts from the CI run.',
  ];
  for (const failure of chased) parts.push('', `### Check \`${failure.name}\``, '```', failure.log, '```');
  if (onBase.length > 0)
    parts.push('', `Also failing on ${pull.baseRef}, so not caused by this change and not to be fixed here: ${onBase.join(', ')}.`);
  return parts.join('\n');
}

export async function prepareCiFix(input: FollowupInput): Promise<CiFixPlan> {
  const { ref, forge } = input;
  const target = await resolveTarget({ ...input, kind: 'ci-fix' });
  const { pull } = target;
  const [headRuns, baseRuns] = await Promise.all([
    forge.listCheckRuns(ref.owner, ref.repo, pull.headSha),
    forge.listCheckRuns(ref.owner, ref.repo, pull.baseRef),
  ]);
  const failing = latest(headRuns).filter(failed);
  const baseFailing = new Set(
    latest(baseRuns)
      .filter(failed)
      .map((r) => r.name),
  );
  const onBase = failing.filter((r) => baseFailing.has(r.name)).map((r) => r.name);
  const ours = failing.filter((r) => !baseFailing.has(r.name));
  const name = `${ref.owner}/${ref.repo}#${ref.number}`;
  if (ours.length === 0) {
    const running = headRuns.filter((r) => r.status !== 'completed').length;
    const why =
      failing.length > 0
        ? `every failing check of ${name} fails on ${pull.baseRef} too (${onBase.join(', ')}): not caused by the pull request, not chased`
        : `no failed check on ${name}${running > 0 ? ` (${running} still running)` : ''}`;
    return { kind: 'nothing', message: why, onBase };
  }
  const chased: CiFailure[] = [];
  for (const run of ours) {
    const log = (run.app === 'github-actions' ? await forge.getJobLog(ref.owner, ref.repo, run.id) : null) ?? `${run.summary}\n${run.text}`;
    chased.push({ name: run.name, log: distillLog(log), fingerprint: failureFingerprint(run.name, log) });
  }
  const seen = new Map<string, string>();
  for (const task of target.earlier) for (const fp of task.request.followup?.fingerprints ?? []) seen.set(fp, task.id);
  const back = chased.filter((f) => seen.has(f.fingerprint));
  if (back.length > 0) {
    const list = back.map((f) => `${f.name} (fingerprint ${f.fingerprint}, chased by task ${seen.get(f.fingerprint)})`).join(', ');
    return { kind: 'stop', message: `the same failure came back after a fix attempt on ${name}: ${list}; stopping`, onBase };
  }
  const { request, cloneUrl } = await followupRequest({
    target,
    title: `Fix the failing checks of #${ref.number}: ${chased.map((f) => f.name).join(', ')}`,
    description: ciFixDescription(pull, chased, onBase),
    followup: { kind: 'ci-fix', fingerprints: chased.map((f) => f.fingerprint), replyTo: [], reviews: [], reviewers: [] },
    config: input.config,
    env: input.env,
    cwd: input.cwd,
    ...(input.repo !== undefined ? { repo: input.repo } : {}),
  });
  return { kind: 'run', request, ...(cloneUrl ? { cloneUrl } : {}), chased, onBase };
}

/** Says on the pull request which failures were left alone because the base branch has them too; returns warnings. */
export async function reportOnBase(
  forge: Pick<FollowupInput['forge'], 'addIssueComment'>,
  ref: FollowupInput['ref'],
  onBase: string[],
): Promise<string[]> {
  if (onBase.length === 0) return [];
  const text = `autodev did not chase these failing checks: they fail on the base branch too, so this pull request did not cause them: ${onBase.map((n) => `\`${n}\``).join(', ')}.\n\n${AUTODEV_MARK}`;
  return forge.addIssueComment(ref.owner, ref.repo, ref.number, text).then(
    () => [],
    (error: Error) => [`commenting on the pull request: ${redact(error.message)}`],
  );
}
