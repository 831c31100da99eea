import {
  input,
  size,
  wasmBackend,
  depthwiseInfo,
  forEachTap,
  type ConvAttrs,
  type KernelArgs,
  type TensorInfo,
  type WasmKernel,
} from './kernel-utils.js';

// dx of a depthwise convolution, a direct loop over the heap; tfjs-backend-wasm has no such kernel.
function depthwiseBackpropInput(args: KernelArgs): TensorInfo {
  const be = wasmBackend(args.backend);
  const dy = input(args, 'dy');
  const filter = input(args, 'filter');
  const attrs = args.attrs as unknown as ConvAttrs & { inputShape: number[] };
  const { info, mult } = depthwiseInfo(attrs.inputShape, filter.shape, attrs);
  const out = be.makeOutput(attrs.inputShape, 'float32');
  const heap = be.heapF32(); // read after makeOutput: allocation may grow (and replace) the heap
  const dx = be.ptr(out) >> 2;
  const g = be.ptr(dy) >> 2;
  const f = be.ptr(filter) >> 2;
  heap.fill(0, dx, dx + size(attrs.inputShape));
  const c = info.inChannels;
  forEachTap(info, (xb, yb, fb) => {
    for (let ci = 0; ci < c; ci++) {
      let s = 0;
      for (let q = 0; q < mult; q++) s += heap[g + yb + ci * mult + q]! * heap[f + fb + ci * mult + q]!;
      heap[dx + xb + ci] = heap[dx + xb + ci]! + s;
    }
  });
  return out;
}

/** @ml's wasm `DepthwiseConv2dNativeBackpropInput` kernel. */
export const depthwiseBackpropInputConfig: WasmKernel = {
  kernelName: 'DepthwiseConv2dNativeBackpropInput',
  kernelFunc: depthwiseBackpropInput,
};
