import * as tf from '@tensorflow/tfjs-core';

import { ConfigError, ShapeError, formatShape, type Rng } from '@ml/core';

import type { BatchContext } from './data-loader.js';
import { drawInverseAffine, type ResolvedAugment } from './internal/affine.js';

/** Which flips {@link augmentImages} may apply, each with probability 1/2. */
export type FlipMode = 'none' | 'horizontal' | 'vertical' | 'both';

/** Options of {@link augmentImages}; every random draw is per image. */
export interface AugmentOptions {
  /** Maximum rotation in degrees: angle ~ U(−rotation, rotation) (default 15). */
  rotation?: number;
  /** Zoom-in range about the centre: factor ~ U(lo, hi), 1 = none (default [1, 1.1]). */
  zoom?: readonly [number, number];
  /** Maximum shift in whole pixels per axis: dx, dy uniform integers in [−shift, shift] (default 3). */
  shift?: number;
  /** Random flips (default 'none': digits and letters are not mirror-symmetric). */
  flip?: FlipMode;
  /** Pad by this many pixels and crop back at a random offset, as CIFAR training does (default 0). */
  padCrop?: number;
  /** Value of pixels that come from outside the image (default 0, the MNIST background). */
  fill?: number;
}

/** The default augmentation for small grey images (MNIST-like): rotate ±15°, zoom 1–1.1, shift ±3 px, no flip, no pad-crop, fill 0. */
export const DEFAULT_AUGMENT_OPTIONS = {
  rotation: 15,
  zoom: [1, 1.1],
  shift: 3,
  flip: 'none',
  padCrop: 0,
  fill: 0,
} as const;

function resolve(options: AugmentOptions): ResolvedAugment {
  const o = { ...DEFAULT_AUGMENT_OPTIONS, ...options } as ResolvedAugment;
  if (!(Number.isFinite(o.rotation) && o.rotation >= 0 && o.rotation <= 180))
    throw new ConfigError(`augmentImages: rotation must be in [0, 180] degrees, got ${o.rotation}`);
  if (
    !Array.isArray(o.zoom) ||
    o.zoom.length !== 2 ||
    !(o.zoom[0] > 0 && o.zoom[0] <= o.zoom[1] && Number.isFinite(o.zoom[1]))
  ) {
    throw new ConfigError(
      `augmentImages: zoom must be [lo, hi] with 0 < lo ≤ hi, got ${JSON.stringify(o.zoom)}`,
    );
  }
  for (const key of ['shift', 'padCrop'] as const) {
    if (!(Number.isInteger(o[key]) && o[key] >= 0))
      throw new ConfigError(`augmentImages: ${key} must be an integer ≥ 0, got ${o[key]}`);
  }
  if (!['none', 'horizontal', 'vertical', 'both'].includes(o.flip))
    throw new ConfigError(
      `augmentImages: flip must be 'none', 'horizontal', 'vertical' or 'both', got ${String(o.flip)}`,
    );
  if (!Number.isFinite(o.fill)) throw new ConfigError(`augmentImages: fill must be finite, got ${o.fill}`);
  return o;
}

/** Bilinear resampling of one HWC image through an inverse affine map; outside pixels read `fill`. */
function warp(
  src: Float32Array,
  dst: Float32Array,
  offset: number,
  h: number,
  w: number,
  ch: number,
  m: readonly number[],
  fill: number,
): void {
  const [a, b, c, d, e, f] = m as [number, number, number, number, number, number];
  const read = (yy: number, xx: number, k: number): number =>
    yy < 0 || yy >= h || xx < 0 || xx >= w ? fill : (src[offset + (yy * w + xx) * ch + k] as number);
  const row = w * ch;
  for (let y = 0; y < h; y++) {
    let xs = b * y + c; // input x of output (0, y); steps by a per output column
    let ys = e * y + f;
    for (let x = 0; x < w; x++, xs += a, ys += d) {
      const x0 = Math.floor(xs);
      const y0 = Math.floor(ys);
      const out = offset + (y * w + x) * ch;
      if (x0 < -1 || y0 < -1 || x0 >= w || y0 >= h) {
        for (let k = 0; k < ch; k++) dst[out + k] = fill;
        continue;
      }
      const fx = xs - x0;
      const fy = ys - y0;
      if (x0 >= 0 && y0 >= 0 && x0 + 1 < w && y0 + 1 < h) {
        // All four neighbours inside: the common case, without bounds checks.
        const p = offset + y0 * row + x0 * ch;
        for (let k = 0; k < ch; k++) {
          const top = (src[p + k] as number) * (1 - fx) + (src[p + ch + k] as number) * fx;
          const bottom = (src[p + row + k] as number) * (1 - fx) + (src[p + row + ch + k] as number) * fx;
          dst[out + k] = top + (bottom - top) * fy;
        }
        continue;
      }
      for (let k = 0; k < ch; k++) {
        const top = read(y0, x0, k) * (1 - fx) + read(y0, x0 + 1, k) * fx;
        const bottom = read(y0 + 1, x0, k) * (1 - fx) + read(y0 + 1, x0 + 1, k) * fx;
        dst[out + k] = top + (bottom - top) * fy;
      }
    }
  }
}

/**
 * Random image augmentation, seeded: images float32 [N, H, W, C] (NHWC, any value range) → a new
 * float32 tensor of the same shape, owned by the caller (the input is left alone). Per image it draws
 * a rotation, a zoom, a whole-pixel shift, optional flips and a pad-crop offset, composes them into
 * one affine map and resamples once (bilinear, `fill` outside). Defaults: {@link DEFAULT_AUGMENT_OPTIONS},
 * with the rotation drawn continuously in [−15°, 15°] and the shift symmetric in [−3, 3] (both ends
 * included, unlike Python's `randint(-3, 3)` written as `randrange`).
 *
 * Written as a plain loop over the pixels rather than with `tf.image.transform`: tfjs-backend-cpu
 * 4.22's Transform kernel only transforms the first image of a batch (the others come back as the fill
 * value), and on wasm this loop measured faster (0.77 vs 1.11 ms per batch of 50 28×28 images,
 * bench/augment.ts). Same result on every backend.
 */
export async function augmentImages(
  images: tf.Tensor,
  rng: Rng,
  options: AugmentOptions = {},
): Promise<tf.Tensor4D> {
  if (images.rank !== 4)
    throw new ShapeError(`augmentImages: images must be [N, H, W, C], got ${formatShape(images.shape)}`);
  const o = resolve(options);
  const [n, h, w, ch] = images.shape as [number, number, number, number];
  const src =
    images.dtype === 'float32'
      ? ((await images.data()) as Float32Array)
      : Float32Array.from(await images.data());
  const dst = new Float32Array(src.length);
  for (let i = 0; i < n; i++)
    warp(src, dst, i * h * w * ch, h, w, ch, drawInverseAffine(o, rng, h, w), o.fill);
  return tf.tensor4d(dst, [n, h, w, ch], 'float32'); // [N, H, W, C]
}

/**
 * A {@link DataLoader} `transform` that augments the images of `[images, ...rest]` batches with the
 * batch's own seeded rng (so epoch e, batch b always gets the same augmentation):
 * `new DataLoader(ds, { shuffle: true, transform: augmentBatch() })`.
 */
export function augmentBatch(
  options: AugmentOptions = {},
): <B extends readonly tf.Tensor[]>(batch: B, context: BatchContext) => Promise<B> {
  resolve(options); // fail at construction, not in the middle of an epoch
  return async (batch, context) => {
    const [images, ...rest] = batch;
    if (images === undefined)
      throw new ShapeError('augmentBatch: the batch must be [images, ...], got an empty array');
    return [await augmentImages(images, context.rng, options), ...rest] as unknown as typeof batch;
  };
}
