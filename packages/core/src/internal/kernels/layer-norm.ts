import type { JsKernel } from './js-kernel.js';
import { layerNormForward, layerNormSimd, layerNormSimdFits } from './layer-norm-simd.js';

// LayerNorm over the last N elements of every row, forward and backward as one kernel each (on wasm and
// cpu, through ./js-kernel) instead of ~10 tfjs ops forward and ~25 backward. Row statistics and the
// parameter gradients are accumulated in float64.

/** Attributes of both kernels: the normalised size N (x is [rows, N] flattened) and eps. */
export interface LayerNormAttrs {
  n: number;
  eps: number;
}

/** MlLayerNorm: x, weight [N], bias [N] → y (x's shape), mean [rows], rstd [rows] (1/√(var + eps)). */
export const layerNormKernel: JsKernel<LayerNormAttrs> = {
  name: 'MlLayerNorm',
  inputs: ['x', 'weight', 'bias'],
  outputShapes: ([x], { n }) => {
    const rows = x!.shape.reduce((a, b) => a * b, 1) / n;
    return [x!.shape, [rows], [rows]];
  },
  wasm: (heap, [x, w, b], [y, mean, rstd], { n, eps }, shapes) => {
    if (!layerNormSimdFits(n)) return false;
    layerNormForward(heap.memory, n, eps, [x!, w!, b!, y!, mean!, rstd!], shapes[1]![0]!);
    return true;
  },
  compute: ([x, w, b], [y, mean, rstd], { n, eps }) => {
    const rows = mean!.length;
    for (let r = 0; r < rows; r++) {
      const o = r * n;
      let s = 0;
      for (let j = 0; j < n; j++) s += x![o + j]!;
      const mu = s / n;
      let q = 0;
      for (let j = 0; j < n; j++) {
        const c = x![o + j]! - mu;
        q += c * c;
      }
      const rs = 1 / Math.sqrt(q / n + eps);
      mean![r] = mu;
      rstd![r] = rs;
      for (let j = 0; j < n; j++) y![o + j] = (x![o + j]! - mu) * rs * w![j]! + b![j]!;
    }
  },
};

/**
 * MlLayerNormGrad: dy, x, weight, mean, rstd → dx, dweight [N], dbias [N]. With x̂ = (x − mean)·rstd and
 * g = dy·weight: dx = rstd·(g − mean(g) − x̂·mean(g·x̂)); dweight = Σ_rows dy·x̂; dbias = Σ_rows dy.
 */
export const layerNormGradKernel: JsKernel<LayerNormAttrs> = {
  name: 'MlLayerNormGrad',
  inputs: ['dy', 'x', 'weight', 'mean', 'rstd'],
  outputShapes: ([, x], { n }) => [x!.shape, [n], [n]],
  wasm: (heap, [dy, x, w, mean, rstd], [dx, dw, db], { n, eps }, shapes) => {
    if (!layerNormSimdFits(n)) return false;
    heap.f32.fill(0, dw! >> 2, (dw! >> 2) + n);
    heap.f32.fill(0, db! >> 2, (db! >> 2) + n);
    const rows = shapes[0]!.reduce((a, c) => a * c, 1) / n;
    layerNormSimd(heap.memory, n, eps).backward(dy!, x!, w!, mean!, rstd!, dx!, dw!, db!, rows);
    return true;
  },
  compute: ([dy, x, w, mean, rstd], [dx, dw, db], { n }) => {
    const rows = mean!.length;
    const accW = new Float64Array(n);
    const accB = new Float64Array(n);
    for (let r = 0; r < rows; r++) {
      const o = r * n;
      const mu = mean![r]!;
      const rs = rstd![r]!;
      let sg = 0;
      let sgx = 0;
      for (let j = 0; j < n; j++) {
        const xh = (x![o + j]! - mu) * rs;
        const d = dy![o + j]!;
        const g = d * w![j]!;
        sg += g;
        sgx += g * xh;
        accW[j] = accW[j]! + d * xh;
        accB[j] = accB[j]! + d;
      }
      const mg = sg / n;
      const mgx = sgx / n;
      for (let j = 0; j < n; j++) {
        const xh = (x![o + j]! - mu) * rs;
        dx![o + j] = rs * (dy![o + j]! * w![j]! - mg - xh * mgx);
      }
    }
    dw!.set(accW);
    db!.set(accB);
  },
};
