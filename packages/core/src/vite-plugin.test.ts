import { describe, expect, test } from 'vitest';

import { mlBackends } from './vite-plugin.js';

// The Vite plugin's hooks, driven as Vite drives them. (A real `vite build` page trained in Chromium on
// wasm, webgpu, webgl and cpu with it; see README "In a web page".)
describe('mlBackends()', () => {
  test('a build emits the three wasm binaries into <assetsDir>/ml-wasm/', () => {
    const plugin = mlBackends();
    plugin.configResolved({ build: { assetsDir: 'static' } });
    const emitted: { fileName: string; size: number; magic: number[] }[] = [];
    const warnings: string[] = [];
    plugin.generateBundle.call({
      emitFile: (f) => {
        emitted.push({ fileName: f.fileName, size: f.source.length, magic: [...f.source.subarray(0, 4)] });
        return f.fileName;
      },
      warn: (m) => warnings.push(m),
    });
    expect(warnings).toEqual([]);
    expect(emitted.map((e) => e.fileName)).toEqual([
      'static/ml-wasm/tfjs-backend-wasm.wasm',
      'static/ml-wasm/tfjs-backend-wasm-simd.wasm',
      'static/ml-wasm/tfjs-backend-wasm-threaded-simd.wasm',
    ]);
    for (const e of emitted) expect(e.magic).toEqual([0, 97, 115, 109]); // "\0asm"
  });

  test('an SSR build emits nothing; a missing tfjs-backend-wasm is a warning', () => {
    const ssr = mlBackends();
    ssr.configResolved({ build: { assetsDir: 'assets', ssr: true } });
    let emits = 0;
    ssr.generateBundle.call({ emitFile: () => String(++emits), warn: () => {} });
    expect(emits).toBe(0);
    const none = mlBackends({ wasmDist: '/nonexistent' });
    none.configResolved({ build: { assetsDir: 'assets' } });
    const warnings: string[] = [];
    none.generateBundle.call({ emitFile: () => 'x', warn: (m) => warnings.push(m) });
    expect(warnings[0]).toBe(
      "ml-backends: tfjs-backend-wasm.wasm not found (is @tensorflow/tfjs-backend-wasm installed?); useBackend('wasm') will fail",
    );
  });

  test('the dev server serves the binaries at any path ending in /ml-wasm/<file>', () => {
    const plugin = mlBackends();
    let handler:
      Parameters<Parameters<typeof plugin.configureServer>[0]['middlewares']['use']>[0] | undefined;
    plugin.configureServer({ middlewares: { use: (fn) => (handler = fn) } });
    const serve = (url: string) => {
      const headers: Record<string, string> = {};
      let body: Uint8Array | null = null;
      let passed = false;
      handler!(
        { url },
        { setHeader: (k, v) => (headers[k] = v), end: (b) => (body = b) },
        () => (passed = true),
      );
      return { headers, body: body as Uint8Array | null, passed };
    };
    const hit = serve('/@fs/work/app/node_modules/@ml/core/dist/ml-wasm/tfjs-backend-wasm-simd.wasm?v=1');
    expect(hit.headers['Content-Type']).toBe('application/wasm');
    expect([...hit.body!.subarray(0, 4)]).toEqual([0, 97, 115, 109]);
    expect(serve('/src/main.ts').passed).toBe(true);
    expect(serve('/ml-wasm/other.wasm').passed).toBe(true);
  });

  test('an optional backend package that is not installed becomes a module that fails on import', async () => {
    const plugin = mlBackends();
    const ctx = (found: boolean) => ({ resolve: () => Promise.resolve(found ? { id: 'x' } : null) });
    expect(await plugin.resolveId.call(ctx(true), '@tensorflow/tfjs-backend-webgl', '/a.js')).toBeNull();
    expect(await plugin.resolveId.call(ctx(false), 'left-pad', '/a.js')).toBeNull();
    const id = await plugin.resolveId.call(ctx(false), '@tensorflow/tfjs-backend-webgl', '/a.js');
    expect(id).toBe('\0ml-missing-backend:@tensorflow/tfjs-backend-webgl');
    expect(plugin.load(id!)).toBe(
      'throw new Error("@tensorflow/tfjs-backend-webgl is not installed (npm i @tensorflow/tfjs-backend-webgl@4.22.0)");\n',
    );
    expect(plugin.load('/src/main.ts')).toBeNull();
  });
});
