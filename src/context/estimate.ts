// A cheap token estimate that errs high, so context can be ranked and fitted to its budget without
// loading a BPE rank table (o200k's costs ~2 s of CPU and ~200 MiB in a process that otherwise needs
// a tenth of that).
//
// BPE tokenizers of the GPT family first split text into pieces (runs of letters, up to three
// digits, runs of punctuation, runs of white space) and never merge across pieces, so a text has at
// least one token per piece; the estimate walks those pieces in one pass and charges each what the
// real encoders charge at most for pieces of its kind on code and prose:
// - a word: one token per camelCase part of up to 5 letters, a token per 4 letters beyond;
// - up to three digits: one token;
// - punctuation: a token per 2 characters (`});` and `=>` are single tokens, random symbols are not);
// - white space: a token per 8 spaces or newlines (indentation runs merge well);
// - a character outside ASCII: by its UTF-8 length, since the encoders fall back to bytes on rare
//   characters (a random CJK character or an emoji is two to three tokens); letters of a two-byte
//   script that follow one another in one Unicode block (a Russian or Greek word) less;
// - a blob (base64, hashes, hex data: a long run of letters and digits mixing case or with many
//   digits) is charged as the near-random text it is.
// The total is then scaled by a margin calibrated against o200k_base and cl100k_base on code in
// several languages, minified JavaScript, lock files and unicode text (tests/context/estimate.test.ts
// holds both encoders to it), so a selection fitted with estimates stays within the exact budget.

/** Multiplier over the per-piece sum; the calibration's headroom. */
const MARGIN = 1.15;
/** A run of these this long may be a blob (base64, a hash, hex data). */
const BLOB_RUN = /[A-Za-z0-9+/=_-]{24,}/g;
/** Characters per token in random base64 and hex (both encoders: 1.4 to 1.8). */
const BLOB_CHARS_PER_TOKEN = 1.3;

const enum Kind {
  None,
  Lower,
  Upper,
  Digit,
  Space,
  Punct,
  /** Outside ASCII: charged per character as it is read. */
  Other,
}

/** An upper estimate of the tokens in `text` for the o200k_base and cl100k_base encoders. */
export function estimateTokens(text: string): number {
  if (text.length === 0) return 0;
  let total = 0;
  let from = 0;
  BLOB_RUN.lastIndex = 0;
  for (let m = BLOB_RUN.exec(text); m !== null; m = BLOB_RUN.exec(text)) {
    if (!isBlob(m[0])) continue;
    total += pieces(text, from, m.index) + Math.ceil(m[0].length / BLOB_CHARS_PER_TOKEN);
    from = m.index + m[0].length;
  }
  total += pieces(text, from, text.length);
  return Math.ceil(total * MARGIN);
}

/** Whether a run of word characters reads as random data rather than an identifier. */
function isBlob(run: string): boolean {
  let digits = 0;
  let upper = 0;
  let lower = 0;
  let switches = 0;
  let last = 0;
  for (let i = 0; i < run.length; i++) {
    const c = run.charCodeAt(i);
    const kind = c >= 48 && c <= 57 ? 1 : c >= 65 && c <= 90 ? 2 : c >= 97 && c <= 122 ? 3 : 0;
    if (kind === 1) digits++;
    else if (kind === 2) upper++;
    else if (kind === 3) lower++;
    if (kind !== last) switches++;
    last = kind;
  }
  // An identifier switches between letters, digits and separators a few times; random data
  // every two or three characters.
  return switches / run.length > 0.3 || (digits > 0 && digits / run.length > 0.25 && upper + lower > 0);
}

/** The per-piece sum of `text[from, to)`. */
function pieces(text: string, from: number, to: number): number {
  let total = 0;
  let kind: Kind = Kind.None;
  let run = 0; // characters in the current run
  let part = 0; // letters in the current camelCase part
  let last = 0; // the previous character code
  let tabs = false; // whether the current white-space run holds a tab
  for (let i = from; i < to; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0x80) {
      total += close(kind, run, part, last, Kind.Other, tabs);
      if (c < 0x800) {
        // Two UTF-8 bytes (Latin with accents, Greek, Cyrillic, Hebrew, Arabic...): a word of one
        // script merges into tokens of several letters; a character from another block than the
        // one before it (random text, a lone symbol) costs up to two.
        total += kind === Kind.Other && last >> 7 === c >> 7 ? 0.6 : 2;
      } else if (c >= 0xd800 && c <= 0xdbff) {
        // Four bytes (emoji, rare CJK), counted once for the surrogate pair.
        total += 3.5;
        i++;
      } else total += 2.7; // three bytes: CJK, Indic scripts, symbols
      kind = Kind.Other;
      run = part = 0;
      last = c;
      continue;
    }
    const next: Kind =
      c >= 97 && c <= 122
        ? Kind.Lower
        : c >= 65 && c <= 90
          ? Kind.Upper
          : c >= 48 && c <= 57
            ? Kind.Digit
            : c === 32 || c === 9 || c === 10 || c === 13
              ? Kind.Space
              : Kind.Punct;
    const letters = (k: Kind) => k === Kind.Lower || k === Kind.Upper;
    if (letters(next) && letters(kind)) {
      // A new camelCase part starts at an upper-case letter after a lower-case one.
      if (next === Kind.Upper && kind === Kind.Lower) {
        total += partTokens(part);
        part = 0;
      }
      part++;
      run++;
      kind = next;
      last = c;
      continue;
    }
    if (next === kind && next !== Kind.Digit) {
      run++;
      last = c;
      if (c === 9) tabs = true;
      continue;
    }
    if (next === Kind.Digit && kind === Kind.Digit) {
      // Digits are split in groups of three.
      if (run === 3) {
        total += 1;
        run = 0;
      }
      run++;
      last = c;
      continue;
    }
    total += close(kind, run, part, last, next, tabs);
    kind = next;
    run = 1;
    part = letters(next) ? 1 : 0;
    last = c;
    tabs = c === 9;
  }
  return total + close(kind, run, part, last, Kind.None, tabs);
}

function partTokens(letters: number): number {
  return letters <= 7 ? 1 : 1 + Math.ceil((letters - 7) / 5);
}

/** The tokens of a finished run of `kind` (ending in character `last`, holding a tab if `tabs`), followed by `next`. */
function close(kind: Kind, run: number, part: number, last: number, next: Kind, tabs: boolean): number {
  if (run === 0) return 0;
  switch (kind) {
    case Kind.Lower:
    case Kind.Upper:
      return partTokens(part);
    case Kind.Digit:
      return 1;
    case Kind.Space: {
      // The last white-space character joins the next piece when it is a space before a word or a
      // symbol, or a tab before a word; otherwise (a line break, before a digit) it is a token.
      const joins =
        next === Kind.Lower || next === Kind.Upper || next === Kind.Other ? last === 32 || last === 9 : next === Kind.Punct && last === 32;
      // Runs of spaces merge up to 8 or more; runs of tabs only by twos and threes.
      return Math.ceil((run - 1) / (tabs ? 2 : 8)) + (joins ? 0 : 1);
    }
    case Kind.Punct:
      return Math.ceil(run / 2);
    default:
      return 0;
  }
}
