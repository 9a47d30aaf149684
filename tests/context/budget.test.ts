import { describe, expect, it } from '@jest/globals';
import { GAP_MARKER, mergeWindows, rangesLabel, selectWithinBudget, type Candidate } from '../../src/context/budget.js';
import { encodingForModel, loadTokenCounter } from '../../src/context/tokenizer.js';

function bigFile(lines: number, special: Record<number, string> = {}): string {
  const out: string[] = [];
  for (let i = 1; i <= lines; i++) out.push(special[i] ?? `    let value_${i} = compute_something(${i}, "padding text for line ${i}");`);
  return out.join('\n');
}

describe('token counting', () => {
  it('picks the encoding by model family', () => {
    expect(encodingForModel('gpt-4o-mini')).toBe('o200k_base');
    expect(encodingForModel('gpt-4.1')).toBe('o200k_base');
    expect(encodingForModel('openai/gpt-5')).toBe('o200k_base');
    expect(encodingForModel('o3-mini')).toBe('o200k_base');
    expect(encodingForModel('gpt-4')).toBe('cl100k_base');
    expect(encodingForModel('gpt-3.5-turbo')).toBe('cl100k_base');
    expect(encodingForModel('qwen2.5-coder:7b')).toBe('cl100k_base');
  });

  it('counts with the real BPE of each encoding', async () => {
    const o200k = await loadTokenCounter('gpt-4o');
    const cl100k = await loadTokenCounter('gpt-4');
    expect(o200k.encoding).toBe('o200k_base');
    expect(cl100k.encoding).toBe('cl100k_base');
    // Known counts: "hello world" is two tokens in both; the tokenizers differ on other text.
    expect(o200k.count('hello world')).toBe(2);
    expect(cl100k.count('hello world')).toBe(2);
    const code = 'fn main() {\n    println!("Привет, мир");\n}\n';
    expect(o200k.count(code)).not.toBe(cl100k.count(code));
    expect(o200k.count('<|endoftext|>')).toBeGreaterThan(1);
  });
});

describe('mergeWindows', () => {
  it('clamps to the file and merges overlapping or touching windows', () => {
    expect(mergeWindows([1, 5, 20], 2, 21)).toEqual([
      [1, 7],
      [18, 21],
    ]);
    expect(mergeWindows([10, 14], 2, 100)).toEqual([[8, 16]]);
    expect(mergeWindows([10, 15], 2, 100)).toEqual([[8, 17]]);
    expect(mergeWindows([10, 16], 2, 100)).toEqual([
      [8, 12],
      [14, 18],
    ]);
  });
});

describe('selectWithinBudget', () => {
  it('takes whole files best first and stays within the budget', async () => {
    const counter = await loadTokenCounter('gpt-4o');
    const candidates: Candidate[] = [
      { path: 'a.rs', score: 10, content: bigFile(20), marks: [] },
      { path: 'b.rs', score: 8, content: bigFile(20), marks: [] },
      { path: 'c.rs', score: 6, content: bigFile(20), marks: [] },
    ];
    const one = counter.count(candidates[0].content) + counter.count('a.rs') + 8;
    const selection = selectWithinBudget(candidates, one * 2 + 10, counter, { maxFileShare: 1 });
    expect(selection.files.map((f) => f.path)).toEqual(['a.rs', 'b.rs']);
    expect(selection.files.every((f) => f.ranges === null)).toBe(true);
    expect(selection.files[0].content).toBe(candidates[0].content);
    expect(selection.tokens).toBe(selection.files.reduce((s, f) => s + f.tokens, 0));
    expect(selection.tokens).toBeLessThanOrEqual(one * 2 + 10);
  });

  it('shows line ranges around hits and definitions when a big file does not fit', async () => {
    const counter = await loadTokenCounter('gpt-4o');
    const content = bigFile(2000, { 700: 'pub fn parse_header(line: &str) -> Header {', 1500: '    parse_header(rest)' });
    const candidate: Candidate = {
      path: 'src/big.rs',
      score: 5,
      content,
      marks: [
        { line: 700, weight: 10, definition: true },
        { line: 1500, weight: 2, definition: false },
      ],
    };
    expect(counter.count(content)).toBeGreaterThan(20000);
    const selection = selectWithinBudget([candidate], 1500, counter);
    expect(selection.files).toHaveLength(1);
    const file = selection.files[0];
    expect(file.ranges).not.toBeNull();
    expect(file.ranges!.some(([a, b]) => a <= 700 && 700 <= b)).toBe(true);
    expect(file.content).toContain('pub fn parse_header(line: &str) -> Header {');
    expect(selection.tokens).toBeLessThanOrEqual(1500);
    expect(file.tokens).toBe(counter.count(file.content) + counter.count(rangesLabel(file.ranges!)) + counter.count('src/big.rs') + 8);
    if (file.ranges!.length > 1) expect(file.content).toContain(`\n${GAP_MARKER}\n`);
    // The ranges are exactly the lines shown.
    const lines = content.split('\n');
    const expected = file.ranges!.map(([a, b]) => lines.slice(a - 1, b).join('\n')).join(`\n${GAP_MARKER}\n`);
    expect(file.content).toBe(expected);
  });

  it('drops the weakest marks when even narrow windows do not fit', async () => {
    const counter = await loadTokenCounter('gpt-4o');
    const marks = Array.from({ length: 40 }, (_, i) => ({ line: 40 * i + 20, weight: 40 - i, definition: false }));
    const selection = selectWithinBudget([{ path: 'x.rs', score: 1, content: bigFile(1700), marks }], 200, counter);
    expect(selection.files).toHaveLength(1);
    expect(selection.files[0].ranges!.some(([a, b]) => a <= 20 && 20 <= b)).toBe(true);
    expect(selection.files[0].ranges!.some(([a, b]) => a <= 1580 && 1580 <= b)).toBe(false);
    expect(selection.tokens).toBeLessThanOrEqual(200);
  });

  it('keeps one large file from crowding out the next one', async () => {
    const counter = await loadTokenCounter('gpt-4o');
    const big = bigFile(400, { 200: 'fn target() {}' });
    const small = bigFile(10);
    const budget = Math.round(counter.count(big) * 1.05);
    const selection = selectWithinBudget(
      [
        { path: 'big.rs', score: 10, content: big, marks: [{ line: 200, weight: 1, definition: true }] },
        { path: 'small.rs', score: 9, content: small, marks: [] },
      ],
      budget,
      counter,
    );
    expect(selection.files.map((f) => [f.path, f.ranges === null])).toEqual([
      ['big.rs', false],
      ['small.rs', true],
    ]);
    expect(selection.tokens).toBeLessThanOrEqual(budget);
  });

  it('skips files far below the best score and files without marks that do not fit', async () => {
    const counter = await loadTokenCounter('gpt-4o');
    const selection = selectWithinBudget(
      [
        { path: 'a.rs', score: 100, content: 'fn a() {}', marks: [] },
        { path: 'huge.rs', score: 90, content: bigFile(3000), marks: [] },
        { path: 'noise.rs', score: 1, content: 'fn b() {}', marks: [] },
      ],
      8000,
      counter,
    );
    expect(selection.files.map((f) => f.path)).toEqual(['a.rs']);
  });
});
