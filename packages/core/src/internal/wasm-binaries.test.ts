import { describe, expect, test } from 'vitest';

import { BackendError } from '../errors.js';
import {
  defaultWasmPrefix,
  missingWasmBinaryError,
  probeWasmBinary,
  wasmBinaryName,
  wasmBinaryUrl,
} from './wasm-binaries.js';

// The browser side of useBackend('wasm'): where the binary is looked for, and the BackendError when it is
// not there. (The real page is exercised by apps/playground's Chromium tests.)

type Reply = { status: number; type: string; body: number[] };
function fakeFetch(reply: Reply | Error): (url: string) => Promise<never> {
  return (() =>
    reply instanceof Error
      ? Promise.reject(reply)
      : Promise.resolve({
          ok: reply.status >= 200 && reply.status < 300,
          status: reply.status,
          headers: { get: (h: string) => (h.toLowerCase() === 'content-type' ? reply.type : null) },
          arrayBuffer: () => Promise.resolve(new Uint8Array(reply.body).buffer),
        })) as unknown as (url: string) => Promise<never>;
}

describe('wasm binaries in a bundled page', () => {
  test('by default they are looked for in ml-wasm/ beside the chunk holding @ml/core', () => {
    expect(defaultWasmPrefix('https://site.example/app/assets/index-3f2a.js')).toBe(
      'https://site.example/app/assets/ml-wasm/',
    );
    expect(wasmBinaryName(false)).toBe('tfjs-backend-wasm-simd.wasm');
    expect(wasmBinaryName(true)).toBe('tfjs-backend-wasm-threaded-simd.wasm');
    expect(
      wasmBinaryUrl('/static/wasm/', 'tfjs-backend-wasm-simd.wasm', 'https://a.example/x/page.html'),
    ).toBe('https://a.example/static/wasm/tfjs-backend-wasm-simd.wasm');
    expect(
      wasmBinaryUrl(
        { 'tfjs-backend-wasm-simd.wasm': 'simd.wasm' },
        'tfjs-backend-wasm-simd.wasm',
        'https://a.example/x/',
      ),
    ).toBe('https://a.example/x/simd.wasm');
  });

  test('a served WebAssembly module passes; a 404, a network error or an HTML fallback page do not', async () => {
    const url = 'https://a.example/assets/ml-wasm/tfjs-backend-wasm-simd.wasm';
    expect(
      await probeWasmBinary(
        url,
        fakeFetch({ status: 206, type: 'application/wasm', body: [0, 97, 115, 109, 1, 0, 0, 0] }),
      ),
    ).toBeNull();
    expect(await probeWasmBinary(url, fakeFetch({ status: 404, type: 'text/plain', body: [] }))).toBe(
      'the server answered HTTP 404',
    );
    expect(await probeWasmBinary(url, fakeFetch(new Error('Failed to fetch')))).toBe(
      'fetching it failed (Failed to fetch)',
    );
    // Vite's dev server answers any unknown path with index.html and status 200.
    expect(
      await probeWasmBinary(url, fakeFetch({ status: 200, type: 'text/html', body: [60, 33, 100, 111] })),
    ).toBe(
      'the server sent text/html that is not a WebAssembly module (a fallback page for a missing file?)',
    );
  });

  test('the BackendError says where it looked and how to fix it', () => {
    const url = 'https://a.example/assets/ml-wasm/tfjs-backend-wasm-simd.wasm';
    const byDefault = missingWasmBinaryError(url, 'the server answered HTTP 404', true);
    expect(byDefault).toBeInstanceOf(BackendError);
    expect(byDefault.name).toBe('BackendError');
    expect(byDefault.message).toBe(
      "useBackend('wasm'): the WebAssembly binary tfjs-backend-wasm-simd.wasm is not at " +
        'https://a.example/assets/ml-wasm/tfjs-backend-wasm-simd.wasm: the server answered HTTP 404. ' +
        "With Vite, add `mlBackends()` from '@ml/core/vite' to the config's plugins (it ships the binaries to " +
        'that folder); with another bundler, copy node_modules/@tensorflow/tfjs-backend-wasm/dist/*.wasm to a ' +
        "served folder and call useBackend('wasm', { wasmPaths: '<that folder's URL>/' }).",
    );
    expect(missingWasmBinaryError(url, 'the server answered HTTP 404', false).message).toMatch(
      /HTTP 404\. Copy node_modules\/@tensorflow\/tfjs-backend-wasm\/dist\/\*\.wasm to the folder wasmPaths names, or fix wasmPaths\.$/,
    );
  });
});
