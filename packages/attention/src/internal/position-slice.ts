import type * as tf from '@tensorflow/tfjs-core';

import { ConfigError, ShapeError, formatShape } from '@ml/core';

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
