import { afterEach, describe, expect, it } from '@jest/globals';
import { createOpa, interpretOpaResult, opaDataPath } from '../../src/ports/opa.js';
import { TransientError } from '../../src/ports/types.js';
import { startOpaServer, type OpaServer, type OpaServerOptions } from '../support/opa-server.js';
import { caught } from '../support/caught.js';

let servers: OpaServer[] = [];
afterEach(async () => {
  await Promise.all(servers.map((server) => server.close()));
  servers = [];
});

async function opa(options: OpaServerOptions): Promise<OpaServer> {
  const started = await startOpaServer(options);
  servers.push(started);
  return started;
}

const input = { risk: 'high', tests: { passed: true }, changedFiles: ['src/lib.rs', 'migrations/001.sql'] };

describe('opaDataPath', () => {
  it('turns a dotted package into the Data API path', () => {
    expect(opaDataPath('autodev.policy')).toBe('autodev/policy');
    expect(opaDataPath('data.autodev.policy.allow')).toBe('autodev/policy/allow');
    expect(opaDataPath('autodev/policy/')).toBe('autodev/policy');
    expect(() => opaDataPath('data')).toThrow(/names no package/);
  });
});

describe('interpretOpaResult', () => {
  it('reads codes from "code: message" strings and objects', () => {
    expect(interpretOpaResult({ deny: ['sql_needs_dba: SQL changes need DBA approval', 'plain words'], review: ['x'] }, 'p')).toEqual({
      allow: false,
      reasons: [
        { code: 'sql_needs_dba', message: 'SQL changes need DBA approval' },
        { code: 'opa_denied', message: 'plain words' },
      ],
      review: true,
    });
    expect(interpretOpaResult({ allow: false, reasons: [{ id: 'tests_failed', msg: 'tests must pass' }] }, 'p').reasons).toEqual([
      { code: 'tests_failed', message: 'tests must pass' },
    ]);
  });

  it('lets deny win over allow, and gives a bare "allow: false" a reason', () => {
    expect(interpretOpaResult({ allow: true, deny: ['no'] }, 'p').allow).toBe(false);
    expect(interpretOpaResult({ allow: false }, 'pkg.x')).toEqual({
      allow: false,
      reasons: [{ code: 'opa_denied', message: 'denied by OPA policy pkg.x' }],
      review: false,
    });
  });

  it('rejects results that are not a decision', () => {
    expect(() => interpretOpaResult({ rules: 3 }, 'autodev')).toThrow(/neither "allow" nor "deny".*rules/);
    expect(() => interpretOpaResult({ allow: 'yes' }, 'autodev')).toThrow(/"allow" should be a boolean/);
    expect(() => interpretOpaResult(['a'], 'autodev')).toThrow(/expected a boolean or an object/);
    expect(() => interpretOpaResult({ deny: 5 }, 'autodev')).toThrow(/list of reasons/);
  });
});

describe('createOpa against a local OPA server', () => {
  it('allows, sending the input under "input" to /v1/data/<package path>', async () => {
    const server = await opa({ policies: { 'autodev.policy': () => ({ allow: true, deny: [], review: false }) } });
    const decision = await createOpa({ url: server.url, policyPackage: 'autodev.policy', timeoutMs: 5_000 }).evaluate(input);

    expect(decision).toEqual({ allow: true, reasons: [], review: false });
    expect(server.requests[0].method).toBe('POST');
    expect(server.requests[0].path).toBe('/v1/data/autodev/policy');
    expect(server.inputs()).toEqual([input]);
  });

  it('denies with the reasons the policy computed from the input', async () => {
    const server = await opa({
      policies: {
        'autodev/policy': (given) => {
          const files = (given as typeof input).changedFiles;
          const deny = files.filter((file) => file.endsWith('.sql')).map((file) => `sql_needs_dba: ${file} changes SQL`);
          return { allow: deny.length === 0, deny, review: (given as typeof input).risk === 'high' };
        },
      },
    });
    const decision = await createOpa({ url: `${server.url}/`, policyPackage: 'data.autodev.policy', timeoutMs: 5_000 }).evaluate(input);

    expect(decision).toEqual({
      allow: false,
      reasons: [{ code: 'sql_needs_dba', message: 'migrations/001.sql changes SQL' }],
      review: true,
    });
  });

  it('accepts a package that is a boolean rule', async () => {
    const server = await opa({ policies: { 'autodev.policy.allow': (given) => (given as typeof input).tests.passed } });
    const client = createOpa({ url: `${server.url}/v1/data`, policyPackage: 'autodev.policy.allow', timeoutMs: 5_000 });

    expect(await client.evaluate(input)).toEqual({ allow: true, reasons: [], review: false });
    expect((await client.evaluate({ ...input, tests: { passed: false } })).allow).toBe(false);
  });

  it('names the package when it is undefined on the server', async () => {
    const server = await opa({ policies: { 'autodev.policy': () => ({ allow: true }) } });
    const error = await caught(createOpa({ url: server.url, policyPackage: 'autodev.typo', timeoutMs: 5_000 }).evaluate(input));

    expect(error).not.toBeInstanceOf(TransientError);
    expect(error.message).toContain('autodev.typo');
    expect(error.message).toContain('undefined');
    expect(error.message).toContain('/v1/data/autodev/typo');
  });

  it('treats a 500 as transient and recovers on the next call', async () => {
    const server = await opa({ policies: { 'autodev.policy': () => ({ allow: true }) } });
    const client = createOpa({ url: server.url, policyPackage: 'autodev.policy', timeoutMs: 5_000 });
    server.failNext(500, { code: 'internal_error', message: 'storage error' });

    const error = await caught(client.evaluate(input));
    expect(error).toBeInstanceOf(TransientError);
    expect(error.message).toMatch(/500.*storage error/);
    expect((await client.evaluate(input)).allow).toBe(true);
  });

  it("treats a 400 as a plain error with OPA's message", async () => {
    const server = await opa({ policies: {} });
    server.failNext(400, { code: 'invalid_parameter', message: 'rego_type_error: undefined function' });

    const error = await caught(createOpa({ url: server.url, policyPackage: 'autodev.policy', timeoutMs: 5_000 }).evaluate(input));
    expect(error).not.toBeInstanceOf(TransientError);
    expect(error.message).toContain('rego_type_error');
  });

  it('sends the bearer token and keeps it out of errors', async () => {
    const token = 'opa-SECRET-token-123';
    const server = await opa({ token, policies: { 'autodev.policy': () => ({ allow: true }) } });

    expect((await createOpa({ url: server.url, policyPackage: 'autodev.policy', timeoutMs: 5_000, token }).evaluate(input)).allow).toBe(
      true,
    );
    const error = await caught(
      createOpa({ url: server.url, policyPackage: 'autodev.policy', timeoutMs: 5_000, token: 'wrong' }).evaluate(input),
    );
    expect(error.message).toMatch(/401.*check the OPA token/);
    expect(error.message).not.toContain(token);
  });

  it('treats an unreachable server as transient', async () => {
    const server = await opa({ policies: {} });
    const url = server.url;
    await server.close();
    servers = [];

    const error = await caught(createOpa({ url, policyPackage: 'autodev.policy', timeoutMs: 5_000 }).evaluate(input));
    expect(error).toBeInstanceOf(TransientError);
    expect(error.message).toMatch(/cannot reach OPA.*ECONNREFUSED/);
  });

  it('passes an abort through as an abort', async () => {
    const server = await opa({ policies: { 'autodev.policy': () => ({ allow: true }) } });
    const controller = new AbortController();
    controller.abort(new Error('cancelled by user'));

    const error = await caught(
      createOpa({ url: server.url, policyPackage: 'autodev.policy', timeoutMs: 5_000 }).evaluate(input, controller.signal),
    );
    expect(error).not.toBeInstanceOf(TransientError);
    expect(error.message).toBe('cancelled by user');
  });
});
