// The JUnit XML reader on a report written by a real pytest run (parametrized ids, skips, setup
// errors, classes), on Surefire's shape (nested suites, reruns), and on what is not a report.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execa } from 'execa';
import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { junitReport, readJUnitCases, type JUnitCase } from '../../src/toolchains/junit.js';

let dir = '';
let pytestXml = '';

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'autodev-junit-'));
  await mkdir(path.join(dir, 'tests'));
  await writeFile(
    path.join(dir, 'tests', 'test_a.py'),
    [
      'import pytest',
      'def test_ok(): assert 1',
      '@pytest.mark.parametrize("x", ["1.10", "b c"])',
      'def test_p(x): assert x == "1.10", "x was %s" % x',
      '@pytest.mark.skip(reason="later")',
      'def test_s(): pass',
      'class TestK:',
      '    def test_m(self): raise ValueError("bad <&> value")',
      '@pytest.fixture',
      'def broken(): raise RuntimeError("setup")',
      'def test_e(broken): pass',
      '',
    ].join('\n'),
  );
  await execa('python3', ['-m', 'pytest', '-q', '-p', 'no:cacheprovider', `--junitxml=${path.join(dir, 'j.xml')}`], {
    cwd: dir,
    reject: false,
  });
  pytestXml = await readFile(path.join(dir, 'j.xml'), 'utf8');
}, 60_000);

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const byName = (cases: JUnitCase[]) => Object.fromEntries(cases.map((c) => [`${c.classname}::${c.name}`, c]));

describe('readJUnitCases on pytest', () => {
  it('reads every case with its outcome, keeping parametrized ids as written', () => {
    const cases = byName(readJUnitCases(pytestXml));
    expect(Object.fromEntries(Object.entries(cases).map(([k, c]) => [k, c.outcome]))).toEqual({
      'tests.test_a::test_ok': 'passed',
      'tests.test_a::test_p[1.10]': 'passed',
      'tests.test_a::test_p[b c]': 'failed',
      'tests.test_a::test_s': 'skipped',
      'tests.test_a.TestK::test_m': 'failed',
      'tests.test_a::test_e': 'failed',
    });
  });

  it('keeps the failure text with entities decoded, and tells errors from failures', () => {
    const cases = byName(readJUnitCases(pytestXml));
    expect(cases['tests.test_a.TestK::test_m'].text).toContain('ValueError: bad <&> value');
    expect(cases['tests.test_a.TestK::test_m'].failureKind).toBe('failure');
    expect(cases['tests.test_a::test_p[b c]'].message).toContain('x was b c');
    expect(cases['tests.test_a::test_e'].failureKind).toBe('error');
    expect(cases['tests.test_a::test_e'].text).toContain('RuntimeError: setup');
    expect(cases['tests.test_a::test_s'].message).toBe('later');
  });
});

describe('readJUnitCases on Surefire-shaped reports', () => {
  const surefire = `<?xml version="1.0" encoding="UTF-8"?>
<testsuite name="com.acme.CalcTest" tests="3" failures="1" errors="0" skipped="1">
  <properties><property name="java.version" value="17"/></properties>
  <testcase name="adds" classname="com.acme.CalcTest" time="0.01"/>
  <testcase name="divides" classname="com.acme.CalcTest" time="0.01">
    <failure message="expected: &lt;2&gt; but was: &lt;3&gt;" type="org.opentest4j.AssertionFailedError"><![CDATA[org.opentest4j.AssertionFailedError: expected: <2> but was: <3>
	at com.acme.CalcTest.divides(CalcTest.java:14)]]></failure>
    <system-out><![CDATA[dividing]]></system-out>
  </testcase>
  <testcase name="later" classname="com.acme.CalcTest" time="0"><skipped/></testcase>
  <testsuite name="com.acme.CalcTest$Inner"><testcase name="inner" classname="com.acme.CalcTest$Inner"/></testsuite>
</testsuite>`;

  it('reads nested suites, CDATA bodies and empty skips', () => {
    const cases = readJUnitCases(surefire);
    expect(cases.map((c) => [c.suite, c.name, c.outcome])).toEqual([
      ['com.acme.CalcTest', 'adds', 'passed'],
      ['com.acme.CalcTest', 'divides', 'failed'],
      ['com.acme.CalcTest', 'later', 'skipped'],
      ['com.acme.CalcTest$Inner', 'inner', 'passed'],
    ]);
    const divides = cases[1];
    expect(divides.message).toBe('expected: <2> but was: <3>');
    expect(divides.text).toContain('CalcTest.java:14');
    expect(divides.text).toContain('dividing');
  });

  it('builds a report in which a failure wins over a pass of the same name', () => {
    const cases = [...readJUnitCases(surefire), ...readJUnitCases(surefire.replace('<failure', '<x').replace('</failure>', '</x>'))];
    const report = junitReport(
      cases,
      (c) => `${c.classname}#${c.name}`,
      (c) => c.message,
    );
    expect(report.failed).toEqual([{ name: 'com.acme.CalcTest#divides', output: 'expected: <2> but was: <3>' }]);
    expect(report.passed.sort()).toEqual(['com.acme.CalcTest#adds', 'com.acme.CalcTest$Inner#inner']);
    expect(report.ignoredTests).toEqual(['com.acme.CalcTest#later']);
    expect(report.summary).toBe('2 passed, 1 failed, 1 ignored');
  });

  it('gives no cases for text that is not a report', () => {
    expect(readJUnitCases('')).toEqual([]);
    expect(readJUnitCases('pytest: error: unrecognized arguments')).toEqual([]);
    expect(readJUnitCases('<testsuites><testsuite name="x"><testcase')).toEqual([]);
  });
});
