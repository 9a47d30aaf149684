// Finds the line of a key in TOML text, so a config error can point at it. TOML tables can be
// written many ways; this covers `[table]` headers and `key = ` / dotted `a.b = ` lines, which is
// what config files look like in practice. When it cannot tell, the error has no line.

export function findTomlKeyLine(text: string, path: (string | number)[]): number | null {
  const keys = path.filter((p): p is string => typeof p === 'string');
  if (keys.length === 0) return null;
  const lines = text.split(/\r?\n/);
  let table: string[] = [];
  let best: number | null = null;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (line.startsWith('#') || line === '') continue;
    const header = /^\[\[?\s*([^\]]+?)\s*\]\]?/.exec(line);
    if (header) {
      table = splitKey(header[1]);
      if (sameKeys(table, keys)) best ??= i + 1;
      continue;
    }
    const assign = /^((?:"[^"]*"|'[^']*'|[A-Za-z0-9_.\- ])+?)\s*=/.exec(line);
    if (!assign) continue;
    const full = [...table, ...splitKey(assign[1])];
    if (sameKeys(full, keys)) return i + 1;
    if (isPrefix(full, keys) && best === null) best = i + 1;
  }
  return best;
}

function splitKey(key: string): string[] {
  return key
    .split('.')
    .map((k) => k.trim().replace(/^["']|["']$/g, ''))
    .filter(Boolean);
}

function sameKeys(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((k, i) => k === b[i]);
}

function isPrefix(prefix: string[], of: string[]): boolean {
  return prefix.length <= of.length && prefix.every((k, i) => k === of[i]);
}
