// The OPA port: asks an Open Policy Agent server for a decision over its Data API,
// `POST {url}/v1/data/{package as a path}` with `{"input": ...}`, using the global fetch.
//
// Accepted shapes of `result` (what the Rego package evaluates to):
//   - a boolean: the package points at an allow rule (`policy_package = "autodev.policy.allow"`);
//     false gets one generic reason, code `opa_denied`.
//   - an object with any of
//       allow:   boolean                  (absent: allowed when `deny` is empty)
//       deny:    Reason[]                 (each entry denies, whatever `allow` says)
//       reasons: Reason[]                 (explains the decision; denies nothing on its own)
//       review:  boolean | Reason[]       (true or non-empty: a human must review, PR as draft)
//     where a Reason is a string ("code: message" or just a message, code `opa_denied`) or an object
//     `{code|id, message|msg}`. Rego sets arrive as JSON arrays, so `deny contains msg if ...` works.
//     An object with neither `allow` nor `deny` is an error, as it is almost surely the wrong package.
// No `result` at all means the package is undefined on that server: an error naming the package.
// 5xx, 429, timeouts and unreachable servers are TransientError; other answers are plain errors.

import { isTransientStatus, oneLine, parseRetryAfter, redactSecrets, rootCause } from './http-retry.js';
import { TransientError, type Opa, type OpaDecision } from './types.js';

export interface OpaOptions {
  /** Server root, e.g. http://127.0.0.1:8181 (a trailing /v1 or /v1/data is tolerated). */
  url: string;
  /** Rego package, dotted (`autodev.policy`) or slashed; a leading `data.` is dropped. */
  policyPackage: string;
  timeoutMs: number;
  /** For OPA's `--authentication=token` mode. */
  token?: string | null;
}

type Reason = OpaDecision['reasons'][number];

const DEFAULT_CODE = 'opa_denied';

/** `autodev.policy` → `autodev/policy` (the Data API path under /v1/data). */
export function opaDataPath(policyPackage: string): string {
  const segments = policyPackage
    .trim()
    .replace(/^data(?:\.|\/|$)/, '')
    .split(/[./]/)
    .filter((segment) => segment !== '');
  if (segments.length === 0) throw new Error(`OPA policy package "${policyPackage}" names no package (expected e.g. autodev.policy)`);
  return segments.map(encodeURIComponent).join('/');
}

function toReason(entry: unknown): Reason {
  if (typeof entry === 'string') {
    const coded = /^([A-Za-z][\w.-]*):\s+(.+)$/s.exec(entry);
    return coded ? { code: coded[1], message: coded[2] } : { code: DEFAULT_CODE, message: entry };
  }
  if (typeof entry === 'object' && entry !== null) {
    const record = entry as Record<string, unknown>;
    const code = [record.code, record.id].find((value) => typeof value === 'string' && value !== '') as string | undefined;
    const message = [record.message, record.msg, record.reason].find((value) => typeof value === 'string') as string | undefined;
    return { code: code ?? DEFAULT_CODE, message: message ?? JSON.stringify(entry) };
  }
  return { code: DEFAULT_CODE, message: JSON.stringify(entry) };
}

function toReasons(value: unknown, field: string, policyPackage: string): Reason[] {
  if (value === undefined || value === null) return [];
  if (Array.isArray(value)) return value.map(toReason);
  if (typeof value === 'string' || (typeof value === 'object' && !Array.isArray(value))) return [toReason(value)];
  throw new Error(`OPA package ${policyPackage}: "${field}" should be a list of reasons, got ${JSON.stringify(value)}`);
}

/** Reads a Data API `result` into a decision (see the shapes at the top of this file). */
export function interpretOpaResult(result: unknown, policyPackage: string): OpaDecision {
  if (typeof result === 'boolean') {
    return {
      allow: result,
      reasons: result ? [] : [{ code: DEFAULT_CODE, message: `denied by OPA policy ${policyPackage}` }],
      review: false,
    };
  }
  if (typeof result !== 'object' || result === null || Array.isArray(result)) {
    throw new Error(`OPA package ${policyPackage} gave ${JSON.stringify(result)}; expected a boolean or an object with allow/deny`);
  }
  const record = result as Record<string, unknown>;
  if (!('allow' in record) && !('deny' in record)) {
    const keys = Object.keys(record).slice(0, 8).join(', ') || 'none';
    throw new Error(`OPA package ${policyPackage} has neither "allow" nor "deny" (its keys: ${keys}); check policy_package`);
  }
  if ('allow' in record && typeof record.allow !== 'boolean') {
    throw new Error(`OPA package ${policyPackage}: "allow" should be a boolean, got ${JSON.stringify(record.allow)}`);
  }
  const deny = toReasons(record.deny, 'deny', policyPackage);
  const explained = toReasons(record.reasons, 'reasons', policyPackage);
  const allow = (record.allow ?? true) === true && deny.length === 0;
  const reasons = [...deny, ...explained];
  if (!allow && reasons.length === 0) reasons.push({ code: DEFAULT_CODE, message: `denied by OPA policy ${policyPackage}` });
  const review = Array.isArray(record.review) ? record.review.length > 0 : record.review === true;
  return { allow, reasons, review };
}

function serverRoot(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url.trim());
  } catch {
    throw new Error('OPA url is not a valid URL (expected e.g. http://127.0.0.1:8181)');
  }
  const path = parsed.pathname.replace(/\/+$/, '').replace(/\/v1(?:\/data)?$/, '');
  return `${parsed.origin}${path}`;
}

export function createOpa(options: OpaOptions): Opa {
  const endpoint = `${serverRoot(options.url)}/v1/data/${opaDataPath(options.policyPackage)}`;
  const label = options.policyPackage;
  const clean = (text: string) => oneLine(redactSecrets(text, [options.token]));

  return {
    async evaluate(input: unknown, signal?: AbortSignal): Promise<OpaDecision> {
      const deadline = AbortSignal.timeout(options.timeoutMs);
      const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' };
      if (options.token) headers.authorization = `Bearer ${options.token}`;
      let response: Response;
      let text: string;
      try {
        response = await fetch(endpoint, {
          method: 'POST',
          headers,
          body: JSON.stringify({ input }),
          signal: signal ? AbortSignal.any([signal, deadline]) : deadline,
        });
        text = await response.text();
      } catch (error) {
        if (signal?.aborted) throw signal.reason;
        if (deadline.aborted) throw new TransientError(`OPA at ${endpoint} did not answer within ${options.timeoutMs} ms`);
        throw new TransientError(clean(`cannot reach OPA at ${endpoint}: ${rootCause(error)}`));
      }
      let body: unknown;
      try {
        body = text === '' ? {} : JSON.parse(text);
      } catch {
        body = undefined;
      }
      if (!response.ok) {
        const detail =
          typeof body === 'object' && body !== null && 'message' in body && typeof body.message === 'string'
            ? body.message
            : text.slice(0, 200);
        const message = clean(`OPA answered ${response.status} for ${label}: ${detail || response.statusText}`);
        if (isTransientStatus(response.status)) throw new TransientError(message, parseRetryAfter(response.headers));
        const hint = response.status === 401 || response.status === 403 ? ' (check the OPA token)' : '';
        throw new Error(`${message}${hint}`);
      }
      if (typeof body !== 'object' || body === null || Array.isArray(body)) {
        throw new Error(clean(`OPA at ${endpoint} answered with something other than a JSON object: ${text.slice(0, 120)}`));
      }
      if (!('result' in body) || body.result === undefined) {
        throw new Error(
          `OPA policy package ${label} is undefined on ${serverRoot(options.url)} (no result at /v1/data/${opaDataPath(label)}); check policy_package and that the policy is loaded`,
        );
      }
      return interpretOpaResult(body.result, label);
    },
  };
}
