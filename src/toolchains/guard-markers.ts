// What the test-integrity guards (src/guards/) look for in each language's source: how a test is
// declared, skipped and asserted, and how a lint or type check is silenced. Kept here, by file
// extension, because it is knowledge of the languages the toolchains build; the guards only count.

export interface LanguageMarkers {
  /** File extensions (without the dot). */
  extensions: string[];
  /** A line that declares a test; group 1, when present, is the test's name. */
  testDeclaration: RegExp[];
  /** A line that skips, ignores or disables a test (or, like `.only`, keeps the others from running). */
  skip: RegExp[];
  /** A line that asserts something. */
  assertion: RegExp[];
  /** An assertion that checks less than most (truthiness, definedness, "did not throw"). */
  weakAssertion: RegExp[];
  /** A line that silences a lint or type check. */
  lintSuppression: RegExp[];
}

/** A line naming a tolerance (approx, epsilon, delta, rel/abs tolerance): its numbers are compared. */
export const TOLERANCE =
  /\b(?:approx|isclose|allclose|toBeCloseTo|assertAlmostEqual|assert_almost_equal|InDelta|InEpsilon|epsilon|EPSILON|tolerance|tol|delta|rel|abs_tol|rel_tol)\b|\.abs\(\)\s*<=?/;

export const LANGUAGE_MARKERS: LanguageMarkers[] = [
  {
    extensions: ['rs'],
    testDeclaration: [/#\[(?:[\w:]+::)?test\b[^\]]*\]/, /#\[rstest\]/],
    skip: [/#\[ignore\b[^\]]*\]/],
    assertion: [/\b(?:debug_)?assert(?:_eq|_ne|_matches)?!\s*\(/, /\bpanic!\s*\(/],
    weakAssertion: [/\bassert!\s*\(\s*true\s*\)/, /\bassert!\s*\([^)]*\.is_(?:ok|some|err|none)\(\)\s*\)/],
    lintSuppression: [/#!?\[allow\s*\(/, /#!?\[cfg_attr\s*\([^,]+,\s*allow\s*\(/],
  },
  {
    extensions: ['py', 'pyi'],
    testDeclaration: [/^\s*(?:async\s+)?def\s+(test\w*)\s*\(/],
    skip: [
      /@pytest\.mark\.(?:skip|skipif|xfail)\b/,
      /@unittest\.(?:skip|skipIf|skipUnless|expectedFailure)\b/,
      /\bpytest\.skip\s*\(/,
      /\bself\.skipTest\s*\(/,
    ],
    assertion: [/^\s*assert\b/, /\bself\.assert\w+\s*\(/, /\bpytest\.raises\s*\(/, /\bnp\.testing\.assert\w*\s*\(/],
    weakAssertion: [/^\s*assert\s+(?:True|\w+\s+is\s+not\s+None|\w+)\s*(?:#.*)?$/, /\bself\.assert(?:True|IsNotNone)\s*\(/],
    lintSuppression: [/#\s*noqa\b/, /#\s*type:\s*ignore\b/, /#\s*pylint:\s*disable\b/, /#\s*pyright:\s*ignore\b/, /#\s*mypy:\s*ignore/],
  },
  {
    extensions: ['js', 'jsx', 'mjs', 'cjs', 'ts', 'tsx', 'mts', 'cts'],
    testDeclaration: [/\b(?:it|test)\s*\(\s*(?:'([^']*)'|"([^"]*)"|`([^`]*)`)/],
    skip: [
      /\b(?:it|test|describe|context|suite)\.(?:skip|todo|only)\s*\(/,
      /\bx(?:it|test|describe|context)\s*\(/,
      /\bf(?:it|describe)\s*\(/,
      /\{\s*skip\s*:\s*true\b/,
      /\bt\.skip\s*\(/,
    ],
    assertion: [/\bexpect\s*\(/, /\bassert(?:\.\w+)?\s*\(/, /\bt\.(?:equal|deepEqual|ok|is|true|false|throws)\s*\(/],
    weakAssertion: [
      /\.(?:toBeTruthy|toBeDefined|toBeInstanceOf|not\.toBeNull|not\.toBeUndefined|not\.toThrow)\s*\(/,
      /\bassert(?:\.ok)?\s*\(\s*true\s*\)/,
    ],
    lintSuppression: [/eslint-disable/, /@ts-(?:ignore|nocheck|expect-error)\b/, /biome-ignore/, /prettier-ignore/],
  },
  {
    extensions: ['go'],
    testDeclaration: [/^\s*func\s+(Test\w*)\s*\(/],
    skip: [/\bt\.Skip(?:Now|f)?\s*\(/],
    assertion: [/\bt\.(?:Error|Errorf|Fatal|Fatalf|Fail|FailNow)\s*\(/, /\b(?:assert|require)\.\w+\s*\(/],
    weakAssertion: [/\b(?:assert|require)\.(?:NotNil|True|NoError)\s*\(/],
    lintSuppression: [/\/\/\s*nolint\b/, /\/\/\s*lint:ignore\b/],
  },
  {
    extensions: ['java', 'kt'],
    testDeclaration: [/@(?:Test|ParameterizedTest|RepeatedTest|TestFactory)\b/],
    skip: [/@(?:Disabled|Ignore)\b/, /\bAssume\.assume\w*\s*\(/, /\bAssumptions\.assume\w*\s*\(/],
    assertion: [/\bassert\w*\s*\(/, /\bassertThat\s*\(/, /\bverify\s*\(/],
    weakAssertion: [/\bassert(?:NotNull|True)\s*\(/, /\.isNotNull\s*\(\s*\)/],
    lintSuppression: [/@SuppressWarnings\b/, /\/\/\s*NOPMD\b/, /\/\/\s*CHECKSTYLE:OFF\b/],
  },
];

/** The markers of a file by its extension; null for a language the guards do not know. */
export function markersFor(file: string): LanguageMarkers | null {
  const ext = /\.([A-Za-z0-9]+)$/.exec(file)?.[1]?.toLowerCase();
  if (!ext) return null;
  return LANGUAGE_MARKERS.find((m) => m.extensions.includes(ext)) ?? null;
}

/** Lint and type-check configuration: a change to one relaxes (or may relax) what the checks enforce. */
export const LINT_CONFIG_FILES: RegExp[] = [
  /(?:^|\/)\.eslintrc(?:\.\w+)?$/,
  /(?:^|\/)eslint\.config\.[cm]?[jt]s$/,
  /(?:^|\/)\.eslintignore$/,
  /(?:^|\/)tsconfig(?:\.[\w-]+)?\.json$/,
  /(?:^|\/)biome\.jsonc?$/,
  /(?:^|\/)\.?clippy\.toml$/,
  /(?:^|\/)(?:\.?ruff|mypy|\.flake8|\.pylintrc|pylintrc)(?:\.toml|\.ini)?$/,
  /(?:^|\/)\.flake8$/,
  /(?:^|\/)\.golangci\.(?:ya?ml|toml|json)$/,
  /(?:^|\/)(?:checkstyle|pmd|spotbugs)[\w-]*\.xml$/,
];

/** A manifest line that configures lints (`[lints]`, `[tool.ruff]`, `"eslintConfig"`...). */
export const LINT_CONFIG_LINE =
  /^\s*(?:\[(?:workspace\.)?lints\b|\[tool\.(?:ruff|mypy|pylint|flake8|pyright)\b|"eslintConfig"|(?:clippy|rust)\s*=|\[lints\.)/;

/** Manifest files whose lint sections LINT_CONFIG_LINE reads. */
export const LINT_MANIFESTS = /(?:^|\/)(?:Cargo\.toml|pyproject\.toml|setup\.cfg|package\.json)$/;

/** Where package registries are configured. */
export const REGISTRY_FILES: RegExp[] = [
  /(?:^|\/)\.npmrc$/,
  /(?:^|\/)\.yarnrc(?:\.yml)?$/,
  /(?:^|\/)\.pnpmfile\.cjs$/,
  /(?:^|\/)pip\.conf$/,
  /(?:^|\/)\.pypirc$/,
  /(?:^|\/)\.cargo\/config(?:\.toml)?$/,
  /(?:^|\/)\.mvn\/(?:settings\.xml|maven\.config)$/,
  /(?:^|\/)settings\.xml$/,
  /(?:^|\/)go\.env$/,
];

/** A manifest line naming a registry or package index. */
export const REGISTRY_LINE =
  /\b(?:registry|index-url|extra-index-url|GOPROXY|GONOSUMDB|GOPRIVATE|GOFLAGS)\b\s*[=:]|\[\[tool\.(?:poetry\.source|uv\.index)\]\]|\[source\.|\[registries\b|<(?:repository|mirror|pluginRepository)>|"publishConfig"/;

/** Continuous-integration configuration. */
export const CI_FILES: RegExp[] = [
  /^\.github\/workflows\//,
  /^\.github\/actions\//,
  /^\.gitlab-ci\.ya?ml$/,
  /^\.circleci\//,
  /^\.buildkite\//,
  /^\.travis\.ya?ml$/,
  /^azure-pipelines\.ya?ml$/,
  /^Jenkinsfile$/,
  /^\.drone\.ya?ml$/,
  /^\.woodpecker(?:\.ya?ml|\/)/,
];
