import {
  input,
  run,
  scoped,
  wasmBackend,
  convInfo,
  checkNhwc,
  padOrCrop,
  type ConvAttrs,
  type KernelArgs,
  type TensorInfo,
  type WasmKernel,
} from './kernel-utils.js';

/**
 * dW of a stride-s convolution: a convolution whose batch is the input channels and whose filter is dy,
 * with dilation s: dW[kh,kw,ci,co] = Σ_{n,oh,ow} xpad[n, oh·s+kh, ow·s+kw, ci]·dy[n,oh,ow,co].
 */
function conv2DBackpropFilter(args: KernelArgs): TensorInfo {
  const be = wasmBackend(args.backend);
  const x = input(args, 'x');
  const dy = input(args, 'dy');
  const attrs = args.attrs as unknown as ConvAttrs & { filterShape: [number, number, number, number] };
  checkNhwc('Conv2DBackpropFilter', attrs.dataFormat);
  const info = convInfo(x.shape, attrs.filterShape, attrs, 1);
  const {
    filterHeight: kh,
    filterWidth: kw,
    strideHeight: sh,
    strideWidth: sw,
    inHeight: h,
    inWidth: w,
    outHeight: oh,
    outWidth: ow,
  } = info;
  return scoped(be, (keep) => {
    const xt = keep(run(be, 'Transpose', { x }, { perm: [3, 1, 2, 0] })); // [CI, H, W, N]
    const top = info.padInfo.top;
    const left = info.padInfo.left;
    const xp = padOrCrop(
      be,
      keep,
      xt,
      top,
      kh + (oh - 1) * sh - h - top,
      left,
      kw + (ow - 1) * sw - w - left,
    );
    const f = keep(run(be, 'Transpose', { x: dy }, { perm: [1, 2, 0, 3] })); // [OH, OW, N, CO]
    const g = keep(
      run(
        be,
        'Conv2D',
        { x: xp, filter: f },
        { strides: 1, pad: 'valid', dataFormat: 'NHWC', dilations: [sh, sw] },
      ),
    ); // [CI, KH, KW, CO]
    return run(be, 'Transpose', { x: g }, { perm: [1, 2, 0, 3] });
  });
}

/** @ml's wasm `Conv2DBackpropFilter` kernel. */
export const conv2DBackpropFilterConfig: WasmKernel = {
  kernelName: 'Conv2DBackpropFilter',
  kernelFunc: conv2DBackpropFilter,
};
