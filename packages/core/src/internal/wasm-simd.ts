// A few SIMD kernels that tfjs-backend-wasm lacks (a strided batched matrix product and a transpose),
// written as WebAssembly bytecode by a tiny emitter and instantiated on the backend's own memory, so
// they read and write tensors in place with no copies. The module is ~1 KB: no toolchain, no binary
// blob, and small enough for synchronous compilation on a browser's main thread.

import {
  I32,
  V128,
  add,
  encodeModule,
  f32Load as f32LoadAt,
  f32Store as f32StoreAt,
  f32Zero,
  flat,
  get,
  gtS,
  i32,
  inc,
  ltS,
  mul,
  set,
  sub,
  vAdd,
  vLoad,
  vLoadSplat as vLoadSplatAt,
  vMul,
  vStore,
  vZero,
  whileLoop,
  type Code,
  type FnDef,
} from './gemm/wasm-encoder.js';

// The bytecode encoder (LEB128, sections, instructions) is the GEMM's (gemm/wasm-encoder.ts); the few
// instructions below are the ones only these kernels use.
const select: Code = [0x1b];
const f32Add: Code = [0x92];
const f32Mul: Code = [0x94];
const f32Load = f32LoadAt();
const f32Store = f32StoreAt();
const vLoadSplat = vLoadSplatAt(); // v128.load32_splat

/**
 * panel(pa, pb, pc, nBytes, K, sam, sak, ldb, ldc): C[r, j] = Σ_k A[r, k]·B[k, j] for `rows`
 * (1 or 4, fixed per function) rows and the first nBytes/4 columns (a multiple of 8). Strides are in
 * bytes; A is any-strided (sam between rows, sak along k), B and C are row-major with row strides
 * ldb/ldc. Each k step loads 8 columns of B once and reuses them for every row (a 4×8 register tile).
 */
function panel(rows: 1 | 4): FnDef {
  const [pa, pb, pc, nb, kk, sam, sak, ldb, ldc] = [0, 1, 2, 3, 4, 5, 6, 7, 8];
  const [j, k, a, b, c] = [9, 10, 11, 12, 13];
  const acc0 = 14;
  const [b0, b1, av] = [acc0 + 2 * rows, acc0 + 2 * rows + 1, acc0 + 2 * rows + 2];
  const rowStep: Code[] = [];
  for (let r = 0; r < rows; r++) {
    // av = splat(A[r, k]); acc[2r] += av·b0; acc[2r+1] += av·b1
    rowStep.push(flat(get(a), ...(r === 0 ? [] : [get(sam), i32(r), mul, add]), vLoadSplat, set(av)));
    rowStep.push(flat(get(acc0 + 2 * r), get(av), get(b0), vMul, vAdd, set(acc0 + 2 * r)));
    rowStep.push(flat(get(acc0 + 2 * r + 1), get(av), get(b1), vMul, vAdd, set(acc0 + 2 * r + 1)));
  }
  const zero: Code[] = [];
  const store: Code[] = [];
  for (let r = 0; r < 2 * rows; r++) zero.push(flat(vZero, set(acc0 + r)));
  for (let r = 0; r < rows; r++) {
    store.push(flat(get(c), get(acc0 + 2 * r), vStore(0), get(c), get(acc0 + 2 * r + 1), vStore(16)));
    if (r < rows - 1) store.push(inc(c, get(ldc)));
  }
  const body = flat(
    i32(0),
    set(j),
    whileLoop(
      flat(get(j), get(nb), ltS),
      ...zero,
      flat(get(pa), set(a), get(pb), get(j), add, set(b), get(kk), set(k)),
      whileLoop(
        flat(get(k), i32(0), gtS),
        flat(get(b), vLoad(0), set(b0), get(b), vLoad(16), set(b1)),
        ...rowStep,
        inc(a, get(sak)),
        inc(b, get(ldb)),
        inc(k, i32(-1)),
      ),
      flat(get(pc), get(j), add, set(c)),
      ...store,
      inc(j, i32(32)),
    ),
  );
  return {
    name: `panel${rows}`,
    params: 9,
    locals: [
      [5, I32],
      [2 * rows + 3, V128],
    ],
    body,
  };
}

/**
 * tail(pa, pb, pc, M, j0, nBytes, K, sam, sak, ldb, ldc): the scalar product for columns j0/4 ..
 * nBytes/4 of every row (the columns left over after the 8-wide panels).
 */
function tail(): FnDef {
  const [pa, pb, pc, m, j0, nb, kk, sam, sak, ldb, ldc] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
  const [i, j, k, a, b, acc] = [11, 12, 13, 14, 15, 16];
  const body = flat(
    i32(0),
    set(i),
    whileLoop(
      flat(get(i), get(m), ltS),
      get(j0),
      set(j),
      whileLoop(
        flat(get(j), get(nb), ltS),
        flat(
          f32Zero,
          set(acc),
          get(pa),
          get(i),
          get(sam),
          mul,
          add,
          set(a),
          get(pb),
          get(j),
          add,
          set(b),
          get(kk),
          set(k),
        ),
        whileLoop(
          flat(get(k), i32(0), gtS),
          flat(get(acc), get(a), f32Load, get(b), f32Load, f32Mul, f32Add, set(acc)),
          inc(a, get(sak)),
          inc(b, get(ldb)),
          inc(k, i32(-1)),
        ),
        flat(get(pc), get(i), get(ldc), mul, add, get(j), add, get(acc), f32Store),
        inc(j, i32(4)),
      ),
      inc(i, i32(1)),
    ),
  );
  return {
    name: 'tail',
    params: 11,
    locals: [
      [5, I32],
      [1, 0x7d],
    ],
    body,
  };
}

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
 * colSum(src, dst, R, C4): dst[j] = Σ_i src[i, j] for C4 = C/4 groups of four columns (C a multiple
 * of 4): the reduction over leading axes that bias gradients need, one SIMD add per 4 elements.
 */
function colSum(): FnDef {
  const [src, dst, rr, c4] = [0, 1, 2, 3];
  const [i, j, s, d, rowBytes] = [4, 5, 6, 7, 8];
  const acc = 9;
  const body = flat(
    flat(get(c4), i32(16), mul, set(rowBytes), i32(0), set(j)),
    whileLoop(
      flat(get(j), get(c4), ltS),
      flat(vZero, set(acc), get(src), get(j), i32(16), mul, add, set(s), i32(0), set(i)),
      whileLoop(
        flat(get(i), get(rr), ltS),
        flat(get(acc), get(s), vLoad(0), vAdd, set(acc)),
        inc(s, get(rowBytes)),
        inc(i, i32(1)),
      ),
      flat(get(dst), get(j), i32(16), mul, add, set(d), get(d), get(acc), vStore(0)),
      inc(j, i32(1)),
    ),
  );
  return {
    name: 'colSum',
    params: 4,
    locals: [
      [5, I32],
      [1, V128],
    ],
    body,
  };
}

function buildModule(shared: boolean): Uint8Array<ArrayBuffer> {
  return encodeModule([panel(4), panel(1), tail(), transpose(), colSum()], { shared });
}

type I32Fn<N extends number> = (...args: number[] & { length: N }) => void;

/** The compiled kernels, bound to one wasm memory. Pointers are byte offsets into that memory. */
export interface SimdKernels {
  panel4: I32Fn<9>;
  panel1: I32Fn<9>;
  tail: I32Fn<11>;
  transpose: I32Fn<4>;
  colSum: I32Fn<4>;
}

/** Instantiates the kernels on `memory` (the tfjs wasm module's own memory). */
export function instantiateSimdKernels(memory: WebAssembly.Memory): SimdKernels {
  const shared = typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer;
  const module = new WebAssembly.Module(buildModule(shared));
  const instance = new WebAssembly.Instance(module, { env: { memory } });
  return instance.exports as unknown as SimdKernels;
}

/**
 * C = A·B for one product: A is M×K with element strides (sam, sak) (so a transposed A is just other
 * strides), B is K×N row-major with row stride ldb, C is M×N row-major with row stride ldc. Pointers are
 * byte offsets, strides are in elements.
 */
export function gemm(
  k: SimdKernels,
  pa: number,
  pb: number,
  pc: number,
  m: number,
  n: number,
  kk: number,
  sam: number,
  sak: number,
  ldb: number,
  ldc: number,
): void {
  const n8 = (n & ~7) * 4;
  const [samB, sakB, ldbB, ldcB] = [sam * 4, sak * 4, ldb * 4, ldc * 4];
  let i = 0;
  if (n8 > 0) {
    for (; i + 4 <= m; i += 4) k.panel4(pa + i * samB, pb, pc + i * ldcB, n8, kk, samB, sakB, ldbB, ldcB);
    for (; i < m; i++) k.panel1(pa + i * samB, pb, pc + i * ldcB, n8, kk, samB, sakB, ldbB, ldcB);
  }
  if (n8 < n * 4) k.tail(pa, pb, pc, m, n8, n * 4, kk, samB, sakB, ldbB, ldcB);
}
