// ESLint flat config: typescript-eslint strict, plus rules that keep the layers honest. The layer
// rules are generated from the tables in docs/architecture.md (scripts/lint/layers.mjs).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { layerBlocks } from './scripts/lint/layers.mjs';

/** Kept in every layer block too: `no-restricted-syntax` options are replaced, not merged. */
const NO_ENUMS = {
  selector: 'TSEnumDeclaration',
  message: 'Use an `as const` array and a derived union instead of an enum.',
};

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', '.k8s/**', '.state/**', 'test/k8s/**'] },
  js.configs.recommended,
  ...tseslint.configs.strict,
  {
    files: ['**/*.mjs', '**/*.js'],
    languageOptions: {
      globals: { process: 'readonly', console: 'readonly', Buffer: 'readonly', URL: 'readonly' },
    },
  },
  {
    languageOptions: { ecmaVersion: 2023, sourceType: 'module' },
    rules: {
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-syntax': ['error', NO_ENUMS],
    },
  },
  {
    files: ['src/**/*.ts'],
    ignores: ['src/config/**'],
    rules: {
      'no-restricted-properties': [
        'error',
        {
          object: 'process',
          property: 'env',
          message: 'Read settings through src/config (loadConfiguration) and pass them in.',
        },
      ],
    },
  },
  // One block per source directory, each with every import ban that applies there.
  ...layerBlocks({ root: import.meta.dirname, syntax: [NO_ENUMS] }),
);
