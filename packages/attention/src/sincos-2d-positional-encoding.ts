import * as tf from '@tensorflow/tfjs-core';

import { ConfigError, checkPositiveInt } from '@ml/core';

/** Options of {@link sinCos2dPositionalEncoding}. */
export interface SinCos2dOptions {
  /** Base of the frequencies (default 10000). */
  temperature?: number;
}

/**
 * Fixed 2D sin-cos position encodings for a grid of image patches, as MAE's
 * `get_2d_sincos_pos_embed`: [gridHeight·gridWidth, dim], patches in row-major order. The first
 * dim/2 channels encode the patch's column, the last dim/2 its row; each half is
 * [sin(p·ω_0 … p·ω_{dim/4−1}), cos(p·ω_0 … p·ω_{dim/4−1})] with ω_k = temperature^(−k/(dim/4)).
 * dim must be divisible by 4.
 */
export function sinCos2dPositionalEncoding(
  gridHeight: number,
  gridWidth: number,
  dim: number,
  options: SinCos2dOptions = {},
): tf.Tensor2D {
  const where = 'sinCos2dPositionalEncoding';
  checkPositiveInt(where, 'gridHeight', gridHeight);
  checkPositiveInt(where, 'gridWidth', gridWidth);
  checkPositiveInt(where, 'dim', dim);
  if (dim % 4 !== 0) throw new ConfigError(`${where}: dim must be divisible by 4, got ${dim}`);
  const temperature = options.temperature ?? 10000;
  if (!(temperature > 0)) throw new ConfigError(`${where}: temperature must be > 0, got ${temperature}`);
  const quarter = dim / 4;
  const omega = Array.from({ length: quarter }, (_, k) => 1 / Math.pow(temperature, k / quarter));
  const table = new Float32Array(gridHeight * gridWidth * dim);
  for (let row = 0; row < gridHeight; row++) {
    for (let col = 0; col < gridWidth; col++) {
      const base = (row * gridWidth + col) * dim;
      for (let k = 0; k < quarter; k++) {
        const w = omega[k] as number;
        table[base + k] = Math.sin(col * w);
        table[base + quarter + k] = Math.cos(col * w);
        table[base + 2 * quarter + k] = Math.sin(row * w);
        table[base + 3 * quarter + k] = Math.cos(row * w);
      }
    }
  }
  return tf.tensor2d(table, [gridHeight * gridWidth, dim]);
}
