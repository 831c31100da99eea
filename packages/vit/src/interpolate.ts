import * as tf from '@tensorflow/tfjs-core';

import { ConfigError, ShapeError, checkPositiveInt, formatShape } from '@ml/core';

/** How {@link interpolate2d} samples: PyTorch's `mode`s 'bicubic' (a = −0.75) and 'bilinear'. */
export type InterpolationMode = 'bicubic' | 'bilinear';

/** Options of {@link interpolate2d}. */
export interface Interpolate2dOptions {
  /** 'bicubic' (default) or 'bilinear'. */
  mode?: InterpolationMode;
  /**
   * PyTorch's `antialias` (default false): a filter widened by the shrink factor when shrinking, with
   * weights renormalised at the borders (PIL's method; its bicubic uses a = −0.5). timm resamples
   * position embeddings with it on.
   */
  antialias?: boolean;
}

/** Defaults of {@link Interpolate2dOptions} (PyTorch's `F.interpolate`, align_corners=False). */
export const DEFAULT_INTERPOLATE2D_OPTIONS = { mode: 'bicubic', antialias: false } as const;

const CUBIC_A = -0.75; // PyTorch's upsample_bicubic2d
const CUBIC_A_AA = -0.5; // PyTorch's antialiased bicubic (as PIL)

function cubic(x: number, a: number): number {
  const t = Math.abs(x);
  if (t <= 1) return ((a + 2) * t - (a + 3)) * t * t + 1;
  if (t < 2) return ((a * t - 5 * a) * t + 8 * a) * t - 4 * a;
  return 0;
}

/**
 * The [outSize, inSize] matrix M with out = M·in along one axis, following PyTorch's CPU kernels
 * (align_corners=False, sizes given, so scale = in / out).
 */
export function interpolationMatrix(
  inSize: number,
  outSize: number,
  mode: InterpolationMode,
  antialias: boolean,
): Float32Array {
  const m = new Float32Array(outSize * inSize);
  const scale = inSize / outSize;
  const add = (o: number, i: number, w: number): void => {
    const j = Math.min(Math.max(i, 0), inSize - 1);
    m[o * inSize + j] = (m[o * inSize + j] as number) + w;
  };
  if (antialias) {
    // _compute_weights_aa: support and filter widened by the scale when shrinking.
    const interp = mode === 'bicubic' ? 4 : 2;
    const support = scale >= 1 ? (interp / 2) * scale : interp / 2;
    const invScale = scale >= 1 ? 1 / scale : 1;
    const filter = (x: number): number =>
      mode === 'bicubic' ? cubic(x, CUBIC_A_AA) : Math.max(0, 1 - Math.abs(x));
    for (let o = 0; o < outSize; o++) {
      const center = scale * (o + 0.5);
      const xmin = Math.max(Math.trunc(center - support + 0.5), 0);
      const xsize = Math.min(Math.trunc(center + support + 0.5), inSize) - xmin;
      const w: number[] = [];
      let total = 0;
      for (let j = 0; j < xsize; j++) {
        const v = filter((j + xmin - center + 0.5) * invScale);
        w.push(v);
        total += v;
      }
      for (let j = 0; j < xsize; j++)
        add(o, xmin + j, total !== 0 ? (w[j] as number) / total : (w[j] as number));
    }
    return m;
  }
  for (let o = 0; o < outSize; o++) {
    const real = scale * (o + 0.5) - 0.5;
    if (mode === 'bicubic') {
      const i0 = Math.floor(real);
      const t = real - i0;
      add(o, i0 - 1, cubic(t + 1, CUBIC_A));
      add(o, i0, cubic(t, CUBIC_A));
      add(o, i0 + 1, cubic(1 - t, CUBIC_A));
      add(o, i0 + 2, cubic(2 - t, CUBIC_A));
    } else {
      const r = Math.max(real, 0);
      const i0 = Math.floor(r);
      const lambda = r - i0;
      const i1 = i0 < inSize - 1 ? i0 + 1 : i0;
      add(o, i0, 1 - lambda);
      add(o, i1, lambda);
    }
  }
  return m;
}

/**
 * Resizes images x [N, H, W, C] (NHWC) to [N, outH, outW, C] with PyTorch's `F.interpolate`
 * semantics (align_corners=False; bicubic with a = −0.75, or bilinear; optional antialias). Separable:
 * two matrix products, so it is differentiable and runs on any backend.
 */
export function interpolate2d(
  x: tf.Tensor,
  size: readonly [number, number],
  options: Interpolate2dOptions = {},
): tf.Tensor4D {
  const mode = options.mode ?? DEFAULT_INTERPOLATE2D_OPTIONS.mode;
  const antialias = options.antialias ?? DEFAULT_INTERPOLATE2D_OPTIONS.antialias;
  if (mode !== 'bicubic' && mode !== 'bilinear')
    throw new ConfigError(`interpolate2d: mode must be 'bicubic' or 'bilinear', got '${String(mode)}'`);
  checkPositiveInt('interpolate2d', 'size[0]', size[0]);
  checkPositiveInt('interpolate2d', 'size[1]', size[1]);
  if (x.rank !== 4)
    throw new ShapeError(`interpolate2d: x must be [N, H, W, C] (NHWC), got ${formatShape(x.shape)}`);
  const [n, h, w, c] = x.shape as [number, number, number, number];
  const [oh, ow] = size;
  return tf.tidy(() => {
    const mh = tf.tensor2d(interpolationMatrix(h, oh, mode, antialias), [oh, h]);
    const mw = tf.tensor2d(interpolationMatrix(w, ow, mode, antialias), [ow, w]);
    const rowsFirst = tf.reshape(tf.transpose(x, [1, 0, 2, 3]), [h, n * w * c]); // [H, N·W·C]
    const y = tf.reshape(tf.matMul(mh, rowsFirst), [oh, n, w, c]); // [oH, N, W, C]
    const cols = tf.reshape(tf.transpose(y, [2, 1, 0, 3]), [w, n * oh * c]); // [W, N·oH·C]
    const z = tf.reshape(tf.matMul(mw, cols), [ow, n, oh, c]); // [oW, N, oH, C]
    return tf.transpose(z, [1, 2, 0, 3]) as tf.Tensor4D; // [N, oH, oW, C]
  });
}
