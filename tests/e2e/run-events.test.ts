// The machine-readable streams of `autodev run`, end to end: `--events jsonl` alone on stderr,
// `--events-file` beside the human progress, one `round` base in events, `--json` and the progress
// lines, and the README's JSON contract against what the built CLI prints.
import { describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { BROKEN_REPLY, CALC_TASK, FIXED_REPLY } from '../support/calc-crate.js';
import { BIN, lines, makeRunDir, ROOT, runCli, taskEnv } from '../support/cli.js';
import { e2eSuite, makeBareRepo, parseJson, runArgs } from './harness.js';

const RUN_TIMEOUT = 180_000;
const { cache, startServers } = e2eSuite();

/** A broken first answer, then the fix: one repair round, so `round` 0 and 1 both occur. */
async function repairedRun(...more: string[]) {
  const bare = await makeBareRepo();
  const { llm, github } = await startServers({ replies: [{ content: BROKEN_REPLY }, { content: FIXED_REPLY }] });
  const runDir = await makeRunDir();
  const outcome = await runCli(runArgs(bare, CALC_TASK, ...more), { cwd: runDir.cwd, env: taskEnv(runDir, { cache, llm, github }) });
  return { outcome, json: parseJson(outcome), runDir };
}

interface EventLine {
  v: number;
  type: string;
  taskId: string;
  stepId?: string;
  mode?: string;
  round?: number;
}

/** Every line must be one JSON event with the schema version: a human line among them fails here. */
function parseEvents(text: string): EventLine[] {
  return lines(text).map((line) => {
    let event: EventLine;
    try {
      event = JSON.parse(line) as EventLine;
    } catch {
      throw new Error(`not a JSON line: ${line}`);
    }
    expect(event.v).toBe(1);
    return event;
  });
}

/** The key lists the README's JSON contract states, e.g. "`--json` of `run` is `{task, status, …}`". */
async function readmeKeys(): Promise<{ run: string[]; planOnly: string[]; planStep: string[]; planStepOptional: string[] }> {
  const text = (await readFile(path.join(ROOT, 'README.md'), 'utf8')).replace(/\s+/g, ' ');
  const list = (pattern: RegExp): string[] => {
    const match = pattern.exec(text);
    if (!match) throw new Error(`README.md does not state ${pattern}`);
    return match[1].split(',').map((key) => key.trim());
  };
  return {
    run: list(/`--json` of `run` is `\{([^}]*)\}`/),
    planOnly: list(/of `run --plan-only` it is `\{([^}]*)\}`/),
    planStep: list(/`plan\.steps\[\]` = `\{([^}]*)\}`/),
    planStepOptional: list(/`plan\.steps\[\]` = `\{[^}]*\}`, plus `\{([^}]*)\}` on the steps they apply to/),
  };
}

const sorted = (keys: string[]): string[] => [...keys].sort();

describe('autodev run: machine-readable output', () => {
  it(
    '--events jsonl: stderr carries only versioned JSON events, with the same 0-based round as --json',
    async () => {
      const { outcome, json } = await repairedRun('--events', 'jsonl');
      expect(outcome.code).toBe(0);
      const events = parseEvents(outcome.stderr);
      expect(events.length).toBeGreaterThan(10);
      expect(new Set(events.map((e) => e.taskId))).toEqual(new Set([json.task.id]));
      expect(events.map((e) => e.type)).toEqual(expect.arrayContaining(['task.status', 'step.started', 'step.finished', 'repair.round']));
      // round: 0 for the first generation, 1 for the first repair, in events and in --json alike.
      const finished = events.filter((e) => e.type === 'step.finished').map((e) => `${e.mode}:${e.stepId}:${e.round}`);
      expect(finished).toEqual(json.steps.map((s) => `${s.mode}:${s.id}:${s.round}`));
      expect(json.steps.filter((s) => s.id === 'codegen').map((s) => s.round)).toEqual([0, 1]);
      expect(events.find((e) => e.type === 'repair.round')?.round).toBe(1);

      // The README's contract for `--json` of a run is what was printed.
      expect(sorted(Object.keys(json))).toEqual(sorted((await readmeKeys()).run));
    },
    RUN_TIMEOUT,
  );

  it(
    '--events-file: the events go to the file while stderr keeps the human progress (with the same round)',
    async () => {
      const runDir = await makeRunDir();
      const file = path.join(runDir.dir, 'events.jsonl');
      const { outcome, json } = await repairedRun('--events-file', file);
      expect(outcome.code).toBe(0);
      const events = parseEvents(await readFile(file, 'utf8'));
      expect(events.filter((e) => e.type === 'step.finished')).toHaveLength(json.steps.length);
      // stderr: human lines only, and they count rounds as the events do.
      const stderr = lines(outcome.stderr);
      expect(stderr.length).toBeGreaterThan(0);
      for (const line of stderr) expect(line.startsWith('{')).toBe(false);
      expect(outcome.stderr).toMatch(/codegen \[change, round 0, attempt 1\]/);
      expect(outcome.stderr).toMatch(/codegen \[change, round 1, attempt 1\]/);
    },
    RUN_TIMEOUT,
  );

  it(
    '--events-file 3: the events go to a descriptor the process inherited',
    async () => {
      const bare = await makeBareRepo();
      const { llm, github } = await startServers({ replies: [{ content: FIXED_REPLY }] });
      const runDir = await makeRunDir();
      const child = spawn(process.execPath, [BIN, ...runArgs(bare, CALC_TASK, '--events-file', '3')], {
        cwd: runDir.cwd,
        env: taskEnv(runDir, { cache, llm, github }),
        stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
      });
      const read = (stream: NodeJS.ReadableStream | null): Promise<string> =>
        new Promise((resolve) => {
          let text = '';
          stream!.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
          stream!.on('end', () => resolve(text));
        });
      const [stdout, stderr, fd3, code] = await Promise.all([
        read(child.stdout),
        read(child.stderr),
        read(child.stdio[3] as NodeJS.ReadableStream),
        new Promise<number | null>((resolve) => child.on('close', resolve)),
      ]);
      expect(code).toBe(0);
      const json = parseJson({ code, stdout, stderr } as Parameters<typeof parseJson>[0]);
      const events = parseEvents(fd3);
      expect(events.filter((e) => e.type === 'step.finished')).toHaveLength(json.steps.length);
      for (const line of lines(stderr)) expect(line.startsWith('{')).toBe(false);
    },
    RUN_TIMEOUT,
  );

  it(
    '--events jsonl: a config warning and the error that ends a run arrive as log events, not as text',
    async () => {
      const bare = await makeBareRepo();
      const { llm, github } = await startServers();
      const runDir = await makeRunDir();
      const env = taskEnv(runDir, { cache, llm, github, extra: { AUTODEV_SANDBX: 'none' } });
      const planned = await runCli(['run', '--plan-only', '--events', 'jsonl', '--repo', bare, '--title', CALC_TASK.title], {
        cwd: runDir.cwd,
        env,
      });
      expect(planned.code).toBe(0);
      expect(parseEvents(planned.stderr)).toEqual([
        expect.objectContaining({ type: 'log', level: 'warn', message: expect.stringMatching(/AUTODEV_SANDBX/) }),
      ]);

      const missing = path.join(runDir.dir, 'no-such-repo');
      const failed = await runCli(['run', '--events', 'jsonl', '--repo', missing, '--title', CALC_TASK.title], { cwd: runDir.cwd, env });
      expect(failed.code).toBe(2);
      const events = parseEvents(failed.stderr);
      expect(events.map((e) => e.type)).toContain('log');
      expect(failed.stderr).toContain('no-such-repo');
    },
    RUN_TIMEOUT,
  );

  it(
    '--plan-only --json prints the keys the README states, for the document and for each plan step',
    async () => {
      const bare = await makeBareRepo();
      const { llm, github } = await startServers();
      const runDir = await makeRunDir();
      const outcome = await runCli(['run', '--plan-only', '--json', '--repo', bare, '--title', CALC_TASK.title], {
        cwd: runDir.cwd,
        env: taskEnv(runDir, { cache, llm, github }),
      });
      expect(outcome.code).toBe(0);
      const planned = JSON.parse(outcome.stdout) as { plan: { steps: Record<string, unknown>[] } };
      const readme = await readmeKeys();
      expect(sorted(Object.keys(planned))).toEqual(sorted(readme.planOnly));
      expect(planned.plan.steps.length).toBeGreaterThan(0);
      // Every step has the stated keys, and no key the README does not state; the optional ones occur.
      const seen = new Set<string>();
      for (const step of planned.plan.steps) {
        expect(Object.keys(step)).toEqual(expect.arrayContaining(readme.planStep));
        for (const key of Object.keys(step)) seen.add(key);
      }
      expect(sorted([...seen])).toEqual(sorted([...readme.planStep, ...readme.planStepOptional]));
    },
    RUN_TIMEOUT,
  );
});
