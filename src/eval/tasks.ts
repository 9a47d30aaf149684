// The task file of `autodev eval`: JSON Lines, one task per line, in autodev's own fields or as
// SWE-bench writes them (instance_id, base_commit, problem_statement, FAIL_TO_PASS, ...). Both
// read into one EvalTask; a bad line is a usage error naming the file, the line and the field.
import { readFile } from 'node:fs/promises';
import * as z from 'zod';
import { UsageError } from '../util/errors.js';

export interface EvalTask {
  id: string;
  /** A path or URL of the repository, as `autodev run --repo` takes it. */
  repo: string;
  /** The commit (or branch) the task starts from. */
  base: string;
  title: string;
  description: string;
  /** Tests (in the toolchain's own naming) that fail on the base and must pass after the change. */
  failToPass: string[];
  /** Tests that pass on the base and must still pass. */
  passToPass: string[];
  /** A patch adding or changing tests, and whether the model may see it (`visible`: applied to the base before the run). */
  testPatch: string | null;
  testPatchMode: 'visible' | 'hidden';
  /** The known good change (SWE-bench's `patch`): never shown to the model; `--check-gold` and the simulated model use it. */
  goldPatch: string | null;
}

// SWE-bench stores the test lists as JSON text inside the JSON; autodev's own format as arrays.
const testList = z.union([
  z.array(z.string()),
  z.string().transform((text, ctx) => {
    try {
      const parsed: unknown = JSON.parse(text);
      if (Array.isArray(parsed) && parsed.every((t) => typeof t === 'string')) return parsed as string[];
    } catch {
      // Reported below.
    }
    ctx.addIssue({ code: 'custom', message: 'a list of test names (a JSON array, or a string holding one)' });
    return z.NEVER;
  }),
]);

const nonEmpty = z.string().trim().min(1, 'a non-empty string');

const ownSchema = z.object({
  id: nonEmpty,
  repo: nonEmpty,
  base: nonEmpty,
  title: nonEmpty.max(200, 'at most 200 characters'),
  description: z.string().default(''),
  fail_to_pass: testList.default([]),
  pass_to_pass: testList.default([]),
  test_patch: z.string().nullable().optional(),
  test_patch_mode: z.enum(['visible', 'hidden']).default('hidden'),
  patch: z.string().nullable().optional(),
});

const sweSchema = z.object({
  instance_id: nonEmpty,
  repo: nonEmpty,
  base_commit: nonEmpty,
  problem_statement: z.string().min(1, 'a non-empty problem statement'),
  FAIL_TO_PASS: testList,
  PASS_TO_PASS: testList.default([]),
  test_patch: z.string().nullable().optional(),
  patch: z.string().nullable().optional(),
  title: z.string().optional(),
});

/**
 * One line's task. SWE-bench's `repo` is `owner/name` on GitHub; it becomes the GitHub URL unless
 * it already is a path or URL. Its problem statement's first line is the title.
 */
export function parseTaskLine(value: unknown): { task: EvalTask } | { error: string } {
  const isSwe = typeof value === 'object' && value !== null && 'instance_id' in value;
  const parsed = (isSwe ? sweSchema : ownSchema).safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue.path.join('.') || '(the line)';
    const expected = issue.code === 'invalid_type' && issue.input === undefined ? 'required' : issue.message;
    return { error: `field "${field}": ${expected}` };
  }
  if (isSwe) {
    const t = parsed.data as z.output<typeof sweSchema>;
    const statement = t.problem_statement.trim();
    const firstLine = statement.split('\n')[0].trim();
    return {
      task: {
        id: t.instance_id,
        repo: /^[\w.-]+\/[\w.-]+$/.test(t.repo) ? `https://github.com/${t.repo}.git` : t.repo,
        base: t.base_commit,
        title: (t.title ?? firstLine).slice(0, 200) || t.instance_id,
        description: statement,
        failToPass: t.FAIL_TO_PASS,
        passToPass: t.PASS_TO_PASS,
        testPatch: t.test_patch || null,
        // SWE-bench's test patch is how the task is graded: the model does not see it.
        testPatchMode: 'hidden',
        goldPatch: t.patch || null,
      },
    };
  }
  const t = parsed.data as z.output<typeof ownSchema>;
  return {
    task: {
      id: t.id,
      repo: t.repo,
      base: t.base,
      title: t.title,
      description: t.description,
      failToPass: t.fail_to_pass,
      passToPass: t.pass_to_pass,
      testPatch: t.test_patch || null,
      testPatchMode: t.test_patch_mode,
      goldPatch: t.patch || null,
    },
  };
}

/** Every task of a JSONL file; the first bad line is a UsageError naming `file:line` and the field. */
export async function readTaskFile(file: string): Promise<EvalTask[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new UsageError(`${file}: cannot read the task file (${code ?? (error as Error).message})`, 'give the path of a JSON Lines file');
  }
  return parseTaskFile(text, file);
}

export function parseTaskFile(text: string, file: string): EvalTask[] {
  const tasks: EvalTask[] = [];
  const seen = new Map<string, number>();
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (!line || line.startsWith('//')) continue;
    const where = `${file}:${i + 1}`;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (error) {
      throw new UsageError(`${where}: not JSON (${(error as Error).message})`, 'write one JSON object per line');
    }
    const result = parseTaskLine(value);
    if ('error' in result) throw new UsageError(`${where}: ${result.error}`, 'fix that line of the task file');
    const earlier = seen.get(result.task.id);
    if (earlier !== undefined)
      throw new UsageError(`${where}: task id "${result.task.id}" is also on line ${earlier}`, 'give every task its own id');
    seen.set(result.task.id, i + 1);
    tasks.push(result.task);
  }
  if (tasks.length === 0) throw new UsageError(`${file}: no task in the file`, 'write one JSON object per line');
  return tasks;
}
