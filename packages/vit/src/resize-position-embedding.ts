import * as tf from '@tensorflow/tfjs-core';

import { ShapeError, checkPositiveInt, formatShape } from '@ml/core';

import { interpolate2d } from './interpolate.js';
import type { InterpolationMode } from './interpolate.js';
import { timmStateDict, loadTimmWeights } from './timm-weights.js';
import { VisionTransformer } from './vision-transformer.js';

/** Options of {@link resizePositionEmbedding}. */
export interface ResizePositionEmbeddingOptions {
  /** 'bicubic' (default, PyTorch's kernel a = −0.75) or 'bilinear'. */
  mode?: InterpolationMode;
  /** PyTorch's `antialias` (default true, as timm's `resample_abs_pos_embed`; see {@link interpolate2d}). */
  antialias?: boolean;
  /** The old patch grid [gh, gw] of a tensor (default: square, from its length); a model knows its own. */
  oldGrid?: readonly [number, number];
  /** Leading tokens kept as they are (default 1: the [class] position). */
  prefixTokens?: number;
}

/** Defaults of {@link ResizePositionEmbeddingOptions}. */
export const DEFAULT_RESIZE_POSITION_EMBEDDING_OPTIONS = {
  mode: 'bicubic',
  antialias: true,
  prefixTokens: 1,
} as const;

/**
 * Resamples learned positions to a new patch grid, as timm's `resample_abs_pos_embed`: the leading
 * [class] position is kept, the N = gh·gw patch positions are laid out as a gh×gw image with D channels
 * and interpolated to newGrid. For a tensor: [1, 1 + gh·gw, D] → [1, 1 + nh·nw, D] (a new tensor).
 * For a model: a new {@link VisionTransformer} for images of newGrid × patch size with every weight
 * copied and the positions resampled (the old model is left as it is).
 */
export function resizePositionEmbedding(
  posEmbed: tf.Tensor,
  newGrid: readonly [number, number],
  options?: ResizePositionEmbeddingOptions,
): tf.Tensor3D;
export function resizePositionEmbedding(
  model: VisionTransformer,
  newGrid: readonly [number, number],
  options?: ResizePositionEmbeddingOptions,
): VisionTransformer;
export function resizePositionEmbedding(
  target: tf.Tensor | VisionTransformer,
  newGrid: readonly [number, number],
  options: ResizePositionEmbeddingOptions = {},
): tf.Tensor3D | VisionTransformer {
  const where = 'resizePositionEmbedding';
  checkPositiveInt(where, 'newGrid[0]', newGrid[0]);
  checkPositiveInt(where, 'newGrid[1]', newGrid[1]);
  if (target instanceof VisionTransformer) {
    const model = target;
    const patch = model.config.patchSize;
    const resized = new VisionTransformer({
      ...model.config,
      imageSize: [newGrid[0] * patch, newGrid[1] * patch],
      seed: 0,
    });
    const pos = resizeTensor(model.posEmbed, newGrid, {
      ...options,
      oldGrid: model.gridSize,
      prefixTokens: 1,
    });
    try {
      loadTimmWeights(resized, { ...timmStateDict(model), pos_embed: pos });
    } finally {
      pos.dispose();
    }
    resized.train(model.training);
    return resized;
  }
  return resizeTensor(target, newGrid, options);
}

function resizeTensor(
  pos: tf.Tensor,
  newGrid: readonly [number, number],
  options: ResizePositionEmbeddingOptions,
): tf.Tensor3D {
  const where = 'resizePositionEmbedding';
  const d = DEFAULT_RESIZE_POSITION_EMBEDDING_OPTIONS;
  const prefix = options.prefixTokens ?? d.prefixTokens;
  if (pos.rank !== 3 || pos.shape[0] !== 1 || (pos.shape[1] as number) <= prefix)
    throw new ShapeError(
      `${where}: position embedding must be [1, ${prefix} + N, D] with N > 0, got ${formatShape(pos.shape)}`,
    );
  const n = (pos.shape[1] as number) - prefix;
  const dim = pos.shape[2] as number;
  const side = Math.round(Math.sqrt(n));
  const [gh, gw] = options.oldGrid ?? [side, side];
  if (gh * gw !== n)
    throw new ShapeError(
      `${where}: the old grid ${gh}×${gw} must hold the ${n} patch positions of ${formatShape(pos.shape)}`,
    );
  return tf.tidy(() => {
    const head = tf.slice(pos, [0, 0, 0], [1, prefix, dim]); // [1, prefix, D]
    const grid = tf.reshape(tf.slice(pos, [0, prefix, 0], [1, n, dim]), [1, gh, gw, dim]); // [1, gh, gw, D]
    const resized = interpolate2d(grid, newGrid, {
      mode: options.mode ?? d.mode,
      antialias: options.antialias ?? d.antialias,
    }); // [1, nh, nw, D]
    const flat = tf.reshape(resized, [1, newGrid[0] * newGrid[1], dim]); // [1, nh·nw, D]
    return tf.concat([head, flat], 1) as tf.Tensor3D; // [1, prefix + nh·nw, D]
  });
}
