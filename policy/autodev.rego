# The local rules of src/policy/local.ts as a Rego policy, for `opa run --server` (point
# `opa_url` at it; `policy_package = "autodev.policy"`). It reads the same input document
# (src/policy/input.ts) and answers with the same reason codes: `deny` lists what denies, `reasons`
# what needs a human's review, `review` says whether any does, `allow` whether nothing denies.
# tests/real/opa-policy.test.ts checks that both decide alike on every code. The local rules'
# defaults are built in: review for high risk, no new lint warnings, SQL to a DBA, no dependency
# source switch; `input.guards.actions` carries `policy.guards`.
package autodev.policy

default allow := false

allow if count(deny) == 0

default review := false

review if count(reasons) > 0

verification := input.verification

# ---- denials ----

deny contains {"code": "build_failed", "message": "The build failed: a change that does not build is never proposed."} if {
	verification.build.ran
	not verification.build.passed
}

new_test_failures contains name if {
	some name in verification.test.failures
	not name in verification.baselineFailures
}

deny contains {"code": "tests_failed", "message": "Tests must pass; the test run failed."} if {
	verification.test.ran
	not verification.test.passed
	count(verification.test.failures) == 0
}

deny contains {"code": "tests_failed", "message": sprintf("Tests must pass; failing: %s.", [concat(", ", sort(new_test_failures))])} if {
	verification.test.ran
	not verification.test.passed
	count(new_test_failures) > 0
}

deny contains {"code": "lint_warnings", "message": sprintf("The change adds %d lint warning(s) (allowed: 0).", [n])} if {
	n := verification.lint.newWarnings
	n > 0
}

deny contains {"code": "lint_warnings", "message": "The linter failed on the change but not on the base."} if {
	verification.lint.newWarnings <= 0
	verification.lint.ran
	not verification.lint.passed
	not "lint" in verification.baselineFailures
}

deny contains {"code": "secrets_found", "message": sprintf("%d possible secret(s) in the added lines.", [count(verification.secrets.findings)])} if {
	count(verification.secrets.findings) > 0
}

deny contains {"code": "dependency_source_changed", "message": sprintf("The change fetches %s from another source.", [concat(", ", names)])} if {
	count(input.dependencies.sources) > 0
	names := [s.name | some s in input.dependencies.sources]
}

# ---- reviews ----

reasons contains {"code": "high_risk_review", "message": "Risk \"high\" needs human review: the PR is opened as a draft."} if {
	input.task.risk == "high"
}

reasons contains {"code": "sql_needs_dba", "message": sprintf("SQL changes need DBA approval (%s).", [concat(", ", input.change.sqlFiles)])} if {
	input.change.touchesSql
}

reasons contains {"code": "new_dependency", "message": sprintf("The change adds %d dependenc(ies): %s.", [count(names), concat(", ", names)])} if {
	count(input.dependencies.added) > 0
	names := [d.name | some d in input.dependencies.added]
}

reasons contains {"code": "dependency_downgraded", "message": sprintf("The change downgrades %s.", [concat(", ", names)])} if {
	names := [d.name | some d in input.dependencies.changed; d.change == "downgraded"]
	count(names) > 0
}

# ---- test-integrity and scope guards (src/guards/) ----

guard_titles := {
	"test_deleted": "The change deletes tests",
	"test_skipped": "The change skips or ignores tests",
	"assertion_weakened": "The change removes or loosens assertions",
	"lint_relaxed": "The change relaxes lint or type checks",
	"ci_changed": "The change edits the CI configuration",
	"lockfile_changed": "The change edits a lockfile",
	"registry_changed": "The change edits where packages come from",
}

guards_fired contains code if {
	some finding in input.guards.findings
	code := finding.code
	input.guards.actions[code] != "off"
}

guard_message(code) := sprintf("%s: %s.", [guard_titles[code], concat(", ", [sprintf("%s (%s)", [f.file, f.message]) | some f in input.guards.findings; f.code == code])])

deny contains {"code": code, "message": guard_message(code)} if {
	some code in guards_fired
	input.guards.actions[code] == "deny"
}

reasons contains {"code": code, "message": guard_message(code)} if {
	some code in guards_fired
	input.guards.actions[code] != "deny"
}
