// Lint: typescript-eslint type-checked rules for TS and Vue, plus the layering rules of
// ARCHITECTURE.md as import restrictions (tests/unit/layering.test.ts checks the same by scanning).
import pluginVue from 'eslint-plugin-vue';
import { withVueTs, vueTsConfigs } from '@vue/eslint-config-typescript';
import globals from 'globals';

const electronOnly = {
  group: ['electron', 'electron/*'],
  message: 'Only the Electron entry, the preload and src-main/platform/ may import electron (ARCHITECTURE.md).',
};

export default withVueTs(
  { ignores: ['out/**', 'dist/**', 'node_modules/**', 'test-artifacts/**', '**/*.cjs', '**/fixtures/**'] },
  pluginVue.configs['flat/recommended'],
  vueTsConfigs.recommendedTypeChecked,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  {
    files: ['src-main/**/*.ts', 'tests/**/*.ts'],
    ignores: ['src-main/index.ts', 'src-main/preload/**', 'src-main/platform/**'],
    rules: { 'no-restricted-imports': ['error', { patterns: [electronOnly] }] },
  },
  {
    files: ['src-main/core/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            electronOnly,
            { group: ['**/platform/**', '**/cli/**', '**/server/**', '**/api/**', '**/contract/**'], message: 'core is the bottom layer: it never imports its adapters.' },
          ],
        },
      ],
    },
  },
  {
    files: ['src-main/api/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [electronOnly, { group: ['**/platform/**', '**/cli/**', '**/server/**'], message: 'The console backend is plain Node under its transports.' }] },
      ],
    },
  },
  {
    files: ['src-renderer/**/*.ts', 'src-renderer/**/*.vue'],
    languageOptions: { globals: { ...globals.browser } },
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['electron', 'electron/*', 'ssh2', 'ssh2/*', 'node:*'], message: 'The renderer talks only to the typed API; no Electron, ssh2 or Node modules.' },
            { group: ['**/src-main/**'], message: 'The renderer talks only to the typed API, not to main-process code.' },
          ],
        },
      ],
    },
  },
);
