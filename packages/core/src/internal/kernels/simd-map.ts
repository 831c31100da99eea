import {
  add,
  encodeModule,
  flat,
  get,
  I32,
  i32,
  inc,
  ltS,
  set,
  V128,
  whileLoop,
  type Code,
  type FnDef,
} from '../gemm/wasm-encoder.js';
import type { WasmHeap } from './js-kernel.js';

// Elementwise SIMD maps for the fused JS kernels' wasm paths: each function is
// fn(a, b, out, bytes) running `lane` for every 16-byte group (a multiple of 16 bytes from each pointer),
// with local I the byte offset and v128 locals from V0 on. A module of such functions is compiled once
// per memory and key (a key names the constants compiled in).

/** Param indices of a map function, and its byte-offset local. */
export const [A, B, OUT, BYTES, I] = [0, 1, 2, 3, 4];
/** The first v128 local (a map function has {@link V128_LOCALS} of them). */
export const V0 = 5;
export const V128_LOCALS = 8;

/** The address of the current group of pointer param `p`. */
export const at = (p: number): Code => flat(get(p), get(I), add);

/** A map function `name` with per-group body `lane`. */
export function mapFn(name: string, lane: Code): FnDef {
  return {
    name,
    params: 4,
    locals: [
      [1, I32],
      [V128_LOCALS, V128],
    ],
    body: flat(i32(0), set(I), whileLoop(flat(get(I), get(BYTES), ltS), lane, inc(I, i32(16)))),
  };
}

/** A map function as called: (a, b, out, bytes). */
export type MapFn = (a: number, b: number, out: number, bytes: number) => void;

const modules = new WeakMap<WebAssembly.Memory, Map<string, unknown>>();

/**
 * The module of `fns()` (all i32-parameter functions, importing `memory`) as its exports, compiled and
 * instantiated once per memory and `key` (a key names the constants compiled in).
 */
export function cachedModule<T>(memory: WebAssembly.Memory, key: string, fns: () => FnDef[]): T {
  let byKey = modules.get(memory);
  if (byKey === undefined) modules.set(memory, (byKey = new Map<string, unknown>()));
  let m = byKey.get(key);
  if (m === undefined) {
    const shared = typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer;
    const bytes = encodeModule(fns(), { shared });
    m = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } }).exports;
    byKey.set(key, m);
  }
  return m as T;
}

/** The map-function module of `fns()` for `key`, once per memory. */
export const simdMaps = (
  memory: WebAssembly.Memory,
  key: string,
  fns: () => FnDef[],
): Record<string, MapFn> => cachedModule<Record<string, MapFn>>(memory, key, fns);

/**
 * Runs a map over n floats: `run(bytes)` over the whole f32x4 groups, then `tail(k)` (JS, float index k,
 * on `heap.f32`) over the last n mod 4. Returns true (the wasm path handled it).
 */
export function mapFloats(
  heap: WasmHeap,
  n: number,
  run: (bytes: number) => void,
  tail: (k: number) => void,
): true {
  const n4 = n & ~3;
  if (n4 > 0) run(4 * n4);
  for (let k = n4; k < n; k++) tail(k);
  return true;
}
