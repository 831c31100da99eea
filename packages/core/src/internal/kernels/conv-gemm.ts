import type * as tf from '@tensorflow/tfjs-core';

import { runGemm } from '../gemm/threads.js';
import { padOrCrop, type TensorInfo, type WasmBackend } from './kernel-utils.js';

// A convolution as one product on @ml's GEMM (../gemm), with the patches gathered while A is packed
// (implicit im2col: the [pixels, taps] patch matrix is never written out). Element (pixel, tap) of the
// patch matrix lies at pixelOffset[pixel] + tapOffset[tap] in the padded NHWC input, so
//   forward:  y[pixel, co]  = Σ_tap patches[pixel, tap] · W[tap, co]      (W is the HWIO filter as is)
//   dW:       dW[tap, co]   = Σ_pixel patches[pixel, tap] · dy[pixel, co] (A = patchesᵀ: the tables swap)
// pixel = (n, oh, ow), tap = (kh, kw, ci); XNNPACK's convolutions multiply-add without FMA, ours with it.
// Packing copies the patches once (pixels × taps floats), so large convolutions go in chunks of pixels.

/** The padded input of a convolution and the offsets (in floats) of its pixels and taps. */
export interface ConvPatches {
  /** x with the convolution's padding applied (a kept intermediate, or x itself). */
  xp: TensorInfo;
  /** pixel (n, oh, ow) → offset of its window's first element in xp. */
  pixels: Int32Array;
  /** tap (kh, kw, ci) → offset of that element from a window's first. */
  taps: Int32Array;
}

/** Pads x for `info` (bottom and right only as far as a window reaches) and lays out the offset tables. */
export function convPatches(
  be: WasmBackend,
  keep: (t: TensorInfo) => TensorInfo,
  x: TensorInfo,
  info: tf.backend_util.Conv2DInfo,
): ConvPatches {
  const { batchSize, inHeight, inWidth, inChannels: c, outHeight, outWidth } = info;
  const { strideHeight: sh, strideWidth: sw, dilationHeight: dh, dilationWidth: dw } = info;
  const { filterHeight: kh, filterWidth: kw } = info;
  const top = info.padInfo.top;
  const left = info.padInfo.left;
  const bottom = Math.max(0, (outHeight - 1) * sh + (kh - 1) * dh + 1 - top - inHeight);
  const right = Math.max(0, (outWidth - 1) * sw + (kw - 1) * dw + 1 - left - inWidth);
  const xp = padOrCrop(be, keep, x, top, bottom, left, right);
  const hp = xp.shape[1]!;
  const wp = xp.shape[2]!;
  const pixels = new Int32Array(batchSize * outHeight * outWidth);
  let i = 0;
  for (let n = 0; n < batchSize; n++)
    for (let oh = 0; oh < outHeight; oh++)
      for (let ow = 0; ow < outWidth; ow++) pixels[i++] = ((n * hp + oh * sh) * wp + ow * sw) * c;
  const taps = new Int32Array(kh * kw * c);
  i = 0;
  for (let y = 0; y < kh; y++)
    for (let x = 0; x < kw; x++) for (let ci = 0; ci < c; ci++) taps[i++] = (y * dh * wp + x * dw) * c + ci;
  return { xp, pixels, taps };
}

let chunkFloats = 1 << 23;

/**
 * For tests: the most floats a packed patch matrix may take (32 MiB by default; larger convolutions
 * run in chunks of pixels so that the packed copy stays bounded). null restores the default.
 */
export function setPatchChunkFloatsForTest(floats: number | null): void {
  chunkFloats = floats ?? 1 << 23;
}

/** Pixel ranges [p0, p1) whose packed patches fit the chunk budget (whole 4-row blocks, at least 64 pixels). */
function pixelChunks(pixels: number, taps: number): [number, number][] {
  const per = Math.max(64, Math.floor(chunkFloats / taps / 4) * 4);
  const out: [number, number][] = [];
  for (let p0 = 0; p0 < pixels; p0 += per) out.push([p0, Math.min(pixels, p0 + per)]);
  return out;
}

/**
 * The patches of pixels [p0, p1) as a gathered operand based at their first window (so that only the
 * span they read is handed on), and that span in floats.
 */
function pixelSpan(
  be: WasmBackend,
  p: ConvPatches,
  p0: number,
  p1: number,
): { ptr: number; pixels: Int32Array; floats: number } {
  const base = p.pixels[p0]!;
  const pixels =
    base === 0 && p1 === p.pixels.length ? p.pixels : p.pixels.subarray(p0, p1).map((v) => v - base);
  return {
    ptr: be.ptr(p.xp) + 4 * base,
    pixels,
    floats: pixels[pixels.length - 1]! + p.taps[p.taps.length - 1]! + 1,
  };
}

const zero = (be: WasmBackend, ptr: number, floats: number): void => {
  be.heapF32().fill(0, ptr / 4, ptr / 4 + floats);
};

/** y[pixel, co] = Σ_tap patches[pixel, tap]·W[tap, co] into `out` ([pixels, n] floats), W the HWIO filter. */
export function convForward(be: WasmBackend, p: ConvPatches, filter: TensorInfo, out: number): void {
  const n = filter.shape[3]!;
  const k = p.taps.length;
  if (k === 0) return zero(be, out, p.pixels.length * n);
  for (const [p0, p1] of pixelChunks(p.pixels.length, k)) {
    const s = pixelSpan(be, p, p0, p1);
    runGemm(
      be,
      {
        m: p1 - p0,
        n,
        k,
        a: { ptr: s.ptr, rowOffsets: s.pixels, colOffsets: p.taps },
        b: { ptr: be.ptr(filter), rowStride: n, colStride: 1 },
        aOffsets: [0],
        bOffsets: [0],
        c: out + 4 * p0 * n,
      },
      s.floats,
      k * n,
    );
  }
}

/**
 * dW[tap, co] = Σ_pixel patches[pixel, tap]·dy[pixel, co] into `out` ([taps, n] floats): one product of
 * the transposed patches and dy, or a sum of such products over chunks of pixels (in a fixed order).
 */
export function convFilterGradient(be: WasmBackend, p: ConvPatches, dy: TensorInfo, out: number): void {
  const n = dy.shape[3]!;
  const m = p.taps.length;
  if (p.pixels.length === 0) return zero(be, out, m * n);
  const chunks = pixelChunks(p.pixels.length, m);
  const partial = chunks.length > 1 ? be.malloc(4 * m * n) : 0;
  try {
    chunks.forEach(([p0, p1], i) => {
      const s = pixelSpan(be, p, p0, p1);
      runGemm(
        be,
        {
          m,
          n,
          k: p1 - p0,
          a: { ptr: s.ptr, rowOffsets: p.taps, colOffsets: s.pixels },
          b: { ptr: be.ptr(dy) + 4 * p0 * n, rowStride: n, colStride: 1 },
          aOffsets: [0],
          bOffsets: [0],
          c: i === 0 ? out : partial,
        },
        s.floats,
        (p1 - p0) * n,
      );
      if (i > 0) {
        const f = be.heapF32();
        const [o, q] = [out / 4, partial / 4];
        for (let j = 0; j < m * n; j++) f[o + j]! += f[q + j]!;
      }
    });
  } finally {
    if (partial !== 0) be.free(partial);
  }
}
