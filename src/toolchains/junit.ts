// JUnit XML, the report format pytest (`--junitxml`), Maven Surefire (`TEST-*.xml`) and many other
// runners write: one reader for all of them, so each toolchain only decides how a case is named.
// The XML is read by fast-xml-parser; this file only walks what it returns.
import { xmlLib } from '../util/libs.js';
import { testSummary } from './text.js';
import type { TestFailure, TestReport } from './types.js';

/** One `<testcase>`, with the suite it was found in. */
export interface JUnitCase {
  /** The enclosing `<testsuite name>` (innermost), or '' when there is none. */
  suite: string;
  classname: string;
  name: string;
  /** The `file` attribute (pytest writes it), when present. */
  file: string | null;
  outcome: 'passed' | 'failed' | 'skipped';
  /** `failure` for an assertion, `error` for an error outside the assertions (pytest's setup errors, an exception in Java). */
  failureKind: 'failure' | 'error' | null;
  /** The failure's or skip's `message` attribute. */
  message: string;
  /** The failure's body (traceback / stack trace), then the case's captured output. */
  text: string;
}

// Built on first use: the XML library loads only when a document is read.
let parser: InstanceType<ReturnType<typeof xmlLib>['XMLParser']> | undefined;

function xmlParser(): NonNullable<typeof parser> {
  return (parser ??= new (xmlLib().XMLParser)({
    ignoreAttributes: false,
    attributeNamePrefix: '',
    textNodeName: '#text',
    // Names and messages are text, never numbers ("1.10" must stay "1.10").
    parseTagValue: false,
    parseAttributeValue: false,
    trimValues: false,
    isArray: (name) =>
      ['testsuite', 'testcase', 'failure', 'error', 'skipped', 'system-out', 'system-err', 'rerunFailure', 'flakyFailure'].includes(name),
  }));
}

type Node = Record<string, unknown>;

/**
 * The test cases of a JUnit XML document (`<testsuites>` or a lone `<testsuite>`, nested suites
 * too). A document that is not XML, or holds no suite, gives no cases rather than an error: the
 * caller then falls back on the runner's exit code and output.
 */
export function readJUnitCases(xml: string): JUnitCase[] {
  let doc: Node;
  try {
    doc = xmlParser().parse(xml) as Node;
  } catch {
    return [];
  }
  const cases: JUnitCase[] = [];
  const roots = doc.testsuites ? asNodes((doc.testsuites as Node).testsuite ?? []) : asNodes(doc.testsuite ?? []);
  // Some writers put cases straight under <testsuites>.
  if (doc.testsuites) collectCases(doc.testsuites as Node, '', cases);
  for (const suite of roots) walkSuite(suite, cases);
  return cases;
}

function walkSuite(suite: Node, cases: JUnitCase[]): void {
  const name = attr(suite, 'name');
  collectCases(suite, name, cases);
  for (const inner of asNodes(suite.testsuite ?? [])) walkSuite(inner, cases);
}

function collectCases(node: Node, suite: string, cases: JUnitCase[]): void {
  for (const testcase of asNodes(node.testcase ?? [])) {
    const failure = asNodes(testcase.failure ?? [])[0];
    const error = asNodes(testcase.error ?? [])[0];
    const skipped = asNodes(testcase.skipped ?? [])[0];
    const problem = failure ?? error;
    const captured = [...asNodes(testcase['system-out'] ?? []), ...asNodes(testcase['system-err'] ?? [])].map(body).filter((t) => t.trim());
    cases.push({
      suite,
      classname: attr(testcase, 'classname'),
      name: attr(testcase, 'name'),
      file: attr(testcase, 'file') || null,
      outcome: problem ? 'failed' : skipped ? 'skipped' : 'passed',
      failureKind: failure ? 'failure' : error ? 'error' : null,
      message: attr(problem ?? skipped ?? {}, 'message'),
      text: problem ? [body(problem), ...captured].filter((t) => t.trim()).join('\n') : '',
    });
  }
}

/**
 * A TestReport from cases, named by the toolchain's scheme. A name seen twice (a class run in two
 * modules, a rerun) counts once: failed wins, so a flaky pass never hides a failure.
 */
export function junitReport(cases: JUnitCase[], nameOf: (c: JUnitCase) => string, outputOf: (c: JUnitCase) => string): TestReport {
  const failed = new Map<string, TestFailure>();
  const passed = new Set<string>();
  const ignored = new Set<string>();
  for (const c of cases) {
    const name = nameOf(c);
    if (c.outcome === 'failed') failed.set(name, { name, output: outputOf(c) });
    else if (c.outcome === 'skipped') ignored.add(name);
    else passed.add(name);
  }
  for (const name of failed.keys()) passed.delete(name);
  const ignoredTests = [...ignored].filter((n) => !failed.has(n) && !passed.has(n));
  const passedList = [...passed];
  const failedList = [...failed.values()];
  return {
    passed: passedList,
    failed: failedList,
    ignored: ignoredTests.length,
    ignoredTests,
    summary: testSummary(passedList.length, failedList.length, ignoredTests.length),
  };
}

function asNodes(value: unknown): Node[] {
  const list = Array.isArray(value) ? value : [value];
  // An empty element (`<skipped/>`) parses as '' and still counts.
  return list.map((v) => (v !== null && typeof v === 'object' ? (v as Node) : { '#text': typeof v === 'string' ? v : '' }));
}

function attr(node: Node, name: string): string {
  const value = node[name];
  return typeof value === 'string' ? value : '';
}

function body(node: Node): string {
  const text = node['#text'];
  return typeof text === 'string' ? text.trim() : '';
}
