import * as tf from '@tensorflow/tfjs-core';

import { DataError, ShapeError, formatShape } from '@ml/core';

import type { AttentionMask } from '../masks.js';

/** Throws a DataError (a wrong dtype is wrong data, as everywhere in @ml) unless `mask` is bool or float32. */
export function checkMaskDtype(where: string, name: string, mask: tf.Tensor): void {
  if (mask.dtype !== 'bool' && mask.dtype !== 'float32') {
    throw new DataError(
      `${where}: ${name} must be a bool (true = blocked) or float32 (additive) tensor, got dtype ${mask.dtype}`,
    );
  }
}

/**
 * Throws a ShapeError unless `mask` broadcasts to `target` ([B, H, Tq, Tk]); returns the mask's
 * shape padded with leading 1s to rank 4.
 */
export function checkMaskShape(
  where: string,
  name: string,
  mask: tf.Tensor,
  target: readonly number[],
): number[] {
  const padded = [...Array<number>(Math.max(0, 4 - mask.rank)).fill(1), ...mask.shape];
  const fits = mask.rank <= 4 && padded.every((d, i) => d === 1 || d === target[i]);
  if (!fits) {
    throw new ShapeError(
      `${where}: ${name} of shape ${formatShape(mask.shape)} cannot be broadcast to [B, H, Tq, Tk] = ${formatShape(target)}`,
    );
  }
  return padded;
}

/**
 * A mask in the form attention uses: `additive` (finite, float32, rank 4) is added to the scores and
 * `keep` (0/1, rank 4, last axis 1) zeroes rows in which every key is blocked, so they give zeros
 * rather than NaN. Both broadcast to [B, H, Tq, Tk].
 */
export interface PreparedMask {
  additive: tf.Tensor4D;
  keep: tf.Tensor4D;
}

// Blocked scores become this finite value instead of -Infinity: exp underflows to exactly 0 the same
// way, and a fully blocked row stays finite (the keep factor then zeroes it).
const BLOCKED_SCORE = -1e9;

/**
 * Validates `mask` against [B, H, Tq, Tk] and converts it to a {@link PreparedMask}. Call inside a
 * tidy: the returned tensors are new.
 */
export function prepareMask(
  where: string,
  name: string,
  mask: AttentionMask,
  target: readonly number[],
): PreparedMask {
  checkMaskDtype(where, name, mask);
  const padded = checkMaskShape(where, name, mask, target);
  const m = tf.reshape(mask, padded);
  const blocked = m.dtype === 'bool' ? m : tf.equal(m, tf.scalar(-Infinity));
  const additive = tf.where(
    blocked,
    tf.scalar(BLOCKED_SCORE),
    m.dtype === 'bool' ? tf.scalar(0) : m,
  ) as tf.Tensor4D;
  const keep = tf.cast<tf.Tensor4D>(tf.any(tf.logicalNot(blocked), -1, true), 'float32');
  return { additive, keep };
}
