import {
  input,
  run,
  scoped,
  wasmBackend,
  convInfo,
  checkNhwc,
  padOrCrop,
  dilate,
  type ConvAttrs,
  type KernelArgs,
  type TensorInfo,
  type WasmKernel,
} from './kernel-utils.js';

/**
 * dx of a stride-s convolution: the stride-1 convolution of dy (dilated by s, padded by K−1−pad) with
 * the filter rotated 180° and its in/out channels swapped.
 */
function conv2DBackpropInput(args: KernelArgs): TensorInfo {
  const be = wasmBackend(args.backend);
  const dy = input(args, 'dy');
  const filter = input(args, 'filter');
  const attrs = args.attrs as unknown as ConvAttrs & { inputShape: [number, number, number, number] };
  checkNhwc('Conv2DBackpropInput', attrs.dataFormat);
  const info = convInfo(attrs.inputShape, filter.shape, attrs, 1);
  const {
    filterHeight: kh,
    filterWidth: kw,
    strideHeight: sh,
    strideWidth: sw,
    inHeight: h,
    inWidth: w,
  } = info;
  return scoped(be, (keep) => {
    const rot = keep(run(be, 'Reverse', { x: filter }, { dims: [0, 1] }));
    const f = keep(run(be, 'Transpose', { x: rot }, { perm: [0, 1, 3, 2] })); // [KH, KW, CO, CI]
    const d = dilate(be, keep, dy, sh, sw);
    const top = kh - 1 - info.padInfo.top;
    const left = kw - 1 - info.padInfo.left;
    const bottom = h + kh - 1 - top - d.shape[1]!;
    const right = w + kw - 1 - left - d.shape[2]!;
    const p = padOrCrop(be, keep, d, top, bottom, left, right);
    return run(
      be,
      'Conv2D',
      { x: p, filter: f },
      { strides: 1, pad: 'valid', dataFormat: 'NHWC', dilations: 1 },
    );
  });
}

/** @ml's wasm `Conv2DBackpropInput` kernel. */
export const conv2DBackpropInputConfig: WasmKernel = {
  kernelName: 'Conv2DBackpropInput',
  kernelFunc: conv2DBackpropInput,
};
