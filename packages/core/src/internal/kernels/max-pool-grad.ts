import * as tf from '@tensorflow/tfjs-core';

import {
  input,
  size,
  wasmBackend,
  type ConvAttrs,
  type KernelArgs,
  type TensorInfo,
  type WasmKernel,
} from './kernel-utils.js';

// MaxPoolGrad: the stock kernel loses gradients (at padded borders, among others).
function maxPoolGrad(args: KernelArgs): TensorInfo {
  const be = wasmBackend(args.backend);
  const dy = input(args, 'dy');
  const x = input(args, 'input');
  const attrs = args.attrs as unknown as {
    filterSize: number | [number, number];
    strides: number | [number, number];
    pad: ConvAttrs['pad'];
    dimRoundingMode?: 'floor' | 'round' | 'ceil';
  };
  const info = tf.backend_util.computePool2DInfo(
    x.shape as [number, number, number, number],
    attrs.filterSize,
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
  );
  const { top, left } = info.padInfo;
  const out = be.makeOutput(x.shape, 'float32');
  const heap = be.heapF32();
  const dx = be.ptr(out) >> 2;
  const g = be.ptr(dy) >> 2;
  const xs = be.ptr(x) >> 2;
  heap.fill(0, dx, dx + size(x.shape));
  const {
    batchSize,
    inHeight,
    inWidth,
    inChannels: c,
    outHeight,
    outWidth,
    filterHeight,
    filterWidth,
    strideHeight,
    strideWidth,
  } = info;
  // Per output position, the taps outer and the channels inner: contiguous reads, and the window's
  // bounds checked once per tap instead of once per tap and channel. The first maximum wins (as the
  // stock forward's argmax), so ties send the gradient to the earliest tap.
  const best = new Float32Array(c);
  const arg = new Int32Array(c);
  for (let n = 0; n < batchSize; n++) {
    for (let oh = 0; oh < outHeight; oh++) {
      for (let ow = 0; ow < outWidth; ow++) {
        best.fill(-Infinity);
        arg.fill(-1);
        for (let i = 0; i < filterHeight; i++) {
          const ih = oh * strideHeight - top + i;
          if (ih < 0 || ih >= inHeight) continue;
          for (let j = 0; j < filterWidth; j++) {
            const iw = ow * strideWidth - left + j;
            if (iw < 0 || iw >= inWidth) continue;
            const base = ((n * inHeight + ih) * inWidth + iw) * c;
            for (let ch = 0; ch < c; ch++) {
              const v = heap[xs + base + ch]!;
              if (v > best[ch]!) {
                best[ch] = v;
                arg[ch] = base + ch;
              }
            }
          }
        }
        const gBase = g + ((n * outHeight + oh) * outWidth + ow) * c;
        for (let ch = 0; ch < c; ch++) {
          const a = arg[ch]!;
          if (a >= 0) heap[dx + a] = heap[dx + a]! + heap[gBase + ch]!;
        }
      }
    }
  }
  return out;
}

/** @ml's wasm `MaxPoolGrad` kernel. */
export const maxPoolGradConfig: WasmKernel = { kernelName: 'MaxPoolGrad', kernelFunc: maxPoolGrad };
