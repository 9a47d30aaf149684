import type { Sandbox } from '../types.js';
import { createContainerSandbox, type ContainerSandboxOptions } from './container.js';

export function createDockerSandbox(options: ContainerSandboxOptions): Sandbox {
  return createContainerSandbox('docker', options);
}
