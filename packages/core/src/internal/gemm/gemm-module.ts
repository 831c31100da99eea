import {
  add,
  encodeModule,
  F32,
  f32Load,
  i32Load,
  f32Store,
  f32Zero,
  flat,
  get,
  gtS,
  I32,
  i32,
  ifElse,
  inc,
  leS,
  ltS,
  iAnd,
  mul,
  set,
  V128,
  vAdd,
  vLoad,
  vLoadSplat,
  vMadd,
  vMul,
  vShuffle32,
  vStore,
  vZero,
  whileLoop,
  eq,
  type Code,
  type FnDef,
} from './wasm-encoder.js';

// @ml's GEMM as WebAssembly: a register-blocked MR×8 micro-kernel (MR·2 f32x4 accumulators) over
// operands packed into panels, plus the packing routines. Two variants: relaxed-SIMD FMA
// (f32x4.relaxed_madd) and plain SIMD128 (f32x4.mul + f32x4.add). Every output element is one
// accumulator lane summed over k in order 0, 1, …, K−1, whatever the blocking or the thread split, so
// results do not depend on how the product is divided.

/** Rows of the micro-kernel's tile (columns are always 8: two f32x4). */
export const MR = 4;
/** Columns of the micro-kernel's tile and of a packed B panel. */
export const NR = 8;

/** Which multiply-add the kernel uses. */
export type GemmPath = 'relaxed-simd-fma' | 'simd128';

/**
 * kernel(pa, pb, pc, kc, np, panelBytes, ldcBytes, accumulate): for each of `np` panels p of B,
 * C[0..MR, 8p..8p+8] (+)= Apacked[kc × MR] · Bpacked_p[kc × 8]. pa steps MR floats per k, pb steps 8
 * floats per k and `panelBytes` per panel; C is row-major with row stride ldcBytes. accumulate: 0
 * overwrites C, 1 adds to what C holds (a later block of k), any other value is the byte address of a bias
 * for these panels' columns (8 floats per panel, one panel after another) that C starts from:
 * C = bias + A·B, with no pass writing the bias into C first.
 */
function kernel(path: GemmPath): FnDef {
  const [pa, pb, pc, kc, np, panelBytes, ldc, accumulate] = [0, 1, 2, 3, 4, 5, 6, 7];
  const [p, kk, a, b, c] = [8, 9, 10, 11, 12];
  const acc0 = 13;
  const b0 = acc0 + 2 * MR;
  const b1 = b0 + 1;
  const av = b1 + 1;
  const fma = (accIdx: number, bv: number): Code =>
    path === 'relaxed-simd-fma'
      ? flat(get(av), get(bv), get(accIdx), vMadd, set(accIdx))
      : flat(get(accIdx), get(av), get(bv), vMul, vAdd, set(accIdx));
  const step: Code[] = [flat(get(b), vLoad(0), set(b0), get(b), vLoad(16), set(b1))];
  for (let r = 0; r < MR; r++) {
    step.push(flat(get(a), vLoadSplat(4 * r), set(av)));
    step.push(fma(acc0 + 2 * r, b0), fma(acc0 + 2 * r + 1, b1));
  }
  const rowAddr = (r: number): Code => (r === 0 ? get(c) : flat(get(c), get(ldc), i32(r), mul, add));
  const load: Code[] = [];
  const zero: Code[] = [];
  const fromBias: Code[] = []; // the bias row of panel p, its address in `a` (set from pa afterwards)
  const store: Code[] = [];
  for (let r = 0; r < MR; r++) {
    load.push(flat(rowAddr(r), vLoad(0), set(acc0 + 2 * r), rowAddr(r), vLoad(16), set(acc0 + 2 * r + 1)));
    fromBias.push(flat(get(a), vLoad(0), set(acc0 + 2 * r), get(a), vLoad(16), set(acc0 + 2 * r + 1)));
    zero.push(flat(vZero, set(acc0 + 2 * r), vZero, set(acc0 + 2 * r + 1)));
    store.push(flat(rowAddr(r), get(acc0 + 2 * r), vStore(0), rowAddr(r), get(acc0 + 2 * r + 1), vStore(16)));
  }
  const body = flat(
    i32(0),
    set(p),
    whileLoop(
      flat(get(p), get(np), ltS),
      flat(get(pc), get(p), i32(NR * 4), mul, add, set(c)),
      ifElse(
        flat(get(accumulate), i32(1), eq),
        flat(...load),
        ifElse(
          get(accumulate),
          flat(get(accumulate), get(p), i32(NR * 4), mul, add, set(a), ...fromBias),
          flat(...zero),
        ),
      ),
      flat(get(pa), set(a), get(pb), get(p), get(panelBytes), mul, add, set(b), get(kc), set(kk)),
      whileLoop(
        flat(get(kk), i32(0), gtS),
        ...step,
        inc(a, i32(MR * 4)),
        inc(b, i32(NR * 4)),
        inc(kk, i32(-1)),
      ),
      flat(...store),
      inc(p, i32(1)),
    ),
  );
  return {
    name: 'kernel',
    params: 8,
    locals: [
      [5, I32],
      [2 * MR + 3, V128],
    ],
    body,
  };
}

/**
 * packA(src, dst, rows, k, samBytes, sakBytes): dst[kk·MR + r] = A[r, kk] for r < rows, 0 for the
 * padding rows up to MR; A[r, kk] is at src + r·sam + kk·sak.
 */
function packA(): FnDef {
  const [src, dst, rows, k, sam, sak] = [0, 1, 2, 3, 4, 5];
  const [kk, s, d] = [6, 7, 8];
  const f = 9;
  const [v, t] = [10, 10 + MR]; // v128 locals: four rows, and the transpose's halfway point
  const lanes: Code[] = [];
  for (let r = 0; r < MR; r++) {
    const addr = r === 0 ? get(s) : flat(get(s), get(sam), i32(r), mul, add);
    lanes.push(
      flat(
        get(d),
        ifElse(flat(i32(r), get(rows), ltS), flat(addr, f32Load(0), set(f)), flat(f32Zero, set(f))),
        get(f),
        f32Store(4 * r),
      ),
    );
  }
  const full = flat(get(rows), i32(MR), eq);
  const body = flat(
    get(src),
    set(s),
    get(dst),
    set(d),
    i32(0),
    set(kk),
    ifElse(
      flat(full, get(sam), i32(4), eq, mul),
      // The MR rows are adjacent floats (a transposed operand): one f32x4 per k.
      whileLoop(
        flat(get(kk), get(k), ltS),
        flat(get(d), get(s), vLoad(0), vStore(0)),
        inc(s, get(sak)),
        inc(d, i32(MR * 4)),
        inc(kk, i32(1)),
      ),
      ifElse(
        flat(full, get(sak), i32(4), eq, mul),
        // k runs along each row: 4×4 blocks, one f32x4 per row, transposed in registers.
        whileLoop(
          flat(get(kk), i32(4), add, get(k), ltS, get(kk), i32(4), add, get(k), eq, add),
          ...Array.from({ length: MR }, (_, r) =>
            flat(r === 0 ? get(s) : flat(get(s), get(sam), i32(r), mul, add), vLoad(0), set(v + r)),
          ),
          transpose4(v, t),
          ...Array.from({ length: MR }, (_, j) => flat(get(d), get(v + j), vStore(16 * j))),
          inc(s, i32(16)),
          inc(d, i32(MR * 16)),
          inc(kk, i32(4)),
        ),
      ),
    ),
    // Partial row blocks, other strides, and the last k % 4 of the blocked path.
    whileLoop(flat(get(kk), get(k), ltS), ...lanes, inc(s, get(sak)), inc(d, i32(MR * 4)), inc(kk, i32(1))),
  );
  return {
    name: 'packA',
    params: 6,
    locals: [
      [3, I32],
      [1, F32],
      [2 * MR, V128],
    ],
    body,
  };
}

/** Transposes the 4×4 block in v128 locals v … v+3 (one row each) in place, through locals t … t+3. */
function transpose4(v: number, t: number): Code {
  const shuffle = (a: number, b: number, lanesOf: [number, number, number, number], out: number): Code =>
    flat(get(a), get(b), vShuffle32(lanesOf), set(out));
  return flat(
    shuffle(v, v + 1, [0, 4, 1, 5], t),
    shuffle(v, v + 1, [2, 6, 3, 7], t + 1),
    shuffle(v + 2, v + 3, [0, 4, 1, 5], t + 2),
    shuffle(v + 2, v + 3, [2, 6, 3, 7], t + 3),
    shuffle(t, t + 2, [0, 1, 4, 5], v),
    shuffle(t, t + 2, [2, 3, 6, 7], v + 1),
    shuffle(t + 1, t + 3, [0, 1, 4, 5], v + 2),
    shuffle(t + 1, t + 3, [2, 3, 6, 7], v + 3),
  );
}

/**
 * packAGather(src, dst, rows, k, rowOffPtr, colOffPtr): dst[kk·MR + r] = A[r, kk] for r < rows, 0 for
 * the padding rows up to MR, where A[r, kk] is at src + rowOff[r] + colOff[kk] (two i32 tables of byte
 * offsets): an operand no pair of strides describes, such as the patches of an image a convolution reads
 * (im2col, gathered while packing instead of materialized). Rows whose offsets are 4 bytes apart (the
 * channels of one pixel) load one f32x4 per k; otherwise runs of 4 k whose offsets are 4 bytes apart
 * load one f32x4 per row and transpose the 4×4 block in registers.
 */
function packAGather(): FnDef {
  const [src, dst, rows, k, rowOff, colOff] = [0, 1, 2, 3, 4, 5];
  const [kk, d, co] = [6, 7, 8];
  const ro = 9; // ro + r: row r's offset
  const f = ro + MR;
  const v = 0; // v + r: row r's 4 values; t + r: the transpose's halfway point
  const t = MR;
  const vLocal = (i: number): number => f + 1 + i; // v128 locals follow the i32 and f32 ones
  const colAt = (j: number): Code => flat(get(colOff), get(kk), i32(4), mul, add, i32Load(4 * j));
  const loadRows: Code[] = [];
  const lanes: Code[] = [];
  for (let r = 0; r < MR; r++) {
    loadRows.push(
      ifElse(
        flat(i32(r), get(rows), ltS),
        flat(get(rowOff), i32Load(4 * r), set(ro + r)),
        flat(i32(0), set(ro + r)),
      ),
    );
    lanes.push(
      flat(
        get(d),
        ifElse(
          flat(i32(r), get(rows), ltS),
          flat(get(src), get(ro + r), add, get(co), add, f32Load(0), set(f)),
          flat(f32Zero, set(f)),
        ),
        get(f),
        f32Store(4 * r),
      ),
    );
  }
  // One k, any rows.
  const scalarStep = flat(colAt(0), set(co), ...lanes, inc(d, i32(MR * 4)), inc(kk, i32(1)));
  // Four k 4 bytes apart, MR = 4 rows: a 4×4 transpose in registers.
  const vectorStep = flat(
    ...Array.from({ length: MR }, (_, r) =>
      flat(get(src), get(ro + r), add, get(co), add, vLoad(0), set(vLocal(v + r))),
    ),
    transpose4(vLocal(v), vLocal(t)),
    ...Array.from({ length: MR }, (_, j) => flat(get(d), get(vLocal(v + j)), vStore(16 * j))),
    inc(d, i32(MR * 16)),
    inc(kk, i32(4)),
  );
  let runOf4: Code = flat(colAt(1), get(co), i32(4), add, eq);
  for (let j = 2; j < 4; j++) runOf4 = flat(runOf4, colAt(j), get(co), i32(4 * j), add, eq, mul);
  let contiguousRows: Code = flat(get(rows), i32(MR), eq);
  for (let r = 1; r < MR; r++)
    contiguousRows = flat(contiguousRows, get(ro + r), get(ro), i32(4 * r), add, eq, mul);
  const body = flat(
    ...loadRows,
    get(dst),
    set(d),
    i32(0),
    set(kk),
    ifElse(
      contiguousRows,
      whileLoop(
        flat(get(kk), get(k), ltS),
        flat(colAt(0), set(co), get(d), get(src), get(ro), add, get(co), add, vLoad(0), vStore(0)),
        inc(d, i32(MR * 4)),
        inc(kk, i32(1)),
      ),
      ifElse(
        flat(get(rows), i32(MR), eq),
        whileLoop(
          flat(get(kk), i32(4), add, get(k), ltS, get(kk), i32(4), add, get(k), eq, add),
          flat(colAt(0), set(co)),
          ifElse(runOf4, vectorStep, flat(scalarStep, scalarStep, scalarStep, scalarStep)),
        ),
      ),
    ),
    whileLoop(flat(get(kk), get(k), ltS), scalarStep),
  );
  return {
    name: 'packAGather',
    params: 6,
    locals: [
      [3 + MR, I32],
      [1, F32],
      [2 * MR, V128],
    ],
    body,
  };
}

/**
 * packB(src, dst, cols, k, sbkBytes, sbnBytes): one panel, dst[kk·8 + c] = B[kk, c] for c < cols, 0 for
 * the padding columns up to 8; B[kk, c] is at src + kk·sbk + c·sbn. Contiguous full panels (sbn = 4)
 * copy two f32x4 per k; full panels whose columns are contiguous along k (sbk = 4: a transposed operand,
 * such as the weight a `Linear` multiplies by) load four k of each column and transpose them in registers.
 */
function packB(): FnDef {
  const [src, dst, cols, k, sbk, sbn] = [0, 1, 2, 3, 4, 5];
  const [kk, s, d] = [6, 7, 8];
  const v = 9;
  const [cv, tv] = [10, 10 + NR]; // v128 locals: four k of each column, and the transposes' halfway points
  const lanes: Code[] = [];
  for (let c = 0; c < NR; c++) {
    const addr = c === 0 ? get(s) : flat(get(s), get(sbn), i32(c), mul, add);
    lanes.push(
      flat(
        get(d),
        ifElse(flat(i32(c), get(cols), ltS), flat(addr, f32Load(0), set(v)), flat(f32Zero, set(v))),
        get(v),
        f32Store(4 * c),
      ),
    );
  }
  const column = (c: number): Code => (c === 0 ? get(s) : flat(get(s), get(sbn), i32(c), mul, add));
  const full = flat(get(cols), i32(NR), eq);
  const body = flat(
    flat(get(src), set(s), get(dst), set(d), i32(0), set(kk)),
    ifElse(
      flat(full, get(sbn), i32(4), eq, mul),
      whileLoop(
        flat(get(kk), get(k), ltS),
        flat(get(d), get(s), vLoad(0), vStore(0), get(d), get(s), vLoad(16), vStore(16)),
        inc(s, get(sbk)),
        inc(d, i32(NR * 4)),
        inc(kk, i32(1)),
      ),
      flat(
        ifElse(
          flat(full, get(sbk), i32(4), eq, mul),
          // Four k at a time: columns 0–3 and 4–7 as two 4×4 blocks transposed in registers.
          whileLoop(
            flat(get(kk), i32(4), add, get(k), leS),
            ...Array.from({ length: NR }, (_, c) => flat(column(c), vLoad(0), set(cv + c))),
            transpose4(cv, tv),
            transpose4(cv + 4, tv),
            ...Array.from({ length: 4 }, (_, j) =>
              flat(get(d), get(cv + j), vStore(32 * j), get(d), get(cv + 4 + j), vStore(32 * j + 16)),
            ),
            inc(s, i32(16)),
            inc(d, i32(4 * NR * 4)),
            inc(kk, i32(4)),
          ),
        ),
        // Partial panels, other strides, and the last k % 4 of the blocked path.
        whileLoop(
          flat(get(kk), get(k), ltS),
          ...lanes,
          inc(s, get(sbk)),
          inc(d, i32(NR * 4)),
          inc(kk, i32(1)),
        ),
      ),
    ),
  );
  return {
    name: 'packB',
    params: 6,
    locals: [
      [3, I32],
      [1, F32],
      [NR + 4, V128],
    ],
    body,
  };
}

/** Row blocks (or panels) the wide packers move per k: 8 blocks of A read 128 bytes of a row, 8 panels of B 256. */
export const WIDE = 8;

/**
 * packAWide(src, dst, k, sakBytes, blockBytes): packs WIDE full row blocks of an A whose rows are adjacent
 * floats (a transposed operand: row i at src + 4i), block j into dst + j·blockBytes. It reads each k's
 * 4·MR·WIDE floats at once, where packA reads MR floats per k and block: a transposed operand with long
 * rows is walked down k once instead of once per block (with a row stride of 2 KB the narrow walk's lines
 * fall into few cache sets and are evicted before the next block reads them: 2.3× slower measured).
 */
function packAWide(): FnDef {
  const [src, dst, k, sak, blockBytes] = [0, 1, 2, 3, 4];
  const [kk, s, d] = [5, 6, 7];
  const moves = Array.from({ length: WIDE }, (_, j) =>
    flat(get(d), j === 0 ? [] : flat(get(blockBytes), i32(j), mul, add), get(s), vLoad(16 * j), vStore(0)),
  );
  const body = flat(
    flat(get(src), set(s), get(dst), set(d), i32(0), set(kk)),
    whileLoop(flat(get(kk), get(k), ltS), ...moves, inc(s, get(sak)), inc(d, i32(MR * 4)), inc(kk, i32(1))),
  );
  return { name: 'packAWide', params: 5, locals: [[3, I32]], body };
}

/**
 * packBWide(src, dst, k, sbkBytes, panelBytes): packs WIDE full panels of a B whose columns are adjacent
 * floats (row-major), panel j into dst + j·panelBytes, reading each k's 8·WIDE floats at once (what
 * packAWide does for A, for the same reason).
 */
function packBWide(): FnDef {
  const [src, dst, k, sbk, panelBytes] = [0, 1, 2, 3, 4];
  const [kk, s, d] = [5, 6, 7];
  const moves = Array.from({ length: WIDE }, (_, j) => {
    const at = flat(get(d), j === 0 ? [] : flat(get(panelBytes), i32(j), mul, add));
    return flat(at, get(s), vLoad(32 * j), vStore(0), at, get(s), vLoad(32 * j + 16), vStore(16));
  });
  const body = flat(
    flat(get(src), set(s), get(dst), set(d), i32(0), set(kk)),
    whileLoop(flat(get(kk), get(k), ltS), ...moves, inc(s, get(sbk)), inc(d, i32(NR * 4)), inc(kk, i32(1))),
  );
  return { name: 'packBWide', params: 5, locals: [[3, I32]], body };
}

/**
 * copyRows(src, srcStride, dst, dstStride, rows, bytes): copies `bytes` (a multiple of 4) from
 * src + r·srcStride to dst + r·dstStride for each row r < rows (srcStride 0 repeats one row: a bias into
 * every row of C), by f32x4 and a float tail. Copies a padded C out and fills C with a bias without a
 * JavaScript call (or a memory.copy runtime call) per row: attention's products have rows of 65 floats.
 */
function copyRows(): FnDef {
  const [src, srcStride, dst, dstStride, rows, bytes] = [0, 1, 2, 3, 4, 5];
  const [o, vEnd] = [6, 7]; // byte offset within the row; where its whole f32x4 groups end
  const body = flat(
    get(bytes),
    i32(-16),
    iAnd,
    set(vEnd),
    whileLoop(
      flat(get(rows), i32(0), gtS),
      i32(0),
      set(o),
      whileLoop(
        flat(get(o), get(vEnd), ltS),
        flat(get(dst), get(o), add, get(src), get(o), add, vLoad(0), vStore(0)),
        inc(o, i32(16)),
      ),
      whileLoop(
        flat(get(o), get(bytes), ltS),
        flat(get(dst), get(o), add, get(src), get(o), add, f32Load(0), f32Store(0)),
        inc(o, i32(4)),
      ),
      inc(src, get(srcStride)),
      inc(dst, get(dstStride)),
      inc(rows, i32(-1)),
    ),
  );
  return { name: 'copyRows', params: 6, locals: [[2, I32]], body };
}

/** The GEMM module's functions, in export order (a pool call names one by its index here). */
export const GEMM_FUNCTIONS = [
  'kernel',
  'packA',
  'packB',
  'packAGather',
  'copyRows',
  'packAWide',
  'packBWide',
] as const;

/** The GEMM module's bytes for `path`, importing an unshared memory or a shared one. */
export function gemmModuleBytes(path: GemmPath, memory: { shared: boolean }): Uint8Array<ArrayBuffer> {
  return encodeModule(
    [kernel(path), packA(), packB(), packAGather(), copyRows(), packAWide(), packBWide()],
    memory,
  );
}

type I32Fn<N extends number> = (...args: number[] & { length: N }) => void;

/** The GEMM module's exports. Pointers and strides are in bytes. */
export interface GemmExports {
  kernel: I32Fn<8>;
  packA: I32Fn<6>;
  packB: I32Fn<6>;
  packAGather: I32Fn<6>;
  copyRows: I32Fn<6>;
  packAWide: I32Fn<5>;
  packBWide: I32Fn<5>;
}
