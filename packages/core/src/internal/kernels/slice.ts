import * as tf from '@tensorflow/tfjs-core';

import {
  input,
  runStock,
  size,
  wasmBackend,
  type KernelArgs,
  type TensorInfo,
  type WasmBackend,
  type WasmKernel,
} from './kernel-utils.js';

// Slice, Unpack and SplitV as copies within the wasm heap. The stock kernels first copy the WHOLE input
// out to JS (readSync) and then cut: O(input) per output, so unstacking T steps of a [T, …] tensor is
// O(T²), and every slice of a large activation costs a full copy. Here each output is written by one
// `copyWithin` per contiguous run of the region. Strings go to the stock kernel.

/** Bytes per element on the wasm heap (bool is stored as one byte). */
const bytesPer = (dtype: tf.DataType): number => (dtype === 'bool' ? 1 : 4);

/** Copies the region [begin, begin + sz) of x into out (contiguous, shape sz), on the heap. */
function copyRegion(be: WasmBackend, x: TensorInfo, begin: number[], sz: number[], out: TensorInfo): void {
  const n = size(sz);
  if (n === 0) return;
  const bpe = bytesPer(x.dtype);
  const shape = x.shape;
  const rank = shape.length;
  const strides = tf.util.computeStrides(shape);
  const stride = (d: number): number => (d === rank - 1 ? 1 : strides[d]!);
  // The innermost contiguous run: trailing axes taken whole, then one axis taken in part.
  let d = rank - 1;
  let run = 1;
  while (d >= 0 && sz[d] === shape[d]) run *= shape[d--]!;
  let base = 0;
  if (d >= 0) {
    run *= sz[d]!;
    base = begin[d]! * stride(d);
  }
  const heap = new Uint8Array(be.memory().buffer); // after makeOutput: the heap may have grown
  const src = be.ptr(x);
  let dst = be.ptr(out);
  const runBytes = run * bpe;
  const idx = new Array<number>(Math.max(d, 0)).fill(0); // position among axes 0 … d − 1
  for (let copied = 0; copied < n; copied += run) {
    let off = base;
    for (let a = 0; a < idx.length; a++) off += (begin[a]! + idx[a]!) * stride(a);
    heap.copyWithin(dst, src + off * bpe, src + off * bpe + runBytes);
    dst += runBytes;
    for (let a = idx.length - 1; a >= 0; a--) {
      if (++idx[a]! < sz[a]!) break;
      idx[a] = 0;
    }
  }
}

function slice(args: KernelArgs): TensorInfo {
  const x = input(args, 'x');
  if (x.dtype === 'string') return runStock('Slice', args);
  const be = wasmBackend(args.backend);
  const { begin, size: sz } = args.attrs as unknown as { begin: number | number[]; size: number | number[] };
  const [b, s] = tf.slice_util.parseSliceParams(x, begin, sz) as [number[], number[]];
  const out = be.makeOutput(s, x.dtype);
  copyRegion(be, x, b, s, out);
  return out;
}

function unpack(args: KernelArgs): TensorInfo[] {
  const x = input(args, 'value');
  if (x.dtype === 'string') return runStock<TensorInfo[]>('Unpack', args);
  const be = wasmBackend(args.backend);
  const rank = x.shape.length;
  const { axis: a } = args.attrs as unknown as { axis: number };
  const axis = a < 0 ? a + rank : a;
  const outShape = x.shape.filter((_, i) => i !== axis);
  const begin = new Array<number>(rank).fill(0);
  const sz = x.shape.slice();
  sz[axis] = 1;
  return Array.from({ length: x.shape[axis]! }, (_, i) => {
    begin[axis] = i;
    const out = be.makeOutput(outShape, x.dtype);
    copyRegion(be, x, begin, sz, out);
    return out;
  });
}

function splitV(args: KernelArgs): TensorInfo[] {
  const x = input(args, 'x');
  if (x.dtype === 'string') return runStock<TensorInfo[]>('SplitV', args);
  const be = wasmBackend(args.backend);
  const { numOrSizeSplits, axis } = args.attrs as unknown as {
    numOrSizeSplits: number | number[];
    axis: number;
  };
  const ax = tf.util.parseAxisParam(axis, x.shape)[0]!;
  const sizes = tf.backend_util.prepareSplitSize(x, numOrSizeSplits, ax);
  const begin = new Array<number>(x.shape.length).fill(0);
  return sizes.map((s) => {
    const sz = x.shape.slice();
    sz[ax] = s;
    const out = be.makeOutput(sz, x.dtype);
    copyRegion(be, x, begin, sz, out);
    begin[ax]! += s;
    return out;
  });
}

/** @ml's wasm `Slice`, `Unpack` and `SplitV`. */
export const sliceConfigs: readonly WasmKernel[] = [
  { kernelName: 'Slice', kernelFunc: slice },
  { kernelName: 'Unpack', kernelFunc: unpack },
  { kernelName: 'SplitV', kernelFunc: splitV },
];
