import {
  add,
  F32,
  f32Load,
  f32Store,
  f32Zero,
  fMul,
  fSub,
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
 * grad(dy, y, out, rows) for rows of C floats (compiled in): out = dy·y first, then each row's sum of it
 * in order, then out −= sum·y; f32x4 groups along the row, its last C mod 4 floats one by one. Rows go
 * GROUP at a time, then one at a time.
 */
function gradFn(C: number): FnDef {
  const [dy, y, out, rows] = [0, 1, 2, 3];
  const [r, j] = [4, 5];
  const S = 6; // f32 sums S..S+GROUP−1
  const V = S + GROUP; // v128 splats V..V+GROUP−1
  const rowBytes = 4 * C;
  const groupBytes = 16 * Math.floor(C / 4);
  const each = (g: number, f: (q: number) => Code): Code =>
    flat(...Array.from({ length: g }, (_, q) => f(q)));
  /** `body` for j over [from, to) bytes in steps of `by`. */
  const span = (from: number, to: number, by: number, body: Code): Code =>
    to <= from ? [] : flat(i32(from), set(j), whileLoop(flat(get(j), i32(to), ltS), body, inc(j, i32(by))));
  const at = (p: number): Code => flat(get(p), get(j), add);
  /** Handles `g` rows from the current pointers. */
  const rowsOf = (g: number): Code =>
    flat(
      // out = dy·y
      span(
        0,
        groupBytes,
        16,
        each(g, (q) => {
          const o = q * rowBytes;
          return flat(at(out), at(dy), vLoad(o), at(y), vLoad(o), vMul, vStore(o));
        }),
      ),
      span(
        groupBytes,
        rowBytes,
        4,
        each(g, (q) => {
          const o = q * rowBytes;
          return flat(at(out), at(dy), f32Load(o), at(y), f32Load(o), fMul, f32Store(o));
        }),
      ),
      // the sums, in order along each row
      each(g, (q) => flat(f32Zero, set(S + q))),
      span(
        0,
        rowBytes,
        4,
        each(g, (q) => flat(get(S + q), at(out), f32Load(q * rowBytes), fAdd, set(S + q))),
      ),
      each(g, (q) => flat(get(S + q), vSplat, set(V + q))),
      // out = out − sum·y
      span(
        0,
        groupBytes,
        16,
        each(g, (q) => {
          const o = q * rowBytes;
          return flat(at(out), at(out), vLoad(o), get(V + q), at(y), vLoad(o), vMul, vSub, vStore(o));
        }),
      ),
      span(
        groupBytes,
        rowBytes,
        4,
        each(g, (q) => {
          const o = q * rowBytes;
          return flat(at(out), at(out), f32Load(o), get(S + q), at(y), f32Load(o), fMul, fSub, f32Store(o));
        }),
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
