import { describe, expect, it } from '@jest/globals';
import { extractTerms, isCodeIdentifier, splitIdentifier, stem } from '../../src/context/terms.js';

function texts(title: string, description = ''): string[] {
  return extractTerms(title, description).map((t) => t.text);
}

function kindOf(title: string, description: string, text: string): string | undefined {
  return extractTerms(title, description).find((t) => t.text === text)?.kind;
}

describe('extractTerms', () => {
  it('takes snake_case, camelCase, PascalCase and SCREAMING_CASE identifiers as symbols', () => {
    const terms = extractTerms('parse_header_line drops the last field', 'Also retryBudget in RetryPolicy and MAX_RETRIES.');
    const symbols = terms.filter((t) => t.kind === 'symbol').map((t) => t.text);
    expect(symbols).toEqual(expect.arrayContaining(['parse_header_line', 'retryBudget', 'RetryPolicy', 'MAX_RETRIES']));
  });

  it('takes paths and file names, and their stems as module names', () => {
    const terms = extractTerms(
      'Crash in src/config/load.rs',
      'The loader in `lexer.ts` and ./tests/cli_args.rs too; see v1.2.3 and and/or.',
    );
    expect(
      terms
        .filter((t) => t.kind === 'path')
        .map((t) => t.text)
        .sort(),
    ).toEqual(['lexer.ts', 'src/config/load.rs', 'tests/cli_args.rs']);
    expect(kindOf('Crash in src/config/load.rs', '', 'load')).toBe('module');
    expect(texts('', 'see v1.2.3 and and/or')).not.toContain('v1.2.3');
    expect(texts('', 'input/output handling')).not.toContain('input/output');
  });

  it('splits :: paths into modules and symbols', () => {
    const terms = extractTerms('`config::loader::Settings::from_env` ignores overrides', '');
    expect(kindOf('`config::loader::Settings::from_env`', '', 'config')).toBe('module');
    expect(kindOf('`config::loader::Settings::from_env`', '', 'loader')).toBe('module');
    expect(kindOf('`config::loader::Settings::from_env`', '', 'Settings')).toBe('symbol');
    expect(kindOf('`config::loader::Settings::from_env`', '', 'from_env')).toBe('symbol');
    expect(terms.map((t) => t.text)).not.toContain('crate');
  });

  it('reads identifiers inside backticked code and calls written with parentheses', () => {
    const t = texts('Fix `cache.get(key)` returning stale data', 'calling flush() twice panics');
    expect(t).toEqual(expect.arrayContaining(['cache', 'get', 'key', 'flush']));
    expect(kindOf('', 'calling flush() twice panics', 'flush')).toBe('symbol');
  });

  it('drops stop words and task boilerplate, keeps content words stemmed', () => {
    const t = texts('Fix: the parser should not crash when tokens are missing', '');
    expect(t).not.toEqual(expect.arrayContaining(['fix']));
    for (const w of ['the', 'should', 'not', 'when', 'are', 'fix']) expect(t).not.toContain(w);
    expect(t).toEqual(expect.arrayContaining(['parser', 'crash', 'token', 'miss']));
  });

  it('adds adjacent content words as compound identifiers', () => {
    const t = texts('retry budget ignored on timeouts', '');
    expect(t).toEqual(expect.arrayContaining(['retry_budget', 'retrybudget']));
    expect(kindOf('retry budget ignored', '', 'retry_budget')).toBe('compound');
  });

  it('weighs paths over symbols over words, and the title over the description', () => {
    const terms = extractTerms('timeout in src/net.rs', 'connect_timeout and timeout');
    const weight = (text: string) => terms.find((t) => t.text === text)!.weight;
    expect(weight('src/net.rs')).toBeGreaterThan(weight('connect_timeout'));
    expect(weight('connect_timeout')).toBeGreaterThan(weight('timeout'));
    const a = extractTerms('scheduler', '').find((t) => t.text === 'scheduler')!.weight;
    const b = extractTerms('', 'scheduler').find((t) => t.text === 'scheduler')!.weight;
    expect(a).toBeGreaterThan(b);
  });

  it('takes a capitalised word mid-sentence as a possible type name', () => {
    expect(kindOf('Crash when the Tokenizer sees a tab', '', 'Tokenizer')).toBe('symbol');
    expect(kindOf('Tokenizer crashes', '', 'Tokenizer')).toBeUndefined();
  });

  it('returns nothing for empty text', () => {
    expect(extractTerms('', '')).toEqual([]);
  });
});

describe('identifier helpers', () => {
  it('recognises code identifiers', () => {
    expect(isCodeIdentifier('parse_line')).toBe(true);
    expect(isCodeIdentifier('parseLine')).toBe(true);
    expect(isCodeIdentifier('HttpClient')).toBe(true);
    expect(isCodeIdentifier('MAX_SIZE')).toBe(true);
    expect(isCodeIdentifier('Parser')).toBe(false);
    expect(isCodeIdentifier('parser')).toBe(false);
  });

  it('splits identifiers into words', () => {
    expect(splitIdentifier('parseHTTPHeader')).toEqual(['parse', 'http', 'header']);
    expect(splitIdentifier('retry_budget')).toEqual(['retry', 'budget']);
  });

  it('stems lightly and never below four letters', () => {
    expect(stem('tokens')).toBe('token');
    expect(stem('parsing')).toBe('pars');
    expect(stem('entries')).toBe('entry');
    expect(stem('bus')).toBe('bus');
    expect(stem('uses')).toBe('uses');
  });
});
