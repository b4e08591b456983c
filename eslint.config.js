// Lint rules that keep the architecture honest (VS Code / Theia style layering):
// only main/app touches Electron; pure folders touch neither Node nor the DOM; the renderer
// never reaches Node-side code and talks to main only through preload's typed API.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import vue from 'eslint-plugin-vue';
import prettier from 'eslint-config-prettier';
import globals from 'globals';

const NODE_BUILTINS = [
  'fs',
  'path',
  'os',
  'child_process',
  'worker_threads',
  'zlib',
  'crypto',
  'http',
  'https',
  'net',
  'url',
  'stream',
  'util',
  'events',
  'buffer',
  'readline',
  'module',
  'perf_hooks',
  'process',
];
const nodeImports = [
  { group: ['node:*'], message: 'Pure and renderer code must not use Node.' },
  ...NODE_BUILTINS.map((name) => ({
    group: [name, `${name}/*`],
    message: 'Pure and renderer code must not use Node.',
  })),
];
const electronOnlyInApp = {
  group: ['electron', 'electron/*'],
  message: 'Only main/app may import electron.',
};
const NODE_SIDE = ['app', 'ipc', 'cli', 'imaging', 'model', 'workspace', 'synth', 'io', 'services', 'export'];

export default tseslint.config(
  {
    ignores: [
      '.scratch-*/**',
      'node_modules/**',
      'out/**',
      'dist/**',
      'coverage/**',
      'test-results/**',
      'models/**',
      'test/fixtures/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  ...vue.configs['flat/recommended'],
  {
    files: ['**/*.vue'],
    languageOptions: { parserOptions: { parser: tseslint.parser } },
  },
  {
    languageOptions: { globals: { ...globals.node }, ecmaVersion: 2023, sourceType: 'module' },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-imports': ['error', { patterns: [electronOnlyInApp] }],
    },
  },
  {
    // The preload entry is the one other place Electron is allowed: it exposes preload/api via contextBridge.
    files: ['main/app/**', 'preload/index.ts'],
    rules: { 'no-restricted-imports': 'off' },
  },
  {
    files: ['main/core/**', 'main/masks/**', 'main/metrics/**', 'main/kernels/**'],
    rules: { 'no-restricted-imports': ['error', { patterns: [electronOnlyInApp, ...nodeImports] }] },
  },
  {
    files: ['renderer/**'],
    languageOptions: { globals: { ...globals.browser } },
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            electronOnlyInApp,
            ...nodeImports,
            ...NODE_SIDE.map((d) => ({
              group: [`**/main/${d}/**`, `**/main/${d}`],
              message: 'The renderer reaches main only through preload/api.',
            })),
          ],
        },
      ],
    },
  },
  prettier,
);
