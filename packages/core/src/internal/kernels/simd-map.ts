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
import { GEMM_FUNCTIONS } from '../gemm/gemm-module.js';
import type { PoolCall } from '../gemm/pool.js';
import { gemmExports } from '../gemm/probe.js';
import { inPlacePool } from '../gemm/threads.js';
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

/**
 * A map function `name` that runs `lane(offset, v0)` for two groups per iteration: at byte offsets 0 and
 * 16 from I, with v128 locals from V0 and from V0 + V128_LOCALS. The two lanes' instruction chains are
 * independent, so the CPU overlaps them: a lane with a long chain of dependent instructions (an exp's is
 * ~25 long) otherwise waits on its own latency. A last single group runs alone. Same instructions per
 * element as a one-group map, so the same results.
 */
export function mapFn2(name: string, lane: (offset: number, v0: number) => Code): FnDef {
  return {
    name,
    params: 4,
    locals: [
      [1, I32],
      [2 * V128_LOCALS, V128],
    ],
    body: flat(
      i32(0),
      set(I),
      // While two groups remain (I + 16 < BYTES: both are multiples of 16).
      whileLoop(
        flat(get(I), i32(16), add, get(BYTES), ltS),
        lane(0, V0),
        lane(16, V0 + V128_LOCALS),
        inc(I, i32(32)),
      ),
      whileLoop(flat(get(I), get(BYTES), ltS), lane(0, V0), inc(I, i32(16))),
    ),
  };
}

/** A map function as called: (a, b, out, bytes). */
export type MapFn = (a: number, b: number, out: number, bytes: number) => void;

/** A compiled module: its exports, its bytes and its function names (in export order). */
interface Compiled {
  exports: unknown;
  bytes: Uint8Array;
  names: string[];
}

const modules = new WeakMap<WebAssembly.Memory, Map<string, Compiled>>();
/** The GEMM module's functions on each memory, in export order. */
const gemmFns = new WeakMap<WebAssembly.Memory, ((...args: number[]) => void)[]>();
/** The functions of each compiled module by its bytes, in export order (to make a pool call here). */
const byBytes = new WeakMap<Uint8Array, ((...args: number[]) => void)[]>();

function compiled(memory: WebAssembly.Memory, key: string, fns: () => FnDef[]): Compiled {
  let byKey = modules.get(memory);
  if (byKey === undefined) modules.set(memory, (byKey = new Map<string, Compiled>()));
  let m = byKey.get(key);
  if (m === undefined) {
    const shared = typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer;
    const defs = fns();
    const bytes = encodeModule(defs, { shared });
    const exports = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } }).exports;
    byKey.set(key, (m = { exports, bytes, names: defs.map((d) => d.name) }));
    const fnsOf = exports as Record<string, (...args: number[]) => void>;
    byBytes.set(
      bytes,
      m.names.map((n) => fnsOf[n]!),
    );
  }
  return m;
}

/** A pool call of `name` in the module `key` (built from `fns` on `memory`) with `args`. */
export function poolCall(
  memory: WebAssembly.Memory,
  key: string,
  fns: () => FnDef[],
  name: string,
  args: number[],
): PoolCall {
  const m = compiled(memory, key, fns);
  return { module: m.bytes, fn: m.names.indexOf(name), args };
}

/** Makes pool call `c` on this thread, on `memory` (a GEMM call, or one from {@link poolCall}). */
export function callHere(memory: WebAssembly.Memory, c: PoolCall): void {
  let fns = c.module === null ? gemmFns.get(memory) : byBytes.get(c.module);
  if (fns === undefined) {
    const ex = gemmExports(memory);
    gemmFns.set(memory, (fns = GEMM_FUNCTIONS.map((n) => ex[n] as (...args: number[]) => void)));
  }
  fns[c.fn]!(...c.args);
}

/**
 * The module of `fns()` (all i32-parameter functions, importing `memory`) as its exports, compiled and
 * instantiated once per memory and `key` (a key names the constants compiled in).
 */
export function cachedModule<T>(memory: WebAssembly.Memory, key: string, fns: () => FnDef[]): T {
  return compiled(memory, key, fns).exports as T;
}

/** Bytes of work below which a split call is not worth waking the threads for. */
export const SPLIT_MIN_BYTES = 1 << 18;

/**
 * Calls `name` of the module `key` (built from `fns` on `memory`) on every thread of @ml's GEMM pool at
 * once, thread t with `parts[t]` (null: nothing for t), when that pool works in place on `memory` and
 * the call touches at least {@link SPLIT_MIN_BYTES} (`bytes`); otherwise calls `whole` on this thread.
 * The parts must cover disjoint outputs, so the result is that of `whole` bit for bit.
 */
export function splitCall(
  memory: WebAssembly.Memory,
  key: string,
  fns: () => FnDef[],
  name: string,
  bytes: number,
  parts: (threads: number) => (number[] | null)[],
  whole: number[],
): void {
  const m = compiled(memory, key, fns);
  const fn = (m.exports as Record<string, (...args: number[]) => void>)[name]!;
  const pool = bytes < SPLIT_MIN_BYTES ? null : inPlacePool(memory);
  if (pool === null) return fn(...whole);
  const index = m.names.indexOf(name);
  pool.calls(
    parts(pool.threads).map((args) => (args === null ? [] : [{ module: m.bytes, fn: index, args }])),
    (c) => fn(...c.args),
  );
}

/** [start, end) of part t of `total` split in `parts` runs of whole `align` units. */
export function splitRange(total: number, parts: number, t: number, align: number): [number, number] {
  const units = Math.ceil(total / align);
  const start = Math.floor((units * t) / parts) * align;
  return [Math.min(start, total), Math.min(Math.floor((units * (t + 1)) / parts) * align, total)];
}

/** The map-function module of `fns()` for `key`, once per memory. */
export const simdMaps = (
  memory: WebAssembly.Memory,
  key: string,
  fns: () => FnDef[],
): Record<string, MapFn> => cachedModule<Record<string, MapFn>>(memory, key, fns);

/**
 * Runs map function `name` (of the map module `key`) over `bytes` (a multiple of 16) from a, b, out (b
 * may be 0: unused); large maps are split across threads (./splitCall), each part's pointers advanced
 * where `advance` says (default: all but an unused b).
 */
export function runMap(
  memory: WebAssembly.Memory,
  key: string,
  fns: () => FnDef[],
  name: string,
  [a, b, out]: [number, number, number],
  bytes: number,
  advance: [boolean, boolean, boolean] = [true, b !== 0, true],
): void {
  const whole = [a, b, out, bytes];
  const from = (p: number, i: number, s: number) => (advance[i] ? p + s : p);
  splitCall(
    memory,
    key,
    fns,
    name,
    bytes,
    (threads) =>
      Array.from({ length: threads }, (_, t) => {
        const [s, e] = splitRange(bytes, threads, t, 16);
        return e > s ? [from(a, 0, s), from(b, 1, s), from(out, 2, s), e - s] : null;
      }),
    whole,
  );
}

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
