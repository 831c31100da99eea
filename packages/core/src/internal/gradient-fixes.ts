import * as tf from '@tensorflow/tfjs-core';

import { jsKernelsActive, runJsKernel } from './kernels/js-kernel.js';
import { softmaxGradKernel } from './kernels/softmax-grad.js';
import { reluGradKernel } from './kernels/unary.js';
import { replaceGradient } from './tfjs-seam.js';

/**
 * d(A·B) with tfjs' transpose flags, lazily per operand, each summed back to its operand's shape (a
 * weight broadcast over a batch gets the sum). Transposes stay flags: @ml's wasm GEMM reads transposed
 * operands in place.
 */
function matMulGrads(
  dy: tf.Tensor,
  a: tf.Tensor,
  b: tf.Tensor,
  attrs: tf.NamedAttrMap,
): { a: () => tf.Tensor; b: () => tf.Tensor } {
  const { transposeA, transposeB } = attrs as unknown as { transposeA: boolean; transposeB: boolean };
  const mm = (x: tf.Tensor, y: tf.Tensor, tx = false, ty = false) => tf.matMul(x, y, tx, ty);
  let da: () => tf.Tensor;
  let db: () => tf.Tensor;
  if (!transposeA && !transposeB) {
    da = () => mm(dy, b, false, true);
    db = () => mm(a, dy, true, false);
  } else if (!transposeA && transposeB) {
    da = () => mm(dy, b);
    db = () => mm(dy, a, true, false);
  } else if (transposeA && !transposeB) {
    da = () => mm(b, dy, false, true);
    db = () => mm(a, dy);
  } else {
    da = () => mm(b, dy, true, true);
    db = () => mm(dy, a, true, true);
  }
  return { a: () => sumToShape(da(), a.shape), b: () => sumToShape(db(), b.shape) };
}

/**
 * BatchMatMul's stock gradient ignores broadcasting: an operand broadcast over batch dimensions (a
 * weight shared by a batch) got a gradient of the broadcast shape. This one sums those dimensions away.
 */
function matMulGradient(): tf.GradConfig {
  return {
    kernelName: 'BatchMatMul',
    inputsToSave: ['a', 'b'],
    gradFunc: (dy, saved, attrs) => {
      const [a, b] = saved as [tf.Tensor, tf.Tensor];
      return matMulGrads(dy as tf.Tensor, a, b, attrs);
    },
  };
}

/**
 * `_FusedMatMul` (A·B + bias) with the linear activation, the kernel `Linear` runs: tfjs registers no
 * gradient for it (tf.fused.matMul differentiates through a custom gradient that computes every
 * operand's gradient, needed or not); this one is lazy per operand like BatchMatMul's.
 */
function fusedMatMulGradient(): tf.GradConfig {
  return {
    kernelName: '_FusedMatMul',
    inputsToSave: ['a', 'b', 'bias'],
    gradFunc: (dy, saved, attrs) => {
      const [a, b, bias] = saved as [tf.Tensor, tf.Tensor, tf.Tensor | undefined];
      const { activation } = attrs as unknown as { activation: string };
      if (activation !== 'linear')
        throw new Error(
          `_FusedMatMul gradient: only the 'linear' activation, got '${activation}' (use tf.fused.matMul)`,
        );
      const g = dy as tf.Tensor;
      const grads: Record<string, () => tf.Tensor> = matMulGrads(g, a, b, attrs);
      if (bias !== undefined) grads.bias = () => sumToShape(g, bias.shape);
      return grads;
    },
  };
}

/** Swaps the last two axes: [..., m, n] → [..., n, m]. */
export function transposeLast2(x: tf.Tensor): tf.Tensor {
  const perm = [...Array(x.rank).keys()];
  perm[x.rank - 2] = x.rank - 1;
  perm[x.rank - 1] = x.rank - 2;
  return tf.transpose(x, perm);
}

/**
 * SquaredDifference's stock gradient ignores broadcasting (an `a` of [B, D] minus a `b` of [D] gets a
 * [B, D] gradient for `b`). This one reduces each gradient to its input's shape.
 */
function squaredDifferenceGradient(): tf.GradConfig {
  return {
    kernelName: 'SquaredDifference',
    inputsToSave: ['a', 'b'],
    gradFunc: (dy, saved) => {
      const [a, b] = saved as [tf.Tensor, tf.Tensor];
      const two = tf.scalar(2);
      const grad = () => tf.mul(dy as tf.Tensor, tf.mul(two, tf.sub(a, b)));
      return {
        a: () => sumToShape(grad(), a.shape),
        b: () => sumToShape(tf.neg(grad()), b.shape),
      };
    },
  };
}

/**
 * Sum's and Mean's stock gradients multiply dy (reshaped to keep the reduced axes) by `ones(x.shape)`, a
 * JavaScript array filled and copied into the backend at every step (for the mean of a [32, 64, 128]
 * loss, 1 ms of a 90 ms step on wasm); these build the ones with the backend's `Fill`. Mean divides dy by
 * the count before broadcasting it (one pass over x's shape instead of two): dy·1/n and (dy/n)·1 are the
 * same float, so the values are the stock ones bit for bit.
 */
function reductionGradient(kernelName: 'Sum' | 'Mean'): tf.GradConfig {
  return {
    kernelName,
    inputsToSave: ['x'],
    gradFunc: (dy, saved, attrs) => {
      const [x] = saved as [tf.Tensor];
      const axes = tf.util.parseAxisParam((attrs as unknown as { axis: number | number[] }).axis, x.shape);
      const kept = x.shape.map((d, i) => (axes.includes(i) ? 1 : d));
      const count = axes.reduce((n, a) => n * x.shape[a]!, 1);
      return {
        x: () => {
          const g = tf.reshape(dy as tf.Tensor, kept);
          return tf.mul(kernelName === 'Mean' ? tf.div(g, count) : g, tf.fill(x.shape, 1, 'float32'));
        },
      };
    },
  };
}

/** Sums `grad` over the axes along which an input of `shape` was broadcast. */
export function sumToShape(grad: tf.Tensor, shape: number[]): tf.Tensor {
  if (grad.shape.length === shape.length && grad.shape.every((d, i) => d === shape[i])) return grad;
  const lead = grad.rank - shape.length;
  const axes: number[] = [];
  for (let i = 0; i < grad.rank; i++) {
    if (i < lead || (shape[i - lead] === 1 && grad.shape[i] !== 1)) axes.push(i);
  }
  return tf.reshape(tf.sum(grad, axes), shape);
}

/**
 * StridedSlice has no gradient in tfjs. dx scatters dy back to the sliced positions: per axis, dy is
 * spread out by the stride (zeros between), flipped for a negative stride, and padded to x's size.
 */
function stridedSliceGradient(): tf.GradConfig {
  return {
    kernelName: 'StridedSlice',
    inputsToSave: ['x'],
    gradFunc: (dy, saved, attrs) => {
      const [x] = saved as [tf.Tensor];
      const a = attrs as unknown as {
        begin: number[];
        end: number[];
        strides: number[];
        beginMask: number;
        endMask: number;
        ellipsisMask: number;
        newAxisMask: number;
        shrinkAxisMask: number;
      };
      return {
        x: () => {
          const info = tf.slice_util.sliceInfo(
            x.shape,
            a.begin,
            a.end,
            a.strides,
            a.beginMask,
            a.endMask,
            a.ellipsisMask,
            a.newAxisMask,
            a.shrinkAxisMask,
          );
          const counts = x.shape.map((_, i) => {
            const [b, e, s] = [info.begin[i]!, info.end[i]!, info.strides[i]!];
            const len = e - b;
            return len === 0 || len < 0 !== s < 0 ? 0 : Math.trunc(len / s) + (len % s !== 0 ? 1 : 0);
          });
          if (counts.some((c) => c === 0)) return tf.zeros(x.shape, x.dtype);
          let g = tf.reshape(dy as tf.Tensor, counts); // one axis per axis of x
          for (let i = 0; i < x.rank; i++) {
            const s = info.strides[i]!;
            const step = Math.abs(s);
            const n = counts[i]!;
            if (s < 0) g = tf.reverse(g, i);
            const first = s > 0 ? info.begin[i]! : info.begin[i]! + (n - 1) * s; // lowest index taken
            if (step > 1) g = spreadAxis(g, i, step);
            const after = x.shape[i]! - first - g.shape[i]!;
            const pads = g.shape.map((): [number, number] => [0, 0]);
            pads[i] = [first, Math.max(0, after)];
            g = tf.pad(g, pads);
            if (after < 0)
              g = tf.slice(
                g,
                0,
                x.shape.map((d, j) => (j === i ? d : -1)),
              );
          }
          return g;
        },
      };
    },
  };
}

/** Inserts step−1 zeros after each element along `axis`, keeping the length (n−1)·step+1. */
function spreadAxis(g: tf.Tensor, axis: number, step: number): tf.Tensor {
  const shape = g.shape;
  const n = shape[axis]!;
  const outer = shape.slice(0, axis + 1);
  const inner = shape.slice(axis + 1).reduce((p, d) => p * d, 1);
  const padded = tf.pad(tf.reshape(g, [...outer, 1, inner]), [
    ...outer.map((): [number, number] => [0, 0]),
    [0, step - 1],
    [0, 0],
  ]);
  const spread = tf.reshape(padded, [...shape.slice(0, axis), n * step, ...shape.slice(axis + 1)]);
  return tf.slice(
    spread,
    0,
    shape.map((d, j) => (j === axis ? (n - 1) * step + 1 : d)),
  );
}

/**
 * Conv2D's stock gradient refuses dilation > 1. A dilated convolution is an ordinary one with a filter
 * spread out by the dilation (zeros between taps), so both gradients follow from the stock backprops of
 * that spread filter; the filter gradient keeps every d-th tap.
 */
function conv2dGradient(stock: tf.GradConfig): tf.GradConfig {
  return {
    kernelName: 'Conv2D',
    inputsToSave: ['x', 'filter'],
    gradFunc: (dy, saved, attrs) => {
      const { dilations } = attrs as unknown as { dilations: number | [number, number] };
      const [dh, dw] = typeof dilations === 'number' ? [dilations, dilations] : (dilations ?? [1, 1]);
      if (dh === 1 && dw === 1) return stock.gradFunc(dy, saved, attrs);
      const [x, filter] = saved as [tf.Tensor4D, tf.Tensor4D];
      const { strides, pad, dataFormat, dimRoundingMode } = attrs as unknown as {
        strides: [number, number] | number;
        pad: 'valid' | 'same' | number;
        dataFormat: 'NHWC' | 'NCHW';
        dimRoundingMode?: 'floor' | 'round' | 'ceil';
      };
      const spreadFilter = () => spreadAxis(spreadAxis(filter, 0, dh), 1, dw) as tf.Tensor4D;
      const g = dy as tf.Tensor4D;
      return {
        x: () => tf.conv2dTranspose(g, spreadFilter(), x.shape, strides, pad, dimRoundingMode),
        filter: () => {
          const spread = spreadFilter();
          const grad = tf.engine().runKernel<tf.Tensor4D>(
            'Conv2DBackpropFilter',
            { x, dy: g },
            {
              strides,
              pad,
              dataFormat,
              filterShape: spread.shape,
              ...(dimRoundingMode === undefined ? {} : { dimRoundingMode }),
            },
          );
          return tf.stridedSlice(grad, [0, 0, 0, 0], grad.shape, [dh, dw, 1, 1]);
        },
      };
    },
  };
}

/**
 * Relu's stock gradient, dy·step(x), is a Step, a Cast and a Multiply: on wasm and cpu it is one kernel
 * (MlReluGrad) with the same values. Other backends and dtypes keep the stock gradient.
 */
function reluGradient(stock: tf.GradConfig): tf.GradConfig {
  return {
    kernelName: 'Relu',
    inputsToSave: ['x'],
    gradFunc: (dy, saved, attrs) => {
      const [x] = saved as [tf.Tensor];
      if (!jsKernelsActive() || x.dtype !== 'float32') return stock.gradFunc(dy, saved, attrs);
      return { x: () => runJsKernel(reluGradKernel, { x, dy: dy as tf.Tensor }, {})[0]! };
    },
  };
}

/**
 * Softmax's stock gradient, dy·y − y·Σ(dy·y) over the last axis, is four kernels: on wasm and cpu it is one
 * (MlSoftmaxGrad) with the same values, split across threads on wasm.
 */
function softmaxGradient(stock: tf.GradConfig): tf.GradConfig {
  return {
    kernelName: 'Softmax',
    outputsToSave: [true],
    gradFunc: (dy, saved, attrs) => {
      const [y] = saved as [tf.Tensor];
      const { dim } = attrs as unknown as { dim: number };
      const last = dim === -1 || dim === y.rank - 1;
      if (!jsKernelsActive() || !last || y.dtype !== 'float32') return stock.gradFunc(dy, saved, attrs);
      return { logits: () => runJsKernel(softmaxGradKernel, { y, dy: dy as tf.Tensor }, {})[0]! };
    },
  };
}

const originals = new Map<string, tf.GradConfig | undefined>();

/**
 * Registers @ml's gradient replacements once; safe to call many times. The `_FusedMatMul` gradient,
 * which tfjs lacks and `Linear` needs, stays registered through {@link uninstallGradientFixes}.
 */
export function installGradientFixes(): void {
  if (tf.getGradient('_FusedMatMul') === undefined) replaceGradient(fusedMatMulGradient());
  if (originals.size > 0) return;
  const [stockConv, stockRelu, stockSoftmax] = ['Conv2D', 'Relu', 'Softmax'].map((k) => tf.getGradient(k));
  const fixes = [
    matMulGradient(),
    squaredDifferenceGradient(),
    stridedSliceGradient(),
    reductionGradient('Sum'),
    reductionGradient('Mean'),
  ];
  if (stockConv !== undefined) fixes.push(conv2dGradient(stockConv));
  if (stockRelu !== undefined) fixes.push(reluGradient(stockRelu));
  if (stockSoftmax !== undefined) fixes.push(softmaxGradient(stockSoftmax));
  for (const fix of fixes) {
    originals.set(fix.kernelName, tf.getGradient(fix.kernelName));
    replaceGradient(fix);
  }
}

/** Puts tfjs' own gradients back (for benchmarks that compare against plain tfjs). */
export function uninstallGradientFixes(): void {
  for (const [name, original] of originals) {
    if (original !== undefined) replaceGradient(original);
    else tf.unregisterGradient(name);
  }
  originals.clear();
}
