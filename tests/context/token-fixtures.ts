// Texts to hold the token estimate to the real encoders: this repository's own code, code in
// other languages, minified JavaScript, long lines, lock files, prose, unicode of several scripts,
// and adversarial data (random symbols, random characters from all over the BMP, emoji sequences).
// Generated from a fixed seed, so every run sees the same texts.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { ROOT } from '../support/cli.js';

export interface TokenFixture {
  name: string;
  /** code and prose: the estimate must be close; high: only never below (CJK and random data are charged as rare text). */
  kind: 'code' | 'prose' | 'high';
  text: string;
}

function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function tokenFixtures(): TokenFixture[] {
  const random = rng(13);
  const pick = (chars: string, n: number) => Array.from({ length: n }, () => chars[Math.floor(random() * chars.length)]).join('');
  const codePoints = (from: number, span: number, n: number) =>
    Array.from({ length: n }, () => String.fromCodePoint(from + Math.floor(random() * span))).join('');
  const word = () => pick('bcdfghjklmnpqrstvwxz', 1) + pick('aeiou', 1) + pick('bcdfghklmnprst', 1) + pick('aeiou', 1);
  const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

  const fixtures: TokenFixture[] = [];
  const sources = ['src/context', 'src/generate', 'src/toolchains/rust'].flatMap((dir) =>
    readdirSync(path.join(ROOT, dir))
      .filter((f) => f.endsWith('.ts'))
      .map((f) => path.join(dir, f)),
  );
  for (const file of sources) fixtures.push({ name: file, kind: 'code', text: readFileSync(path.join(ROOT, file), 'utf8') });

  const names = Array.from({ length: 40 }, () => `${word()}_${word()}`);
  const n = () => names[Math.floor(random() * names.length)];
  fixtures.push({
    name: 'rust',
    kind: 'code',
    text: Array.from(
      { length: 60 },
      (_, i) =>
        `/// Returns the ${n().replace('_', ' ')} of the frame.\npub fn ${n()}(buf: &[u8], limit: usize) -> Result<Vec<u8>, Error> {\n    let mut out = Vec::with_capacity(limit + ${i});\n    for (i, b) in buf.iter().enumerate() {\n        if *b == b'\\n' { return Err(Error::Parse { line: i, what: "${n()}" }); }\n        out.push(b.wrapping_add(0x${pick('0123456789abcdef', 2)}));\n    }\n    Ok(out)\n}\n`,
    ).join('\n'),
  });
  fixtures.push({
    name: 'python',
    kind: 'code',
    text: Array.from(
      { length: 60 },
      () =>
        `class ${n().replace(/(^|_)(\w)/g, (_, __, c: string) => c.toUpperCase())}:\n    """Keeps the ${n()} for each ${n()}."""\n\n    def ${n()}(self, value: int = ${Math.floor(random() * 10000)}) -> dict[str, int]:\n        if value < 0:\n            raise ValueError(f"negative {value!r}")\n        return {"${n()}": value, **self.__dict__}\n`,
    ).join('\n'),
  });
  fixtures.push({
    name: 'go',
    kind: 'code',
    text: Array.from(
      { length: 60 },
      () =>
        `// ${n()} reads one record.\nfunc (r *Reader) ${n()}(ctx context.Context, id int64) (*Record, error) {\n\tif id <= 0 {\n\t\treturn nil, fmt.Errorf("${n()}: bad id %d", id)\n\t}\n\tswitch r.mode {\n\tcase 0x${pick('0123456789ABCDEF', 4)}:\n\t\treturn &Record{ID: id, Name: "${n()}"}, nil\n\t}\n\treturn nil, nil\n}\n`,
    ).join('\n'),
  });

  // Minified JavaScript: this repository's code with comments and white space squeezed out, one line.
  const squeezed = sources
    .slice(0, 4)
    .map((f) => readFileSync(path.join(ROOT, f), 'utf8'))
    .join('\n')
    .replace(/\/\/[^\n]*|\/\*[\s\S]*?\*\//g, '')
    .replace(/\s+/g, ' ')
    .replace(/ ?([{}()[\];,:=<>+\-*/?!&|]) ?/g, '$1');
  fixtures.push({ name: 'minified', kind: 'code', text: squeezed });
  fixtures.push({
    name: 'minified, short names',
    kind: 'code',
    text: Array.from(
      { length: 400 },
      () =>
        `var ${pick('abcdefgh', 1)}${pick('abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ$_', 1)}=function(${pick('nte', 1)},${pick('rsi', 1)}){return ${pick('nte', 1)}instanceof RegExp?${pick('ce', 1)}(${pick('nte', 1)},${Math.floor(random() * 100)}):void 0};`,
    ).join(''),
  });
  fixtures.push({
    name: 'long line',
    kind: 'code',
    text: `const table = [${Array.from({ length: 3000 }, () => Math.floor(random() * 100000)).join(', ')}];\n`,
  });
  fixtures.push({
    name: 'lock file',
    kind: 'code',
    text: Array.from(
      { length: 40 },
      () =>
        `    "node_modules/${word()}-${word()}": {\n      "version": "${Math.floor(random() * 20)}.${Math.floor(random() * 20)}.${Math.floor(random() * 20)}",\n      "resolved": "https://registry.npmjs.org/${word()}/-/${word()}-1.0.0.tgz",\n      "integrity": "sha512-${pick(B64, 86)}==",\n      "license": "MIT"\n    },\n`,
    ).join(''),
  });
  fixtures.push({ name: 'README.md', kind: 'prose', text: readFileSync(path.join(ROOT, 'README.md'), 'utf8').slice(0, 40000) });
  fixtures.push({
    name: 'unicode comments',
    kind: 'prose',
    text: Array.from(
      { length: 40 },
      (_, i) =>
        `// 计算两个数的和 — Summe zweier Zahlen (größer, übermäßig) — сумма двух чисел\nfn add_${i}(a: i32, b: i32) -> i32 { a + b } // ✅ 🚀 résumé naïve café\n`,
    ).join(''),
  });
  fixtures.push({
    name: 'russian',
    kind: 'prose',
    text: 'Привет, мир! Это тестовая строка на русском языке, с запятыми и точками. '.repeat(40),
  });
  fixtures.push({
    name: 'japanese',
    kind: 'high',
    text: '全角文字のテスト、カタカナとひらがなと漢字。設定ファイルを読み込みます。'.repeat(40),
  });

  fixtures.push({ name: 'base64 string', kind: 'high', text: `const blob = "data:image/png;base64,${pick(B64, 3000)}";\n` });
  fixtures.push({ name: 'hex dump', kind: 'high', text: pick('0123456789abcdef', 3000) });
  // Random runs are kept short and split by spaces: the real encoders take time quadratic in a
  // piece's length.
  const spaced = (make: () => string, n: number) => Array.from({ length: n }, make).join(' ');
  fixtures.push({ name: 'random symbols', kind: 'high', text: spaced(() => codePoints(33, 94, 1 + Math.floor(random() * 40)), 60) });
  fixtures.push({ name: 'random CJK', kind: 'high', text: spaced(() => codePoints(0x4e00, 20000, 30), 12) });
  fixtures.push({ name: 'random BMP', kind: 'high', text: spaced(() => codePoints(0x80, 0x2f00, 30), 15) });
  fixtures.push({ name: 'random two-byte', kind: 'high', text: spaced(() => codePoints(0x80, 0x780, 30), 15) });
  fixtures.push({ name: 'emoji', kind: 'high', text: spaced(() => codePoints(0x1f300, 700, 10), 30) });
  fixtures.push({ name: 'emoji sequences', kind: 'high', text: '👨‍👩‍👧‍👦 🏳️‍🌈 👍🏽 '.repeat(100) });
  fixtures.push({ name: 'invisible', kind: 'high', text: '\u200b\u200d\ufeff x'.repeat(200) });
  fixtures.push({ name: 'devanagari', kind: 'high', text: 'नमस्ते दुनिया यह एक परीक्षण है '.repeat(60) });
  fixtures.push({ name: 'random letters', kind: 'high', text: spaced(() => pick('bcdfghjklmnpqrstvwxzBCDFGHJKLMNPQRSTVWXZ', 40), 50) });
  fixtures.push({ name: 'tabs', kind: 'high', text: '\t\t}\n\t\t\t{\n\t\t\t\tx: 1,\n'.repeat(200) });
  return fixtures;
}
