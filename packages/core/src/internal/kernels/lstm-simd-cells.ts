import {
  add,
  f32x4,
  flat,
  get,
  I32,
  i32,
  i32x4,
  inc,
  ltS,
  set,
  V128,
  vAdd,
  vDiv,
  vI32Add,
  vI32Shl,
  vI32TruncSat,
  vLoad,
  vPmax,
  vPmin,
  vMul,
  vNearest,
  vStore,
  vSub,
  whileLoop,
  type Code,
  type FnDef,
} from '../gemm/wasm-encoder.js';
import type { PoolCall } from '../gemm/pool.js';
import { cachedModule, poolCall } from './simd-map.js';

// One LSTM step's elementwise work as SIMD WebAssembly, for the fused LSTM kernels on wasm: forward, the
// gate nonlinearities, the cell update and the new hidden state; backward, the gate pre-activation
// gradients and the cell gradient carried to the previous step. Each is one pass over the batch with
// f32x4 lanes along the hidden units, compiled per hidden size H (a multiple of 4) so every block offset
// is an immediate. exp is Cephes' expf (range reduction by ln 2 in two parts, degree-5 polynomial,
// exponent bits built directly), within a few float32 ulps; inputs are clamped so it never overflows.

/** Scratch v128 locals of {@link expOf}. */
export interface ExpLocals {
  y: number;
  k: number;
  r: number;
}

/**
 * exp(scale·x) of the v128 on the stack, left on the stack (f32x4). The clamp is pmin/pmax (one x86
 * instruction each, where f32x4.min/max take several) with x first, so a NaN x stays NaN.
 */
export function expOf(scale: number, { y, k, r }: ExpLocals): Code {
  return flat(
    f32x4(scale),
    vMul,
    f32x4(88.3),
    vPmin,
    f32x4(-87.3),
    vPmax,
    set(y),
    get(y),
    f32x4(Math.LOG2E),
    vMul,
    vNearest,
    set(k),
    get(y),
    get(k),
    f32x4(0.693359375),
    vMul,
    vSub,
    get(k),
    f32x4(-2.1219444e-4),
    vMul,
    vSub,
    set(r),
    f32x4(1.98756915e-4),
    get(r),
    vMul,
    f32x4(1.3981999507e-3),
    vAdd,
    get(r),
    vMul,
    f32x4(8.3334519073e-3),
    vAdd,
    get(r),
    vMul,
    f32x4(4.1665795894e-2),
    vAdd,
    get(r),
    vMul,
    f32x4(1.6666665459e-1),
    vAdd,
    get(r),
    vMul,
    f32x4(5.0000001201e-1),
    vAdd,
    get(r),
    vMul,
    get(r),
    vMul,
    get(r),
    vAdd,
    f32x4(1),
    vAdd,
    get(k),
    vI32TruncSat,
    i32x4(127),
    vI32Add,
    i32(23),
    vI32Shl,
    vMul,
  );
}

/** σ(x) = 1 / (1 + exp(−x)) of `x` (code leaving a v128). */
const sigmoid = (x: Code, e: ExpLocals): Code => flat(f32x4(1), x, expOf(-1, e), f32x4(1), vAdd, vDiv);
/** tanh(x) = 2 / (1 + exp(−2x)) − 1 of `x`. */
const tanh = (x: Code, e: ExpLocals): Code =>
  flat(f32x4(2), x, expOf(-2, e), f32x4(1), vAdd, vDiv, f32x4(-1), vAdd);
/** 1 − x·x of local `v`. */
const oneMinusSquare = (v: number): Code => flat(f32x4(1), get(v), get(v), vMul, vSub);
/** 1 − x of local `v`. */
const oneMinus = (v: number): Code => flat(f32x4(1), get(v), vSub);

/**
 * The loops both functions share: rows b < B (param `rows`), lanes j (a byte offset stepping 16 up to
 * 4H), pointers `ptrs` advanced by their row strides (bytes) after each row.
 */
function rowsLoop(H: number, rows: number, j: number, b: number, ptrs: [number, number][], lane: Code): Code {
  return flat(
    i32(0),
    set(b),
    whileLoop(
      flat(get(b), get(rows), ltS),
      i32(0),
      set(j),
      whileLoop(flat(get(j), i32(4 * H), ltS), lane, inc(j, i32(16))),
      ...ptrs.map(([p, stride]) => inc(p, i32(stride))),
      inc(b, i32(1)),
    ),
  );
}

/** Row stride (floats) of the scratch product C the kernels use: n rounded up to whole 8-column panels. */
export const paddedRow = (n: number): number => Math.ceil(n / 8) * 8;

/**
 * forward(z, xp, cPrev, gates, cOut, tanhC, hOut, B), pointers in bytes: for every row b and unit j,
 * with pre = z (row stride paddedRow(4H)) + xp (row stride 4H) in gate blocks i, f, g, o:
 * i, f, o = σ(pre), g = tanh(pre) → gates; c = f·cPrev + i·g → cOut; tanh(c) → tanhC; o·tanh(c) → hOut.
 */
function forwardFn(H: number): FnDef {
  const [z, xp, cPrev, gates, cOut, tanhC, hOut, rows] = [0, 1, 2, 3, 4, 5, 6, 7];
  const [j, b] = [8, 9];
  const [vi, vf, vg, vo, vc, vt] = [10, 11, 12, 13, 14, 15];
  const e = { y: 16, k: 17, r: 18 };
  const at = (p: number): Code => flat(get(p), get(j), add);
  const pre = (block: number): Code => flat(at(z), vLoad(4 * H * block), at(xp), vLoad(4 * H * block), vAdd);
  const lane = flat(
    sigmoid(pre(0), e),
    set(vi),
    sigmoid(pre(1), e),
    set(vf),
    tanh(pre(2), e),
    set(vg),
    sigmoid(pre(3), e),
    set(vo),
    flat(at(gates), get(vi), vStore(0), at(gates), get(vf), vStore(4 * H)),
    flat(at(gates), get(vg), vStore(8 * H), at(gates), get(vo), vStore(12 * H)),
    flat(get(vf), at(cPrev), vLoad(0), vMul, get(vi), get(vg), vMul, vAdd, set(vc)),
    flat(at(cOut), get(vc), vStore(0)),
    tanh(get(vc), e),
    set(vt),
    flat(at(tanhC), get(vt), vStore(0), at(hOut), get(vo), get(vt), vMul, vStore(0)),
  );
  const G4 = 16 * H;
  const H4 = 4 * H;
  return {
    name: 'forward',
    params: 8,
    locals: [
      [2, I32],
      [9, V128],
    ],
    body: rowsLoop(
      H,
      rows,
      j,
      b,
      [
        [z, 4 * paddedRow(4 * H)],
        [xp, G4],
        [cPrev, H4],
        [gates, G4],
        [cOut, H4],
        [tanhC, H4],
        [hOut, H4],
      ],
      lane,
    ),
  };
}

/**
 * backward(dyH, dyC, dhNext, dc, gates, tanhC, cPrev, dxp, B), pointers in bytes: one step of
 * backpropagation through time. dh = dyH + dhNext (row stride paddedRow(H)), the gradient reaching
 * h_t through the next step's product; dc (in/out, row stride H) holds the gradient reaching c_t
 * through the next step and leaves with the one reaching c_{t−1}. Writes the gate pre-activation
 * gradients dxp (row stride 4H).
 */
function backwardFn(H: number): FnDef {
  const [dyH, dyC, dhNext, dc, gates, tanhC, cPrev, dxp, rows] = [0, 1, 2, 3, 4, 5, 6, 7, 8];
  const [j, b] = [9, 10];
  const [vdh, vdc, vi, vf, vg, vo, vt] = [11, 12, 13, 14, 15, 16, 17];
  const at = (p: number): Code => flat(get(p), get(j), add);
  const lane = flat(
    flat(at(dyH), vLoad(0), at(dhNext), vLoad(0), vAdd, set(vdh)),
    flat(at(tanhC), vLoad(0), set(vt), at(gates), vLoad(12 * H), set(vo)),
    flat(at(gates), vLoad(0), set(vi), at(gates), vLoad(4 * H), set(vf), at(gates), vLoad(8 * H), set(vg)),
    // dc = dh·o·(1 − tanh²c) + dc_next + dyC
    flat(get(vdh), get(vo), vMul, oneMinusSquare(vt), vMul, at(dc), vLoad(0), vAdd, at(dyC), vLoad(0), vAdd),
    set(vdc),
    flat(at(dxp), get(vdc), get(vg), vMul, get(vi), vMul, oneMinus(vi), vMul, vStore(0)),
    flat(at(dxp), get(vdc), at(cPrev), vLoad(0), vMul, get(vf), vMul, oneMinus(vf), vMul, vStore(4 * H)),
    flat(at(dxp), get(vdc), get(vi), vMul, oneMinusSquare(vg), vMul, vStore(8 * H)),
    flat(at(dxp), get(vdh), get(vt), vMul, get(vo), vMul, oneMinus(vo), vMul, vStore(12 * H)),
    flat(at(dc), get(vdc), get(vf), vMul, vStore(0)),
  );
  const G4 = 16 * H;
  const H4 = 4 * H;
  return {
    name: 'backward',
    params: 9,
    locals: [
      [2, I32],
      [7, V128],
    ],
    body: rowsLoop(
      H,
      rows,
      j,
      b,
      [
        [dyH, H4],
        [dyC, H4],
        [dhNext, 4 * paddedRow(H)],
        [dc, H4],
        [gates, G4],
        [tanhC, H4],
        [cPrev, H4],
        [dxp, G4],
      ],
      lane,
    ),
  };
}

type I32Fn<N extends number> = (...args: number[] & { length: N }) => void;

/** The module's exports for one hidden size (see forwardFn and backwardFn for the arguments). */
export interface LstmSimdCells {
  forward: I32Fn<8>;
  backward: I32Fn<9>;
}

/** Whether the SIMD cells exist for hidden size H (whole f32x4 lanes). */
export const simdCellsFit = (H: number): boolean => H % 4 === 0;

/** The cell module for hidden size H (a multiple of 4), instantiated once per memory and H. */
export const lstmSimdCells = (memory: WebAssembly.Memory, H: number): LstmSimdCells =>
  cachedModule<LstmSimdCells>(memory, `lstm-cells:${H}`, () => [forwardFn(H), backwardFn(H)]);

/** A pool call of the cells' `forward` or `backward` for hidden size H (arguments as above). */
export const cellsCall = (
  memory: WebAssembly.Memory,
  H: number,
  name: 'forward' | 'backward',
  args: number[],
): PoolCall => poolCall(memory, `lstm-cells:${H}`, () => [forwardFn(H), backwardFn(H)], name, args);
