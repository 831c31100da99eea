import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, posix } from 'node:path';

import { WASM_BINARIES, WASM_DIR } from './internal/wasm-binaries.js';

// `@ml/core/vite`: a Vite plugin that makes `useBackend` work in a bundled page with no other setup. It
// ships tfjs-backend-wasm's .wasm binaries where @ml/core looks for them by default (the `ml-wasm/` folder
// beside the bundle chunk that holds @ml/core: `<assetsDir>/ml-wasm/` in a build, served from
// node_modules by the dev server), and turns an optional backend package that is not installed into a
// module that fails on import, so the build succeeds and `useBackend` says what to install.
// Runs in Node (inside Vite), never in the page.

/** The optional backend packages @ml/core imports by name; any of them may be absent. */
const OPTIONAL_BACKENDS = [
  '@tensorflow/tfjs-backend-cpu',
  '@tensorflow/tfjs-backend-wasm',
  '@tensorflow/tfjs-backend-webgl',
  '@tensorflow/tfjs-backend-webgpu',
];
const MISSING = '\0ml-missing-backend:';

/** The few Vite plugin hooks this plugin uses, typed structurally so @ml/core needs no Vite types. */
export interface MlVitePlugin {
  name: string;
  enforce: 'pre';
  configResolved(config: { build: { assetsDir: string; ssr?: unknown } }): void;
  configureServer(server: {
    middlewares: {
      use(
        fn: (
          req: { url?: string },
          res: { setHeader(name: string, value: string): void; end(body: Uint8Array): void },
          next: () => void,
        ) => void,
      ): void;
    };
  }): void;
  resolveId(
    this: { resolve(id: string, importer?: string, options?: { skipSelf?: boolean }): Promise<unknown> },
    id: string,
    importer?: string,
  ): Promise<string | null>;
  load(id: string): string | null;
  generateBundle(this: {
    emitFile(file: { type: 'asset'; fileName: string; source: Uint8Array }): string;
    warn(message: string): void;
  }): void;
}

/** Options of {@link mlBackends}. */
export interface MlBackendsOptions {
  /** Folder of tfjs-backend-wasm's `dist/` (default: resolved from @ml/core's location). */
  wasmDist?: string;
}

function findWasmDist(): string | null {
  try {
    const require = createRequire(import.meta.url);
    return join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist');
  } catch {
    return null;
  }
}

const BINARY_REQUEST = new RegExp(`/${WASM_DIR}(tfjs-backend-wasm[\\w-]*\\.wasm)(?:\\?.*)?$`);

/**
 * The Vite plugin for pages that use @ml: `plugins: [mlBackends()]` in vite.config. Copies the wasm
 * backend's binaries into the build (`<assetsDir>/ml-wasm/`), serves them in `vite dev`, and lets the build
 * succeed when an optional backend package (webgl, webgpu, …) is not installed.
 */
export function mlBackends(options: MlBackendsOptions = {}): MlVitePlugin {
  const wasmDist = options.wasmDist ?? findWasmDist();
  let assetsDir = 'assets';
  let ssr = false;
  const binary = (name: string): Uint8Array | null => {
    if (wasmDist === null || !(WASM_BINARIES as readonly string[]).includes(name)) return null;
    const path = join(wasmDist, name);
    return existsSync(path) ? readFileSync(path) : null;
  };
  return {
    name: 'ml-backends',
    enforce: 'pre',
    configResolved(config) {
      assetsDir = config.build.assetsDir;
      ssr = Boolean(config.build.ssr);
    },
    configureServer(server) {
      server.middlewares.use((req, res, next) => {
        const name = BINARY_REQUEST.exec(req.url ?? '')?.[1];
        const body = name === undefined ? null : binary(name);
        if (body === null) return next();
        res.setHeader('Content-Type', 'application/wasm');
        res.end(body);
      });
    },
    async resolveId(id, importer) {
      if (!OPTIONAL_BACKENDS.includes(id)) return null;
      const found = await this.resolve(id, importer, { skipSelf: true });
      return found === null ? `${MISSING}${id}` : null;
    },
    load(id) {
      if (!id.startsWith(MISSING)) return null;
      const pkg = id.slice(MISSING.length);
      return `throw new Error(${JSON.stringify(`${pkg} is not installed (npm i ${pkg}@4.22.0)`)});\n`;
    },
    generateBundle() {
      if (ssr) return;
      for (const name of WASM_BINARIES) {
        const source = binary(name);
        if (source === null) {
          this.warn(
            `ml-backends: ${name} not found (is @tensorflow/tfjs-backend-wasm installed?); useBackend('wasm') will fail`,
          );
          continue;
        }
        this.emitFile({ type: 'asset', fileName: posix.join(assetsDir, WASM_DIR, name), source });
      }
    },
  };
}
