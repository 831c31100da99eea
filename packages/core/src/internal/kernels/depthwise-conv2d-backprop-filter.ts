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

// dW of a depthwise convolution, a direct loop over the heap; tfjs-backend-wasm has no such kernel.
function depthwiseBackpropFilter(args: KernelArgs): TensorInfo {
  const be = wasmBackend(args.backend);
  const x = input(args, 'x');
  const dy = input(args, 'dy');
  const attrs = args.attrs as unknown as ConvAttrs & { filterShape: number[] };
  const { info, mult } = depthwiseInfo(x.shape, attrs.filterShape, attrs);
  const out = be.makeOutput(attrs.filterShape, 'float32');
  const heap = be.heapF32();
  const dw = be.ptr(out) >> 2;
  const g = be.ptr(dy) >> 2;
  const xs = be.ptr(x) >> 2;
  heap.fill(0, dw, dw + size(attrs.filterShape));
  const c = info.inChannels;
  forEachTap(info, (xb, yb, fb) => {
    for (let ci = 0; ci < c; ci++) {
      const xv = heap[xs + xb + ci]!;
      for (let q = 0; q < mult; q++)
        heap[dw + fb + ci * mult + q] = heap[dw + fb + ci * mult + q]! + xv * heap[g + yb + ci * mult + q]!;
    }
  });
  return out;
}

/** @ml's wasm `DepthwiseConv2dNativeBackpropFilter` kernel. */
export const depthwiseBackpropFilterConfig: WasmKernel = {
  kernelName: 'DepthwiseConv2dNativeBackpropFilter',
  kernelFunc: depthwiseBackpropFilter,
};
