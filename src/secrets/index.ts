export { addedLines, summarizeDiff, type AddedLine, type DiffSummary } from './added-lines.js';
export { scanAddedLines } from './builtin.js';
export { gitleaksArgv, parseGitleaksReport, parseGitleaksVersion, runGitleaks, type GitleaksOptions } from './gitleaks.js';
export { isPlaceholder, shannonEntropy, SUPPLEMENTARY_RULES, type SecretRule } from './rules.js';
export { scanPatch } from './scan.js';
export type { Finding, ScanOptions, ScanResult, SecretsEngine } from './types.js';
