// The JSON Schema editors use, checked with a real validator (ajv) against the example file, and
// the TOML line finder the error messages rely on.
import { describe, expect, it } from '@jest/globals';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv } from 'ajv';
import { parse as parseToml } from 'smol-toml';
import { configJsonSchema, defaultConfig, fileSchema } from '../../src/config/schema.js';
import { findTomlKeyLine } from '../../src/config/locate.js';
import { requestSchema } from '../../src/config/request.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

async function example(): Promise<Record<string, any>> {
  return parseToml(await readFile(path.join(ROOT, 'autodev.config.example.toml'), 'utf8')) as Record<string, any>;
}

function validator() {
  // Formats (uri, email) need ajv-formats; zod's patterns and everything structural are still checked.
  const ajv = new Ajv({ allErrors: true, strict: true, validateFormats: false });
  return ajv.compile(configJsonSchema());
}

describe('configJsonSchema', () => {
  it('is a draft-07 schema with an id and a title', () => {
    const schema = configJsonSchema();
    expect(schema.$schema).toBe('http://json-schema.org/draft-07/schema#');
    expect(schema.$id).toMatch(/^https:\/\//);
    expect(schema.title).toBe('autodev configuration');
  });

  it('accepts autodev.config.example.toml', async () => {
    const validate = validator();
    const ok = validate(await example());
    expect(validate.errors ?? []).toEqual([]);
    expect(ok).toBe(true);
  });

  it('accepts an empty file and a bare [autodev] table', () => {
    const validate = validator();
    expect(validate({})).toBe(true);
    expect(validate({ autodev: {} })).toBe(true);
  });

  it('rejects a misspelled key, top-level and nested', async () => {
    const validate = validator();
    const doc = await example();
    doc.autodev.max_paralel_tasks = 3;
    expect(validate(doc)).toBe(false);
    expect(validate.errors).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ keyword: 'additionalProperties', params: { additionalProperty: 'max_paralel_tasks' } }),
      ]),
    );

    const nested = await example();
    nested.autodev.llm.modle = 'x';
    expect(validate(nested)).toBe(false);
    expect(validate.errors?.[0]).toMatchObject({ instancePath: '/autodev/llm', keyword: 'additionalProperties' });
  });

  it('rejects a string where a number belongs and an unknown enum value', async () => {
    const validate = validator();
    const doc = await example();
    doc.autodev.runner_timeout_secs = '900';
    doc.autodev.sandbox = 'vm';
    expect(validate(doc)).toBe(false);
    const paths = (validate.errors ?? []).map((e) => e.instancePath);
    expect(paths).toEqual(expect.arrayContaining(['/autodev/runner_timeout_secs', '/autodev/sandbox']));
  });

  it('agrees with the zod schema on the example', async () => {
    const doc = await example();
    expect(fileSchema.parse(doc).autodev).toEqual(defaultConfig());
  });
});

describe('findTomlKeyLine', () => {
  const text = [
    '# top',
    '[autodev]',
    'enabled = true',
    'llm.model = "x"',
    '',
    '[autodev.git]',
    '  "branch_prefix" = "a/"',
    '[autodev.llm]',
    'max_tokens = 3',
  ].join('\n');

  it('finds keys under table headers, dotted and quoted keys', () => {
    expect(findTomlKeyLine(text, ['autodev', 'enabled'])).toBe(3);
    expect(findTomlKeyLine(text, ['autodev', 'llm', 'model'])).toBe(4);
    expect(findTomlKeyLine(text, ['autodev', 'git', 'branch_prefix'])).toBe(7);
    expect(findTomlKeyLine(text, ['autodev', 'llm', 'max_tokens'])).toBe(9);
  });

  it('finds a table by its header, and gives null for what it cannot see', () => {
    expect(findTomlKeyLine(text, ['autodev', 'git'])).toBe(6);
    expect(findTomlKeyLine(text, ['autodev', 'git', 'clone_depth'])).toBeNull();
    expect(findTomlKeyLine(text, [])).toBeNull();
    expect(findTomlKeyLine('', ['autodev', 'x'])).toBeNull();
  });
});

describe('requestSchema', () => {
  it('fills defaults and trims', () => {
    expect(requestSchema.parse({ repo: ' a/b ', title: ' T ' })).toEqual({
      repo: 'a/b',
      title: 'T',
      description: '',
      noPr: false,
      keepWorkspace: false,
    });
  });

  it('refuses an empty title, a bad branch name and unknown fields', () => {
    expect(requestSchema.safeParse({ repo: 'a', title: '  ' }).success).toBe(false);
    expect(requestSchema.safeParse({ repo: 'a', title: 't', base: '-rf' }).success).toBe(false);
    expect(requestSchema.safeParse({ repo: 'a', title: 't', base: 'a b' }).success).toBe(false);
    expect(requestSchema.safeParse({ repo: 'a', title: 't', extra: 1 }).success).toBe(false);
    expect(requestSchema.safeParse({ repo: 'a', title: 't', base: 'release/1.2' }).success).toBe(true);
  });
});
