// Shared ESLint flat configs for @ml packages (`library`) and demo apps (`app`).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const base = tseslint.config(
  { ignores: ['**/dist/**', '**/out/**', '**/node_modules/**', '**/*.d.ts'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
);

/** Libraries never print: only apps and CLIs talk to the console. */
export const library = tseslint.config(...base, {
  files: ['src/**/*.ts'],
  ignores: ['src/**/*.test.ts', 'src/cli/**'],
  rules: { 'no-console': 'error' },
});

/** Demo apps own their terminal output. */
export const app = base;

export default library;
