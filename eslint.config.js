import js from '@eslint/js'
import {createTypeScriptImportResolver} from 'eslint-import-resolver-typescript'
import {importX} from 'eslint-plugin-import-x'
import tseslint from 'typescript-eslint'

import layers from './eslint-rules/layers.js'

// The floors of the house, from the top down: a file may import from its own floor or below.
// A file's floor is the first entry that matches it; anything else in src/ is on the ground floor.
export const floors = [
  {name: 'commands', files: ['src/commands/', 'src/hooks/', 'src/help.ts']},
  {name: 'change command', files: ['src/change-command.ts']},
  {name: 'base command', files: ['src/base-command.ts']},
  {name: 'output', files: ['src/output/', 'src/exporter/']},
  {name: 'change', files: ['src/change/', 'src/watch/', 'src/doctor/']},
  {name: 'flags and event hubs', files: ['src/flags.ts', 'src/profiles.ts', 'src/eventhubs/']},
  {name: 'store', files: ['src/store/', 'src/signals.ts', 'src/time.ts']},
  {name: 'ground', files: ['src/']},
]

// Folders closed to others: the product never reaches into its tests, benchmarks or local stand-ins;
// the benchmark and the local stand-ins never reach into the tests.
export const forbidden = [
  {from: 'src/', to: ['test/', 'bench/', 'local/']},
  {from: 'bench/', to: ['test/']},
  {from: 'local/', to: ['test/', 'bench/']},
]

export default tseslint.config(
  {ignores: ['dist/', 'node_modules/', 'bench/results.json']},
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        {argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_'},
      ],
      'no-console': 'error',
    },
  },
  {
    files: ['**/*.ts', '**/*.js'],
    plugins: {'import-x': importX, local: {rules: {layers}}},
    settings: {
      'import-x/extensions': ['.ts', '.js'],
      'import-x/parsers': {'@typescript-eslint/parser': ['.ts']},
      'import-x/resolver-next': [createTypeScriptImportResolver({project: 'tsconfig.json'})],
    },
    rules: {
      // A circle of runtime imports; `import type` carries nothing at run time and is not followed.
      'import-x/no-cycle': ['error', {ignoreExternal: true}],
      'local/layers': ['error', {floors, forbidden}],
    },
  },
  {
    files: ['test/**/*.ts'],
    rules: {'no-console': 'off', '@typescript-eslint/no-unused-expressions': 'off'},
  },
  {
    files: ['**/*.js'],
    languageOptions: {globals: {process: 'readonly', console: 'readonly', setTimeout: 'readonly'}},
  },
)
