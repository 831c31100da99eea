import { batchNormSimd, batchNormSimdFits } from './batch-norm-simd.js';
import type { JsKernel, WasmHeap } from './js-kernel.js';

// BatchNorm with batch statistics over x viewed as [rows, C] (every axis but the last reduced per channel),
// forward and backward as one kernel each (on wasm and cpu, through ./js-kernel) instead of ~50 tfjs kernels
// for both. Mean and biased variance in two passes (the variance of x − mean, not E[x²] − mean²), sums in
// float64. On wasm with C a multiple of 4 the row passes are SIMD (./batch-norm-simd.ts); the per-channel
// steps between them are the JS below on both paths.

/** Attributes of both kernels: the channel count C (x is [rows, C] flattened) and eps (forward only). */
export interface BatchNormAttrs {
  channels: number;
  eps: number;
}

/**
 * Per channel, from Σ(x − mean)²: the biased variance, rstd = 1/√(variance + eps), and y's
 * (x − mean)·scale + shift coefficients (scale = weight·rstd, shift = bias; weight 1 and bias 0 if absent).
 */
function normalizeCoefficients(
  sqdev: Float64Array,
  rows: number,
  eps: number,
  w: Float32Array | null,
  b: Float32Array | null,
  { variance, rstd, scale, shift }: Record<'variance' | 'rstd' | 'scale' | 'shift', Float32Array>,
): void {
  for (let c = 0; c < sqdev.length; c++) {
    variance[c] = sqdev[c]! / rows;
    rstd[c] = 1 / Math.sqrt(variance[c]! + eps);
    scale[c] = w === null ? rstd[c]! : w[c]! * rstd[c]!;
    shift[c] = b === null ? 0 : b[c]!;
  }
}

/**
 * Per channel, from Σdy and Σdy·(x − mean): dbias = Σdy, dweight = rstd·Σdy·(x − mean), and dx's
 * dy·p + (x − mean)·q + s coefficients. With x̂ = (x − mean)·rstd and k = weight·rstd,
 * dx = k·(dy − mean(dy) − x̂·mean(dy·x̂)): p = k, q = −k·rstd²·Σdy·(x − mean)/rows, s = −k·Σdy/rows.
 */
function gradCoefficients(
  sums: Float64Array,
  rows: number,
  rstd: Float32Array,
  w: Float32Array | null,
  { db, dw, p, q, s }: Record<'db' | 'dw' | 'p' | 'q' | 's', Float32Array>,
): void {
  const C = sums.length / 2;
  for (let c = 0; c < C; c++) {
    const [sumDy, sumDyXc, rs] = [sums[c]!, sums[C + c]!, rstd[c]!];
    const k = w === null ? rs : w[c]! * rs;
    db[c] = sumDy;
    dw[c] = rs * sumDyXc;
    p[c] = k;
    q[c] = (-k * rs * rs * sumDyXc) / rows;
    s[c] = (-k * sumDy) / rows;
  }
}

/** A float64 view of `doubles` from the first 8-aligned byte of a fresh scratch block. */
function scratch64(heap: WasmHeap, doubles: number): [address: number, view: () => Float64Array] {
  const address = (heap.scratch(2 * doubles + 1) + 7) & ~7;
  return [address, () => new Float64Array(heap.f32.buffer, address, doubles)];
}

/** Float views of `count` blocks of C floats from byte address `at` on. */
const blocks = (heap: WasmHeap, at: number, C: number, count: number): Float32Array[] =>
  Array.from({ length: count }, (_, i) => heap.f32.subarray((at >> 2) + i * C, (at >> 2) + (i + 1) * C));

/** The C floats at byte address `at` (null stays null). */
function view(heap: WasmHeap, at: number | null | undefined, C: number): Float32Array | null {
  return at === null || at === undefined ? null : heap.f32.subarray(at >> 2, (at >> 2) + C);
}

/**
 * MlBatchNorm: x [..., C], weight [C], bias [C] (both optional) → y (x's shape), mean [C], variance [C]
 * (biased), rstd [C] (1/√(variance + eps)).
 */
export const batchNormKernel: JsKernel<BatchNormAttrs> = {
  name: 'MlBatchNorm',
  inputs: ['x', 'weight', 'bias'],
  outputShapes: ([x], { channels }) => [x!.shape, [channels], [channels], [channels]],
  wasm: (heap, [x, w, b], [y, mean, variance, rstd], { channels: C, eps }, [shape]) => {
    if (!batchNormSimdFits(C)) return false;
    const rows = shape!.reduce((a, d) => a * d, 1) / C;
    const m = batchNormSimd(heap.memory, C);
    const blk = heap.scratch(C);
    const [acc, sums] = scratch64(heap, C);
    const coef = heap.scratch(3 * C); // [mean | scale | shift]
    m.sum(x!, rows, blk, acc);
    const [mu, scale, shift] = blocks(heap, coef, C, 3) as [Float32Array, Float32Array, Float32Array];
    sums().forEach((s, c) => (mu[c] = s / rows));
    view(heap, mean, C)!.set(mu);
    m.sqdev(x!, rows, coef, blk, acc);
    normalizeCoefficients(sums(), rows, eps, view(heap, w, C), view(heap, b, C), {
      variance: view(heap, variance, C)!,
      rstd: view(heap, rstd, C)!,
      scale,
      shift,
    });
    m.normalize(x!, rows, coef, y!);
    return true;
  },
  compute: ([x, w, b], [y, mean, variance, rstd], { channels: C, eps }) => {
    const rows = x!.length / C;
    const acc = new Float64Array(C);
    for (let o = 0; o < x!.length; o += C) for (let c = 0; c < C; c++) acc[c] = acc[c]! + x![o + c]!;
    for (let c = 0; c < C; c++) mean![c] = acc[c]! / rows;
    acc.fill(0);
    for (let o = 0; o < x!.length; o += C) {
      for (let c = 0; c < C; c++) {
        const d = x![o + c]! - mean![c]!;
        acc[c] = acc[c]! + d * d;
      }
    }
    const [scale, shift] = [new Float32Array(C), new Float32Array(C)];
    normalizeCoefficients(acc, rows, eps, w ?? null, b ?? null, {
      variance: variance!,
      rstd: rstd!,
      scale,
      shift,
    });
    for (let o = 0; o < x!.length; o += C)
      for (let c = 0; c < C; c++) y![o + c] = (x![o + c]! - mean![c]!) * scale[c]! + shift[c]!;
  },
};

/**
 * MlBatchNormGrad: dy, x, mean, rstd (MlBatchNorm's), weight (optional) → dx (x's shape), dweight [C],
 * dbias [C]; see gradCoefficients for the formula.
 */
export const batchNormGradKernel: JsKernel<Pick<BatchNormAttrs, 'channels'>> = {
  name: 'MlBatchNormGrad',
  inputs: ['dy', 'x', 'mean', 'rstd', 'weight'],
  outputShapes: ([, x], { channels }) => [x!.shape, [channels], [channels]],
  wasm: (heap, [dy, x, mean, rstd, w], [dx, dw, db], { channels: C }, [shape]) => {
    if (!batchNormSimdFits(C)) return false;
    const rows = shape!.reduce((a, d) => a * d, 1) / C;
    const m = batchNormSimd(heap.memory, C);
    const blk = heap.scratch(2 * C);
    const [acc, sums] = scratch64(heap, 2 * C);
    const coef = heap.scratch(4 * C); // [mean | p | q | s]
    const [mu, p, q, s] = blocks(heap, coef, C, 4) as [
      Float32Array,
      Float32Array,
      Float32Array,
      Float32Array,
    ];
    mu.set(view(heap, mean, C)!);
    m.gradSums(dy!, x!, rows, coef, blk, acc);
    gradCoefficients(sums(), rows, view(heap, rstd, C)!, view(heap, w, C), {
      db: view(heap, db, C)!,
      dw: view(heap, dw, C)!,
      p,
      q,
      s,
    });
    m.gradInput(dy!, x!, rows, coef, dx!);
    return true;
  },
  compute: ([dy, x, mean, rstd, w], [dx, dw, db], { channels: C }) => {
    const rows = x!.length / C;
    const sums = new Float64Array(2 * C); // [Σdy | Σdy·(x − mean)]
    for (let o = 0; o < x!.length; o += C) {
      for (let c = 0; c < C; c++) {
        const d = dy![o + c]!;
        sums[c] = sums[c]! + d;
        sums[C + c] = sums[C + c]! + d * (x![o + c]! - mean![c]!);
      }
    }
    const [p, q, s] = [new Float32Array(C), new Float32Array(C), new Float32Array(C)];
    gradCoefficients(sums, rows, rstd!, w ?? null, { db: db!, dw: dw!, p, q, s });
    for (let o = 0; o < x!.length; o += C) {
      for (let c = 0; c < C; c++) dx![o + c] = dy![o + c]! * p[c]! + (x![o + c]! - mean![c]!) * q[c]! + s[c]!;
    }
  },
};
