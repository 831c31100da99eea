import * as tf from '@tensorflow/tfjs-core';

import { ConfigError, ShapeError, formatShape } from '@ml/core';
import type { Dropout } from '@ml/core';

/** Checks x [B, T, dim] and that positions offset … offset+T−1 fit in maxLength; returns them. */
export function positionSlice(
  where: string,
  x: tf.Tensor,
  dim: number,
  maxLength: number,
  offset: number,
): { offset: number; length: number } {
  if (x.rank !== 3 || x.shape[2] !== dim)
    throw new ShapeError(`${where}: input must be [B, T, ${dim}], got ${formatShape(x.shape)}`);
  if (!Number.isInteger(offset) || offset < 0)
    throw new ConfigError(`${where}: offset must be a non-negative integer, got ${offset}`);
  const length = x.shape[1] as number;
  if (offset + length > maxLength) {
    throw new ShapeError(
      `${where}: positions ${offset}…${offset + length - 1} of input ${formatShape(x.shape)} exceed maxLength ${maxLength}`,
    );
  }
  return { offset, length };
}

/**
 * x [B, T, dim] → dropout(x + table[offset … offset+T−1]) for a position table [maxLength, dim], after the
 * checks of {@link positionSlice}. The shared forward of the positional encodings.
 */
export function addPositions(
  where: string,
  x: tf.Tensor,
  table: tf.Tensor,
  maxLength: number,
  offset: number,
  dropout: Dropout,
): tf.Tensor3D {
  const dim = table.shape[1] as number;
  const slice = positionSlice(where, x, dim, maxLength, offset);
  return tf.tidy(
    () => dropout.forward(tf.add(x, tf.slice(table, [slice.offset, 0], [slice.length, dim]))) as tf.Tensor3D,
  );
}
