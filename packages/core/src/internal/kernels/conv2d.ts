import { convForward, convPatches } from './conv-gemm.js';
import {
  input,
  runStock,
  convInfo,
  scoped,
  size,
  wasmBackend,
  type ConvAttrs,
  type KernelArgs,
  type TensorInfo,
  type WasmKernel,
} from './kernel-utils.js';

/**
 * Conv2D (NHWC, float32) as one product of the gathered patches and the filter on @ml's GEMM (FMA where
 * the engine has relaxed SIMD, split across threads when large). Anything else goes to the stock kernel.
 */
function conv2D(args: KernelArgs): TensorInfo {
  const be = wasmBackend(args.backend);
  const x = input(args, 'x');
  const filter = input(args, 'filter');
  const attrs = args.attrs as unknown as ConvAttrs;
  if (x.dtype !== 'float32' || filter.dtype !== 'float32' || (attrs.dataFormat ?? 'NHWC') !== 'NHWC')
    return runStock('Conv2D', args);
  const info = convInfo(x.shape, filter.shape, attrs, attrs.dilations ?? 1);
  return scoped(be, (keep) => {
    const out = keep(be.makeOutput(info.outShape, 'float32'));
    if (size(info.outShape) === 0) return out;
    convForward(be, convPatches(be, keep, x, info), filter, be.ptr(out));
    return out;
  });
}

/** @ml's wasm `Conv2D` kernel. */
export const conv2DConfig: WasmKernel = { kernelName: 'Conv2D', kernelFunc: conv2D };
