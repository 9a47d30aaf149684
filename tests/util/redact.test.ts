import { afterEach, describe, expect, it } from '@jest/globals';
import { clearSecrets, redact, redactDeep, redactFindingText, redactTokenLike, registerSecret } from '../../src/util/redact.js';

// Built at run time so this file does not itself look like it holds a token.
const TOKEN = ['gh', 'p_', 'R7qLm2Zp9Xw4Tk8Vb3Nc6Hd1Jf5Gs0Ya2Ue7'].join('');
const WITH_SYMBOLS = ['p@ss', 'w0rd/with+', 'symbols&=?'].join('');

afterEach(() => clearSecrets());

describe('redact', () => {
  it('masks a registered secret everywhere in a text', () => {
    registerSecret(TOKEN);
    expect(redact(`token=${TOKEN} and again ${TOKEN}.`)).toBe('token=*** and again ***.');
  });

  it('masks the base64, base64url and URL-encoded forms', () => {
    registerSecret(WITH_SYMBOLS);
    const b64 = Buffer.from(WITH_SYMBOLS).toString('base64');
    const b64url = Buffer.from(WITH_SYMBOLS).toString('base64url');
    const encoded = encodeURIComponent(WITH_SYMBOLS);
    expect(encoded).not.toBe(WITH_SYMBOLS);
    const lowerHex = encoded.replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase());
    expect(lowerHex).not.toBe(encoded);
    expect(redact(`a ${b64} b ${b64url} c ${encoded} d ${lowerHex}`)).toBe('a *** b *** c *** d ***');
  });

  it('masks git basic auth: base64("x-access-token:<token>")', () => {
    registerSecret(TOKEN);
    const header = `Authorization: Basic ${Buffer.from(`x-access-token:${TOKEN}`).toString('base64')}`;
    expect(redact(header)).toBe('Authorization: Basic ***');
    expect(redact(`https://x-access-token:${TOKEN}@github.com/o/r.git`)).toBe('https://x-access-token:***@github.com/o/r.git');
  });

  it('ignores values shorter than 6 characters, and non-strings', () => {
    registerSecret('abc12');
    registerSecret(undefined);
    registerSecret(null);
    expect(redact('abc12 stays')).toBe('abc12 stays');
  });

  it('masks the longer of two overlapping secrets whole', () => {
    registerSecret('secret-value');
    registerSecret('secret-value-extended');
    expect(redact('x secret-value-extended y secret-value')).toBe('x *** y ***');
  });

  it('treats regex characters in a secret literally', () => {
    registerSecret('a.b*c+d(e)');
    expect(redact('a.b*c+d(e) aXbbcdde')).toBe('*** aXbbcdde');
  });

  it('leaves ordinary text alone when nothing is registered', () => {
    const text = 'nothing here: commit 3f2a9c1d0b7e4a6f8c5d2e1b0a9f8e7d6c5b4a39, task 202612031308-ab12cd, src/lib.rs:12';
    expect(redact(text)).toBe(text);
  });

  it('replaces, by content, a credential nobody registered (a key in a repository, one a model wrote)', () => {
    const awsKey = ['AKIA', 'Z3Q7XK2M', 'PL4RT9WE'].join('');
    expect(redact(`nothing ${TOKEN}`)).toBe('nothing [REDACTED:github-token]');
    expect(redact(`const KEY: &str = "${awsKey}";`)).toBe('const KEY: &str = "[REDACTED:aws-access-key-id]";');
    // Redacting twice changes nothing more.
    expect(redact(redact(`nothing ${TOKEN}`))).toBe('nothing [REDACTED:github-token]');
    // Registered values are masked as before, content-found ones by rule.
    registerSecret(TOKEN);
    expect(redact(`${TOKEN} ${awsKey}`)).toBe('*** [REDACTED:aws-access-key-id]');
    expect(JSON.stringify(redactDeep({ diff: `+pub const K: &str = "${awsKey}";` }))).not.toContain(awsKey);
  });
});

describe('redactDeep', () => {
  it('redacts every string in nested objects and arrays, keys too, without changing the input', () => {
    registerSecret(TOKEN);
    const input = { a: TOKEN, list: [1, `x ${TOKEN}`, { deep: [TOKEN] }], [TOKEN]: true, n: null, ok: false };
    const out = redactDeep(input);
    expect(out).toEqual({ a: '***', list: [1, 'x ***', { deep: ['***'] }], '***': true, n: null, ok: false });
    expect(input.a).toBe(TOKEN);
    expect(JSON.stringify(out).includes(TOKEN)).toBe(false);
  });

  it('turns errors into plain redacted data and survives cycles', () => {
    registerSecret(TOKEN);
    const cyclic: Record<string, unknown> = { err: new Error(`push failed for ${TOKEN}`) };
    cyclic.self = cyclic;
    const out = redactDeep(cyclic) as { err: { name: string; message: string; stack: string }; self: unknown };
    expect(out.err.name).toBe('Error');
    expect(out.err.message).toBe('push failed for ***');
    expect(out.err.stack.includes(TOKEN)).toBe(false);
    expect(out.self).toBe('[Circular]');
    // A value seen twice, but not in a cycle, is copied twice.
    const shared = { t: TOKEN };
    expect(redactDeep({ a: shared, b: shared })).toEqual({ a: { t: '***' }, b: { t: '***' } });
  });
});

describe('redactFindingText', () => {
  it('keeps only a known prefix', () => {
    expect(redactFindingText(TOKEN)).toBe('ghp_****');
    expect(redactFindingText(['AKIA', 'IOSFODNN7', 'EXAMPLE'].join(''))).toBe('AKIA****');
    expect(redactFindingText(['sk-', 'ant-', 'api03-', 'x'.repeat(95)].join(''))).toBe('sk-ant-api03-****');
    expect(redactFindingText(['-----BEGIN ', 'OPENSSH PRIVATE', ' KEY-----\nAAAAB3Nza'].join(''))).toBe(
      '-----BEGIN OPENSSH PRIVATE KEY-----****',
    );
  });

  it('keeps 3 characters of an unknown long value and nothing of a short one', () => {
    expect(redactFindingText('Xk9mP2vL7qR4wZt8')).toBe('Xk9****');
    expect(redactFindingText('hunter22')).toBe('****');
    // A bare prefix is not a "prefix" of anything: keep nothing of it.
    expect(redactFindingText(['gh', 'p_', 'abc'].join(''))).toBe('****');
  });

  it('redactTokenLike masks long token-like words in tool output it does not trust', () => {
    const unknownShape = ['Qm8', 'vT2rX9pL4kW7zN3bH6dJ1'].join('');
    expect(redactTokenLike(`error near ${unknownShape} in config.toml`)).toBe('error near Qm8**** in config.toml');
    expect(redactTokenLike(`error near ${TOKEN} in config.toml`)).toBe('error near [REDACTED:github-token] in config.toml');
  });
});
