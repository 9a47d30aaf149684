// The third-party parsers that only some commands need (TOML, YAML, XML, version ranges, globs,
// lockfiles), each required on first use: importing them at the top made every command, `context`
// and `run --plan-only` included, pay for all of them (~0.3 s CPU) before doing anything. All are
// CommonJS (smol-toml and fast-xml-parser ship a CommonJS build too), so a synchronous require
// keeps the callers synchronous; Node caches each module after the first call.
import { createRequire } from 'node:module';
import type * as Pep440 from '@renovatebot/pep440';
import type YarnLockfile from '@yarnpkg/lockfile';
import type * as FastXmlParser from 'fast-xml-parser';
import type Npa from 'npm-package-arg';
import type Picomatch from 'picomatch';
import type Semver from 'semver';
import type * as SmolToml from 'smol-toml';
import type * as Yaml from 'yaml';

const require = createRequire(import.meta.url);

export function tomlLib(): typeof SmolToml {
  return require('smol-toml') as typeof SmolToml;
}

export function yamlLib(): typeof Yaml {
  return require('yaml') as typeof Yaml;
}

export function xmlLib(): typeof FastXmlParser {
  return require('fast-xml-parser') as typeof FastXmlParser;
}

export function semverLib(): typeof Semver {
  return require('semver') as typeof Semver;
}

export function picomatchLib(): typeof Picomatch {
  return require('picomatch') as typeof Picomatch;
}

export function pep440Lib(): typeof Pep440 {
  return require('@renovatebot/pep440') as typeof Pep440;
}

export function yarnLockfileLib(): typeof YarnLockfile {
  return require('@yarnpkg/lockfile') as typeof YarnLockfile;
}

export function npaLib(): typeof Npa {
  return require('npm-package-arg') as typeof Npa;
}
