// The policy input document: everything a rule may look at, as plain JSON. The same document goes to
// the local rules (./local.ts) and to OPA (`POST /v1/data/<package>` with `{ input }`), so a Rego
// policy and the local table decide on the same facts.

import type { PolicyDependencies } from '../depcheck/types.js';
import { guardActions, type GuardAction, type GuardCode, type GuardsSetting } from '../guards/codes.js';
import type { GuardFinding } from '../guards/index.js';
import type { RiskTier } from '../plan/types.js';
import { summarizeDiff, type AddedLine } from '../secrets/added-lines.js';
import type { Finding } from '../secrets/types.js';

export interface CheckOutcome {
  /** False when the step did not run (no command for this toolchain, or skipped by config). */
  ran: boolean;
  passed: boolean;
}

export interface TestOutcome extends CheckOutcome {
  /** Names of the failing tests, when the runner's output told us. */
  failures: string[];
}

export interface LintOutcome extends CheckOutcome {
  /** Warnings the change adds over the baseline run on the untouched base. */
  newWarnings: number;
}

export interface PolicyInput {
  task: { title: string; risk: RiskTier };
  change: {
    files: string[];
    additions: number;
    deletions: number;
    /** See `isSqlChange`: a .sql file, a file under a migrations folder, or DDL in an added line. */
    touchesSql: boolean;
    sqlFiles: string[];
  };
  verification: {
    build: CheckOutcome;
    test: TestOutcome;
    lint: LintOutcome;
    /** Redacted findings only; the policy needs their count and where they are, never the values. */
    secrets: { findings: Finding[] };
    /** What already failed on the untouched base: test names, or `build` / `test` / `lint`. */
    baselineFailures: string[];
  };
  /**
   * What the change does to the dependencies (deps-check): packages added and removed, changes in
   * version, requirement, features and install/build-time code, and source switches. Absent when
   * the dependencies were not compared.
   */
  dependencies?: PolicyDependencies;
  /**
   * Test-integrity and scope guards (src/guards/): what the change does to tests, assertions, lint
   * settings, CI, lockfiles and registries, and what each code leads to (`policy.guards`).
   */
  guards: { findings: GuardFinding[]; actions: Record<GuardCode, GuardAction> };
}

const SQL_DIRS = new Set(['migrations', 'migration', 'migrate', 'schema_migrations']);
// Upper-case keywords only: DDL in code is written that way by convention, and prose such as
// "drop table support" in a comment should not send a change to the DBA.
const DDL =
  /\b(?:CREATE|ALTER|DROP|TRUNCATE|RENAME)\s+(?:OR\s+REPLACE\s+)?(?:TEMP(?:ORARY)?\s+)?(?:UNIQUE\s+)?(?:TABLE|INDEX|VIEW|MATERIALIZED\s+VIEW|SCHEMA|DATABASE|SEQUENCE|TRIGGER|FUNCTION|PROCEDURE|TYPE|EXTENSION|COLUMN|CONSTRAINT)\b/;

/** A path that is SQL by itself: `*.sql`, or anything under a `migrations/` (or `db/migrate/`) folder. */
export function isSqlPath(file: string): boolean {
  const norm = file.replace(/\\/g, '/').toLowerCase();
  if (norm.endsWith('.sql')) return true;
  return norm
    .split('/')
    .slice(0, -1)
    .some((segment) => SQL_DIRS.has(segment));
}

/** Added DDL: `CREATE TABLE`, `ALTER TABLE`, `DROP INDEX` ... in upper case, in any file. */
export function hasDdl(text: string): boolean {
  return DDL.test(text);
}

/** The files of a change that need a DBA: SQL paths, plus any file whose added lines hold DDL. */
export function sqlFilesOf(files: string[], added: AddedLine[]): string[] {
  const out = new Set(files.filter(isSqlPath));
  for (const l of added) if (hasDdl(l.text)) out.add(l.file);
  return [...out].sort();
}

export interface PolicyInputParts {
  task: { title: string; risk: RiskTier };
  /** The unified diff of the change (what `git diff` prints). */
  diff: string;
  build?: Partial<CheckOutcome>;
  test?: Partial<TestOutcome>;
  lint?: Partial<LintOutcome>;
  secrets?: Finding[];
  baselineFailures?: string[];
  dependencies?: PolicyInput['dependencies'];
  guards?: GuardFinding[];
  guardActions?: GuardsSetting;
}

function check<T extends CheckOutcome>(given: Partial<T> | undefined, extra: Omit<T, keyof CheckOutcome>): T {
  // A step with no outcome did not run; "not run" is not "failed".
  return { ran: given?.ran ?? given?.passed !== undefined, passed: given?.passed ?? true, ...extra, ...given } as T;
}

/** Build the policy input from the diff and the verification steps' outcomes. */
export function buildPolicyInput(parts: PolicyInputParts): PolicyInput {
  const summary = summarizeDiff(parts.diff);
  const sqlFiles = sqlFilesOf(summary.files, summary.added);
  const input: PolicyInput = {
    task: { title: parts.task.title, risk: parts.task.risk },
    change: {
      files: summary.files,
      additions: summary.additions,
      deletions: summary.deletions,
      touchesSql: sqlFiles.length > 0,
      sqlFiles,
    },
    verification: {
      build: check<CheckOutcome>(parts.build, {}),
      test: check<TestOutcome>(parts.test, { failures: [] }),
      lint: check<LintOutcome>(parts.lint, { newWarnings: 0 }),
      secrets: { findings: parts.secrets ?? [] },
      baselineFailures: parts.baselineFailures ?? [],
    },
    guards: { findings: parts.guards ?? [], actions: guardActions(parts.guardActions) },
  };
  if (parts.dependencies) input.dependencies = parts.dependencies;
  return input;
}
