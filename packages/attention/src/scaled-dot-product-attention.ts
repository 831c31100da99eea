import * as tf from '@tensorflow/tfjs-core';

import { ConfigError, ShapeError, checkProbability, formatShape } from '@ml/core';
import type { Rng } from '@ml/core';

import { attend } from './internal/attend.js';
import { prepareMask } from './internal/mask-utils.js';
import type { AttentionMask } from './masks.js';

/** Options of {@link scaledDotProductAttention}. */
export interface ScaledDotProductAttentionOptions {
  /** Bool (true = blocked) or additive float mask broadcastable to [B, H, Tq, Tk] (default none). */
  mask?: AttentionMask | null;
  /** Dropout probability on the attention weights (default 0); needs `rng` when > 0. */
  dropout?: number;
  /** Randomness for the dropout masks. */
  rng?: Rng;
  /** Multiplier of q·kᵀ (default 1/√d). */
  scale?: number;
  /** Also return the attention weights [B, H, Tq, Tk] (default false). */
  returnWeights?: boolean;
}

/** Defaults of {@link ScaledDotProductAttentionOptions}. */
export const DEFAULT_SCALED_DOT_PRODUCT_ATTENTION_OPTIONS = {
  mask: null,
  dropout: 0,
  returnWeights: false,
} as const;

/** Attention output with the weights that produced it. */
export interface AttentionResult {
  /** The attended values. */
  output: tf.Tensor;
  /** Attention weights per head, [B, H, Tq, Tk]; rows of fully masked queries are zeros. */
  weights: tf.Tensor4D;
}

/** Throws a ShapeError unless q, k and v are rank-4 per-head tensors that fit together. */
export function checkQkv(where: string, q: tf.Tensor, k: tf.Tensor, v: tf.Tensor): void {
  const all = `q ${formatShape(q.shape)}, k ${formatShape(k.shape)}, v ${formatShape(v.shape)}`;
  if (q.rank !== 4 || k.rank !== 4 || v.rank !== 4)
    throw new ShapeError(`${where}: q, k and v must be rank 4 [B, H, T, d], got ${all}`);
  if (q.shape[0] !== k.shape[0] || q.shape[0] !== v.shape[0])
    throw new ShapeError(`${where}: q, k and v must have the same batch size B, got ${all}`);
  if (q.shape[1] !== k.shape[1] || q.shape[1] !== v.shape[1])
    throw new ShapeError(`${where}: q, k and v must have the same number of heads H, got ${all}`);
  if (q.shape[3] !== k.shape[3])
    throw new ShapeError(`${where}: q and k must have the same depth d, got ${all}`);
  if (k.shape[2] !== v.shape[2])
    throw new ShapeError(`${where}: k and v must have the same length Tk, got ${all}`);
}

/**
 * softmax(q·kᵀ/√d + mask)·v, per head: q [B, H, Tq, d], k [B, H, Tk, d], v [B, H, Tk, dv] →
 * [B, H, Tq, dv] (with `returnWeights`, `{ output, weights [B, H, Tq, Tk] }`). Masks are bool
 * (true = blocked) or additive (−∞ blocks); a query whose keys are all blocked gets zeros, not NaN,
 * in its output and gradients. Dropout (default 0) drops attention weights.
 */
export function scaledDotProductAttention(
  q: tf.Tensor,
  k: tf.Tensor,
  v: tf.Tensor,
  options?: ScaledDotProductAttentionOptions & { returnWeights?: false },
): tf.Tensor4D;
export function scaledDotProductAttention(
  q: tf.Tensor,
  k: tf.Tensor,
  v: tf.Tensor,
  options: ScaledDotProductAttentionOptions & { returnWeights: true },
): AttentionResult;
export function scaledDotProductAttention(
  q: tf.Tensor,
  k: tf.Tensor,
  v: tf.Tensor,
  options?: ScaledDotProductAttentionOptions,
): tf.Tensor4D | AttentionResult;
export function scaledDotProductAttention(
  q: tf.Tensor,
  k: tf.Tensor,
  v: tf.Tensor,
  options: ScaledDotProductAttentionOptions = {},
): tf.Tensor4D | AttentionResult {
  const where = 'scaledDotProductAttention';
  checkQkv(where, q, k, v);
  const p = options.dropout ?? DEFAULT_SCALED_DOT_PRODUCT_ATTENTION_OPTIONS.dropout;
  checkProbability(where, 'dropout', p);
  if (p > 0 && options.rng === undefined) throw new ConfigError(`${where}: dropout ${p} needs an rng`);
  const scale = options.scale ?? 1 / Math.sqrt(q.shape[3] as number);
  if (!Number.isFinite(scale)) throw new ConfigError(`${where}: scale must be a finite number, got ${scale}`);
  const returnWeights = options.returnWeights ?? DEFAULT_SCALED_DOT_PRODUCT_ATTENTION_OPTIONS.returnWeights;
  const target = [q.shape[0], q.shape[1], q.shape[2], k.shape[2]] as number[];
  const result = tf.tidy(() => {
    const mask = options.mask == null ? null : prepareMask(where, 'mask', options.mask, target);
    const { output, weights } = attend(q as tf.Tensor4D, k as tf.Tensor4D, v as tf.Tensor4D, 'BHTD', {
      scale,
      mask,
      dropout: p,
      rng: options.rng ?? null,
      returnWeights,
    });
    return weights === null ? { output } : { output, weights };
  });
  return returnWeights ? (result as AttentionResult) : result.output;
}
