import * as tf from '@tensorflow/tfjs-core';

import {
  input,
  size,
  runStock,
  simdOf,
  wasmBackend,
  type KernelArgs,
  type TensorInfo,
  type WasmKernel,
} from './kernel-utils.js';

// Sum over leading axes (bias and norm-weight gradients) without the stock transpose.
function sum(args: KernelArgs): TensorInfo {
  const be = wasmBackend(args.backend);
  const x = input(args, 'x');
  const { axis, keepDims } = args.attrs as unknown as { axis: number | number[]; keepDims: boolean };
  const axes = tf.util.parseAxisParam(axis, x.shape).sort((p, q) => p - q);
  const lead = axes.every((a, i) => a === i) ? axes.length : 0;
  const rows = size(x.shape.slice(0, lead));
  const cols = size(x.shape.slice(lead));
  if (x.dtype !== 'float32' || lead === 0 || cols % 4 !== 0 || rows * cols < 4096)
    return runStock('Sum', args);
  const outShape = keepDims ? x.shape.map((d, i) => (i < lead ? 1 : d)) : x.shape.slice(lead);
  const out = be.makeOutput(outShape, 'float32');
  simdOf(be).colSum(be.ptr(x), be.ptr(out), rows, cols / 4);
  return out;
}

/** @ml's wasm `Sum` kernel. */
export const sumConfig: WasmKernel = { kernelName: 'Sum', kernelFunc: sum };
