// The host's Node trust settings: a machine behind a TLS-inspecting proxy trusts its CA through
// NODE_EXTRA_CA_CERTS (npm reads its own `cafile`, but corepack downloads with Node's fetch). The
// variable names a certificate file, never a secret; a sandbox that shows host directories gets it.
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { HostInstall } from '../types.js';

export function nodeHostInstall(hostEnv: NodeJS.ProcessEnv): HostInstall | null {
  const ca = hostEnv.NODE_EXTRA_CA_CERTS;
  return ca && path.isAbsolute(ca) && existsSync(ca) ? { path: [], env: { NODE_EXTRA_CA_CERTS: ca } } : null;
}
