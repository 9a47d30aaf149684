import type { Sandbox } from '../types.js';
import { createContainerSandbox, type ContainerSandboxOptions } from './container.js';

export function createPodmanSandbox(options: ContainerSandboxOptions): Sandbox {
  return createContainerSandbox('podman', options);
}
