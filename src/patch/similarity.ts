// Line similarity for the fuzzy layer: Sørensen–Dice over character bigrams of whitespace-normalized
// lines. Linear in line length, so scanning a whole file for the closest window stays cheap.

/** Trim and collapse runs of whitespace: the equality the whitespace layer uses. */
export function normalizeWs(line: string): string {
  return line.trim().replace(/\s+/g, ' ');
}

/** Sorted bigram codes of a normalized line. */
export function bigrams(norm: string): Uint32Array {
  if (norm.length < 2) return new Uint32Array(0);
  const out = new Uint32Array(norm.length - 1);
  for (let k = 0; k < norm.length - 1; k++) out[k] = ((norm.charCodeAt(k) & 0xffff) << 16) | (norm.charCodeAt(k + 1) & 0xffff);
  return out.sort();
}

/** Dice coefficient in [0, 1] of two lines given as normalized text and sorted bigrams. */
export function diceSimilarity(a: string, ab: Uint32Array, b: string, bb: Uint32Array): number {
  if (a === b) return 1;
  if (ab.length === 0 || bb.length === 0) return 0;
  let i = 0;
  let j = 0;
  let common = 0;
  while (i < ab.length && j < bb.length) {
    if (ab[i] === bb[j]) {
      common++;
      i++;
      j++;
    } else if (ab[i] < bb[j]) i++;
    else j++;
  }
  return (2 * common) / (ab.length + bb.length);
}

/** Normalized text and bigrams of a list of lines, computed lazily (most lines never need bigrams). */
export class LineIndex {
  readonly norm: string[];
  private readonly grams: (Uint32Array | undefined)[];
  private byNorm: Map<string, number[]> | null = null;

  constructor(lines: readonly string[]) {
    this.norm = lines.map(normalizeWs);
    this.grams = new Array(lines.length);
  }

  gramsAt(k: number): Uint32Array {
    let g = this.grams[k];
    if (!g) {
      g = bigrams(this.norm[k]);
      this.grams[k] = g;
    }
    return g;
  }

  /** Positions of each normalized line text. */
  positionsOf(norm: string): readonly number[] {
    if (!this.byNorm) {
      this.byNorm = new Map();
      this.norm.forEach((n, k) => {
        const list = this.byNorm!.get(n);
        if (list) list.push(k);
        else this.byNorm!.set(n, [k]);
      });
    }
    return this.byNorm.get(norm) ?? [];
  }

  similarity(k: number, other: string, otherGrams: Uint32Array): number {
    return diceSimilarity(this.norm[k], this.gramsAt(k), other, otherGrams);
  }
}
