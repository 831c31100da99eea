// Root config for watch mode across the monorepo (`pnpm test:watch`); CI runs each package on its own.
import { defineConfig } from 'vitest/config';

export default defineConfig({ test: { projects: ['packages/*', 'apps/*'] } });
