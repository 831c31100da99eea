import { BackendError } from '../errors.js';

// Where a bundled page finds tfjs-backend-wasm's .wasm binaries, and a check that they are really there
// before tfjs tries (its own failure is an opaque abort, or a console warning and a silent `false`).

/** The binaries tfjs-backend-wasm 4.22 may load: plain, SIMD, and SIMD with threads. */
export const WASM_BINARIES = [
  'tfjs-backend-wasm.wasm',
  'tfjs-backend-wasm-simd.wasm',
  'tfjs-backend-wasm-threaded-simd.wasm',
] as const;

/** The folder, next to the bundle chunk holding @ml/core, where `mlBackends()` puts the binaries. */
export const WASM_DIR = 'ml-wasm/';

/** What `useBackend('wasm', { wasmPaths })` accepts: a URL prefix, or a URL per binary. */
export type WasmPaths = string | Readonly<Record<string, string>>;

/** The binary tfjs will fetch: SIMD, or SIMD with threads where the page may use threads. */
export function wasmBinaryName(threads: boolean): (typeof WASM_BINARIES)[number] {
  return threads ? 'tfjs-backend-wasm-threaded-simd.wasm' : 'tfjs-backend-wasm-simd.wasm';
}

/** The default prefix in a browser: {@link WASM_DIR} beside `moduleUrl` (the chunk holding @ml/core). */
export function defaultWasmPrefix(moduleUrl: string): string {
  return new URL(WASM_DIR, moduleUrl).href;
}

/** Checks `paths` and returns it with a prefix ending in '/'. */
export function normalizeWasmPaths(paths: unknown): WasmPaths {
  if (typeof paths === 'string' && paths.length > 0) return paths.endsWith('/') ? paths : `${paths}/`;
  if (typeof paths === 'object' && paths !== null) {
    const map = paths as Record<string, unknown>;
    const missing = WASM_BINARIES.filter((f) => typeof map[f] !== 'string');
    if (missing.length === 0) return map as Record<string, string>;
    throw new BackendError(
      `useBackend: wasmPaths as a map must give a URL for each of ${WASM_BINARIES.join(', ')}; missing ${missing.join(', ')}`,
    );
  }
  throw new BackendError(
    `useBackend: wasmPaths must be a URL prefix (a non-empty string) or a map of the three binaries to URLs, got ${JSON.stringify(paths)}`,
  );
}

/** The URL of `file` under `paths`, resolved against `base` (the page) as fetch would. */
export function wasmBinaryUrl(paths: WasmPaths, file: string, base: string | undefined): string {
  const raw = typeof paths === 'string' ? `${paths}${file}` : (paths[file] ?? file);
  try {
    return new URL(raw, base).href;
  } catch {
    return raw;
  }
}

type FetchLike = (
  url: string,
  init?: { headers?: Record<string, string> },
) => Promise<{
  ok: boolean;
  status: number;
  headers: { get(name: string): string | null };
  arrayBuffer(): Promise<ArrayBuffer>;
}>;

/**
 * Fetches the start of `url` and returns null when it is a WebAssembly module, else why not (an HTTP
 * error, a network error, or another file such as a dev server's index.html fallback).
 */
export async function probeWasmBinary(url: string, fetchImpl: FetchLike): Promise<string | null> {
  let res: Awaited<ReturnType<FetchLike>>;
  try {
    res = await fetchImpl(url, { headers: { Range: 'bytes=0-7' } });
  } catch (e) {
    return `fetching it failed (${(e as Error).message})`;
  }
  if (!res.ok) return `the server answered HTTP ${res.status}`;
  const head = new Uint8Array(await res.arrayBuffer()).subarray(0, 4);
  const magic = [0x00, 0x61, 0x73, 0x6d]; // "\0asm"
  if (head.length === 4 && magic.every((b, i) => head[i] === b)) return null;
  return `the server sent ${res.headers.get('content-type') ?? 'a file'} that is not a WebAssembly module (a fallback page for a missing file?)`;
}

/** The BackendError for a binary that is not where tfjs would look, with the ways to fix it. */
export function missingWasmBinaryError(url: string, reason: string, usedDefault: boolean): BackendError {
  return new BackendError(
    `useBackend('wasm'): the WebAssembly binary ${url.split('/').at(-1) ?? url} is not at ${url}: ${reason}. ` +
      (usedDefault
        ? `With Vite, add \`mlBackends()\` from '@ml/core/vite' to the config's plugins (it ships the binaries to ` +
          `that folder); with another bundler, copy node_modules/@tensorflow/tfjs-backend-wasm/dist/*.wasm to a ` +
          `served folder and call useBackend('wasm', { wasmPaths: '<that folder's URL>/' }).`
        : `Copy node_modules/@tensorflow/tfjs-backend-wasm/dist/*.wasm to the folder wasmPaths names, or fix wasmPaths.`),
  );
}
