// Shared Vitest setup for every @ml package. Workspace packages resolve each other through the
// "@ml/source" export condition, so tests run against TypeScript sources with no build step.
import { defaultServerConditions, defaultClientConditions } from 'vite';
import { defineConfig } from 'vitest/config';

/** The export condition that maps `@ml/*` imports to `src/` during development and tests. */
export const SOURCE_CONDITION = '@ml/source';

/**
 * Vitest config for one package: Node environment, sources through the `@ml/source` condition.
 * @param {import('vitest/config').UserConfig['test']} [test] extra `test` options merged over the defaults
 */
export function mlVitestConfig(test = {}) {
  return defineConfig({
    resolve: { conditions: [SOURCE_CONDITION, ...defaultClientConditions] },
    ssr: { resolve: { conditions: [SOURCE_CONDITION, ...defaultServerConditions] } },
    test: {
      environment: 'node',
      include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
      testTimeout: 60_000,
      hookTimeout: 60_000,
      pool: 'forks',
      ...test,
    },
  });
}
