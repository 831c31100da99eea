import {
  input,
  size,
  wasmBackend,
  type KernelArgs,
  type TensorInfo,
  type WasmKernel,
} from './kernel-utils.js';

// UnsortedSegmentSum, the gradient of gather (so of trainable embeddings); tfjs-backend-wasm has none.
function unsortedSegmentSum(args: KernelArgs): TensorInfo {
  const be = wasmBackend(args.backend);
  const x = input(args, 'x');
  const ids = input(args, 'segmentIds');
  const { numSegments } = args.attrs as unknown as { numSegments: number };
  const inner = size(x.shape.slice(ids.shape.length));
  const rows = size(ids.shape);
  const outShape = [numSegments, ...x.shape.slice(ids.shape.length)];
  const out = be.makeOutput(outShape, x.dtype);
  const heap = x.dtype === 'float32' ? be.heapF32() : be.heap32();
  const ih = be.heap32();
  const po = be.ptr(out) >> 2;
  const px = be.ptr(x) >> 2;
  const pi = be.ptr(ids) >> 2;
  heap.fill(0, po, po + numSegments * inner);
  for (let r = 0; r < rows; r++) {
    const id = ih[pi + r]!;
    if (id < 0 || id >= numSegments) continue; // as TensorFlow: out-of-range ids are dropped
    const dst = po + id * inner;
    const src = px + r * inner;
    for (let i = 0; i < inner; i++) heap[dst + i] = heap[dst + i]! + heap[src + i]!;
  }
  return out;
}

/** @ml's wasm `UnsortedSegmentSum` kernel. */
export const unsortedSegmentSumConfig: WasmKernel = {
  kernelName: 'UnsortedSegmentSum',
  kernelFunc: unsortedSegmentSum,
};
