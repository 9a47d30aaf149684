// Lint: typescript-eslint's recommended rules, and the arrows of shared/DESIGN.md as rules, so an
// import against the layering fails `npm run lint`:
//   cli, server, eval → task → engine, plan, observe, store; engine → steps (through the registry) →
//   generate, patch, context, toolchains, checks, ports. Nothing imports cli; the engine imports no
//   step and no task code; plan, patch and context import no port (the port's types excepted);
//   no import cycles at all.
import tseslint from 'typescript-eslint';
import importX from 'eslint-plugin-import-x';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';

const src = (dir) => `./src/${dir}`;
const everywhere = [
  'cli',
  'server',
  'eval',
  'task',
  'engine',
  'plan',
  'steps',
  'generate',
  'patch',
  'context',
  'toolchains',
  'depcheck',
  'secrets',
  'policy',
  'guards',
  'ports',
  'observe',
  'queue',
  'store',
  'config',
  'util',
];

/** `from` may not be imported by any file under `targets`. */
function forbid(targets, from, message) {
  return targets.map((target) => ({ target: src(target), from: src(from), message }));
}

const layering = [
  ...forbid(
    everywhere.filter((d) => d !== 'cli'),
    'cli',
    'nothing imports cli/: it is the top of the tree',
  ),
  ...forbid(
    everywhere.filter((d) => d !== 'cli' && d !== 'server'),
    'server',
    'only the CLI starts the server',
  ),
  ...forbid(
    everywhere.filter((d) => d !== 'cli' && d !== 'eval'),
    'eval',
    'only the CLI runs an eval',
  ),
  ...forbid(
    everywhere.filter((d) => !['cli', 'server', 'eval', 'task', 'queue'].includes(d)),
    'task',
    'task/ is called by the CLI, the server, eval and the queue worker only',
  ),
  ...forbid(['engine'], 'steps', 'the engine knows no step: it gets the tools from the registry it is given'),
  ...forbid(['engine'], 'generate', 'the engine knows no step or strategy'),
  ...forbid(
    [
      'plan',
      'patch',
      'context',
      'toolchains',
      'depcheck',
      'secrets',
      'policy',
      'guards',
      'ports',
      'generate',
      'observe',
      'store',
      'config',
      'util',
    ],
    'steps',
    'steps are run by the engine; nothing below them imports one',
  ),
  // Steps implement the engine's tool contract (engine/types.ts) and nothing else of it.
  {
    target: src('steps'),
    from: src('engine'),
    except: ['./types.ts'],
    message: "a step may use the engine's tool contract (engine/types.ts) only",
  },
  ...forbid(
    ['plan', 'patch', 'context', 'toolchains', 'depcheck', 'secrets', 'policy', 'guards', 'ports', 'generate', 'config', 'util'],
    'engine',
    'the engine runs plans; what it runs does not import it',
  ),
];

export default tseslint.config(
  { ignores: ['dist/**', 'build/**', 'node_modules/**', 'coverage/**', '.autodev-bench/**'] },
  {
    files: ['src/**/*.ts', 'src/**/*.tsx', 'tests/**/*.ts', 'tests/**/*.tsx'],
    extends: [tseslint.configs.recommended],
    plugins: { 'import-x': importX },
    settings: {
      'import-x/resolver-next': [createTypeScriptImportResolver({ project: './tsconfig.json' })],
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts', '.tsx'] },
      'import-x/extensions': ['.ts', '.tsx', '.js'],
    },
    rules: {
      // Parsed TOML/JSON documents (manifests, lockfiles, package.json) and zod's internals are untyped
      // by nature; narrowing each access would be noise, and tsc still checks everything else.
      '@typescript-eslint/no-explicit-any': 'off',
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none', destructuredArrayIgnorePattern: '^_' },
      ],
    },
  },
  {
    files: ['src/**/*.ts', 'src/**/*.tsx'],
    rules: {
      'import-x/no-restricted-paths': ['error', { zones: layering }],
    },
  },
  {
    // Pure layers: the planner, the patch applier and context selection touch no port (a port's
    // interface, imported as a type, is not the port).
    files: ['src/plan/**/*.ts', 'src/patch/**/*.ts', 'src/context/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['**/ports/**'], message: 'plan/, patch/ and context/ are pure: no port (types only)', allowTypeImports: true },
          ],
        },
      ],
    },
  },
);
