import * as tf from '@tensorflow/tfjs-core';

import {
  input,
  size,
  runStock,
  wasmBackend,
  type KernelArgs,
  type TensorInfo,
  type WasmKernel,
} from './kernel-utils.js';
import { SIMD_KERNELS, simdKernelFns } from '../wasm-simd.js';
import { splitCall, splitRange } from './simd-map.js';

// Sum and Mean over leading axes (bias and norm-weight gradients, batch-norm statistics) without the
// stock kernels' transpose: one SIMD column sum.
function reduceLeading(args: KernelArgs, kernel: 'Sum' | 'Mean'): TensorInfo {
  const be = wasmBackend(args.backend);
  const x = input(args, 'x');
  const { axis, keepDims } = args.attrs as unknown as { axis: number | number[]; keepDims: boolean };
  const axes = tf.util.parseAxisParam(axis, x.shape).sort((p, q) => p - q);
  const lead = axes.every((a, i) => a === i) ? axes.length : 0;
  const rows = size(x.shape.slice(0, lead));
  const cols = size(x.shape.slice(lead));
  if (x.dtype !== 'float32' || lead === 0 || cols % 4 !== 0 || rows * cols < 4096)
    return runStock(kernel, args);
  const outShape = keepDims ? x.shape.map((d, i) => (i < lead ? 1 : d)) : x.shape.slice(lead);
  const out = be.makeOutput(outShape, 'float32');
  // Split by groups of columns across threads when large: each column is still summed whole, in order.
  const [src, dst, groups] = [be.ptr(x), be.ptr(out), cols / 4];
  splitCall(
    be.memory(),
    SIMD_KERNELS,
    simdKernelFns,
    'colSum',
    4 * rows * cols,
    (threads) =>
      Array.from({ length: threads }, (_, t) => {
        const [g0, g1] = splitRange(groups, threads, t, 1);
        return g1 > g0 ? [src + 16 * g0, dst + 16 * g0, rows, g1 - g0, 4 * cols] : null;
      }),
    [src, dst, rows, groups, 4 * cols],
  );
  if (kernel === 'Mean') {
    const f = be.heapF32();
    const o = be.ptr(out) >> 2;
    for (let j = 0; j < cols; j++) f[o + j] = f[o + j]! / rows;
  }
  return out;
}

/** @ml's wasm `Sum` and `Mean` kernels. */
export const sumConfigs: readonly WasmKernel[] = [
  { kernelName: 'Sum', kernelFunc: (args) => reduceLeading(args, 'Sum') },
  { kernelName: 'Mean', kernelFunc: (args) => reduceLeading(args, 'Mean') },
];
