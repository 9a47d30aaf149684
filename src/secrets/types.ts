import type { Exec } from '../ports/types.js';

/** One possible secret. Never holds the secret itself: `redacted` keeps only a short prefix. */
export interface Finding {
  /** Stable id of the rule that matched, e.g. `github-token`, `aws-access-key-id`. */
  rule: string;
  description: string;
  file: string;
  /** 1-based line in the new file. */
  line: number;
  /** e.g. `ghp_****`. */
  redacted: string;
}

export type SecretsEngine = 'gitleaks' | 'builtin';

export interface ScanResult {
  engine: SecretsEngine;
  findings: Finding[];
  /** Why gitleaks was not used although asked for, and similar notes; never contains a secret. */
  warnings: string[];
}

export interface ScanOptions {
  /** Needed to run gitleaks; without it only the built-in rules run. */
  exec?: Exec;
  /** Path of the gitleaks binary; default: `gitleaks` looked up on PATH through `exec.which`. */
  gitleaksPath?: string | null;
  /** Set false to skip gitleaks even when it is installed. */
  useGitleaks?: boolean;
  /**
   * The workspace with the patch applied. When given, gitleaks sees the whole changed files (so
   * multi-line rules have their context) and its findings are kept only on added lines.
   */
  dir?: string;
  signal?: AbortSignal;
  timeoutMs?: number;
}
