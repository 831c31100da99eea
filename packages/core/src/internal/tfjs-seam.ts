import * as tf from '@tensorflow/tfjs-core';

// The one place where @ml reaches into TensorFlow.js beyond its public API. tfjs 4.22 is its last
// release (upstream is frozen), so these patches are ours to keep; PATCHES.md lists each with the test that
// pins it. Everything here was written against the versions in TFJS_VERSION; `checkTfjsVersions` refuses
// others, because each private field below may mean something else (or not exist) in another build.

/** The tfjs version every private access in this file was written and tested against. */
export const TFJS_VERSION = '4.22.0';

type TensorInfo = tf.TensorInfo;
type DataId = TensorInfo['dataId'];

// ---- versions ----

/**
 * Returns a reason when `found` (package → version; undefined when the package does not say) differs from
 * {@link TFJS_VERSION}, or null when every version matches.
 */
export function versionMismatch(found: Record<string, string | undefined>): string | null {
  const wrong = Object.entries(found).filter(([, v]) => v !== TFJS_VERSION);
  if (wrong.length === 0) return null;
  return (
    `@ml/core's tfjs patches (wasm kernels, gradient fixes, engine internals) were written for TensorFlow.js ` +
    `${TFJS_VERSION} exactly, but found ${wrong.map(([p, v]) => `${p}@${v ?? 'unknown'}`).join(', ')}; ` +
    `install ${wrong.map(([p]) => `${p}@${TFJS_VERSION}`).join(' ')}`
  );
}

// Tests swap in other versions through this hook to prove the check refuses them.
let versionOverride: Record<string, string | undefined> | null = null;

/** For tests: pretend these package versions are installed (null restores the real ones). */
export function overrideVersionsForTest(versions: Record<string, string | undefined> | null): void {
  versionOverride = versions;
}

/** tfjs-core's version, or the test override. */
export function coreVersion(): string | undefined {
  return versionOverride !== null && '@tensorflow/tfjs-core' in versionOverride
    ? versionOverride['@tensorflow/tfjs-core']
    : tf.version_core;
}

/** The version a backend package exports (`version_wasm`, …), or the test override. */
export function backendVersion(pkg: string, module: unknown): string | undefined {
  if (versionOverride !== null && pkg in versionOverride) return versionOverride[pkg];
  const exported = Object.entries((module ?? {}) as Record<string, unknown>).find(([k]) =>
    k.startsWith('version_'),
  );
  return typeof exported?.[1] === 'string' ? exported[1] : undefined;
}

// ---- wasm SIMD ----

// The smallest module with a SIMD instruction (the probe tfjs-backend-wasm itself uses): v128.const + drop.
const SIMD_PROBE = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 4, 1, 96, 0, 0, 3, 2, 1, 0, 10, 9, 1, 7, 0, 65, 0, 253, 15, 26, 11,
]);
let simdOverride: boolean | null = null;

/** For tests: pretend the engine has (true) or lacks (false) wasm SIMD; null restores the real probe. */
export function overrideSimdForTest(value: boolean | null): void {
  simdOverride = value;
}

/** Whether this JavaScript engine compiles WebAssembly SIMD (@ml's wasm kernels need it). */
export function hasWasmSimd(): boolean {
  if (simdOverride !== null) return simdOverride;
  try {
    return typeof WebAssembly === 'object' && WebAssembly.validate(SIMD_PROBE);
  } catch {
    return false;
  }
}

// ---- console silencing ----

// tfjs warns on the console when a kernel or gradient is registered a second time; @ml replaces some on
// purpose, and libraries must not print.
/* eslint-disable no-console -- silences tfjs' re-registration warnings; prints nothing itself */
export function quietly<T>(fn: () => T): T {
  const warn = console.warn;
  console.warn = () => {};
  try {
    return fn();
  } finally {
    console.warn = warn;
  }
}
/**
 * Runs async `fn` with console.warn captured (tfjs warns "Initialization of backend … failed" and prints
 * the stack instead of throwing); returns its result and what it would have printed.
 */
export async function capturingWarnings<T>(fn: () => Promise<T>): Promise<{ result: T; warnings: string[] }> {
  const warn = console.warn;
  const warnings: string[] = [];
  console.warn = (...args: unknown[]) => {
    warnings.push(args.map((a) => (a instanceof Error ? a.message : String(a))).join(' '));
  };
  try {
    return { result: await fn(), warnings };
  } finally {
    console.warn = warn;
  }
}
/* eslint-enable no-console */

/** Replaces (or adds) a gradient without tfjs' "overriding the gradient" warning. */
export function replaceGradient(config: tf.GradConfig): void {
  quietly(() => tf.registerGradient(config));
}

/** Replaces a backend's kernel without tfjs' warning; returns the one it replaced. */
export function replaceKernel(config: tf.KernelConfig): tf.KernelConfig | undefined {
  return quietly(() => {
    const original = tf.getKernel(config.kernelName, config.backendName);
    if (original !== undefined) tf.unregisterKernel(config.kernelName, config.backendName);
    tf.registerKernel(config);
    return original;
  });
}

/** Puts back `original` (or removes the kernel when there was none) without tfjs' warning. */
export function restoreKernel(
  name: string,
  backendName: string,
  original: tf.KernelConfig | undefined,
): void {
  quietly(() => {
    tf.unregisterKernel(name, backendName);
    if (original !== undefined) tf.registerKernel(original);
  });
}

// ---- engine internals ----

/** The parts of tfjs' private EngineState that @ml touches. */
interface EngineState {
  kernelDepth: number;
  gradientDepth: number;
  activeTape: { saved?: tf.Tensor[] }[] | null;
}

function engineState(): EngineState {
  return tf.engine().state;
}

/**
 * Runs `fn` with taping off. tfjs stops recording while a kernel runs (kernelDepth > 0) so that a kernel's
 * inner ops are not taped; raising the same counter is the one switch tfjs has for "do not record".
 */
export function withoutTape<T>(fn: () => T): T {
  const state = engineState();
  state.kernelDepth++;
  try {
    return fn();
  } finally {
    state.kernelDepth--;
  }
}

/**
 * When a loss function (or a gradient) throws, tfjs leaves its tape behind with the tensors it saved for
 * the backward pass kept alive (it frees them only on success). Frees them, only at gradient depth 0, i.e.
 * when no outer gradient computation still needs the tape.
 */
export function releaseFailedTape(): void {
  const state = engineState();
  if (state.gradientDepth !== 0 || state.activeTape == null) return;
  for (const node of state.activeTape) for (const t of node.saved ?? []) t.dispose();
  state.activeTape = null;
}

/** A node of tfjs' tape, as `Engine.addTapeNode` makes it. */
interface TapeNode {
  gradient?: (dys: (tf.Tensor | null)[]) => Record<string, () => tf.Tensor>;
}

type AddTapeNode = (
  kernelName: string,
  inputs: tf.NamedTensorMap,
  outputs: tf.Tensor[],
  gradientsFunc: unknown,
  saved: tf.Tensor[],
  attrs: tf.NamedAttrMap,
) => void;

/** Kernels whose registered gradient takes null for an output no gradient reaches. */
const nullOutputGradients = new Set<string>();
/** The engine whose addTapeNode is wrapped (tfjs has one engine per loaded copy of tfjs-core). */
let tapeWrapped: object | null = null;

/**
 * tfjs hands a kernel's gradient, for each output that no gradient reaches, zeros of that output's shape
 * made as a JavaScript array and copied into the backend: for the fused LSTM sequence (its saved gates
 * are outputs) ~10 MB allocated, copied and freed every step. Wraps `Engine.addTapeNode` once so that
 * such outputs become zeros filled by the backend itself (its `Fill` kernel: no JavaScript array, no
 * copy), or null for the kernels {@link passNullOutputGradients} names, whose gradients take null.
 */
export function installTapeZeros(): void {
  const engine = tf.engine() as unknown as {
    addTapeNode: AddTapeNode;
    state: { activeTape: TapeNode[] | null };
  };
  if (tapeWrapped === engine) return;
  const stock = engine.addTapeNode;
  engine.addTapeNode = function (kernelName, inputs, outputs, gradientsFunc, saved, attrs) {
    stock.call(this, kernelName, inputs, outputs, gradientsFunc, saved, attrs);
    const tape = engine.state.activeTape;
    const node = tape?.[tape.length - 1];
    const gradient = node?.gradient;
    if (node === undefined || gradient === undefined || outputs.length < 2) return;
    const config = nullOutputGradients.has(kernelName) ? tf.getGradient(kernelName) : undefined;
    node.gradient = (dys) => {
      if (config !== undefined) return config.gradFunc(dys as tf.Tensor[], saved, attrs);
      // Float32 and int32 zeros come from the backend; other dtypes are left to tfjs.
      const filled = dys.map((dy, i) => {
        const o = outputs[i]!;
        return dy ?? (o.dtype === 'float32' || o.dtype === 'int32' ? tf.fill(o.shape, 0, o.dtype) : null);
      });
      return gradient(filled);
    };
  };
  tapeWrapped = engine;
}

/** Marks `kernelName`'s registered gradient as taking null for outputs no gradient reaches. */
export function passNullOutputGradients(kernelName: string): void {
  nullOutputGradients.add(kernelName);
}

/** The active backend's name, or null when none has been initialised yet. */
export function activeBackendName(): string | null {
  return (tf.engine() as unknown as { backendName: string | null }).backendName ?? null;
}

/** Names of the backends registered with tfjs (whether or not initialised). */
export function registeredBackends(): string[] {
  return Object.keys(
    (tf.engine() as unknown as { registryFactory: Record<string, unknown> }).registryFactory,
  );
}

/**
 * tfjs-backend-cpu prints a "use tfjs-node" banner on its first tensor in Node; libraries must not print,
 * and the user chose cpu on purpose. The banner is skipped when tfjs' PROD flag is set, so set it for that
 * first write only.
 */
export function quietCpuBanner(): void {
  const env = tf.env();
  const prod = env.getBool('PROD');
  env.set('PROD', true);
  try {
    tf.dispose(tf.zeros([1]));
  } finally {
    env.set('PROD', prod);
  }
}

type ProcessLike = {
  listeners(event: string): unknown[];
  removeListener(event: string, fn: unknown): void;
};

/**
 * The wasm backend's Emscripten runtime adds process-wide 'unhandledRejection' and 'uncaughtException'
 * handlers that rethrow, so Node prints the error's "source line": the backend's whole minified bundle.
 * Call before initialising wasm; the returned function removes the handlers added since.
 */
export function keepProcessHandlers(): () => void {
  const proc = (globalThis as { process?: ProcessLike }).process;
  if (proc === undefined || typeof proc.listeners !== 'function') return () => {};
  const events = ['unhandledRejection', 'uncaughtException'];
  const before = new Map(events.map((e) => [e, new Set(proc.listeners(e))]));
  return () => {
    for (const e of events) {
      for (const fn of proc.listeners(e)) if (!before.get(e)?.has(fn)) proc.removeListener(e, fn);
    }
  };
}

// ---- tfjs-backend-wasm's private state ----

/** The Emscripten module of tfjs-backend-wasm (fields of its private `BackendWasm.wasm`). */
interface WasmModule {
  HEAPF32: Float32Array;
  HEAP32: Int32Array;
  _malloc(bytes: number): number;
  _free(ptr: number): void;
  cwrap(name: string, ret: null, args: string[]): (...args: unknown[]) => void;
  tfjs: { registerTensor(id: number, size: number, ptr: number): void; disposeData(id: number): void };
  asm?: { memory?: WebAssembly.Memory };
  wasmMemory?: WebAssembly.Memory;
}

/** The parts of tfjs-backend-wasm's `BackendWasm` @ml's kernels use (the package does not export the type). */
interface BackendWasmPrivate {
  wasm: WasmModule;
  dataIdMap: { get(dataId: DataId): { id: number; memoryOffset: number } };
  dataIdNextNumber: number;
  makeOutput(shape: number[], dtype: tf.DataType): TensorInfo;
  disposeData(dataId: DataId, force?: boolean): boolean;
}

/**
 * The typed view of a tfjs wasm backend that @ml's wasm kernels work through: heap access, allocation,
 * outputs and XNNPACK's matmul entry point. Nothing outside this file touches the backend's fields.
 */
export interface WasmBackend {
  /** The backend as tfjs passes it to kernels (for running other kernels and `incRef`). */
  readonly kernelBackend: tf.KernelBackend;
  /** The current float32 view of the wasm heap (re-read after any allocation: the heap may grow). */
  heapF32(): Float32Array;
  /** The current int32 view of the wasm heap. */
  heap32(): Int32Array;
  /** The wasm linear memory (for instantiating @ml's SIMD module on it). */
  memory(): WebAssembly.Memory;
  /** Byte address of a tensor's data on the heap. */
  ptr(t: TensorInfo): number;
  /** A new output tensor (allocated, not initialised). */
  makeOutput(shape: number[], dtype: tf.DataType): TensorInfo;
  /** Disposes an intermediate tensor. */
  dispose(t: TensorInfo): void;
  malloc(bytes: number): number;
  free(ptr: number): void;
  /** out[M,N] = a[M,K]·b[K,N] (row-major, byte addresses) through XNNPACK's fully-connected operator. */
  xnnMatMul(pa: number, pb: number, pc: number, m: number, k: number, n: number): void;
}

const views = new WeakMap<object, WasmBackend>();
const shapeBytes = (shape: number[]): Uint8Array => new Uint8Array(new Int32Array(shape).buffer);

/** The typed seam over the backend object tfjs hands a wasm kernel (cached per backend). */
export function wasmBackend(backend: unknown): WasmBackend {
  const be = backend as BackendWasmPrivate;
  let view = views.get(be);
  if (view !== undefined) return view;
  const matMul = be.wasm.cwrap('BatchMatMul', null, [
    'number',
    'array',
    'number',
    'number',
    'array',
    'number',
    'number',
    'number',
    'number',
  ]);
  // Registers a temporary tensor id that views `count` floats at `ptr` (no copy; the caller frees it).
  const register = (ptr: number, count: number): number => {
    const id = be.dataIdNextNumber++;
    be.wasm.tfjs.registerTensor(id, count, ptr);
    return id;
  };
  view = {
    kernelBackend: backend as tf.KernelBackend,
    heapF32: () => be.wasm.HEAPF32,
    heap32: () => be.wasm.HEAP32,
    memory: () => {
      const memory = be.wasm.asm?.memory ?? be.wasm.wasmMemory;
      if (memory === undefined)
        throw new Error('wasm kernels: cannot find the memory of the tfjs wasm module');
      return memory;
    },
    ptr: (t) => be.dataIdMap.get(t.dataId).memoryOffset,
    makeOutput: (shape, dtype) => be.makeOutput(shape, dtype),
    dispose: (t) => {
      be.disposeData(t.dataId);
    },
    malloc: (bytes) => be.wasm._malloc(bytes),
    free: (ptr) => be.wasm._free(ptr),
    xnnMatMul: (pa, pb, pc, m, k, n) => {
      const ia = register(pa, m * k);
      const ib = register(pb, k * n);
      const ic = register(pc, m * n);
      matMul(ia, shapeBytes([1, m, k]), 3, ib, shapeBytes([1, k, n]), 3, 0, 0, ic);
      be.wasm.tfjs.disposeData(ia);
      be.wasm.tfjs.disposeData(ib); // also frees the XNNPACK operator cached on this id
      be.wasm.tfjs.disposeData(ic);
    },
  };
  views.set(be, view);
  return view;
}

const SERVED = Symbol.for('@ml/core served platform files');
type FetchingPlatform = {
  fetch(path: string, init?: RequestInit): Promise<Response>;
  [SERVED]?: Map<string, Uint8Array<ArrayBuffer>>;
};

/**
 * Serves `files` (URL → bytes) through tfjs' platform fetch, which tfjs-backend-wasm loads its binary
 * with after `setWasmPaths(…, true)`; other URLs go to the platform's own fetch. Wraps the current
 * platform's fetch once.
 */
export function servePlatformFiles(files: ReadonlyMap<string, Uint8Array<ArrayBuffer>>): void {
  const platform = tf.env().platform as unknown as FetchingPlatform;
  let served = platform[SERVED];
  if (served === undefined) {
    const own = platform.fetch.bind(platform);
    const table = new Map<string, Uint8Array<ArrayBuffer>>();
    platform.fetch = (path, init) => {
      const bytes = table.get(path);
      return bytes !== undefined ? Promise.resolve(new Response(bytes)) : own(path, init);
    };
    platform[SERVED] = served = table;
  }
  for (const [url, bytes] of files) served.set(url, bytes);
}
