// ESLint flat config: typescript-eslint strict, plus rules that keep the layers honest.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

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
      'no-restricted-syntax': [
        'error',
        {
          selector: 'TSEnumDeclaration',
          message: 'Use an `as const` array and a derived union instead of an enum.',
        },
      ],
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
  {
    files: ['src/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            {
              name: 'child_process',
              message: 'The product never shells out; use a typed port (ClusterGateway).',
            },
            {
              name: 'node:child_process',
              message: 'The product never shells out; use a typed port (ClusterGateway).',
            },
          ],
        },
      ],
    },
  },
  {
    // Configuration sits just above the domain: it is read by every layer, so it reads none of them.
    files: ['src/config/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            { name: 'child_process', message: 'The product never shells out.' },
            { name: 'node:child_process', message: 'The product never shells out.' },
          ],
          patterns: [
            {
              group: ['../*', '!../domain', '!../planning', '../planning/*', '!../planning/policy.js'],
              message:
                'config imports only the domain (and, until the policy schema moves, planning/policy.js); modules receive the configuration as a parameter.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['src/domain/**/*.ts'],
    // Tests beside the domain may use test helpers (e.g. the simulator's selector parser as an oracle).
    ignores: ['src/domain/**/*.test.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [{ group: ['../*', '!./*'], message: 'domain imports nothing of ours outside domain/.' }],
        },
      ],
    },
  },
  {
    files: ['src/analysis/**/*.ts', 'src/planning/**/*.ts', 'src/context/**/*.ts'],
    ignores: ['src/analysis/ai/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            {
              name: '@kubernetes/client-node',
              message: 'Depend on the ClusterGateway port, not the client library, so rules run offline.',
            },
            { name: 'child_process', message: 'The product never shells out.' },
          ],
          patterns: [
            {
              group: ['ai', '@ai-sdk/*', '../analysis/ai/*', '../ai/*'],
              message: 'Risk and planning never depend on the AI layer.',
            },
          ],
        },
      ],
    },
  },
  {
    // The AI layer is where the model SDKs live; it still never touches the client library or a shell.
    files: ['src/analysis/ai/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            { name: '@kubernetes/client-node', message: 'Use the ClusterGateway port.' },
            { name: 'child_process', message: 'The product never shells out.' },
            { name: 'node:child_process', message: 'The product never shells out.' },
          ],
        },
      ],
    },
  },
);
