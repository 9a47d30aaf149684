// Generation strategies by name: the plan's codegen step names one. A new strategy is one module
// beside this and one line here.
import type { Strategy } from '../types.js';
import { agentStrategy } from './agent.js';
import { candidatesStrategy } from './candidates.js';
import { singleStrategy } from './single.js';

const STRATEGIES: ReadonlyMap<string, Strategy> = new Map([singleStrategy, candidatesStrategy, agentStrategy].map((s) => [s.name, s]));

/** The strategies' names, as `eval --strategies` accepts them. */
export function strategyNames(): string[] {
  return [...STRATEGIES.keys()];
}

export function strategyNamed(name: string): Strategy {
  const strategy = STRATEGIES.get(name);
  if (!strategy) throw new Error(`unknown generation strategy "${name}" (known: ${[...STRATEGIES.keys()].join(', ')})`);
  return strategy;
}
