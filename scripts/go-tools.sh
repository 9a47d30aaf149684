#!/usr/bin/env bash
# gitleaks and OPA are not packaged for Debian: built from source through the Go module proxy, pinned,
# into a GOBIN kept in the machine's cache and skipped when the pinned build is already there (`npm test`
# and `.ci/run` call this). Not put on PATH (the e2e tests' secrets step would switch engines): the tests
# that need them look in this GOBIN (tests/support/go-tools.ts). Its variable is not AUTODEV_*: the CLI
# would take that for a config key.
set -euo pipefail
export PATH="$PATH:/usr/local/go/bin"
GITLEAKS_VERSION=v8.30.1
OPA_VERSION=v1.22.4
TOOLS_GOBIN="${TOOLS_GOBIN:-${XDG_CACHE_HOME:-$HOME/.cache}/autodev-tools/bin}"
if ! command -v go >/dev/null; then
  echo "go-tools: no Go on PATH; the tests of the real gitleaks and OPA will fail (install Go 1.22+)" >&2
  exit 0
fi
mkdir -p "$TOOLS_GOBIN"
go_tool() { # name module version
  if [ -x "$TOOLS_GOBIN/$1" ] && go version -m "$TOOLS_GOBIN/$1" | grep -Eq "^\s+mod\s+$2\s+$3(\s|$)"; then
    echo "$1 $3: cached in $TOOLS_GOBIN"
  else
    echo "$1 $3: building into $TOOLS_GOBIN (once; a few minutes)"
    GOBIN="$TOOLS_GOBIN" go install "$2@$3"
  fi
}
go_tool gitleaks github.com/zricethezav/gitleaks/v8 "$GITLEAKS_VERSION"
go_tool opa github.com/open-policy-agent/opa "$OPA_VERSION"
