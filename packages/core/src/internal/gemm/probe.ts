import { encodeModule, flat, vMadd, vZero, type FnDef } from './wasm-encoder.js';
import { gemmModuleBytes, type GemmExports, type GemmPath } from './gemm-module.js';

// Which multiply-add @ml's GEMM uses, probed once per process: relaxed-SIMD FMA where the engine
// validates f32x4.relaxed_madd (Node ≥ 21, Chrome ≥ 114 by default; Node 20 after V8's
// --experimental-wasm-relaxed-simd flag, which is set here before compiling), plain SIMD128 otherwise.

// A function that computes relaxed_madd(0, 0, 0) and drops it.
const PROBE_FN: FnDef = {
  name: 'probe',
  params: 0,
  locals: [],
  body: flat(vZero, vZero, vZero, vMadd, [0x1a]),
};

let probed: GemmPath | null = null;
let override: GemmPath | null = null;

/** Node's `process.getBuiltinModule` (Node ≥ 20.16), or undefined outside Node. */
export function nodeBuiltin<T>(name: string): T | undefined {
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  return typeof proc?.getBuiltinModule === 'function'
    ? (proc.getBuiltinModule(name) as T | undefined)
    : undefined;
}

function validates(bytes: Uint8Array<ArrayBuffer>): boolean {
  try {
    return WebAssembly.validate(bytes);
  } catch {
    return false;
  }
}

/** The GEMM path this engine supports best (probed once; see {@link overrideGemmPathForTest}). */
export function gemmPath(): GemmPath {
  if (override !== null) return override;
  if (probed !== null) return probed;
  const probe = encodeModule([PROBE_FN], { shared: false });
  if (!validates(probe)) {
    // Node 20 (V8 11.3) has relaxed SIMD behind a flag that only takes effect before compiling.
    nodeBuiltin<{ setFlagsFromString(flags: string): void }>('node:v8')?.setFlagsFromString(
      '--experimental-wasm-relaxed-simd',
    );
  }
  probed =
    validates(probe) && validates(gemmModuleBytes('relaxed-simd-fma', { shared: false }))
      ? 'relaxed-simd-fma'
      : 'simd128';
  return probed;
}

/** For tests: force a GEMM path (null restores the probed one). */
export function overrideGemmPathForTest(path: GemmPath | null): void {
  override = path;
}

const instances = new WeakMap<WebAssembly.Memory, Map<GemmPath, GemmExports>>();

/** The GEMM module for `path`, instantiated once per memory. */
export function gemmExports(memory: WebAssembly.Memory, path: GemmPath = gemmPath()): GemmExports {
  let byPath = instances.get(memory);
  if (byPath === undefined) instances.set(memory, (byPath = new Map<GemmPath, GemmExports>()));
  let ex = byPath.get(path);
  if (ex === undefined) {
    const shared = typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer;
    const bytes = gemmModuleBytes(path, { shared });
    ex = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } })
      .exports as unknown as GemmExports;
    byPath.set(path, ex);
  }
  return ex;
}

/** Maximum size (64 KiB pages) of the thread pool's own shared memory (where the heap is not shared): 2 GiB. */
export const SHARED_MAX_PAGES = 32768;
