import * as tf from '@tensorflow/tfjs-core';

import { ConfigError, ShapeError, formatShape } from '@ml/core';

import { checkMaskDtype, checkMaskShape } from './internal/mask-utils.js';

/**
 * An attention mask: a `bool` tensor where `true` marks a blocked (query, key) pair, or a `float32`
 * tensor added to the attention scores (`-Infinity` blocks, `0` allows; PyTorch's convention for
 * `nn.MultiheadAttention`). Any shape that broadcasts to [B, H, Tq, Tk], e.g. [B, 1, 1, Tk] from
 * {@link paddingMask}, [1, 1, T, T] from {@link causalMask}, or a plain [Tq, Tk].
 */
export type AttentionMask = tf.Tensor;

/** The shape two right-aligned shapes broadcast to, or null when they cannot. */
function broadcastShapes(a: readonly number[], b: readonly number[]): number[] | null {
  const rank = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < rank; i++) {
    const da = a[a.length - rank + i] ?? 1;
    const db = b[b.length - rank + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) return null;
    out.push(da === 1 ? db : da);
  }
  return out;
}

/**
 * A padding mask from token ids: int32 [B, T] → bool [B, 1, 1, T], `true` where the token is `padId`
 * (so every query ignores padded keys).
 */
export function paddingMask(tokens: tf.Tensor, padId: number): tf.Tensor4D {
  if (tokens.rank !== 2)
    throw new ShapeError(`paddingMask: tokens must be [B, T], got ${formatShape(tokens.shape)}`);
  if (!Number.isInteger(padId)) throw new ConfigError(`paddingMask: padId must be an integer, got ${padId}`);
  const [b, t] = tokens.shape as [number, number];
  return tf.tidy(() => tf.reshape(tf.equal(tokens, tf.scalar(padId, tokens.dtype)), [b, 1, 1, t]));
}

/**
 * A causal (look-ahead) mask: bool [1, 1, T, T], `true` above the diagonal, so query i sees keys 0…i.
 */
export function causalMask(size: number): tf.Tensor4D {
  if (!Number.isInteger(size) || size <= 0)
    throw new ConfigError(`causalMask: size must be a positive integer, got ${size}`);
  return tf.tidy(() => {
    const i = tf.reshape(tf.range(0, size, 1, 'int32'), [size, 1]); // [T, 1] query index
    const j = tf.reshape(tf.range(0, size, 1, 'int32'), [1, size]); // [1, T] key index
    return tf.reshape(tf.greater(j, i), [1, 1, size, size]);
  });
}

/**
 * Combines masks into one that blocks a pair when any of them blocks it: bool masks are OR-ed; if
 * any mask is additive, bool ones become `-Infinity`/`0` and all are summed. `null`/`undefined`
 * entries are skipped; returns a new tensor of the broadcast shape, or null when none is given.
 * `combineMasks(paddingMask(tgt, 0), causalMask(T))` → bool [B, 1, T, T].
 */
export function combineMasks(...masks: (AttentionMask | null | undefined)[]): tf.Tensor | null {
  const given = masks.filter((m): m is tf.Tensor => m != null);
  if (given.length === 0) return null;
  given.forEach((m, i) => checkMaskDtype('combineMasks', `mask ${i}`, m));
  let shape: number[] | null = [];
  for (const m of given) {
    shape = broadcastShapes(shape, m.shape);
    if (shape === null)
      throw new ShapeError(
        `combineMasks: masks of shapes ${given.map((g) => formatShape(g.shape)).join(', ')} do not broadcast together`,
      );
  }
  return tf.tidy(() => {
    if (given.every((m) => m.dtype === 'bool')) {
      return given.slice(1).reduce((acc, m) => tf.logicalOr(acc, m), tf.clone(given[0] as tf.Tensor));
    }
    const additive = given.map((m) =>
      m.dtype === 'bool' ? tf.where(m, tf.scalar(-Infinity), tf.scalar(0)) : m,
    );
    return additive.slice(1).reduce((acc, m) => tf.add(acc, m), tf.clone(additive[0] as tf.Tensor));
  });
}

/**
 * Expands a mask to the full attention shape [B, H, Tq, Tk] (same dtype), throwing a ShapeError that
 * names both shapes when it does not broadcast.
 */
export function broadcastMask(
  mask: AttentionMask,
  shape: readonly [number, number, number, number],
): tf.Tensor4D {
  checkMaskDtype('broadcastMask', 'mask', mask);
  const padded = checkMaskShape('broadcastMask', 'mask', mask, shape);
  return tf.tidy(() => tf.broadcastTo<tf.Rank.R4>(tf.reshape(mask, padded), [...shape]));
}
