import {
  add,
  F32,
  f32Load,
  f32Zero,
  fAdd,
  flat,
  get,
  I32,
  i32,
  inc,
  leS,
  ltS,
  set,
  sub,
  V128,
  vLoad,
  vMul,
  vSplat,
  vStore,
  vSub,
  whileLoop,
  type Code,
  type FnDef,
} from '../gemm/wasm-encoder.js';
import type { JsKernel } from './js-kernel.js';
import { splitCall, splitRange } from './simd-map.js';

// The gradient of softmax over the last axis, dx = dy·y − y·Σ(dy·y), as one kernel (one pass over each
// row, rows split across threads) in place of tfjs' four (Multiply, Sum, a broadcast Multiply, Sub), each
// a full pass and the broadcast one single-threaded. The values are those of the four kernels on the same
// backend, bit for bit: on wasm every operation is one float32 operation and each row's sum adds its
// products in order from +0 (as tfjs-backend-wasm's Sum); on cpu the sum runs in double precision and is
// rounded once (as tfjs-backend-cpu's Sum).

/** Rows one pass of the wasm function handles at once: their sums are independent chains. */
const GROUP = 4;

/**
 * grad(dy, y, out, rows) for rows of C floats (C a multiple of 4, compiled in): out = dy·y first, then
 * each row's sum of it, then out −= sum·y. Rows go GROUP at a time, then one at a time.
 */
function gradFn(C: number): FnDef {
  const [dy, y, out, rows] = [0, 1, 2, 3];
  const [r, j] = [4, 5];
  const S = 6; // f32 sums S..S+GROUP−1
  const V = S + GROUP; // v128 splats V..V+GROUP−1
  const rowBytes = 4 * C;
  const each = (g: number, f: (q: number) => Code): Code => flat(...Array.from({ length: g }, (_, q) => f(q)));
  const at = (p: number): Code => flat(get(p), get(j), add);
  /** Handles `g` rows from the current pointers. */
  const rowsOf = (g: number): Code =>
    flat(
      // out = dy·y
      i32(0),
      set(j),
      whileLoop(
        flat(get(j), i32(rowBytes), ltS),
        each(g, (q) =>
          flat(at(out), at(dy), vLoad(q * rowBytes), at(y), vLoad(q * rowBytes), vMul, vStore(q * rowBytes)),
        ),
        inc(j, i32(16)),
      ),
      // the sums, in order along each row
      each(g, (q) => flat(f32Zero, set(S + q))),
      i32(0),
      set(j),
      whileLoop(
        flat(get(j), i32(rowBytes), ltS),
        each(g, (q) => flat(get(S + q), at(out), f32Load(q * rowBytes), fAdd, set(S + q))),
        inc(j, i32(4)),
      ),
      each(g, (q) => flat(get(S + q), vSplat, set(V + q))),
      // out = out − sum·y
      i32(0),
      set(j),
      whileLoop(
        flat(get(j), i32(rowBytes), ltS),
        each(g, (q) =>
          flat(
            at(out),
            at(out),
            vLoad(q * rowBytes),
            get(V + q),
            at(y),
            vLoad(q * rowBytes),
            vMul,
            vSub,
            vStore(q * rowBytes),
          ),
        ),
        inc(j, i32(16)),
      ),
      inc(dy, i32(g * rowBytes)),
      inc(y, i32(g * rowBytes)),
      inc(out, i32(g * rowBytes)),
      inc(r, i32(g)),
    );
  return {
    name: 'grad',
    params: 4,
    locals: [
      [2, I32],
      [GROUP, F32],
      [GROUP, V128],
    ],
    body: flat(
      i32(0),
      set(r),
      whileLoop(flat(get(r), get(rows), i32(GROUP), sub, leS), rowsOf(GROUP)),
      whileLoop(flat(get(r), get(rows), ltS), rowsOf(1)),
    ),
  };
}

/** MlSoftmaxGrad: y (softmax's output), dy → dx, over the last axis. */
export const softmaxGradKernel: JsKernel<Record<string, never>> = {
  name: 'MlSoftmaxGrad',
  inputs: ['y', 'dy'],
  outputShapes: ([y]) => [y!.shape],
  compute: ([y, dy], [dx], _attrs, [shape]) => {
    const C = shape![shape!.length - 1]!;
    for (let o = 0; o < dx!.length; o += C) {
      let s = 0;
      for (let j = o; j < o + C; j++) {
        dx![j] = dy![j]! * y![j]!;
        s += dx![j]!;
      }
      const sum = Math.fround(s);
      for (let j = o; j < o + C; j++) dx![j] = dx![j]! - Math.fround(sum * y![j]!);
    }
  },
  wasm: (heap, [y, dy], [dx], _attrs, [shape]) => {
    const C = shape![shape!.length - 1]!;
    const total = shape!.reduce((a, b) => a * b, 1);
    const rows = C === 0 ? 0 : total / C;
    if (C % 4 !== 0) {
      // float32 throughout, as the wasm kernels: a rounded product, a rounded running sum
      const f = heap.f32;
      const [py, pd, po] = [y! >> 2, dy! >> 2, dx! >> 2];
      for (let o = 0; o < total; o += C) {
        let s = 0;
        for (let j = o; j < o + C; j++) {
          f[po + j] = f[pd + j]! * f[py + j]!;
          s = Math.fround(s + f[po + j]!);
        }
        for (let j = o; j < o + C; j++) f[po + j] = f[po + j]! - Math.fround(s * f[py + j]!);
      }
      return true;
    }
    const key = `softmax-grad:${C}`;
    const fns = () => [gradFn(C)];
    const rowBytes = 4 * C;
    const part = (r0: number, r1: number): number[] => [
      dy! + r0 * rowBytes,
      y! + r0 * rowBytes,
      dx! + r0 * rowBytes,
      r1 - r0,
    ];
    if (rows > 0)
      splitCall(
        heap.memory,
        key,
        fns,
        'grad',
        rows * rowBytes * 3,
        (threads) =>
          Array.from({ length: threads }, (_, t) => {
            const [r0, r1] = splitRange(rows, threads, t, GROUP);
            return r1 > r0 ? part(r0, r1) : null;
          }),
        part(0, rows),
      );
    return true;
  },
};

