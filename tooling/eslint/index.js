// Shared ESLint flat configs for @ml packages (`library`), demo apps (`app`) and the repo's own scripts
// (`scripts`). Linting is type-aware: every file is checked with its package's tsconfig.json (found by
// typescript-eslint's project service), so promise mistakes — a floating `runner.fit(...)`, an async
// callback passed where a sync one is expected — are errors.
//
// Each package lints everything it holds (`eslint .`: src, bench, test, scripts and its config files)
// from its own folder: the project service looks up each file's nearest tsconfig.json.
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

/**
 * Plain JavaScript files that a package's tsconfig.json does not include (eslint.config.js, Node scripts):
 * checked with a default project. Keep it to a few files per package; each one slows linting.
 */
const DEFAULT_PROJECT_FILES = ['*.js', '*.mjs', '*.cjs', 'scripts/*.mjs', 'test/*.mjs', 'bench/*.mjs'];

/** The shared rules; `defaultProjectFiles` are the files linted with a default project (see above). */
const configure = (defaultProjectFiles) =>
  tseslint.config(
    {
      ignores: [
        '**/dist/**',
        '**/out/**',
        '**/node_modules/**',
        '**/coverage/**',
        '**/fixtures/**',
        '**/.turbo/**',
        '**/*.d.ts',
        '**/*.generated.*',
      ],
    },
    js.configs.recommended,
    ...tseslint.configs.recommendedTypeChecked,
    {
      languageOptions: {
        parserOptions: {
          projectService: { allowDefaultProject: defaultProjectFiles },
          tsconfigRootDir: process.cwd(),
        },
      },
      linterOptions: { reportUnusedDisableDirectives: 'error' },
      rules: {
        '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
        '@typescript-eslint/consistent-type-imports': 'error',
        // A promise nobody awaits loses its errors; an async function passed where a callback's result
        // is ignored runs unawaited (the runner's callbacks are typed `void | Promise<void>` because it
        // awaits them).
        '@typescript-eslint/no-floating-promises': 'error',
        '@typescript-eslint/no-misused-promises': 'error',
        '@typescript-eslint/await-thenable': 'error',
      },
    },
    {
      // Plain JavaScript has no declared types (JSON.parse gives `any`), so the no-unsafe-* rules would
      // flag every parsed manifest; the promise rules above still apply.
      files: ['**/*.js', '**/*.mjs', '**/*.cjs'],
      languageOptions: { globals: globals.node },
      rules: {
        // `/* global process */` comments are redundant with the Node globals, not errors.
        'no-redeclare': ['error', { builtinGlobals: false }],
        '@typescript-eslint/no-unsafe-argument': 'off',
        '@typescript-eslint/no-unsafe-assignment': 'off',
        '@typescript-eslint/no-unsafe-call': 'off',
        '@typescript-eslint/no-unsafe-member-access': 'off',
        '@typescript-eslint/no-unsafe-return': 'off',
      },
    },
  );

const base = configure(DEFAULT_PROJECT_FILES);

/** Libraries never print: only apps and CLIs talk to the console. */
export const library = tseslint.config(...base, {
  files: ['src/**/*.ts'],
  ignores: ['src/**/*.test.ts', 'src/cli/**'],
  rules: { 'no-console': 'error' },
});

/** Demo apps own their terminal output. */
export const app = base;

/**
 * The repo's own scripts (plain Node ES modules run without a build, linted from the root): the root
 * tsconfig.json includes scripts/, so only root-level config files use a default project.
 */
export const scripts = configure(['*.js']);

export default library;
