// Small HTTP helpers shared by the network ports (llm, forge, opa); no library imports, so importing
// it costs nothing.

/** Statuses worth retrying: request timeout, rate limit, and every server error. */
export function isTransientStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

type HeaderSource = Headers | Record<string, string | number | undefined> | null | undefined;

function header(headers: HeaderSource, name: string): string | null {
  if (!headers) return null;
  if (typeof (headers as Headers).get === 'function') return (headers as Headers).get(name);
  const record = headers as Record<string, string | number | undefined>;
  const key = Object.keys(record).find((candidate) => candidate.toLowerCase() === name);
  const value = key === undefined ? undefined : record[key];
  return value === undefined ? null : String(value);
}

/**
 * The wait a server asked for, in milliseconds, or null: `retry-after-ms` (OpenAI, Azure), then
 * `Retry-After` as seconds or an HTTP date. Negative waits (a date in the past) become 0.
 */
export function parseRetryAfter(headers: HeaderSource, now: number = Date.now()): number | null {
  const millis = header(headers, 'retry-after-ms');
  if (millis !== null && millis.trim() !== '' && Number.isFinite(Number(millis))) return Math.max(0, Number(millis));
  const value = header(headers, 'retry-after');
  if (value === null || value.trim() === '') return null;
  if (Number.isFinite(Number(value))) return Math.max(0, Number(value) * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? null : Math.max(0, date - now);
}

/** Replaces every occurrence of each secret (ignoring empty ones) with "***". */
export function redactSecrets(text: string, secrets: (string | null | undefined)[]): string {
  let out = text;
  for (const secret of secrets) {
    if (secret) out = out.split(secret).join('***');
  }
  return out;
}

/** First line of a message, trimmed to a readable length, for one-line error messages. */
export function oneLine(text: string, max = 300): string {
  const line = text.replace(/\s*\n\s*/g, ' ').trim();
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

/**
 * The innermost message of an error's cause chain (fetch hides ECONNREFUSED two causes deep).
 * Duck-typed: fetch errors can come from another realm (jest's vm) and fail `instanceof Error`.
 */
export function rootCause(error: unknown): string {
  const messageOf = (value: unknown): string | null => {
    if (typeof value === 'string') return value || null;
    if (typeof value === 'object' && value !== null && 'message' in value && typeof value.message === 'string' && value.message) {
      return value.message;
    }
    return null;
  };
  let current: unknown = error;
  let message = messageOf(error) ?? String(error);
  for (let depth = 0; depth < 5 && typeof current === 'object' && current !== null && 'cause' in current; depth++) {
    current = current.cause;
    message = messageOf(current) ?? message;
  }
  return message;
}
