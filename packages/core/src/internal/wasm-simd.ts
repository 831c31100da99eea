// SIMD kernels tfjs-backend-wasm lacks (fast transposes and column sums),
// written as WebAssembly bytecode by a tiny emitter and instantiated on the backend's own memory, so
// they read and write tensors in place with no copies. The module is ~1 KB: no toolchain, no binary
// blob, and small enough for synchronous compilation on a browser's main thread.

import {
  I32,
  V128,
  add,
  f32Load as f32LoadAt,
  f32Store as f32StoreAt,
  flat,
  get,
  gtS,
  leS,
  i32,
  inc,
  ltS,
  mul,
  select,
  set,
  sub,
  vAdd,
  vLoad,
  vStore,
  vZero,
  whileLoop,
  type Code,
  type FnDef,
} from './gemm/wasm-encoder.js';

// The bytecode encoder (LEB128, sections, instructions) is the GEMM's (gemm/wasm-encoder.ts); the few
// instructions below are the ones only these kernels use.
const f32Load = f32LoadAt();
const f32Store = f32StoreAt();

/**
 * transpose(src, dst, R, C): dst[C, R] = src[R, C]ᵀ (byte pointers, element counts). Works in bands of
 * 8 source rows so that reads stream along 8 rows and writes fill 8 consecutive floats.
 */
function transpose(): FnDef {
  const [src, dst, rr, cc] = [0, 1, 2, 3];
  const [i0, j, r, rows, s, d, rowBytes, colBytes] = [4, 5, 6, 7, 8, 9, 10, 11];
  const body = flat(
    flat(get(cc), i32(4), mul, set(rowBytes), get(rr), i32(4), mul, set(colBytes)),
    i32(0),
    set(i0),
    whileLoop(
      flat(get(i0), get(rr), ltS),
      // rows = min(8, R - i0)
      flat(i32(8), get(rr), get(i0), sub, get(rr), get(i0), sub, i32(8), gtS, select, set(rows)),
      flat(i32(0), set(j)),
      whileLoop(
        flat(get(j), get(cc), ltS),
        flat(get(src), get(i0), get(rowBytes), mul, add, get(j), i32(4), mul, add, set(s)),
        flat(get(dst), get(j), get(colBytes), mul, add, get(i0), i32(4), mul, add, set(d)),
        flat(i32(0), set(r)),
        whileLoop(
          flat(get(r), get(rows), ltS),
          flat(get(d), get(s), f32Load, f32Store),
          inc(s, get(rowBytes)),
          inc(d, i32(4)),
          inc(r, i32(1)),
        ),
        inc(j, i32(1)),
      ),
      inc(i0, i32(8)),
    ),
  );
  return { name: 'transpose', params: 4, locals: [[8, I32]], body };
}

/**
 * transposeRows(src, dst, R, C, rowBytes): dst[C, R, ·] = src[R, C, ·] for rows of rowBytes (a multiple
 * of 16) that move whole: the [0, 2, 1, 3] permutation that splits or merges attention heads. Reads
 * stream through src; each row is copied as f32x4s.
 */
function transposeRows(): FnDef {
  const [src, dst, rr, cc, rowBytes] = [0, 1, 2, 3, 4];
  const [i, j, o, s, d] = [5, 6, 7, 8, 9];
  const body = flat(
    flat(get(src), set(s), i32(0), set(i)),
    whileLoop(
      flat(get(i), get(rr), ltS),
      flat(i32(0), set(j)),
      whileLoop(
        flat(get(j), get(cc), ltS),
        // d = dst + (j·R + i)·rowBytes
        flat(get(dst), get(j), get(rr), mul, get(i), add, get(rowBytes), mul, add, set(d), i32(0), set(o)),
        whileLoop(
          flat(get(o), get(rowBytes), ltS),
          flat(get(d), get(o), add, get(s), get(o), add, vLoad(0), vStore(0)),
          inc(o, i32(16)),
        ),
        inc(s, get(rowBytes)),
        inc(j, i32(1)),
      ),
      inc(i, i32(1)),
    ),
  );
  return { name: 'transposeRows', params: 5, locals: [[5, I32]], body };
}

/**
 * colSum(src, dst, R, C4, rowBytes): dst[j] = Σ_i src[i, j] for C4 groups of four columns of R rows
 * (row stride rowBytes), each column summed over rows in order: the reduction over leading axes that
 * bias gradients need, one SIMD add per 4 elements. Four groups (a cache line) go down the rows at once,
 * in four independent sums; the groups left over go one at a time.
 */
function colSum(): FnDef {
  const [src, dst, rr, c4, rowBytes] = [0, 1, 2, 3, 4];
  const [i, j, s, d] = [5, 6, 7, 8];
  const acc = 9;
  const WIDE = 4;
  /** Sums `groups` groups from group j down the rows into acc … acc + groups − 1 and stores them. */
  const columns = (groups: number): Code =>
    flat(
      ...Array.from({ length: groups }, (_, g) => flat(vZero, set(acc + g))),
      flat(get(src), get(j), i32(16), mul, add, set(s), i32(0), set(i)),
      whileLoop(
        flat(get(i), get(rr), ltS),
        ...Array.from({ length: groups }, (_, g) =>
          flat(get(acc + g), get(s), vLoad(16 * g), vAdd, set(acc + g)),
        ),
        inc(s, get(rowBytes)),
        inc(i, i32(1)),
      ),
      flat(get(dst), get(j), i32(16), mul, add, set(d)),
      ...Array.from({ length: groups }, (_, g) => flat(get(d), get(acc + g), vStore(16 * g))),
      inc(j, i32(groups)),
    );
  const body = flat(
    flat(i32(0), set(j)),
    whileLoop(flat(get(j), i32(WIDE), add, get(c4), leS), columns(WIDE)),
    whileLoop(flat(get(j), get(c4), ltS), columns(1)),
  );
  return {
    name: 'colSum',
    params: 5,
    locals: [
      [4, I32],
      [WIDE, V128],
    ],
    body,
  };
}

/** The module's key and functions, for ./kernels/simd-map's cache and split calls. */
export const SIMD_KERNELS = 'simd-kernels';
export const simdKernelFns = (): FnDef[] => [transpose(), colSum(), transposeRows()];
