import * as tf from '@tensorflow/tfjs-core';

import { ConfigError, ShapeError, formatShape } from '@ml/core';

/** Options of {@link normalize}: per-channel statistics (one value, or one per channel). */
export interface NormalizeOptions {
  mean: number | readonly number[];
  std: number | readonly number[];
}

/**
 * (x − mean) / std per channel (the last axis), like torchvision's `Normalize` but for NHWC:
 * images [N, H, W, C] (or any [..., C]) → float32 of the same shape. `std` must be > 0.
 */
export function normalize(x: tf.Tensor, options: NormalizeOptions): tf.Tensor {
  const c = x.rank === 0 ? 1 : (x.shape[x.rank - 1] as number);
  const mean = typeof options.mean === 'number' ? [options.mean] : options.mean.slice();
  const std = typeof options.std === 'number' ? [options.std] : options.std.slice();
  for (const [name, v] of [
    ['mean', mean],
    ['std', std],
  ] as const) {
    if (v.length !== 1 && v.length !== c)
      throw new ShapeError(
        `normalize: ${name} must have 1 or ${c} values (the channel count of ${formatShape(x.shape)}), got ${v.length}`,
      );
  }
  std.forEach((s, k) => {
    if (!(s > 0) || !Number.isFinite(s))
      throw new ConfigError(`normalize: std[${k}] must be a finite number > 0, got ${s}`);
  });
  mean.forEach((m, k) => {
    if (!Number.isFinite(m)) throw new ConfigError(`normalize: mean[${k}] must be finite, got ${m}`);
  });
  return tf.tidy(() => tf.div(tf.sub(tf.cast(x, 'float32'), mean), std)); // [..., C]
}
