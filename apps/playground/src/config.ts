// The playground's Vite configuration, as a function so that the CLI (main.ts), the e2e tests and
// vite.config.ts share it.
import { fileURLToPath } from 'node:url';

import { defaultClientConditions, type InlineConfig } from 'vite';

import { mlBackends } from '@ml/core/vite';

import { mnistSubset } from './mnist-subset.js';

/** apps/playground/ (holds index.html). */
export const APP_DIR = fileURLToPath(new URL('..', import.meta.url));

/** Where `build` writes the static site by default. */
export const DEFAULT_OUT_DIR = fileURLToPath(new URL('../dist', import.meta.url));

/** The export condition that maps `@ml/*` imports to their TypeScript sources. */
export const SOURCE_CONDITION = '@ml/source';

/** Options of {@link playgroundConfig}. */
export interface PlaygroundConfigOptions {
  /** Build output folder (default apps/playground/dist). */
  outDir?: string;
  /** Vite's log level (default 'info'). */
  logLevel?: InlineConfig['logLevel'];
}

/**
 * The Vite config of the playground: workspace packages from their sources, @ml/core's plugin for the
 * tfjs .wasm binaries, module workers, and a relative base so the built site works from any folder.
 */
export function playgroundConfig(options: PlaygroundConfigOptions = {}): InlineConfig {
  return {
    configFile: false,
    root: APP_DIR,
    base: './',
    logLevel: options.logLevel ?? 'info',
    plugins: [mlBackends(), mnistSubset()],
    resolve: {
      conditions: [SOURCE_CONDITION, ...defaultClientConditions],
    },
    worker: { format: 'es' },
    build: {
      outDir: options.outDir ?? DEFAULT_OUT_DIR,
      emptyOutDir: true,
      target: 'es2022',
      // tfjs and its backends are large; the page itself is small and the worker loads them lazily.
      chunkSizeWarningLimit: 2000,
    },
  };
}
