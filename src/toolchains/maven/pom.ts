// pom.xml, read by fast-xml-parser: coordinates, <modules>, <properties>, <dependencies>,
// <dependencyManagement> and the plugins of <build>. Only what the plan, the workspace and the
// dependency check need; the effective POM (parents from a repository, profiles) is Maven's business.
import { xmlLib } from '../../util/libs.js';

type Node = Record<string, unknown>;

export interface PomDependency {
  groupId: string;
  artifactId: string;
  /** The version as written (`${junit.version}` included); null when the pom leaves it to management. */
  version: string | null;
  scope: string | null;
  optional: boolean;
  type: string | null;
  classifier: string | null;
}

export interface Pom {
  groupId: string | null;
  artifactId: string | null;
  version: string | null;
  packaging: string;
  parent: { groupId: string | null; artifactId: string | null; version: string | null; relativePath: string | null } | null;
  modules: string[];
  properties: Record<string, string>;
  dependencies: PomDependency[];
  managed: PomDependency[];
  /** `groupId:artifactId` of the plugins in <build><plugins> (and <pluginManagement>). */
  plugins: string[];
}

// Built on first use: the XML library loads only when a document is read.
let parser: InstanceType<ReturnType<typeof xmlLib>['XMLParser']> | undefined;

function xmlParser(): NonNullable<typeof parser> {
  return (parser ??= new (xmlLib().XMLParser)({
    ignoreAttributes: true,
    // Versions are text: "1.10" must stay "1.10".
    parseTagValue: false,
    trimValues: true,
    isArray: (name) => ['module', 'dependency', 'plugin', 'profile'].includes(name),
  }));
}

function node(value: unknown): Node | null {
  return value && typeof value === 'object' && !Array.isArray(value) ? (value as Node) : null;
}

function text(value: unknown): string | null {
  if (typeof value === 'string') return value.trim() || null;
  if (typeof value === 'number') return String(value);
  return null;
}

function list(value: unknown): Node[] {
  return (Array.isArray(value) ? value : []).map((v) => node(v)).filter((v): v is Node => v !== null);
}

function dependency(raw: Node): PomDependency | null {
  const groupId = text(raw.groupId);
  const artifactId = text(raw.artifactId);
  if (!groupId || !artifactId) return null;
  return {
    groupId,
    artifactId,
    version: text(raw.version),
    scope: text(raw.scope),
    optional: text(raw.optional) === 'true',
    type: text(raw.type),
    classifier: text(raw.classifier),
  };
}

/** A pom.xml's text as data; throws when it is not XML or has no <project>. */
export function parsePom(xml: string): Pom {
  const doc = xmlParser().parse(xml, true) as Node;
  const project = node(doc.project);
  if (!project) throw new Error('no <project> element');
  const parent = node(project.parent);
  const properties: Record<string, string> = {};
  for (const [key, value] of Object.entries(node(project.properties) ?? {})) {
    const v = text(value);
    if (v !== null) properties[key] = v;
  }
  const build = node(project.build);
  const plugins = [...list(node(build?.plugins)?.plugin), ...list(node(node(build?.pluginManagement)?.plugins)?.plugin)].map(
    (p) => `${text(p.groupId) ?? 'org.apache.maven.plugins'}:${text(p.artifactId) ?? ''}`,
  );
  return {
    groupId: text(project.groupId) ?? text(parent?.groupId),
    artifactId: text(project.artifactId),
    version: text(project.version) ?? text(parent?.version),
    packaging: text(project.packaging) ?? 'jar',
    parent: parent
      ? {
          groupId: text(parent.groupId),
          artifactId: text(parent.artifactId),
          version: text(parent.version),
          relativePath: text(parent.relativePath),
        }
      : null,
    modules: (Array.isArray(node(project.modules)?.module) ? (node(project.modules)!.module as unknown[]) : [])
      .map(text)
      .filter((m): m is string => m !== null),
    properties,
    dependencies: list(node(project.dependencies)?.dependency)
      .map(dependency)
      .filter((d): d is PomDependency => d !== null),
    managed: list(node(node(project.dependencyManagement)?.dependencies)?.dependency)
      .map(dependency)
      .filter((d): d is PomDependency => d !== null),
    plugins,
  };
}

/** A module path of <modules> as a directory relative to the repository (`./core/` → `core`), null when it leaves it. */
export function moduleDir(parentDir: string, module: string): string | null {
  const joined = `${parentDir === '.' ? '' : `${parentDir}/`}${module.replace(/\\/g, '/')}`.replace(/\/pom\.xml$/, '').replace(/\/+$/, '');
  const parts: string[] = [];
  for (const part of joined.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (parts.length === 0) return null;
      parts.pop();
    } else parts.push(part);
  }
  return parts.length ? parts.join('/') : '.';
}

/**
 * `${name}` references resolved from the properties given (a pom's own over its parent's) and the
 * project's coordinates; what cannot be resolved is left as written.
 */
export function interpolate(value: string, properties: Record<string, string>, depth = 0): string {
  if (depth > 8 || !value.includes('${')) return value;
  const next = value.replace(/\$\{([^}]+)\}/g, (whole, name: string) => properties[name] ?? whole);
  return next === value ? value : interpolate(next, properties, depth + 1);
}

/** The properties a pom's `${...}` can name: its <properties> over its parent's, and its coordinates. */
export function pomProperties(pom: Pom, inherited: Record<string, string> = {}): Record<string, string> {
  const coords: Record<string, string> = {};
  for (const [key, value] of [
    ['groupId', pom.groupId],
    ['artifactId', pom.artifactId],
    ['version', pom.version],
  ] as const) {
    if (value) {
      coords[`project.${key}`] = value;
      coords[`pom.${key}`] = value;
    }
  }
  if (pom.parent?.version) coords['project.parent.version'] = pom.parent.version;
  return { ...inherited, ...coords, ...pom.properties };
}
