// Narrowing a workspace run to what a change touches: the touched members plus every member that
// depends on one of them, directly or not (a broken API shows in its users). One rule for every
// toolchain's workspaces (Cargo, npm/pnpm/Yarn, Maven reactors, go.work).
import type { Workspace } from './types.js';

/** The names of the `touched` members and of their dependents, in the workspace's member order. */
export function withDependents(workspace: Workspace, touched: Iterable<string>): string[] {
  const chosen = new Set(touched);
  let grew = true;
  while (grew) {
    grew = false;
    for (const member of workspace.members) {
      if (!chosen.has(member.name) && member.dependsOn.some((d) => chosen.has(d))) {
        chosen.add(member.name);
        grew = true;
      }
    }
  }
  return workspace.members.map((m) => m.name).filter((n) => chosen.has(n));
}
