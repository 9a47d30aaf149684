// The task file: autodev's own fields and SWE-bench's, one per line, with errors naming file:line and field.
import { describe, expect, it } from '@jest/globals';
import { parseTaskFile } from '../../src/eval/tasks.js';
import { UsageError } from '../../src/util/errors.js';

const own = {
  id: 'calc-1',
  repo: '/repos/calc.git',
  base: 'main',
  title: 'Fix add',
  description: 'add subtracts',
  fail_to_pass: ['tests::adds'],
  pass_to_pass: ['tests::multiplies'],
  test_patch: 'diff --git a/x b/x\n',
  test_patch_mode: 'visible',
};

const swe = {
  instance_id: 'acme__calc-42',
  repo: 'acme/calc',
  base_commit: '0123456789abcdef0123456789abcdef01234567',
  problem_statement: 'add() subtracts\n\nCalling add(2, 2) gives 0.',
  FAIL_TO_PASS: '["tests/test_calc.py::test_add"]',
  PASS_TO_PASS: '[]',
  test_patch: 'diff --git a/tests/test_calc.py b/tests/test_calc.py\n',
  patch: 'diff --git a/calc.py b/calc.py\n',
};

function error(text: string): string {
  try {
    parseTaskFile(text, 'tasks.jsonl');
  } catch (e) {
    expect(e).toBeInstanceOf(UsageError);
    return (e as Error).message;
  }
  throw new Error('no error');
}

describe('parseTaskFile', () => {
  it("reads autodev's own fields", () => {
    const [task] = parseTaskFile(`${JSON.stringify(own)}\n`, 'tasks.jsonl');
    expect(task).toEqual({
      id: 'calc-1',
      repo: '/repos/calc.git',
      base: 'main',
      title: 'Fix add',
      description: 'add subtracts',
      failToPass: ['tests::adds'],
      passToPass: ['tests::multiplies'],
      testPatch: 'diff --git a/x b/x\n',
      testPatchMode: 'visible',
      goldPatch: null,
    });
  });

  it("reads SWE-bench's fields as they are: JSON-in-JSON test lists, owner/name repos, the statement's first line as title, hidden tests", () => {
    const [task] = parseTaskFile(JSON.stringify(swe), 'tasks.jsonl');
    expect(task).toMatchObject({
      id: 'acme__calc-42',
      repo: 'https://github.com/acme/calc.git',
      base: swe.base_commit,
      title: 'add() subtracts',
      description: swe.problem_statement,
      failToPass: ['tests/test_calc.py::test_add'],
      passToPass: [],
      testPatchMode: 'hidden',
      goldPatch: swe.patch,
    });
  });

  it('skips blank lines and keeps the order', () => {
    const tasks = parseTaskFile(`\n${JSON.stringify(own)}\n\n${JSON.stringify({ ...own, id: 'calc-2' })}\n`, 'tasks.jsonl');
    expect(tasks.map((t) => t.id)).toEqual(['calc-1', 'calc-2']);
  });

  it('names the line and the field of what is wrong', () => {
    expect(error(`${JSON.stringify(own)}\n{"id": "x", "repo": "r", "base": "main"}`)).toBe('tasks.jsonl:2: field "title": required');
    expect(error(`${JSON.stringify({ ...swe, FAIL_TO_PASS: 'not json' })}`)).toMatch(/^tasks\.jsonl:1: field "FAIL_TO_PASS": /);
    expect(error(`${JSON.stringify({ ...own, test_patch_mode: 'secret' })}`)).toMatch(/^tasks\.jsonl:1: field "test_patch_mode": /);
    expect(error('{"id": ')).toMatch(/^tasks\.jsonl:1: not JSON/);
    expect(error(`${JSON.stringify(own)}\n${JSON.stringify(own)}`)).toBe('tasks.jsonl:2: task id "calc-1" is also on line 1');
    expect(error('\n\n')).toBe('tasks.jsonl: no task in the file');
  });
});
