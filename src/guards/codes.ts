// The guards' reason codes and what each may lead to; apart from the checks so the config schema
// can name them without loading the diff reader.

export const GUARD_CODES = [
  'test_deleted',
  'test_skipped',
  'assertion_weakened',
  'lint_relaxed',
  'ci_changed',
  'lockfile_changed',
  'registry_changed',
] as const;
export type GuardCode = (typeof GUARD_CODES)[number];

/** What a guard's finding leads to: a draft PR labelled for review, a denial, or nothing. */
export const GUARD_ACTIONS = ['review', 'deny', 'off'] as const;
export type GuardAction = (typeof GUARD_ACTIONS)[number];

/** `policy.guards`: one action for every code, or an action per code (the others: review). */
export type GuardsSetting = GuardAction | Partial<Record<GuardCode, GuardAction>>;

/** Every code's action from the setting: default review, so a finding always reaches a human. */
export function guardActions(setting: GuardsSetting = 'review'): Record<GuardCode, GuardAction> {
  return Object.fromEntries(
    GUARD_CODES.map((code) => [code, typeof setting === 'string' ? setting : (setting[code] ?? 'review')]),
  ) as Record<GuardCode, GuardAction>;
}
