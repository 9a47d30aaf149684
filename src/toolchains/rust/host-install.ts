// Where rustup put the Rust toolchain on the host: under ~/.cargo and ~/.rustup unless CARGO_HOME /
// RUSTUP_HOME say otherwise. A sandbox that shows host directories gets the proxies' bin on PATH
// and both homes (the caller's cache mount overrides CARGO_HOME).
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { HostInstall } from '../types.js';

export function rustHostInstall(hostEnv: NodeJS.ProcessEnv, hostHome: string): HostInstall | null {
  const cargoHome = hostEnv.CARGO_HOME ?? path.join(hostHome, '.cargo');
  const rustupHome = hostEnv.RUSTUP_HOME ?? path.join(hostHome, '.rustup');
  const cargoBin = path.join(cargoHome, 'bin');
  if (!existsSync(path.join(cargoBin, 'cargo'))) return null;
  return { path: [cargoBin], env: { ...(existsSync(rustupHome) ? { RUSTUP_HOME: rustupHome } : {}), CARGO_HOME: cargoHome } };
}
