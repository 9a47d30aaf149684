#!/usr/bin/env node
// Context selection against real fix commits: for each fix, check out its parent, select context with
// the commit message as the task (8,000 tokens), and see whether the files the fix changed were shown.
// autodev's ranking is printed beside a plain ranking by ripgrep hit count. The corpus is a fixture
// repository written here (a multi-module Rust crate and a TypeScript project with ~48 fix commits,
// each touching 1-3 files) plus /work/main's own history where it has commits of that size.
// Then one selection on a ~2,000-file repository is timed beside the ripgrep ranking; sizing text with
// the estimate beside loading the o200k encoder and counting exactly (wall, CPU, peak memory of a
// fresh process); and last the `autodev context` command on the 2-file calc crate beside `node -e 0`
// (wall, CPU, peak memory).
//
// Build first: npm run build && npm run build:support ; then: node bench/context.mjs
// BENCH_ONLY=fixture|self|large|tokens|cli runs one part; BENCH_KEEP=1 keeps (and prints) the temp repositories;
// BENCH_CONTEXT_RUNS=<n> timed runs of each side (default 5). BENCH_CONTEXT_REPEATS=<n> selections per
// commit (default 3: the selection must be the same every time); BENCH_CONTEXT_COMMITS=<n> caps the
// commits taken from this checkout's history (default 80). Today's selection (src/ at
// BENCH_BASELINE_REF, lib/baseline.mjs) is printed beside this checkout's.

import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync, readFileSync } from 'node:fs';
import { tempDir, removeDir } from './lib/temp.mjs';
import { headline, times } from './lib/summary.mjs';
import { loadBaseline } from './lib/baseline.mjs';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { selectContext, estimateTokens } = await import(join(root, 'dist/context/index.js'));
const { createSearcher } = await import(join(root, 'dist/ports/search.js'));

const BUDGET = 8000;
const MODEL = 'gpt-4o';
const searcher = createSearcher();
const ONLY = process.env.BENCH_ONLY ?? '';
const runs = (part) => ONLY === '' || ONLY === part;

const RUNS = Number(process.env.BENCH_CONTEXT_RUNS ?? 5);
const REPEATS = Math.max(2, Number(process.env.BENCH_CONTEXT_REPEATS ?? 3));
const MAX_COMMITS = Number(process.env.BENCH_CONTEXT_COMMITS ?? 80);
const baseline = await loadBaseline(root, ['context/index', 'ports/search']);
const BEFORE = baseline ? `before (${baseline.ref})` : null;
const beforeSearcher = baseline?.modules['ports/search'].createSearcher();

// Removed on every exit path (lib/temp.mjs); BENCH_KEEP keeps them and says where.
function cleanup(dir) {
  removeDir(dir);
}

// ---------------------------------------------------------------- fixture repository

function rng(seed) {
  return () => {
    seed |= 0;
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// module path → [name|doc]; PascalCase names become types, the rest functions.
const RUST = {
  'src/header.rs': [
    'parse_header_line|Split a raw header line at the first colon and trim the value.',
    'fold_continuation|Join obsolete folded header lines into the previous value.',
    'header_value_as_int|Read a header value as a non-negative integer.',
    'HeaderMap|Case-insensitive storage of header fields in arrival order.',
    'canonical_name|Title-case a header name for display and for cache keys.',
    'insert_field|Append a field to the map, keeping earlier values.',
    'split_list|Split a comma separated header value, honouring quoted strings.',
  ],
  'src/body.rs': [
    'read_body|Read a message body according to its framing.',
    'content_length|The Content-Length of a message, if it has exactly one.',
    'body_limit|The largest body the client accepts by default.',
    'BodyReader|Streams a body in bounded pieces.',
    'drain_body|Discard the rest of a body so the connection can be reused.',
  ],
  'src/chunked.rs': [
    'decode_chunk_size|Parse the hexadecimal size that starts a chunk.',
    'read_chunk|Read one chunk and its trailing line break.',
    'trailer_fields|Collect the trailer section after the last chunk.',
    'ChunkedDecoder|Decodes a chunked transfer coding incrementally.',
    'chunk_extension|Split chunk extensions off a size line.',
  ],
  'src/uri.rs': [
    'parse_authority|Split an authority into user info, host and port.',
    'percent_decode|Decode percent-escaped octets.',
    'normalize_path|Remove dot segments and duplicate slashes from a path.',
    'query_pairs|Iterate over the key/value pairs of a query string.',
    'Uri|A parsed absolute or relative reference.',
    'default_port|The port a scheme uses when none is given.',
  ],
  'src/cookie.rs': [
    'parse_set_cookie|Parse one Set-Cookie header into a cookie and its attributes.',
    'cookie_expires|When a cookie expires, from Max-Age or Expires.',
    'same_site_policy|The SameSite attribute, defaulting to Lax.',
    'CookieJar|Stores cookies and selects those to send with a request.',
    'domain_matches|Whether a request host matches a cookie domain.',
    'path_matches|Whether a request path matches a cookie path.',
  ],
  'src/date.rs': [
    'parse_http_date|Parse any of the three date formats HTTP allows.',
    'format_http_date|Format a timestamp as an IMF-fixdate.',
    'parse_rfc850|Parse the obsolete RFC 850 date format.',
    'parse_asctime|Parse the ANSI C asctime() date format.',
    'days_in_month|Number of days in a month of a given year.',
    'is_leap_year|Gregorian leap year rule.',
  ],
  'src/cache.rs': [
    'freshness_lifetime|How long a stored response stays fresh.',
    'is_stale|Whether a stored response must be revalidated.',
    'cache_key|The key a response is stored under.',
    'CacheEntry|A stored response with its request metadata.',
    'parse_cache_control|Parse Cache-Control directives into a map.',
    'max_age_seconds|The max-age or s-maxage directive in seconds.',
  ],
  'src/retry.rs': [
    'backoff_delay|Delay before the next attempt: exponential with a cap.',
    'retry_after_header|The delay a Retry-After header asks for.',
    'RetryPolicy|How often and when requests are retried.',
    'should_retry_status|Whether a response status is worth retrying.',
    'jitter_millis|Random jitter added to each delay.',
    'max_attempts|The attempt limit of a policy.',
  ],
  'src/pool.rs': [
    'checkout_connection|Take an idle connection for a host or open a new one.',
    'idle_timeout|How long an idle connection is kept.',
    'ConnectionPool|Keeps idle connections per origin.',
    'release_connection|Return a connection to the pool after a response.',
    'evict_expired|Close idle connections that outlived the idle timeout.',
    'pool_key|The key connections are pooled under: scheme, host and port.',
  ],
  'src/tls_config.rs': [
    'load_root_certs|Load trusted root certificates from the system store.',
    'alpn_protocols|The ALPN protocol list offered in the handshake, in preference order.',
    'TlsConfig|TLS settings of a client.',
    'server_name_indication|The SNI name sent for a host.',
    'min_protocol_version|The oldest TLS version accepted.',
  ],
  'src/mime.rs': [
    'parse_media_type|Parse a media type with its parameters.',
    'charset_param|The charset parameter of a media type, unquoted.',
    'MediaType|A type/subtype pair with parameters.',
    'is_json|Whether a media type is JSON or a +json suffix type.',
    'essence|The type/subtype without parameters, lowercased.',
  ],
  'src/status.rs': [
    'StatusCode|A response status code.',
    'reason_phrase|The standard reason phrase of a status code.',
    'is_redirect|Whether a status asks the client to redirect.',
    'is_server_error|Whether a status is a 5xx.',
  ],
  'src/redirect.rs': [
    'follow_redirect|Build the next request of a redirect chain.',
    'redirect_limit|How many redirects are followed before giving up.',
    'strip_sensitive_headers|Remove credentials before following a redirect to another origin.',
    'resolve_location|Resolve a Location header against the request URI.',
  ],
  'src/encoding/mod.rs': [
    'ContentEncoding|The content codings the client can decode.',
    'decode_body|Undo the content codings of a body, last applied first.',
    'negotiate_encoding|Pick a coding from an Accept-Encoding header by its q-values.',
  ],
  'src/encoding/gzip.rs': [
    'gzip_decode|Decode a gzip member.',
    'gzip_header_len|Length of a gzip member header, including optional fields.',
    'crc32_update|Update a CRC-32 with more bytes.',
  ],
  'src/error.rs': [
    'Error|Every error the client reports.',
    'ParseError|A message that could not be parsed.',
    'error_kind|A short stable name for an error, for logs.',
  ],
};
const RUST_TESTS = ['header', 'chunked', 'uri', 'cookie', 'date', 'cache', 'retry'];

const TS = {
  'ts/src/cli/args.ts': [
    'parseArgs|Parse argv into options and positional arguments.',
    'normalizeFlag|Turn --flag=value and --no-flag into one form.',
    'expandShortFlags|Expand combined short flags such as -vq.',
    'helpText|The usage text of a command.',
    'ArgError|An argument the parser could not accept.',
  ],
  'ts/src/config/load.ts': [
    'loadConfig|Load the configuration from file, environment and flags.',
    'mergeLayers|Merge configuration layers, later ones winning.',
    'readEnvOverrides|Read TASKQ_ variables; a double underscore separates nested keys.',
    'resolveConfigPath|Find the configuration file, searching parent directories.',
  ],
  'ts/src/config/schema.ts': [
    'validateConfig|Check a configuration object and report every problem.',
    'ConfigSchema|The shape of the configuration.',
    'defaultConfig|The configuration used when nothing is set.',
    'coercePort|Accept a port as a number or a numeric string.',
  ],
  'ts/src/queue/scheduler.ts': [
    'scheduleJob|Register a recurring job with its cron expression.',
    'nextRunAt|The next time a cron expression fires, in UTC.',
    'cronMatches|Whether a cron field matches a value (lists, ranges and steps).',
    'Scheduler|Fires jobs when they are due.',
    'cancelJob|Stop a job from firing again.',
  ],
  'ts/src/queue/worker.ts': [
    'runWorker|Claim and run jobs until stopped.',
    'claimJob|Atomically claim the next due job.',
    'heartbeat|Record that a worker is alive.',
    'releaseStaleClaims|Give back claims whose worker stopped sending heartbeats.',
    'WorkerOptions|Settings of a worker.',
  ],
  'ts/src/queue/retry.ts': [
    'computeBackoff|Delay before a failed job runs again: doubling, capped.',
    'shouldRetry|Whether a failed job gets another attempt.',
    'maxAttemptsFor|The attempt limit of a job kind.',
    'deadLetter|Move a job that used up its attempts to the dead-letter list.',
  ],
  'ts/src/store/tasks.ts': [
    'insertTask|Store a new task.',
    'updateStatus|Change the status of a task and stamp the time.',
    'listTasks|List tasks, newest first, a page at a time.',
    'TaskRecord|A stored task.',
    'paginate|Offset and limit for a page number.',
  ],
  'ts/src/store/migrate.ts': [
    'runMigrations|Bring the database schema up to date under a lock.',
    'migrationVersion|The schema version recorded in the database.',
    'applyMigration|Apply one migration in a transaction.',
  ],
  'ts/src/server/routes.ts': [
    'registerRoutes|Attach the HTTP handlers to the router.',
    'handleCreateTask|POST /tasks: create a task.',
    'handleListTasks|GET /tasks: list tasks.',
    'parsePagination|Read page and limit from the query string.',
    'sendError|Send an error as a JSON problem document.',
  ],
  'ts/src/server/auth.ts': [
    'verifyToken|Check a bearer token against the configured tokens.',
    'bearerFromHeader|Take the token out of an Authorization header.',
    'constantTimeEqual|Compare two strings in time independent of their content.',
    'AuthError|A request without valid credentials.',
  ],
  'ts/src/util/duration.ts': [
    'parseDuration|Parse durations such as 1h30m or 250ms.',
    'formatDuration|Format milliseconds as a short duration.',
    'msToHuman|Milliseconds as words for log lines.',
  ],
  'ts/src/util/slug.ts': [
    'slugify|Turn a title into a URL slug.',
    'transliterate|Replace accented letters by ASCII.',
    'truncateSlug|Shorten a slug at a word boundary.',
  ],
  'ts/src/util/logger.ts': [
    'createLogger|A logger writing JSON lines.',
    'redactSecrets|Mask secrets in log messages.',
    'logLevelFromEnv|The log level from the environment.',
  ],
};
const TS_TESTS = ['args', 'load', 'scheduler', 'retry', 'tasks', 'routes', 'duration', 'slug', 'auth'];

// Each fix: [title, description, [[file, symbol], ...]]; a test file listed with a symbol gets a new test for it.
const FIXES = [
  [
    'Folded header lines lose the space between values',
    'When a header value continues on the next line (obsolete line folding), fold_continuation joins the two parts without a separating space.',
    [
      ['src/header.rs', 'fold_continuation'],
      ['tests/header.rs', 'fold_continuation'],
    ],
  ],
  [
    'Content-Length with a plus sign is accepted',
    'A header like "Content-Length: +12" should be rejected as invalid, but the integer parsing only checks for a minus sign.',
    [
      ['src/header.rs', 'header_value_as_int'],
      ['src/body.rs', 'content_length'],
    ],
  ],
  [
    'Chunk size with an extension fails to parse',
    'A size line like `1a;name=value` returns an error instead of 26. Chunk extensions should be ignored.',
    [
      ['src/chunked.rs', 'decode_chunk_size'],
      ['tests/chunked.rs', 'decode_chunk_size'],
    ],
  ],
  [
    'Trailer fields after the last chunk are dropped',
    'Trailers following the zero-length chunk never reach the HeaderMap.',
    [
      ['src/chunked.rs', 'trailer_fields'],
      ['src/header.rs', 'insert_field'],
    ],
  ],
  [
    'percent_decode panics on a truncated escape',
    "A URI ending in '%4' makes the decoder index past the end of the input.",
    [
      ['src/uri.rs', 'percent_decode'],
      ['tests/uri.rs', 'percent_decode'],
    ],
  ],
  ['Wrong default port for wss', 'wss:// URIs get port 80; they should default to 443 like https.', [['src/uri.rs', 'default_port']]],
  [
    'Dot segments are not removed from paths',
    '/a/./b/../c should normalize to /a/c but comes out unchanged.',
    [
      ['src/uri.rs', 'normalize_path'],
      ['tests/uri.rs', 'normalize_path'],
    ],
  ],
  [
    'Lowercase cookie attributes are ignored',
    '`secure` and `httponly` written in lowercase are not recognised when parsing Set-Cookie.',
    [
      ['src/cookie.rs', 'parse_set_cookie'],
      ['tests/cookie.rs', 'parse_set_cookie'],
    ],
  ],
  [
    'Cookie domain matching accepts a suffix without a dot',
    'A cookie set for example.com is sent to badexample.com.',
    [['src/cookie.rs', 'domain_matches']],
  ],
  [
    'Cookies with an RFC 850 expiry date never expire',
    "Expires values in the old 'Sunday, 06-Nov-94 08:49:37 GMT' format are not parsed, so the cookie lives forever.",
    [
      ['src/date.rs', 'parse_rfc850'],
      ['src/cookie.rs', 'cookie_expires'],
    ],
  ],
  [
    'February has 29 days in 2100',
    'The leap year rule ignores the century exception.',
    [
      ['src/date.rs', 'is_leap_year'],
      ['tests/date.rs', 'is_leap_year'],
    ],
  ],
  [
    'asctime dates with a single-digit day fail',
    "'Sun Nov  6 08:49:37 1994' pads the day with a space; the parser splits on single spaces and fails.",
    [['src/date.rs', 'parse_asctime']],
  ],
  [
    'Responses with max-age=0 are served from the cache',
    'A freshness lifetime of zero is treated as fresh instead of stale.',
    [
      ['src/cache.rs', 'is_stale'],
      ['tests/cache.rs', 'is_stale'],
    ],
  ],
  [
    'Cache-Control directives are case-sensitive',
    'MAX-AGE=60 is ignored; directive names must be compared case-insensitively.',
    [['src/cache.rs', 'parse_cache_control']],
  ],
  [
    'Vary header is not part of the cache key',
    'Two responses that differ by Accept-Encoding end up in one cache entry. The key should include the canonical names and values of the headers listed in Vary.',
    [
      ['src/cache.rs', 'cache_key'],
      ['src/header.rs', 'canonical_name'],
    ],
  ],
  [
    'Retry-After given as a date is ignored',
    'Only delta seconds are understood; an HTTP date should be turned into a delay.',
    [
      ['src/retry.rs', 'retry_after_header'],
      ['src/date.rs', 'parse_http_date'],
    ],
  ],
  [
    'Backoff overflows after many attempts',
    'backoff_delay multiplies the base delay by 2^attempt without a cap and overflows at attempt 64.',
    [
      ['src/retry.rs', 'backoff_delay'],
      ['tests/retry.rs', 'backoff_delay'],
    ],
  ],
  [
    '503 responses are not retried',
    'should_retry_status retries 502 and 504 but not 503 Service Unavailable.',
    [
      ['src/retry.rs', 'should_retry_status'],
      ['src/status.rs', 'is_server_error'],
    ],
  ],
  [
    'Idle connections are never evicted',
    'The pool keeps idle connections past the idle timeout because eviction compares against the checkout time.',
    [['src/pool.rs', 'evict_expired']],
  ],
  [
    'Connections to different ports share a pool slot',
    'pool_key ignores the port, so http://host:8080 reuses a connection to host:80.',
    [
      ['src/pool.rs', 'pool_key'],
      ['src/uri.rs', 'default_port'],
    ],
  ],
  [
    'ALPN protocols offered in the wrong order',
    'We end up preferring http/1.1 over h2 because the configured list is reversed.',
    [['src/tls_config.rs', 'alpn_protocols']],
  ],
  [
    'Quoted charset parameter keeps its quotes',
    'charset="utf-8" comes back with the quotes, so decoding falls back to latin-1.',
    [['src/mime.rs', 'charset_param']],
  ],
  [
    'gzip bodies with FEXTRA fail to decode',
    'The header length does not skip the extra field when FLG.FEXTRA is set.',
    [['src/encoding/gzip.rs', 'gzip_header_len']],
  ],
  [
    'Accept-Encoding q=0 still selects the coding',
    'A coding with q=0 means not acceptable and must never be chosen.',
    [['src/encoding/mod.rs', 'negotiate_encoding']],
  ],
  [
    'Authorization header leaks on a cross-origin redirect',
    'Credentials must be removed when a redirect leaves the origin.',
    [
      ['src/redirect.rs', 'strip_sensitive_headers'],
      ['src/header.rs', 'HeaderMap'],
    ],
  ],
  [
    'Relative Location resolved against the wrong base',
    'A Location of ../next is resolved against the original URI instead of the last one in the chain.',
    [
      ['src/redirect.rs', 'resolve_location'],
      ['src/uri.rs', 'Uri'],
    ],
  ],
  ['Missing reason phrase for 418', '', [['src/status.rs', 'reason_phrase']]],
  [
    'Body of exactly the limit is rejected',
    'The size check is off by one: a body of exactly body_limit bytes fails.',
    [['src/body.rs', 'body_limit']],
  ],
  [
    '--no-color is read as the value of the previous option',
    'parseArgs treats a flag starting with --no- as a value.',
    [
      ['ts/src/cli/args.ts', 'normalizeFlag'],
      ['ts/tests/args.test.ts', 'normalizeFlag'],
    ],
  ],
  ['Combined short flags only set the first one', '-vq sets verbose but not quiet.', [['ts/src/cli/args.ts', 'expandShortFlags']]],
  [
    'Environment overrides ignored for nested keys',
    'TASKQ_SERVER__PORT should set server.port, but the variable name is split on every underscore.',
    [
      ['ts/src/config/load.ts', 'readEnvOverrides'],
      ['ts/tests/load.test.ts', 'readEnvOverrides'],
    ],
  ],
  [
    'Port from the environment fails validation',
    "'8080' is a string when it comes from the environment, and validation rejects it.",
    [
      ['ts/src/config/schema.ts', 'coercePort'],
      ['ts/src/config/load.ts', 'mergeLayers'],
    ],
  ],
  [
    'Config file in a parent directory is not found',
    'Running from a subfolder of the project ignores its taskq.json.',
    [['ts/src/config/load.ts', 'resolveConfigPath']],
  ],
  [
    'Cron step values never match',
    '*/15 in the minute field is not supported.',
    [
      ['ts/src/queue/scheduler.ts', 'cronMatches'],
      ['ts/tests/scheduler.test.ts', 'cronMatches'],
    ],
  ],
  [
    'Next run computed in local time',
    'nextRunAt uses the local time zone, so jobs fire an hour late after a DST change.',
    [['ts/src/queue/scheduler.ts', 'nextRunAt']],
  ],
  [
    'Cancelled jobs still run once',
    'cancelJob removes the timer but a worker may already have claimed the job.',
    [
      ['ts/src/queue/scheduler.ts', 'cancelJob'],
      ['ts/src/queue/worker.ts', 'claimJob'],
    ],
  ],
  [
    'Stale claims are never released when a worker dies',
    'Claims are compared against the heartbeat interval instead of the claim timeout, and the task status stays running.',
    [
      ['ts/src/queue/worker.ts', 'releaseStaleClaims'],
      ['ts/src/store/tasks.ts', 'updateStatus'],
    ],
  ],
  [
    'Retry backoff grows linearly',
    'The delay should double with every attempt.',
    [
      ['ts/src/queue/retry.ts', 'computeBackoff'],
      ['ts/tests/retry.test.ts', 'computeBackoff'],
    ],
  ],
  [
    'Dead-lettered tasks keep the status running',
    'After the last attempt the job is moved to the dead-letter list but its task is never marked failed.',
    [
      ['ts/src/queue/retry.ts', 'deadLetter'],
      ['ts/src/store/tasks.ts', 'updateStatus'],
    ],
  ],
  [
    'Listing tasks skips an entry between pages',
    'The offset is computed as page * limit + 1.',
    [
      ['ts/src/store/tasks.ts', 'paginate'],
      ['ts/src/server/routes.ts', 'parsePagination'],
    ],
  ],
  [
    'Migrations run twice when two servers start together',
    'The schema lock is taken after reading the version.',
    [['ts/src/store/migrate.ts', 'runMigrations']],
  ],
  [
    'Bearer token comparison leaks timing',
    'verifyToken compares with ===; it should use a constant-time comparison.',
    [
      ['ts/src/server/auth.ts', 'verifyToken'],
      ['ts/tests/auth.test.ts', 'verifyToken'],
    ],
  ],
  [
    "Lowercase 'bearer' scheme is rejected",
    'The Authorization scheme name is case-insensitive.',
    [['ts/src/server/auth.ts', 'bearerFromHeader']],
  ],
  [
    "parseDuration rejects '1h30m'",
    'Compound durations with more than one unit fail.',
    [
      ['ts/src/util/duration.ts', 'parseDuration'],
      ['ts/tests/duration.test.ts', 'parseDuration'],
    ],
  ],
  [
    'Slugs end with a dash after truncation',
    'Cutting a long title at a word boundary leaves the separator at the end.',
    [
      ['ts/src/util/slug.ts', 'truncateSlug'],
      ['ts/tests/slug.test.ts', 'truncateSlug'],
    ],
  ],
  [
    'Secrets in URLs are not redacted in logs',
    'Only key=value pairs are masked; a token in the user info of a URL still reaches the log.',
    [['ts/src/util/logger.ts', 'redactSecrets']],
  ],
  [
    'POST /tasks answers 200 instead of 201',
    '',
    [
      ['ts/src/server/routes.ts', 'handleCreateTask'],
      ['ts/tests/routes.test.ts', 'handleCreateTask'],
    ],
  ],
  [
    'Error responses are not JSON',
    'A failed request gets a plain text body; clients expect a problem document.',
    [['ts/src/server/routes.ts', 'sendError']],
  ],
];

function isType(name) {
  return /^[A-Z]/.test(name);
}

function words(name) {
  return name
    .replace(/([a-z])([A-Z])/g, '$1_$2')
    .toLowerCase()
    .split('_');
}

const FILLER_DOCS = [
  'Callers hold no lock while this runs.',
  'Kept separate so that the hot path stays small.',
  'See the module documentation for the grammar.',
  'Returns early on the common case.',
  'The input is assumed to be ASCII; anything else is rejected upstream.',
  'Allocation is avoided where the input allows it.',
];

function rustItem(spec, mod, others, r) {
  const [name, doc] = spec.split('|');
  const extra = FILLER_DOCS[Math.floor(r() * FILLER_DOCS.length)];
  if (isType(name)) {
    const fields = words(name)
      .map((w, i) => `    pub ${w}_${i}: usize,`)
      .join('\n');
    return `/// ${doc}\n/// ${extra}\n#[derive(Debug, Clone, Default)]\npub struct ${name} {\n${fields}\n    pub entries: Vec<(String, String)>,\n}\n\nimpl ${name} {\n    pub fn new() -> Self {\n        Self::default()\n    }\n\n    pub fn len(&self) -> usize {\n        self.entries.len()\n    }\n\n    pub fn push(&mut self, key: &str, value: &str) {\n        self.entries.push((key.to_string(), value.to_string()));\n    }\n}\n`;
  }
  const [otherMod, otherFn] = others[Math.floor(r() * others.length)];
  const noun = words(name).pop();
  const lines = [
    `/// ${doc}`,
    `///`,
    `/// ${extra}`,
    `pub fn ${name}(input: &str) -> Result<usize, Error> {`,
    `    let trimmed = input.trim();`,
    `    if trimmed.is_empty() {`,
    `        return Err(Error::Parse(ParseError::new("${mod}: empty ${noun}")));`,
    `    }`,
    `    let mut total = 0usize;`,
    `    for (index, part) in trimmed.split(',').enumerate() {`,
    `        let value = crate::${otherMod}::${otherFn}(part).unwrap_or(index);`,
    `        if value > MAX_${noun.toUpperCase()} {`,
    `            return Err(Error::Parse(ParseError::new("${noun} too large")));`,
    `        }`,
    `        total = total.saturating_add(value);`,
    `    }`,
  ];
  const n = 2 + Math.floor(r() * 8);
  for (let i = 0; i < n; i++) lines.push(`    let step_${i} = total.wrapping_mul(${i + 3}) % ${97 + i};`, `    total ^= step_${i};`);
  lines.push(`    Ok(total)`, `}`);
  return lines.join('\n') + '\n';
}

function tsItem(spec, file, others, r) {
  const [name, doc] = spec.split('|');
  const extra = FILLER_DOCS[Math.floor(r() * FILLER_DOCS.length)];
  if (isType(name)) {
    const fields = words(name)
      .map((w) => `  ${w}: number;`)
      .join('\n');
    return `/** ${doc} ${extra} */\nexport class ${name} {\n${fields.replace(/: number;/g, ' = 0;')}\n  readonly items: string[] = [];\n\n  add(item: string): void {\n    this.items.push(item);\n  }\n\n  get size(): number {\n    return this.items.length;\n  }\n}\n`;
  }
  const [, otherFn] = others[Math.floor(r() * others.length)];
  const noun = words(name).pop();
  const lines = [
    `/**`,
    ` * ${doc}`,
    ` * ${extra}`,
    ` */`,
    `export function ${name}(input: string, options: Options = {}): number {`,
    `  const trimmed = input.trim();`,
    `  if (trimmed === '') throw new TaskqError(\`${file.split('/').pop()}: empty ${noun}\`);`,
    `  let total = 0;`,
    `  for (const [index, part] of trimmed.split(',').entries()) {`,
    `    const value = ${otherFn}(part, options) ?? index;`,
    `    if (value > (options.max${noun[0].toUpperCase()}${noun.slice(1)} ?? 1000)) throw new TaskqError('${noun} too large');`,
    `    total += value;`,
    `  }`,
  ];
  const n = 2 + Math.floor(r() * 8);
  for (let i = 0; i < n; i++) lines.push(`  const step${i} = (total * ${i + 3}) % ${97 + i};`, `  total ^= step${i};`);
  lines.push(`  return total;`, `}`);
  return lines.join('\n') + '\n';
}

function publicFns(table) {
  const out = [];
  for (const [path, specs] of Object.entries(table)) for (const s of specs) if (!isType(s.split('|')[0])) out.push([path, s.split('|')[0]]);
  return out;
}

function rustModPath(path) {
  return path
    .replace(/^src\//, '')
    .replace(/\/mod\.rs$/, '')
    .replace(/\.rs$/, '')
    .replace(/\//g, '::');
}

function generateFixture() {
  const r = rng(42);
  const files = {};
  const rustFns = publicFns(RUST).map(([p, f]) => [rustModPath(p), f]);
  for (const [path, specs] of Object.entries(RUST)) {
    const mod = rustModPath(path);
    const others = rustFns.filter(([m]) => m !== mod);
    const items = specs.map((s) => rustItem(s, mod, others, r));
    const nouns = [...new Set(specs.map((s) => words(s.split('|')[0]).pop()))];
    const consts = nouns.map((n) => `const MAX_${n.toUpperCase()}: usize = ${1 << (8 + Math.floor(r() * 8))};`).join('\n');
    const first = specs.find((s) => !isType(s.split('|')[0]))?.split('|')[0];
    const inlineTests = first
      ? `\n#[cfg(test)]\nmod tests {\n    use super::*;\n\n    #[test]\n    fn rejects_empty_input() {\n        assert!(${first}("").is_err());\n    }\n}\n`
      : '';
    files[path] =
      `//! ${specs[0].split('|')[1]}\n\nuse crate::error::{Error, ParseError};\n\n${consts}\n\n${items.join('\n')}${inlineTests}`;
  }
  files['src/lib.rs'] = `//! tinyhttp: a small HTTP/1.1 client.\n\n${Object.keys(RUST)
    .filter((p) => !p.includes('encoding/gzip'))
    .map((p) => `pub mod ${rustModPath(p).split('::')[0]};`)
    .filter((v, i, a) => a.indexOf(v) === i)
    .join('\n')}\n`;
  files['src/encoding/mod.rs'] = 'pub mod gzip;\n\n' + files['src/encoding/mod.rs'];
  for (const t of RUST_TESTS) {
    const fns = RUST[`src/${t}.rs`].map((s) => s.split('|')[0]).filter((n) => !isType(n));
    files[`tests/${t}.rs`] =
      `use tinyhttp::${t}::*;\n\n` + fns.map((f) => `#[test]\nfn ${f}_rejects_empty() {\n    assert!(${f}("").is_err());\n}\n`).join('\n');
  }
  files['Cargo.toml'] = '[package]\nname = "tinyhttp"\nversion = "0.3.0"\nedition = "2021"\n\n[dependencies]\n';
  files['README.md'] = '# tinyhttp\n\nA small HTTP/1.1 client: headers, chunked bodies, cookies, caching, retries and redirects.\n';

  const tsFns = publicFns(TS);
  for (const [path, specs] of Object.entries(TS)) {
    const others = tsFns.filter(([p]) => p !== path);
    const items = specs.map((s) => tsItem(s, path, others, r));
    const used = new Map();
    for (const m of items.join('\n').matchAll(/= (\w+)\(part, options\)/g)) {
      const from = tsFns.find(([, f]) => f === m[1])[0];
      if (!used.has(from)) used.set(from, new Set());
      used.get(from).add(m[1]);
    }
    const imports = [...used]
      .map(([from, names]) => `import { ${[...names].join(', ')} } from '${relativeImport(path, from)}';`)
      .join('\n');
    files[path] =
      `// ${specs[0].split('|')[1]}\n\nimport { TaskqError, type Options } from '${relativeImport(path, 'ts/src/errors.ts')}';\n${imports}\n\n${items.join('\n')}`;
  }
  files['ts/src/errors.ts'] =
    'export interface Options {\n  [key: string]: number | undefined;\n}\n\nexport class TaskqError extends Error {}\n';
  files['ts/src/index.ts'] =
    Object.keys(TS)
      .map((p) => `export * from './${p.replace('ts/src/', '').replace(/\.ts$/, '.js')}';`)
      .join('\n') + '\n';
  for (const t of TS_TESTS) {
    const path = Object.keys(TS).find((p) => p.endsWith(`/${t}.ts`));
    const fns = TS[path].map((s) => s.split('|')[0]).filter((n) => !isType(n));
    files[`ts/tests/${t}.test.ts`] =
      `import { describe, expect, it } from 'vitest';\nimport { ${fns.join(', ')} } from '${relativeImport(`ts/tests/${t}.test.ts`, path)}';\n\ndescribe('${t}', () => {\n${fns.map((f) => `  it('${f} rejects empty input', () => {\n    expect(() => ${f}('')).toThrow();\n  });\n`).join('\n')}});\n`;
  }
  files['ts/package.json'] = '{\n  "name": "taskq",\n  "version": "1.4.0",\n  "type": "module"\n}\n';
  return files;
}

function relativeImport(fromFile, toFile) {
  const from = dirname(fromFile).split('/');
  const to = toFile.split('/');
  let i = 0;
  while (i < from.length && from[i] === to[i]) i++;
  const up = from.length - i;
  const rel = (up === 0 ? ['.'] : Array(up).fill('..')).concat(to.slice(i)).join('/');
  return rel.replace(/\.ts$/, '.js');
}

function writeFiles(dir, files) {
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
}

function git(dir, ...args) {
  return execFileSync('git', ['-c', 'user.name=bench', '-c', 'user.email=bench@example.com', '-c', 'commit.gpgsign=false', ...args], {
    cwd: dir,
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
  });
}

/** Applies a fix: a changed line right after the symbol's definition, or a new regression test. */
function applyFix(dir, [path, symbol], n) {
  const file = join(dir, path);
  const lines = readFileSync(file, 'utf8').split('\n');
  if (/(^|\/)tests\//.test(path)) {
    const test = path.endsWith('.rs')
      ? `\n#[test]\nfn regression_${n}() {\n    assert!(${symbol}("x").is_ok());\n}\n`
      : `\ndescribe('regression ${n}', () => {\n  it('handles ${symbol}', () => {\n    expect(${symbol}('x')).toBeGreaterThanOrEqual(0);\n  });\n});\n`;
    writeFileSync(file, lines.join('\n') + test);
    return;
  }
  const at = lines.findIndex((l) => new RegExp(`(fn|function|struct|class) ${symbol}\\b`).test(l));
  if (at < 0) throw new Error(`${symbol} not found in ${path}`);
  const fix = path.endsWith('.rs') ? `    let _checked_${n} = ${n}usize;` : `  const checked${n} = ${n};`;
  lines.splice(at + 1, 0, fix);
  writeFileSync(file, lines.join('\n'));
}

function buildFixtureRepo() {
  const dir = tempDir('autodev-bench-fixture-');
  git(dir, 'init', '-q', '-b', 'main');
  writeFiles(dir, generateFixture());
  git(dir, 'add', '-A');
  git(dir, 'commit', '-qm', 'Initial import of tinyhttp and taskq');
  FIXES.forEach(([title, description, edits], i) => {
    for (const edit of edits) applyFix(dir, edit, i + 1);
    git(dir, 'add', '-A');
    git(dir, 'commit', '-qm', description ? `${title}\n\n${description}` : title);
  });
  return dir;
}

// ---------------------------------------------------------------- evaluation

function history(dir, rev) {
  return git(dir, 'log', '--no-merges', '--name-only', '--format=%x00', '-n', '500', rev)
    .split('\0')
    .map((b) => b.split('\n').filter(Boolean))
    .filter((f) => f.length > 0);
}

/** Commits that touched 1-3 files that already existed, newest first, with their messages. */
function fixCommits(dir, { onlyFixes }) {
  const out = [];
  const log = git(dir, 'log', '--no-merges', '--format=%x00%H%x01%P%x01%B%x01', '--name-status');
  for (const block of log.split('\0').filter(Boolean)) {
    const [hash, parents, message, rest] = block.split('\x01');
    if (!parents || parents.includes(' ')) continue;
    const changes = rest
      .split('\n')
      .filter(Boolean)
      .map((l) => l.split('\t'));
    if (changes.length === 0 || changes.length > 3 || changes.some(([s]) => s !== 'M')) continue;
    const files = changes.map(([, f]) => f);
    if (files.some((f) => /(^|\/)(package-lock\.json|Cargo\.lock)$/.test(f))) continue;
    const [title, ...body] = message.trim().split('\n');
    if (onlyFixes && !/\b(fix|bug|wrong|broken|crash|fail|error|panic|leak|ignore|missing|not)\b/i.test(message)) continue;
    out.push({ hash, parent: parents.trim(), title, description: body.join('\n').trim(), files });
  }
  return out;
}

const PLAIN_STOP = new Set(
  'the a an and or of to in on at for is are was be it this that with as by from not no but when should'.split(' '),
);

/** The baseline: rank files by how many lines ripgrep finds for the message's words; whole files into the budget. */
async function rgCountSelection(dir, task) {
  const words = [...new Set(`${task.title} ${task.description}`.toLowerCase().match(/[a-z_][a-z0-9_]{2,}/g) ?? [])].filter(
    (w) => !PLAIN_STOP.has(w),
  );
  const hits = await searcher.search(dir, words, { maxHitsPerTerm: 100000 });
  const count = new Map();
  for (const h of hits) count.set(h.path, (count.get(h.path) ?? 0) + 1);
  const ranking = [...count].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).map(([p]) => p);
  const shown = [];
  let used = 0;
  for (const path of ranking) {
    // Sized as autodev sizes its selection (the estimate), so both fill the same budget.
    const tokens = estimateTokens(readFileSync(join(dir, path), 'utf8')) + estimateTokens(path) + 8;
    if (used + tokens > BUDGET) continue;
    used += tokens;
    shown.push(path);
  }
  return { ranking, shown, tokens: used };
}

/** The selection's files, `REPEATS` times (a second run may differ when ripgrep's threads race). */
async function selections(select, dir, c, hist) {
  const runs = [];
  for (let k = 0; k < REPEATS; k++) {
    const sel = await select({
      dir,
      title: c.title,
      description: c.description,
      budgetTokens: BUDGET,
      model: MODEL,
      searcher: select === selectContext ? searcher : beforeSearcher,
      listFiles: (d) => searcher.listFiles(d),
      history: hist,
    });
    runs.push(sel);
  }
  const key = (sel) => sel.files.map((f) => `${f.path}:${JSON.stringify(f.ranges)}`).join('|');
  return { sel: runs[0], stable: runs.every((r) => key(r) === key(runs[0])) };
}

async function evaluate(dir, commits, label) {
  const rows = [];
  for (const c of commits) {
    git(dir, 'checkout', '-q', '--detach', c.parent);
    const files = await searcher.listFiles(dir);
    const hist = history(dir, c.parent);
    const { sel, stable } = await selections(selectContext, dir, c, hist);
    const base = await rgCountSelection(dir, c);
    const rankOf = (ranking, f) => (ranking.indexOf(f) >= 0 ? ranking.indexOf(f) + 1 : files.length);
    const row = (s, isStable) => {
      const shown = new Set(s.files.map((f) => f.path));
      const ranking = s.ranking.map((r) => r.path);
      return {
        all: c.files.every((f) => shown.has(f)),
        one: c.files.some((f) => shown.has(f)),
        ranks: c.files.map((f) => rankOf(ranking, f)),
        tokens: s.tokens,
        stable: isStable,
      };
    };
    const r = {
      commit: c,
      autodev: row(sel, stable),
      rg: {
        all: c.files.every((f) => base.shown.includes(f)),
        one: c.files.some((f) => base.shown.includes(f)),
        ranks: c.files.map((f) => rankOf(base.ranking, f)),
        tokens: base.tokens,
        stable: true,
      },
    };
    if (baseline) {
      const before = await selections(baseline.modules['context/index'].selectContext, dir, c, hist);
      r.before = row(before.sel, before.stable);
    }
    rows.push(r);
  }
  print(label, rows);
  return rows;
}

function pct(n, d) {
  return d === 0 ? 'n/a' : `${((100 * n) / d).toFixed(1)}% (${n}/${d})`;
}

function figures(rows, key) {
  const ranks = rows.flatMap((r) => r[key].ranks);
  return {
    all: rows.filter((r) => r[key].all).length,
    one: rows.filter((r) => r[key].one).length,
    stable: rows.filter((r) => r[key].stable).length,
    meanRank: ranks.reduce((s, x) => s + x, 0) / Math.max(ranks.length, 1),
    maxTokens: Math.max(0, ...rows.map((r) => r[key].tokens)),
  };
}

function summary(rows, key) {
  const f = figures(rows, key);
  const stable = key === 'rg' ? '' : `, same selection on ${REPEATS} runs ${pct(f.stable, rows.length)}`;
  return `all fix files shown ${pct(f.all, rows.length)}, at least one ${pct(f.one, rows.length)}${stable}, mean rank ${f.meanRank.toFixed(2)}, max tokens ${f.maxTokens}`;
}

function print(label, rows) {
  console.log(`\n${label}: ${rows.length} fix commits, budget ${BUDGET} tokens (${MODEL})`);
  console.log(`  autodev : ${summary(rows, 'autodev')}`);
  if (BEFORE) console.log(`  ${BEFORE}: ${summary(rows, 'before')}`);
  console.log(`  rg-count: ${summary(rows, 'rg')}`);
  const a = figures(rows, 'autodev');
  const b = figures(rows, 'rg');
  console.log(
    `  autodev/rg-count: all fix files shown ${times(a.all / b.all)}, at least one ${times(a.one / b.one)} (higher is better), mean rank ${times(a.meanRank / b.meanRank)} (lower is better)`,
  );
  if (BEFORE) {
    const w = figures(rows, 'before');
    console.log(
      `  autodev/${BEFORE}: all fix files shown ${times(a.all / Math.max(1, w.all))}, at least one ${times(a.one / Math.max(1, w.one))}, same selection every run ${times(a.stable / Math.max(1, w.stable))} (higher is better)`,
    );
  }
  const misses = rows.filter((r) => !r.autodev.all);
  for (const m of misses)
    console.log(`  autodev missed: "${m.commit.title}" ${m.commit.files.map((f, i) => `${f}@${m.autodev.ranks[i]}`).join(' ')}`);
}

// ---------------------------------------------------------------- 2,000-file repository

function buildLargeRepo(fileCount) {
  const dir = tempDir('autodev-bench-large-');
  const r = rng(7);
  const verbs = ['parse', 'load', 'store', 'render', 'encode', 'decode', 'check', 'merge', 'split', 'fetch', 'build', 'scan'];
  const nouns = [
    'header',
    'record',
    'token',
    'frame',
    'config',
    'entry',
    'batch',
    'event',
    'span',
    'cursor',
    'page',
    'index',
    'query',
    'stream',
  ];
  const files = {};
  const all = [];
  for (let i = 0; i < fileCount; i++) {
    const area = `area_${i % 40}`;
    const ext = i % 2 ? 'rs' : 'ts';
    const stem = `${nouns[i % nouns.length]}_${verbs[Math.floor(i / nouns.length) % verbs.length]}_${i}`;
    const path = `${ext === 'rs' ? 'crates' : 'packages'}/${area}/src/${stem}.${ext}`;
    const specs = [];
    for (let k = 0; k < 6; k++) {
      const name = `${verbs[Math.floor(r() * verbs.length)]}_${nouns[Math.floor(r() * nouns.length)]}_${i}_${k}`;
      specs.push(`${name}|${name.split('_').slice(0, 2).join(' ')} for module ${i}.`);
    }
    all.push([path, specs, ext]);
  }
  const fns = all.flatMap(([p, specs]) => specs.map((s) => [p, s.split('|')[0]]));
  for (const [path, specs, ext] of all) {
    const others = [fns[Math.floor(r() * fns.length)], fns[Math.floor(r() * fns.length)]].map(([p, f]) => [
      rustModPath(p).replace(/::/g, '_'),
      f,
    ]);
    files[path] = specs.map((s) => (ext === 'rs' ? rustItem(s, 'm', others, r) : tsItem(s, path, others, r))).join('\n');
  }
  files['packages/area_3/src/special.ts'] = tsItem(
    'reconcileLedgerBalance|Reconcile the ledger balance after a refund.',
    'x',
    [['x', 'parse_header_1_1']],
    r,
  );
  writeFiles(dir, files);
  git(dir, 'init', '-q', '-b', 'main');
  git(dir, 'add', '-A');
  git(dir, 'commit', '-qm', 'import');
  return { dir, count: Object.keys(files).length };
}

async function timeLarge() {
  const { dir, count } = buildLargeRepo(2000);
  try {
    const task = {
      title: 'reconcileLedgerBalance double counts refunds',
      description:
        'When a refund and a partial capture land in one batch, the ledger balance is off; see parse_header handling of the batch event.',
    };
    const run = () =>
      selectContext({
        dir,
        ...task,
        budgetTokens: BUDGET,
        model: MODEL,
        searcher,
        listFiles: (d) => searcher.listFiles(d),
        history: history(dir, 'HEAD'),
      });
    // Alternating, so both see the same machine load.
    const ours = [];
    const rg = [];
    let sel;
    let base;
    for (let i = 0; i < RUNS; i++) {
      let t0 = performance.now();
      sel = await run();
      ours.push(performance.now() - t0);
      t0 = performance.now();
      base = await rgCountSelection(dir, task);
      rg.push(performance.now() - t0);
    }
    const ms = median(ours);
    const rgMs = median(rg);
    console.log(
      `\nselection on a ${count}-file repository (${sel.files.length} files shown, ${sel.tokens} tokens, top ${sel.files[0]?.path}; rg-count top ${base.shown[0]}):`,
    );
    console.log(
      `  autodev: first run ${ours[0].toFixed(0)} ms, median of ${RUNS} ${ms.toFixed(0)} ms, max ${Math.max(...ours).toFixed(0)} ms; ` +
        `rg-count: median ${rgMs.toFixed(0)} ms; autodev/rg-count ${times(ms / rgMs)}`,
    );
    headline({ figure: `selection on ${count} files`, autodev: ms, alternative: rgMs, against: 'rg-count', unit: 'ms' });
  } finally {
    cleanup(dir);
  }
}

// ---------------------------------------------------------------- the command against node -e 0

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/**
 * Wall ms, CPU ms (user + system) and peak RSS (KiB) of one node command; CPU and RSS from GNU time
 * when installed. CPU is the steadier figure on a shared machine: waiting for a core is not in it.
 */
function measure(args, env) {
  const timeBin = existsSync('/usr/bin/time') ? '/usr/bin/time' : null;
  const argv = timeBin ? [timeBin, ['-f', '%U %S %M', process.execPath, ...args]] : [process.execPath, args];
  const t0 = performance.now();
  const r = spawnSync(argv[0], argv[1], { cwd: root, env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`node ${args.join(' ')} exited ${r.status}: ${r.stderr.trim().split('\n').slice(-3).join(' | ')}`);
  const [user, sys, kib] = timeBin ? r.stderr.trim().split('\n').at(-1).split(' ').map(Number) : [NaN, NaN, NaN];
  return { ms, cpuMs: (user + sys) * 1000, kib, stdout: r.stdout };
}

/** Medians of wall and CPU, and the largest peak RSS, of several measurements. */
function summarize(list) {
  return { ms: median(list.map((m) => m.ms)), cpuMs: median(list.map((m) => m.cpuMs)), kib: Math.max(...list.map((m) => m.kib)) };
}

/** `a` beside `b` (wall, CPU, peak RSS) with ratios, and the headline rows. */
function sideBySide(nameA, a, nameB, b, { goal, figure }) {
  const mib = (kib) => `${(kib / 1024).toFixed(0)} MiB`;
  console.log(
    `  wall:     ${nameA} ${a.ms.toFixed(0)} ms, ${nameB} ${b.ms.toFixed(0)} ms, ratio ${times(a.ms / b.ms)}${goal ? ` (goal ≤ ${goal}×)` : ''}`,
  );
  if (Number.isFinite(a.cpuMs)) {
    console.log(`  CPU:      ${nameA} ${a.cpuMs.toFixed(0)} ms, ${nameB} ${b.cpuMs.toFixed(0)} ms, ratio ${times(a.cpuMs / b.cpuMs)}`);
    console.log(`  peak RSS: ${nameA} ${mib(a.kib)}, ${nameB} ${mib(b.kib)}, ratio ${times(a.kib / b.kib)}`);
  }
  headline({ figure: `${figure}, wall`, autodev: a.ms, alternative: b.ms, against: nameB, unit: 'ms', goal: goal ?? null });
  if (Number.isFinite(a.cpuMs)) {
    headline({ figure: `${figure}, CPU`, autodev: a.cpuMs, alternative: b.cpuMs, against: nameB, unit: 'ms' });
    headline({ figure: `${figure}, peak RSS`, autodev: a.kib / 1024, alternative: b.kib / 1024, against: nameB, unit: 'MiB' });
  }
}

async function timeCli() {
  const { CALC_FILES, CALC_TASK } = await import(join(root, 'build/support/calc-crate.js')).catch(() => ({}));
  if (!CALC_FILES) {
    console.log('\nautodev context vs node -e 0: skipped (build/support is missing: npm run build:support)');
    return;
  }
  const dir = tempDir('autodev-bench-calc-');
  const home = tempDir('autodev-bench-home-');
  try {
    writeFiles(dir, CALC_FILES);
    git(dir, 'init', '-q', '-b', 'main');
    git(dir, 'add', '-A');
    git(dir, 'commit', '-qm', 'calc');
    // No user config or cache: what a first `autodev context` on this machine costs.
    const env = {
      PATH: process.env.PATH,
      HOME: home,
      LANG: 'C.UTF-8',
      NO_COLOR: '1',
      XDG_CONFIG_HOME: join(home, 'config'),
      XDG_CACHE_HOME: join(home, 'cache'),
      XDG_STATE_HOME: join(home, 'state'),
    };
    const cli = ['bin/autodev.js', 'context', '--repo', dir, '--title', CALC_TASK.title, '--description', CALC_TASK.description, '--json'];
    const bare = ['-e', '0'];
    measure(bare, env);
    const shown = JSON.parse(measure(cli, env).stdout);
    const ours = [];
    const node = [];
    for (let i = 0; i < RUNS; i++) {
      node.push(measure(bare, env));
      ours.push(measure(cli, env));
    }
    console.log(
      `\nautodev context on the 2-file calc crate (${shown.files.length} files shown, ~${shown.tokens} tokens) vs node -e 0, ${RUNS} runs each, alternating (medians; peak RSS: largest):`,
    );
    sideBySide('autodev context', summarize(ours), 'node -e 0', summarize(node), { goal: 3, figure: 'autodev context, 2-file crate' });
  } finally {
    cleanup(dir);
    cleanup(home);
  }
}

// ---------------------------------------------------------------- counting tokens: estimate vs encoder

/**
 * What sizing context costs one process: the estimate autodev uses (dist/context/estimate.js) beside
 * loading the o200k_base encoder and counting exactly (what every run and `autodev context` did
 * before), each in a fresh node on the same text (this checkout's src/, ~1 MB), with how far the
 * estimate is above the exact count.
 */
function timeTokens() {
  const files = execFileSync('git', ['ls-files', 'src'], { cwd: root, encoding: 'utf8' })
    .split('\n')
    .filter((f) => f.endsWith('.ts'));
  const dir = tempDir('autodev-bench-tokens-');
  try {
    const textFile = join(dir, 'text.txt');
    writeFileSync(textFile, files.map((f) => readFileSync(join(root, f), 'utf8')).join('\n'));
    const script = (module, make) => [
      '--input-type=module',
      '-e',
      `const m = await import(${JSON.stringify(join(root, 'dist/context', module))}); const text = (await import('node:fs')).readFileSync(${JSON.stringify(textFile)}, 'utf8'); ${make} console.log(count(text));`,
    ];
    const estimate = script('estimate.js', 'const count = m.estimateTokens;');
    const exact = script('tokenizer.js', `const count = (await m.loadTokenCounter(${JSON.stringify(MODEL)})).count;`);
    const env = { PATH: process.env.PATH, LANG: 'C.UTF-8' };
    const ours = [];
    const theirs = [];
    for (let i = 0; i < RUNS; i++) {
      ours.push(measure(estimate, env));
      theirs.push(measure(exact, env));
    }
    const e = Number(ours[0].stdout.trim());
    const x = Number(theirs[0].stdout.trim());
    console.log(
      `\nsizing ${(readFileSync(textFile).length / 1024).toFixed(0)} KiB of code: the estimate (${e} tokens) vs loading ${MODEL}'s o200k_base and counting (${x} tokens; estimate/exact ${times(e / x)}), ${RUNS} runs each, alternating:`,
    );
    sideBySide('estimate', summarize(ours), 'o200k encoder', summarize(theirs), { figure: 'sizing context: estimate vs encoder' });
  } finally {
    cleanup(dir);
  }
}

// ---------------------------------------------------------------- main

console.log(`search engine: ${searcher.engine}; sizes estimated (dist/context/estimate.js), as autodev sizes context`);

const allRows = [];
if (runs('fixture')) {
  const fixture = buildFixtureRepo();
  try {
    allRows.push(
      ...(await evaluate(
        fixture,
        fixCommits(fixture, { onlyFixes: false }).reverse(),
        'fixture repository (tinyhttp Rust crate + taskq TypeScript project)',
      )),
    );
  } finally {
    cleanup(fixture);
  }
}

if (runs('self') && existsSync(join(root, '.git'))) {
  const clone = tempDir('autodev-bench-self-');
  try {
    execFileSync('git', ['clone', '-q', '--no-hardlinks', root, clone], { stdio: 'ignore' });
    const commits = fixCommits(clone, { onlyFixes: false }).slice(0, MAX_COMMITS);
    if (commits.length > 0)
      allRows.push(...(await evaluate(clone, commits, 'autodev history (this checkout, commits touching 1-3 existing files)')));
    else console.log('\nautodev history: no commits touching 1-3 existing files yet');
  } catch (error) {
    console.log(`\nautodev history: skipped (${error.message.split('\n')[0]})`);
  } finally {
    cleanup(clone);
  }
}
if (ONLY === '' && allRows.length > 0) print('all corpora', allRows);
if (allRows.length > 0) {
  const a = figures(allRows, 'autodev');
  const b = figures(allRows, 'rg');
  headline({
    figure: 'fix commits with every file shown',
    autodev: a.all,
    alternative: b.all,
    against: 'rg-count',
    unit: `of ${allRows.length}`,
    better: 'higher',
  });
  headline({ figure: 'mean rank of the fix files', autodev: a.meanRank, alternative: b.meanRank, against: 'rg-count' });
  if (BEFORE) {
    const w = figures(allRows, 'before');
    headline({
      figure: 'fix commits with every file shown',
      autodev: a.all,
      alternative: w.all,
      against: BEFORE,
      unit: `of ${allRows.length}`,
      better: 'higher',
    });
    headline({
      figure: `same selection on ${REPEATS} runs`,
      autodev: a.stable,
      alternative: w.stable,
      against: BEFORE,
      unit: `of ${allRows.length}`,
      better: 'higher',
    });
  }
  const n = allRows.length;
  console.log(
    `\ngoals: all fix files shown >= 90%: ${pct(a.all, n)} ${a.all >= 0.9 * n ? 'MET' : 'NOT MET'}; at least one >= 98%: ${pct(a.one, n)} ${a.one >= 0.98 * n ? 'MET' : 'NOT MET'}; ` +
      `same selection every run: ${pct(a.stable, n)} ${a.stable === n ? 'MET' : 'NOT MET'}; within ${BUDGET} tokens: max ${a.maxTokens} ${a.maxTokens <= BUDGET ? 'MET' : 'NOT MET'}`,
  );
}

if (runs('large')) await timeLarge();
if (runs('tokens')) timeTokens();
if (runs('cli')) await timeCli();
