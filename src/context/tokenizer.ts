// The model family's real BPE (js-tiktoken), for what must be counted exactly: tests and benchmarks
// that hold the estimate (estimate.ts) to it. Loading a rank table costs ~2 s of CPU and ~200 MiB
// (o200k_base), so nothing on the path of `autodev context` or a run imports it: it is loaded on the
// first call, once per process and encoding, and shared by every caller.

import type { Tiktoken } from 'js-tiktoken/lite';
import type { TokenCounter } from './budget.js';

export type EncodingName = 'o200k_base' | 'cl100k_base';

export interface ExactCounter extends TokenCounter {
  encoding: EncodingName;
}

/**
 * The encoding for a model name. o200k_base for the GPT-4o generation and later (gpt-4o, gpt-4.1,
 * gpt-4.5, gpt-5, o1/o3/o4, chatgpt-4o); cl100k_base for gpt-4, gpt-3.5 and embeddings, and for
 * models of other vendors (Llama, Qwen, Mistral...), whose tokenizers are closer to cl100k's token
 * counts on code than to o200k's, so the budget errs on the safe side.
 */
export function encodingForModel(model: string): EncodingName {
  const name = model.toLowerCase().split('/').pop()!.trim();
  if (/^(gpt-4o|gpt-4\.1|gpt-4\.5|gpt-5|chatgpt-|o[1-9](-|$)|gpt-oss|codex)/.test(name)) return 'o200k_base';
  return 'cl100k_base';
}

const encoders = new Map<EncodingName, Promise<Tiktoken>>();

async function loadEncoder(encoding: EncodingName): Promise<Tiktoken> {
  const { Tiktoken } = await import('js-tiktoken/lite');
  const ranks =
    encoding === 'o200k_base'
      ? (await import('js-tiktoken/ranks/o200k_base')).default
      : (await import('js-tiktoken/ranks/cl100k_base')).default;
  return new Tiktoken(ranks);
}

/** An exact counter for `model`'s encoding; the rank table is loaded once per process. */
export async function loadTokenCounter(model: string): Promise<ExactCounter> {
  const encoding = encodingForModel(model);
  let pending = encoders.get(encoding);
  if (!pending) {
    pending = loadEncoder(encoding);
    encoders.set(encoding, pending);
    pending.catch(() => encoders.delete(encoding));
  }
  const encoder = await pending;
  return {
    encoding,
    // Special-token text inside a source file (`<|endoftext|>`) is counted as ordinary text.
    count: (text) => encoder.encode(text, [], []).length,
  };
}
