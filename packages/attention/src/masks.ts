import * as tf from '@tensorflow/tfjs-core';

import { ConfigError, ShapeError, formatShape } from '@ml/core';

/**
 * An attention mask: a `bool` tensor where `true` marks a blocked (query, key) pair, or a `float32`
 * tensor added to the attention scores (`-Infinity` blocks, `0` allows; PyTorch's convention for
 * `nn.MultiheadAttention`). Any shape that broadcasts to [B, H, Tq, Tk], e.g. [B, 1, 1, Tk] from
 * {@link paddingMask}, [1, 1, T, T] from {@link causalMask}, or a plain [Tq, Tk].
 */
export type AttentionMask = tf.Tensor;

/** Throws unless `mask` is a bool or float32 tensor. */
export function checkMaskDtype(where: string, name: string, mask: tf.Tensor): void {
  if (mask.dtype !== 'bool' && mask.dtype !== 'float32') {
    throw new ConfigError(`${where}: ${name} must be a bool (true = blocked) or float32 (additive) tensor, got dtype ${mask.dtype}`);
  }
}

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
 * Throws a ShapeError unless `mask` broadcasts to `target` ([B, H, Tq, Tk]); returns the mask's
 * shape padded with leading 1s to rank 4.
 */
export function checkMaskShape(where: string, name: string, mask: tf.Tensor, target: readonly number[]): number[] {
  const padded = [...Array<number>(Math.max(0, 4 - mask.rank)).fill(1), ...mask.shape];
  const fits = mask.rank <= 4 && padded.every((d, i) => d === 1 || d === target[i]);
  if (!fits) {
    throw new ShapeError(`${where}: ${name} of shape ${formatShape(mask.shape)} cannot be broadcast to [B, H, Tq, Tk] = ${formatShape(target)}`);
  }
  return padded;
}

/**
 * A padding mask from token ids: int32 [B, T] → bool [B, 1, 1, T], `true` where the token is `padId`
 * (so every query ignores padded keys).
 */
export function paddingMask(tokens: tf.Tensor, padId: number): tf.Tensor4D {
  if (tokens.rank !== 2) throw new ShapeError(`paddingMask: tokens must be [B, T], got ${formatShape(tokens.shape)}`);
  if (!Number.isInteger(padId)) throw new ConfigError(`paddingMask: padId must be an integer, got ${padId}`);
  const [b, t] = tokens.shape as [number, number];
  return tf.tidy(() => tf.reshape(tf.equal(tokens, tf.scalar(padId, tokens.dtype)), [b, 1, 1, t]));
}

/**
 * A causal (look-ahead) mask: bool [1, 1, T, T], `true` above the diagonal, so query i sees keys 0…i.
 */
export function causalMask(size: number): tf.Tensor4D {
  if (!Number.isInteger(size) || size <= 0) throw new ConfigError(`causalMask: size must be a positive integer, got ${size}`);
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
    if (shape === null) throw new ShapeError(`combineMasks: masks of shapes ${given.map((g) => formatShape(g.shape)).join(', ')} do not broadcast together`);
  }
  return tf.tidy(() => {
    if (given.every((m) => m.dtype === 'bool')) {
      return given.slice(1).reduce((acc, m) => tf.logicalOr(acc, m), tf.clone(given[0] as tf.Tensor));
    }
    const additive = given.map((m) => (m.dtype === 'bool' ? tf.where(m, tf.scalar(-Infinity), tf.scalar(0)) : m));
    return additive.slice(1).reduce((acc, m) => tf.add(acc, m), tf.clone(additive[0] as tf.Tensor));
  });
}

/**
 * Expands a mask to the full attention shape [B, H, Tq, Tk] (same dtype), throwing a ShapeError that
 * names both shapes when it does not broadcast.
 */
export function broadcastMask(mask: AttentionMask, shape: readonly [number, number, number, number]): tf.Tensor4D {
  checkMaskDtype('broadcastMask', 'mask', mask);
  const padded = checkMaskShape('broadcastMask', 'mask', mask, shape);
  return tf.tidy(() => tf.broadcastTo(tf.reshape(mask, padded), [...shape]) as tf.Tensor4D);
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
export function prepareMask(where: string, name: string, mask: AttentionMask, target: readonly number[]): PreparedMask {
  checkMaskDtype(where, name, mask);
  const padded = checkMaskShape(where, name, mask, target);
  const m = tf.reshape(mask, padded);
  const blocked = m.dtype === 'bool' ? m : tf.equal(m, tf.scalar(-Infinity));
  const additive = tf.where(blocked, tf.scalar(BLOCKED_SCORE), m.dtype === 'bool' ? tf.scalar(0) : m) as tf.Tensor4D;
  const keep = tf.cast(tf.any(tf.logicalNot(blocked), -1, true), 'float32') as tf.Tensor4D;
  return { additive, keep };
}
