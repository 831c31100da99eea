import {
  add,
  flat,
  get,
  I32,
  i32,
  inc,
  ltS,
  select,
  set,
  tee,
  V128,
  vAdd,
  vF64Add,
  vF64PromoteLow,
  vLoad,
  vMul,
  vShuffle32,
  vStore,
  vSub,
  vZero,
  whileLoop,
  type Code,
  type FnDef,
} from '../gemm/wasm-encoder.js';
import { cachedModule } from './simd-map.js';

// The row passes of BatchNorm forward and backward (./batch-norm.ts) as SIMD WebAssembly for the wasm
// backend: x is [rows, C] with C a multiple of 4, rows outer and f32x4 groups of channels inner (contiguous).
// The per-channel work between passes (C floats) stays in JS. Compiled per C so every channel offset is a
// memarg immediate; the channel loop is unrolled by up to 16 groups. Column sums run over blocks of BLOCK
// rows in float32, each block then added into float64 sums, so a sum over 10⁵ rows keeps ~7 digits.

const BLOCK = 32;

/** The address of pointer param `p` at byte offset local `j`. */
const at = (p: number, j: number): Code => flat(get(p), get(j), add);

/** `for (j = 0; j < 4C; j += 16U)` with `body(off)` for the U groups at byte offsets off = 0, 16, …. */
function channels(j: number, C: number, body: (off: number) => Code): Code {
  const groups = C / 4;
  let unroll = Math.min(16, groups);
  while (groups % unroll !== 0) unroll--;
  return flat(
    i32(0),
    set(j),
    whileLoop(
      flat(get(j), i32(4 * C), ltS),
      ...Array.from({ length: unroll }, (_, u) => body(16 * u)),
      inc(j, i32(16 * unroll)),
    ),
  );
}

/** The pointer and count params of a column-sum function, and the pointers that step one row per row. */
interface SumsLayout {
  params: number;
  rows: number;
  blk: number;
  acc: number;
  perRow: number[];
}

/**
 * A function summing per channel over all rows the values `values(j, off, tmp)` (one v128 each, for the
 * four channels at byte offset j + off of the current row; `tmp` a free v128 local) into float64 sums at
 * `acc` (C doubles per value, one block after another), through float32 block sums at `blk` (C floats
 * per value). Both are zeroed first.
 */
function sumsFn(
  name: string,
  C: number,
  { params, rows, blk, acc, perRow }: SumsLayout,
  values: (j: number, off: number, tmp: number) => Code[],
): FnDef {
  const [r, end, j, v] = [params, params + 1, params + 2, params + 3];
  const n = values(j, 0, v).length;
  const blkOff = (off: number, k: number) => off + 4 * C * k;
  const accOff = (off: number, k: number) => 2 * off + 8 * C * k;
  const acc2 = flat(get(acc), get(j), get(j), add, add); // acc + 2j: doubles
  const addInto = (o: number, lanes: Code) =>
    flat(acc2, acc2, vLoad(o), lanes, vF64PromoteLow, vF64Add, vStore(o));
  const ks = Array.from({ length: n }, (_, k) => k);
  return {
    name,
    params,
    locals: [
      [3, I32],
      [1, V128],
    ],
    body: flat(
      channels(j, C, (off) =>
        flat(
          ...ks.map((k) =>
            flat(
              flat(at(blk, j), vZero, vStore(blkOff(off, k))),
              flat(acc2, vZero, vStore(accOff(off, k)), acc2, vZero, vStore(accOff(off, k) + 16)),
            ),
          ),
        ),
      ),
      i32(0),
      set(r),
      whileLoop(
        flat(get(r), get(rows), ltS),
        // end = min(r + BLOCK, rows)
        flat(get(r), i32(BLOCK), add, get(rows), get(r), i32(BLOCK), add, get(rows), ltS, select, set(end)),
        whileLoop(
          flat(get(r), get(end), ltS),
          channels(j, C, (off) =>
            flat(
              ...values(j, off, v).map((value, k) =>
                flat(at(blk, j), at(blk, j), vLoad(blkOff(off, k)), value, vAdd, vStore(blkOff(off, k))),
              ),
            ),
          ),
          ...perRow.map((p) => inc(p, i32(4 * C))),
          inc(r, i32(1)),
        ),
        channels(j, C, (off) =>
          flat(
            ...ks.map((k) =>
              flat(
                flat(at(blk, j), vLoad(blkOff(off, k)), set(v)),
                addInto(accOff(off, k), get(v)),
                addInto(accOff(off, k) + 16, flat(get(v), get(v), vShuffle32([2, 3, 0, 1]))),
                flat(at(blk, j), vZero, vStore(blkOff(off, k))),
              ),
            ),
          ),
        ),
      ),
    ),
  };
}

/** sum(x, rows, blk, acc): acc[c] = Σ_r x[r, c]. */
const sumFn = (C: number): FnDef =>
  sumsFn('sum', C, { params: 4, rows: 1, blk: 2, acc: 3, perRow: [0] }, (j, off) => [
    flat(at(0, j), vLoad(off)),
  ]);

/** sqdev(x, rows, mean, blk, acc): acc[c] = Σ_r (x[r, c] − mean[c])². */
const sqdevFn = (C: number): FnDef =>
  sumsFn('sqdev', C, { params: 5, rows: 1, blk: 3, acc: 4, perRow: [0] }, (j, off, t) => [
    flat(at(0, j), vLoad(off), at(2, j), vLoad(off), vSub, tee(t), get(t), vMul),
  ]);

/** gradSums(dy, x, rows, mean, blk, acc): acc[c] = Σ_r dy[r, c], acc[C + c] = Σ_r dy·(x − mean[c]). */
const gradSumsFn = (C: number): FnDef =>
  sumsFn('gradSums', C, { params: 6, rows: 2, blk: 4, acc: 5, perRow: [0, 1] }, (j, off) => [
    flat(at(0, j), vLoad(off)),
    flat(at(0, j), vLoad(off), at(1, j), vLoad(off), at(3, j), vLoad(off), vSub, vMul),
  ]);

/** `for (r = 0; r < rows; r++)`: `body`, then every pointer param in `perRow` steps one row (4C bytes). */
const overRows = (r: number, rows: number, C: number, perRow: number[], body: Code): Code =>
  flat(
    i32(0),
    set(r),
    whileLoop(flat(get(r), get(rows), ltS), body, ...perRow.map((p) => inc(p, i32(4 * C))), inc(r, i32(1))),
  );

/** normalize(x, rows, coef, y): y = (x − mean)·scale + shift, coef = [mean | scale | shift] (C floats each). */
function normalizeFn(C: number): FnDef {
  const [x, rows, coef, y] = [0, 1, 2, 3];
  const [r, j] = [4, 5];
  return {
    name: 'normalize',
    params: 4,
    locals: [[2, I32]],
    body: overRows(
      r,
      rows,
      C,
      [x, y],
      channels(j, C, (off) =>
        flat(
          at(y, j),
          flat(at(x, j), vLoad(off), at(coef, j), vLoad(off), vSub),
          flat(at(coef, j), vLoad(off + 4 * C), vMul, at(coef, j), vLoad(off + 8 * C), vAdd),
          vStore(off),
        ),
      ),
    ),
  };
}

/** gradInput(dy, x, rows, coef, dx): dx = dy·p + (x − mean)·q + s, coef = [mean | p | q | s]. */
function gradInputFn(C: number): FnDef {
  const [dy, x, rows, coef, dx] = [0, 1, 2, 3, 4];
  const [r, j] = [5, 6];
  return {
    name: 'gradInput',
    params: 5,
    locals: [[2, I32]],
    body: overRows(
      r,
      rows,
      C,
      [dy, x, dx],
      channels(j, C, (off) =>
        flat(
          at(dx, j),
          flat(at(dy, j), vLoad(off), at(coef, j), vLoad(off + 4 * C), vMul),
          flat(at(x, j), vLoad(off), at(coef, j), vLoad(off), vSub, at(coef, j), vLoad(off + 8 * C), vMul),
          vAdd,
          flat(at(coef, j), vLoad(off + 12 * C), vAdd),
          vStore(off),
        ),
      ),
    ),
  };
}

type I32Fn<K extends number> = (...args: number[] & { length: K }) => void;

/** The module's exports for one C (all pointers are byte addresses on the heap). */
export interface BatchNormSimd {
  sum: I32Fn<4>;
  sqdev: I32Fn<5>;
  normalize: I32Fn<4>;
  gradSums: I32Fn<6>;
  gradInput: I32Fn<5>;
}

/** Whether the SIMD module exists for C channels (whole f32x4 groups). */
export const batchNormSimdFits = (C: number): boolean => C % 4 === 0;

/** The module for C channels (a multiple of 4), instantiated once per memory. */
export const batchNormSimd = (memory: WebAssembly.Memory, C: number): BatchNormSimd =>
  cachedModule<BatchNormSimd>(memory, `batch-norm:${C}`, () => [
    sumFn(C),
    sqdevFn(C),
    normalizeFn(C),
    gradSumsFn(C),
    gradInputFn(C),
  ]);
