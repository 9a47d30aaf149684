// Context selection on a Maven layout: the class the task names is found by its definition, and its
// test under src/test/java follows it (and the other way round), across the parallel trees.
import { describe, expect, it } from '@jest/globals';
import { definedNames, isTestFile, rankFiles } from '../../../src/context/rank.js';
import { extractTerms } from '../../../src/context/terms.js';
import type { SearchHit } from '../../../src/ports/types.js';

const FILES: Record<string, string> = {
  'pom.xml': '<project/>\n',
  'src/main/java/com/acme/RateLimiter.java':
    'package com.acme;\n\npublic final class RateLimiter {\n    public boolean tryAcquire(int permits) {\n        return permits < 3;\n    }\n}\n',
  'src/test/java/com/acme/RateLimiterTest.java':
    'package com.acme;\n\nclass RateLimiterTest {\n    @Test\n    void refills() {\n        new RateLimiter().tryAcquire(1);\n    }\n}\n',
  'src/main/java/com/acme/Clock.java': 'package com.acme;\n\npublic interface Clock {\n    long now();\n}\n',
  'src/test/java/com/acme/ClockTest.java': 'package com.acme;\n\nclass ClockTest {\n    @Test\n    void ticks() {}\n}\n',
};

function hits(terms: string[]): SearchHit[] {
  const out: SearchHit[] = [];
  for (const [path, content] of Object.entries(FILES)) {
    content.split('\n').forEach((text, i) => {
      for (const term of terms) if (text.includes(term)) out.push({ path, line: i + 1, text, term });
    });
  }
  return out;
}

describe('context on a Maven project', () => {
  it('ranks the defining class first and pairs its test from src/test/java', () => {
    const terms = extractTerms('tryAcquire lets too many through', 'The limiter in tryAcquire ignores permits');
    const ranked = rankFiles({ terms, hits: hits(terms.map((t) => t.text)), files: Object.keys(FILES) });
    expect(ranked[0].path).toBe('src/main/java/com/acme/RateLimiter.java');
    const test = ranked.find((r) => r.path === 'src/test/java/com/acme/RateLimiterTest.java');
    expect(test?.reasons.join(' ')).toMatch(/tests src\/main\/java\/com\/acme\/RateLimiter\.java/);
    expect(ranked[0].marks.find((m) => m.definition)?.line).toBe(4);
    expect(ranked.map((r) => r.path)).not.toContain('src/main/java/com/acme/Clock.java');
  });

  it('reads Java definitions through the maven toolchain and knows its test files', () => {
    expect(definedNames('public interface Clock {', 'maven')).toEqual(['Clock']);
    expect(definedNames('    long now();', 'maven')).toEqual(['now']);
    expect(definedNames('        new RateLimiter().tryAcquire(1);', 'maven')).toEqual([]);
    expect(isTestFile('src/test/java/com/acme/ClockTest.java')).toBe(true);
    expect(isTestFile('src/main/java/com/acme/Clock.java')).toBe(false);
  });
});
