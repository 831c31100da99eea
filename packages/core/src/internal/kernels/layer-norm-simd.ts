import {
  add,
  F32,
  f32Load,
  f32Store,
  fAdd,
  fConst,
  fDiv,
  flat,
  fSqrt,
  get,
  I32,
  i32,
  inc,
  ltS,
  set,
  V128,
  vAdd,
  vLane,
  vLoad,
  vMul,
  vSplat,
  vStore,
  vSub,
  vZero,
  whileLoop,
  type Code,
  type FnDef,
} from '../gemm/wasm-encoder.js';
import { cachedModule, splitCall, splitRange } from './simd-map.js';

// LayerNorm forward and backward as SIMD WebAssembly for the wasm backend (the JS loops of
// ./layer-norm.ts are latency-bound on their row reductions): f32x4 lanes along each row of N floats (N a
// multiple of 4), row sums reduced across lanes at the end of each pass. Compiled per (N, eps) so both
// are immediates. The parameter gradients are accumulated over rows in float32.

/** The f32 sum of the four lanes of local `v` (lanes 0 + 1 + 2 + 3, in order). */
const hsum = (v: number): Code =>
  flat(get(v), vLane(0), get(v), vLane(1), fAdd, get(v), vLane(2), fAdd, get(v), vLane(3), fAdd);

/** `while (j < 4N) { body; j += 16 }` from j = 0. */
const lanes = (j: number, N: number, ...body: Code[]): Code =>
  flat(i32(0), set(j), whileLoop(flat(get(j), i32(4 * N), ltS), ...body, inc(j, i32(16))));

const at = (p: number, j: number): Code => flat(get(p), get(j), add);

/** forward(x, w, b, y, mean, rstd, rows): see ./layer-norm.ts (layerNormKernel). */
function forwardFn(N: number, eps: number): FnDef {
  const [x, w, b, y, mean, rstd, rows] = [0, 1, 2, 3, 4, 5, 6];
  const [r, j] = [7, 8];
  const [acc, mu, rs, c] = [9, 10, 11, 12];
  const s = 13;
  const rowBytes = 4 * N;
  return {
    name: 'forward',
    params: 7,
    locals: [
      [2, I32],
      [4, V128],
      [1, F32],
    ],
    body: flat(
      i32(0),
      set(r),
      whileLoop(
        flat(get(r), get(rows), ltS),
        flat(vZero, set(acc)),
        lanes(j, N, get(acc), at(x, j), vLoad(), vAdd, set(acc)),
        flat(hsum(acc), fConst(N), fDiv, set(s)),
        flat(get(mean), get(s), f32Store(), get(s), vSplat, set(mu)),
        flat(vZero, set(acc)),
        lanes(j, N, at(x, j), vLoad(), get(mu), vSub, set(c), get(acc), get(c), get(c), vMul, vAdd, set(acc)),
        flat(fConst(1), hsum(acc), fConst(N), fDiv, fConst(eps), fAdd, fSqrt, fDiv, set(s)),
        flat(get(rstd), get(s), f32Store(), get(s), vSplat, set(rs)),
        lanes(
          j,
          N,
          at(y, j),
          flat(
            at(x, j),
            vLoad(),
            get(mu),
            vSub,
            get(rs),
            vMul,
            at(w, j),
            vLoad(),
            vMul,
            at(b, j),
            vLoad(),
            vAdd,
          ),
          vStore(),
        ),
        inc(x, i32(rowBytes)),
        inc(y, i32(rowBytes)),
        inc(mean, i32(4)),
        inc(rstd, i32(4)),
        inc(r, i32(1)),
      ),
    ),
  };
}

/**
 * backward(dy, x, w, mean, rstd, dx, dw, db, rows): see ./layer-norm.ts (layerNormGradKernel); dw and db
 * must hold zeros on entry.
 */
function backwardFn(N: number): FnDef {
  const [dy, x, w, mean, rstd, dx, dw, db, rows] = [0, 1, 2, 3, 4, 5, 6, 7, 8];
  const [r, j] = [9, 10];
  const [mu, rs, sg, sgx, xh, d, g, mg, mgx] = [11, 12, 13, 14, 15, 16, 17, 18, 19];
  const rowBytes = 4 * N;
  const xHat = flat(at(x, j), vLoad(), get(mu), vSub, get(rs), vMul, set(xh));
  return {
    name: 'backward',
    params: 9,
    locals: [
      [2, I32],
      [9, V128],
    ],
    body: flat(
      i32(0),
      set(r),
      whileLoop(
        flat(get(r), get(rows), ltS),
        flat(get(mean), f32Load(), vSplat, set(mu), get(rstd), f32Load(), vSplat, set(rs)),
        flat(vZero, set(sg), vZero, set(sgx)),
        lanes(
          j,
          N,
          xHat,
          flat(at(dy, j), vLoad(), set(d), get(d), at(w, j), vLoad(), vMul, set(g)),
          flat(get(sg), get(g), vAdd, set(sg), get(sgx), get(g), get(xh), vMul, vAdd, set(sgx)),
          flat(at(dw, j), at(dw, j), vLoad(), get(d), get(xh), vMul, vAdd, vStore()),
          flat(at(db, j), at(db, j), vLoad(), get(d), vAdd, vStore()),
        ),
        flat(hsum(sg), fConst(N), fDiv, vSplat, set(mg), hsum(sgx), fConst(N), fDiv, vSplat, set(mgx)),
        lanes(
          j,
          N,
          xHat,
          at(dx, j),
          flat(
            get(rs),
            at(dy, j),
            vLoad(),
            at(w, j),
            vLoad(),
            vMul,
            get(mg),
            vSub,
            get(xh),
            get(mgx),
            vMul,
            vSub,
          ),
          vMul,
          vStore(),
        ),
        inc(dy, i32(rowBytes)),
        inc(x, i32(rowBytes)),
        inc(dx, i32(rowBytes)),
        inc(mean, i32(4)),
        inc(rstd, i32(4)),
        inc(r, i32(1)),
      ),
    ),
  };
}

type I32Fn<K extends number> = (...args: number[] & { length: K }) => void;

/** The module's exports for one (N, eps). */
export interface LayerNormSimd {
  forward: I32Fn<7>;
  backward: I32Fn<9>;
}

/** Whether the SIMD module exists for rows of N floats (whole f32x4 lanes). */
export const layerNormSimdFits = (N: number): boolean => N % 4 === 0;

const key = (N: number, eps: number): string => `layer-norm:${N}:${eps}`;
const fns = (N: number, eps: number) => () => [forwardFn(N, eps), backwardFn(N)];

/** The module for rows of N floats (a multiple of 4) and this eps, instantiated once per memory. */
export const layerNormSimd = (memory: WebAssembly.Memory, N: number, eps: number): LayerNormSimd =>
  cachedModule<LayerNormSimd>(memory, key(N, eps), fns(N, eps));

/**
 * The forward pass over `rows` rows, split by rows across threads when large (each row is computed
 * whole, so the result does not depend on the split).
 */
export function layerNormForward(
  memory: WebAssembly.Memory,
  N: number,
  eps: number,
  [x, w, b, y, mean, rstd]: number[],
  rows: number,
): void {
  const whole = [x!, w!, b!, y!, mean!, rstd!, rows];
  splitCall(
    memory,
    key(N, eps),
    fns(N, eps),
    'forward',
    rows * N * 4,
    (threads) =>
      Array.from({ length: threads }, (_, t) => {
        const [r0, r1] = splitRange(rows, threads, t, 1);
        return r1 > r0
          ? [x! + 4 * N * r0, w!, b!, y! + 4 * N * r0, mean! + 4 * r0, rstd! + 4 * r0, r1 - r0]
          : null;
      }),
    whole,
  );
}
