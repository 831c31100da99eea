import {
  input,
  runStock,
  convInfo,
  type ConvAttrs,
  type KernelArgs,
  type TensorInfo,
  type WasmKernel,
} from './kernel-utils.js';

/**
 * The stock Conv2D hands 'same' padding to XNNPACK as a flag, which silently writes nothing when the
 * stride exceeds the filter size; explicit pads (the same numbers tfjs computes) always work.
 */
function conv2D(args: KernelArgs): TensorInfo {
  const attrs = args.attrs as unknown as ConvAttrs;
  if (attrs.pad !== 'same') return runStock('Conv2D', args);
  const x = input(args, 'x');
  const filter = input(args, 'filter');
  const info = convInfo(x.shape, filter.shape, attrs, attrs.dilations ?? 1);
  const { top, bottom, left, right } = info.padInfo;
  return runStock('Conv2D', args, {
    ...(args.attrs ?? {}),
    pad: [
      [0, 0],
      [top, bottom],
      [left, right],
      [0, 0],
    ],
  });
}

/**
 * dx of a stride-s convolution: the stride-1 convolution of dy (dilated by s, padded by K−1−pad) with

/** @ml's wasm `Conv2D` kernel. */
export const conv2DConfig: WasmKernel = { kernelName: 'Conv2D', kernelFunc: conv2D };
