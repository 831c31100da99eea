import * as tf from '@tensorflow/tfjs-core';

import { BackendError } from './errors.js';
import { installTfjsPatches } from './internal/patches.js';
import {
  TFJS_VERSION,
  backendVersion,
  capturingWarnings,
  coreVersion,
  hasWasmSimd,
  keepProcessHandlers,
  quietCpuBanner,
  servePlatformFiles,
  versionMismatch,
  wasmBackend,
} from './internal/tfjs-seam.js';
import { sharedHeapBinaries } from './internal/shared-heap.js';
import { canUseThreads, isSharedMemory } from './internal/gemm/pool.js';
import {
  defaultWasmPrefix,
  missingWasmBinaryError,
  normalizeWasmPaths,
  probeWasmBinary,
  WASM_BINARIES,
  wasmBinaryName,
  wasmBinaryUrl,
  type WasmPaths,
} from './internal/wasm-binaries.js';
import type { GemmPath } from './internal/gemm/gemm-module.js';
import { gemmPath } from './internal/gemm/probe.js';
import { defaultThreads, setGemmThreads } from './internal/gemm/threads.js';
import { installWasmKernels } from './internal/wasm-kernels.js';
import { adapterLabel, probeWebGl, probeWebGpuAdapter, type AdapterInfo } from './internal/webgpu-adapter.js';

export type { AdapterInfo } from './internal/webgpu-adapter.js';
export type { WasmPaths } from './internal/wasm-binaries.js';

/** Backends @ml knows how to load. `tensorflow` is tfjs-node or tfjs-node-gpu. */
export type BackendName = 'tensorflow' | 'webgpu' | 'webgl' | 'wasm' | 'cpu';

/** Options of {@link useBackend}. */
export interface UseBackendOptions {
  /**
   * Where a browser fetches tfjs-backend-wasm's binaries: a URL prefix ending in '/', or a URL for each of
   * the three files. Default: the `ml-wasm/` folder beside the bundle chunk holding @ml/core, which the
   * `mlBackends()` Vite plugin from `@ml/core/vite` fills. Ignored in Node unless given.
   */
  wasmPaths?: WasmPaths;
  /**
   * Let `'auto'` take a software (fallback) WebGPU adapter or WebGL renderer such as SwiftShader or llvmpipe,
   * which is slower than wasm (default false). Naming `'webgpu'` or `'webgl'` explicitly always accepts one.
   */
  allowFallbackAdapter?: boolean;
  /**
   * Threads @ml's wasm matrix products (and the convolutions lowered to them) may use: large products are
   * split across worker threads over shared memory, small ones stay on the calling thread; results are
   * bit-identical for any count. Default: the machine's cores, at most 8; 1 disables. Where the calling
   * thread cannot block (a browser's main thread, or a page without cross-origin isolation) it is 1.
   */
  threads?: number;
}

/** A backend `useBackend('auto')` skipped, and why. */
export interface SkippedBackend {
  name: BackendName;
  reason: string;
}

/** What {@link backendInfo} reports about the active backend. */
export interface BackendInfo {
  /** The active backend. */
  name: BackendName;
  /** What `useBackend` was asked for. */
  requested: BackendName | 'auto';
  /** Backends tried before `name`, in order, with the reason each was skipped. */
  tried: SkippedBackend[];
  /** The WebGPU adapter, when `name` is 'webgpu'. */
  adapter?: AdapterInfo;
  /** Where the wasm binary came from, when `name` is 'wasm' (paths null: tfjs' own location, as in Node). */
  wasm?: {
    paths: WasmPaths | null;
    binary: string;
    threads: boolean;
    /** The multiply-add of @ml's GEMM: fused (relaxed SIMD) where the engine has it, else SIMD128. */
    gemm: GemmPath;
    /** Threads @ml's GEMM uses for large products (the `threads` option, where the engine allows it). */
    gemmThreads: number;
    /**
     * Whether tfjs' heap is a shared memory, so that the GEMM's threads work on tensors in place (Node,
     * the default binaries); otherwise threaded products copy their operands into the pool's memory.
     */
    sharedHeap: boolean;
  };
}

/** The order `useBackend('auto')` tries backends in Node: fastest first. */
export const BACKEND_PRIORITY: readonly BackendName[] = ['tensorflow', 'webgpu', 'wasm', 'cpu'];

/** The order `useBackend('auto')` tries backends in a browser (or a Web Worker). */
export const BROWSER_BACKEND_PRIORITY: readonly BackendName[] = ['webgpu', 'webgl', 'wasm', 'cpu'];

const KNOWN: readonly BackendName[] = ['tensorflow', 'webgpu', 'webgl', 'wasm', 'cpu'];

// Errors of setup rather than of the environment (a missing .wasm file, a wrong tfjs version): 'auto' stops
// on them instead of quietly falling back to a slower backend.
const setupErrors = new WeakSet<Error>();

function setupError(e: BackendError): BackendError {
  setupErrors.add(e);
  return e;
}

const PACKAGES: Record<Exclude<BackendName, 'tensorflow'>, string> = {
  cpu: '@tensorflow/tfjs-backend-cpu',
  wasm: '@tensorflow/tfjs-backend-wasm',
  webgl: '@tensorflow/tfjs-backend-webgl',
  webgpu: '@tensorflow/tfjs-backend-webgpu',
};

function inNode(): boolean {
  return (
    typeof (globalThis as { process?: { versions?: { node?: string } } }).process?.versions?.node === 'string'
  );
}

/** The order `useBackend('auto')` tries backends in here: {@link BACKEND_PRIORITY} in Node, else the browser's. */
export function backendPriority(): readonly BackendName[] {
  return inNode() ? BACKEND_PRIORITY : BROWSER_BACKEND_PRIORITY;
}

// The literal specifiers let bundlers resolve and split each backend into its own lazily loaded chunk.
async function importBackendPackage(name: Exclude<BackendName, 'tensorflow'>): Promise<unknown> {
  try {
    switch (name) {
      case 'cpu':
        return await import('@tensorflow/tfjs-backend-cpu');
      case 'wasm':
        return await import('@tensorflow/tfjs-backend-wasm');
      case 'webgl':
        return await import('@tensorflow/tfjs-backend-webgl');
      case 'webgpu':
        return await import('@tensorflow/tfjs-backend-webgpu');
    }
  } catch (e) {
    throw new BackendError(
      `useBackend: '${name}' needs ${PACKAGES[name]}@${TFJS_VERSION} installed (${firstLine(e)})`,
      { cause: e },
    );
  }
}

// tfjs-node is Node-only and has a native install step; its name stays out of bundlers' sight.
async function importNodeBinding(): Promise<void> {
  if (!inNode()) throw new BackendError("useBackend: 'tensorflow' (tfjs-node) runs only in Node");
  const errors: string[] = [];
  for (const pkg of ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']) {
    try {
      await import(/* @vite-ignore */ /* webpackIgnore: true */ pkg);
      return;
    } catch (e) {
      errors.push(`${pkg}: ${firstLine(e)}`);
    }
  }
  throw new BackendError(
    `useBackend: 'tensorflow' needs @tensorflow/tfjs-node or -gpu installed (${errors.join('; ')})`,
  );
}

function firstLine(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split('\n')[0] ?? '';
}

function checkVersions(name: BackendName, module: unknown): void {
  const found: Record<string, string | undefined> = { '@tensorflow/tfjs-core': coreVersion() };
  // tfjs-backend-webgpu exports no version; @ml patches nothing of it.
  const version = name === 'tensorflow' ? undefined : backendVersion(PACKAGES[name], module);
  if (name !== 'tensorflow' && version !== undefined) found[PACKAGES[name]] = version;
  const reason = versionMismatch(found);
  if (reason !== null) throw setupError(new BackendError(`useBackend('${name}'): ${reason}`));
}

interface Activation {
  adapter?: AdapterInfo;
  wasm?: BackendInfo['wasm'];
}

async function prepareWebGpu(explicit: boolean, options: UseBackendOptions): Promise<AdapterInfo> {
  const adapter = await probeWebGpuAdapter();
  if (typeof adapter === 'string')
    throw new BackendError(`useBackend: 'webgpu' needs a WebGPU adapter: ${adapter}`);
  if (adapter.isFallbackAdapter && !explicit && options.allowFallbackAdapter !== true) {
    throw new BackendError(
      `useBackend: skipped 'webgpu': the only adapter is a software fallback (${adapterLabel(adapter)}), slower ` +
        `than wasm; pass { allowFallbackAdapter: true } or call useBackend('webgpu') to use it anyway`,
    );
  }
  return adapter;
}

function prepareWebGl(explicit: boolean, options: UseBackendOptions): void {
  if (inNode()) throw new BackendError("useBackend: 'webgl' needs a browser (WebGL)");
  const gl = probeWebGl();
  if (typeof gl === 'string') throw new BackendError(`useBackend: 'webgl' needs WebGL: ${gl}`);
  // A software renderer emulates the GPU on the CPU: 'auto' prefers wasm to it, as to a fallback adapter.
  if (gl.software && !explicit && options.allowFallbackAdapter !== true) {
    throw new BackendError(
      `useBackend: skipped 'webgl': the renderer is software (${gl.renderer}), slower than wasm; pass ` +
        `{ allowFallbackAdapter: true } or call useBackend('webgl') to use it anyway`,
    );
  }
}

interface WasmModule {
  setWasmPaths(paths: WasmPaths, usePlatformFetch?: boolean): void;
}

type WasmBinaryInfo = Omit<NonNullable<BackendInfo['wasm']>, 'gemm' | 'gemmThreads' | 'sharedHeap'>;

async function prepareWasm(module: unknown, options: UseBackendOptions): Promise<WasmBinaryInfo> {
  if (!hasWasmSimd()) {
    throw new BackendError(
      "useBackend: 'wasm' needs WebAssembly SIMD, which this JavaScript engine lacks (Node >= 16.4, Chrome >= 91, " +
        "Firefox >= 89, Safari >= 16.4 have it); @ml's wasm kernels are SIMD code. Use useBackend('cpu') here.",
    );
  }
  const threads = (await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT')) === true;
  const binary = wasmBinaryName(threads);
  if (inNode()) {
    // Node reads the binaries from the installed package, unless told otherwise: the SIMD one with its
    // memory made shared, so that @ml's GEMM threads work on tensors in place (tfjs itself stays
    // single-threaded; nothing else changes), or as shipped where that is unavailable.
    if (options.wasmPaths === undefined) {
      const shared = canUseThreads()
        ? sharedHeapBinaries(servePlatformFiles, WASM_BINARIES, binary)
        : 'threads unavailable';
      if (typeof shared !== 'string') (module as WasmModule).setWasmPaths(shared, true);
      return { paths: null, binary, threads };
    }
    const paths = normalizeWasmPaths(options.wasmPaths);
    (module as WasmModule).setWasmPaths(paths);
    return { paths, binary, threads };
  }
  const usedDefault = options.wasmPaths === undefined;
  const paths = usedDefault ? defaultWasmPrefix(import.meta.url) : normalizeWasmPaths(options.wasmPaths);
  const page = (globalThis as { location?: { href?: string } }).location?.href;
  const url = wasmBinaryUrl(paths, binary, page);
  const missing = await probeWasmBinary(url, globalThis.fetch.bind(globalThis));
  if (missing !== null) throw setupError(missingWasmBinaryError(url, missing, usedDefault));
  try {
    (module as WasmModule).setWasmPaths(paths);
  } catch (e) {
    throw new BackendError(`useBackend('wasm'): setting the binaries' location failed: ${firstLine(e)}`, {
      cause: e,
    });
  }
  return { paths, binary, threads };
}

async function activate(
  name: BackendName,
  explicit: boolean,
  options: UseBackendOptions,
): Promise<Activation> {
  const found: Activation = {};
  let wasmBinary: WasmBinaryInfo | undefined;
  if (name === 'tensorflow') {
    await importNodeBinding();
    checkVersions(name, undefined);
  } else {
    // Probe first: a page without WebGPU should not even download the webgpu backend.
    if (name === 'webgpu') found.adapter = await prepareWebGpu(explicit, options);
    if (name === 'webgl') prepareWebGl(explicit, options);
    const module = await importBackendPackage(name);
    checkVersions(name, module);
    if (name === 'wasm') {
      wasmBinary = await prepareWasm(module, options);
      // The kernels wasm lacks for training (and faster matMul/conv backprops); idempotent.
      installWasmKernels();
    }
  }
  installTfjsPatches();
  const restoreHandlers = name === 'wasm' ? keepProcessHandlers() : () => {};
  let ok: boolean;
  let warnings: string[] = [];
  try {
    ({ result: ok, warnings } = await capturingWarnings(() => tf.setBackend(name)));
  } catch (e) {
    throw new BackendError(`useBackend: '${name}' failed to initialise: ${firstLine(e)}`, { cause: e });
  } finally {
    restoreHandlers();
  }
  // tf.setBackend returns false (and stays on the old backend) instead of throwing; tfjs' reason went to
  // console.warn, captured above.
  if (!ok || tf.getBackend() !== name) {
    const why = warnings.length > 0 ? `: ${warnings.map((w) => w.split('\n')[0]).join('; ')}` : '';
    throw new BackendError(`useBackend: '${name}' failed to initialise${why}`);
  }
  await tf.ready();
  if (name === 'cpu') quietCpuBanner();
  if (wasmBinary !== undefined) {
    // The pool works in the heap of the backend now active (in place where that heap is shared).
    const be = wasmBackend(tf.backend());
    const gemmThreads = await setGemmThreads(options.threads ?? defaultThreads(), be);
    const sharedHeap = isSharedMemory(be.memory());
    found.wasm = { ...wasmBinary, gemm: gemmPath(), gemmThreads, sharedHeap };
  }
  return found;
}

let current: BackendInfo | null = null;

/**
 * Activates a tensor backend and returns the name actually active. `'auto'` (the default) tries
 * {@link backendPriority} in order — in Node tensorflow (if installed) → webgpu (if a hardware adapter
 * exists) → wasm → cpu; in a browser webgpu → webgl → wasm → cpu — takes the first that starts, and records
 * why it skipped the others ({@link backendInfo}). A named backend that cannot start throws a
 * `BackendError` with the reason; @ml never silently falls back. Also registers, once, the gradients and
 * kernels @ml's training needs.
 */
export async function useBackend(
  name: BackendName | 'auto' = 'auto',
  options: UseBackendOptions = {},
): Promise<BackendName> {
  if (name !== 'auto' && !KNOWN.includes(name)) {
    throw new BackendError(
      `useBackend: name must be 'auto' or one of ${KNOWN.map((k) => `'${k}'`).join(', ')}, got '${String(name)}'`,
    );
  }
  if (typeof options !== 'object' || options === null)
    throw new BackendError(`useBackend: options must be an object, got ${String(options)}`);
  if (options.threads !== undefined && !(Number.isInteger(options.threads) && options.threads >= 1))
    throw new BackendError(
      `useBackend: options.threads must be an integer >= 1, got ${String(options.threads)}`,
    );
  if (name !== 'auto') {
    const found = await activate(name, true, options);
    current = { name, requested: name, tried: [], ...found };
    return name;
  }
  const tried: SkippedBackend[] = [];
  for (const candidate of backendPriority()) {
    try {
      const found = await activate(candidate, false, options);
      current = { name: candidate, requested: 'auto', tried, ...found };
      return candidate;
    } catch (e) {
      if (!(e instanceof BackendError) || setupErrors.has(e)) throw e;
      tried.push({ name: candidate, reason: e.message });
    }
  }
  throw new BackendError(
    `useBackend('auto'): no backend could start:\n${tried.map((t) => `${t.name}: ${t.reason}`).join('\n')}`,
  );
}

/**
 * What the last successful {@link useBackend} chose and why: the active backend, the ones `'auto'` skipped
 * with their reasons, the WebGPU adapter or the wasm binary's location. Null before any `useBackend`.
 */
export function backendInfo(): BackendInfo | null {
  return current === null ? null : { ...current, tried: current.tried.map((t) => ({ ...t })) };
}

/** The name of the active backend, or null before any has been chosen. */
export function activeBackend(): string | null {
  return tf.engine().backendName ?? null;
}
