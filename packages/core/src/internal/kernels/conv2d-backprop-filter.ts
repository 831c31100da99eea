import { convFilterGradient, convPatches } from './conv-gemm.js';
import {
  input,
  scoped,
  size,
  wasmBackend,
  convInfo,
  checkNhwc,
  type ConvAttrs,
  type KernelArgs,
  type TensorInfo,
  type WasmKernel,
} from './kernel-utils.js';

/**
 * dW of a convolution:
 * dW[kh, kw, ci, co] = Σ_{n, oh, ow} xpad[n, oh·sh + kh, ow·sw + kw, ci]·dy[n, oh, ow, co],
 * one product of the transposed patches (gathered while packing) and dy on @ml's GEMM.
 */
function conv2DBackpropFilter(args: KernelArgs): TensorInfo {
  const be = wasmBackend(args.backend);
  const x = input(args, 'x');
  const dy = input(args, 'dy');
  const attrs = args.attrs as unknown as ConvAttrs & { filterShape: [number, number, number, number] };
  checkNhwc('Conv2DBackpropFilter', attrs.dataFormat);
  const info = convInfo(x.shape, attrs.filterShape, attrs, 1);
  return scoped(be, (keep) => {
    const out = keep(be.makeOutput(attrs.filterShape, 'float32'));
    if (size(attrs.filterShape) === 0) return out;
    convFilterGradient(be, convPatches(be, keep, x, info), dy, be.ptr(out));
    return out;
  });
}

/** @ml's wasm `Conv2DBackpropFilter` kernel. */
export const conv2DBackpropFilterConfig: WasmKernel = {
  kernelName: 'Conv2DBackpropFilter',
  kernelFunc: conv2DBackpropFilter,
};
