// Whether anything listens at a URL's host and port: one TCP connection, no request sent, so nothing
// (no key, no path a server might not serve) can make a live server look dead. Used before a run spends
// a clone and a baseline build on an LLM endpoint that is not there.
import net from 'node:net';

export type Reachability =
  | { reachable: true }
  /** Nothing answers: the name does not resolve, or the port refuses connections. */
  | { reachable: false; reason: string }
  /** No verdict within the time allowed (a slow network, a firewall that drops): do not fail on it. */
  | { reachable: null; reason: string };

const UNREACHABLE: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ENOTFOUND: 'no such host',
  EAI_AGAIN: 'the host name could not be resolved',
  EAI_FAIL: 'the host name could not be resolved',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
};

export function probeUrl(url: string, options: { timeoutMs: number; signal?: AbortSignal }): Promise<Reachability> {
  let target: URL;
  try {
    target = new URL(url);
  } catch {
    return Promise.resolve({ reachable: false, reason: 'not a valid URL' });
  }
  if (options.signal?.aborted) return Promise.resolve({ reachable: null, reason: 'cancelled' });
  const host = target.hostname.replace(/^\[|\]$/g, '');
  const port = Number(target.port || (target.protocol === 'https:' ? 443 : 80));
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    let settled = false;
    const finish = (result: Reachability): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      socket.destroy();
      resolve(result);
    };
    const onAbort = (): void => finish({ reachable: null, reason: 'cancelled' });
    const timer = setTimeout(() => finish({ reachable: null, reason: `no answer within ${options.timeoutMs} ms` }), options.timeoutMs);
    timer.unref();
    options.signal?.addEventListener('abort', onAbort, { once: true });
    socket.once('connect', () => finish({ reachable: true }));
    socket.once('error', (error: NodeJS.ErrnoException) => {
      const reason = UNREACHABLE[error.code ?? ''];
      finish(reason ? { reachable: false, reason } : { reachable: null, reason: error.code ?? error.message });
    });
  });
}
