import * as tf from '@tensorflow/tfjs-core';

import { ConfigError, ShapeError, formatShape } from '@ml/core';

/** How the heads of one layer are merged before rolling out. */
export type HeadFusion = 'mean' | 'max' | 'min';

/** Options of {@link attentionRollout}. */
export interface AttentionRolloutOptions {
  /** Merge of the heads (default 'mean'). */
  headFusion?: HeadFusion;
  /** Weight of the identity (the residual path) mixed into each layer's attention (default 0.5). */
  residual?: number;
}

/** Defaults of {@link AttentionRolloutOptions}. */
export const DEFAULT_ATTENTION_ROLLOUT_OPTIONS = { headFusion: 'mean', residual: 0.5 } as const;

/**
 * Attention rollout (Abnar & Zuidema, 2020): each layer's attention [B, H, T, T] is fused over heads,
 * mixed with the identity for the residual connection (A' = r·I + (1 − r)·A), its rows renormalised,
 * and the layers multiplied from the first to the last. Returns [B, T, T]: row i is how much each
 * input token flows into output token i. Pass the `attentions` of `forward(x, { returnAttention: true })`.
 */
export function attentionRollout(
  attentions: readonly tf.Tensor[],
  options: AttentionRolloutOptions = {},
): tf.Tensor3D {
  const where = 'attentionRollout';
  const fusion = options.headFusion ?? DEFAULT_ATTENTION_ROLLOUT_OPTIONS.headFusion;
  const r = options.residual ?? DEFAULT_ATTENTION_ROLLOUT_OPTIONS.residual;
  if (fusion !== 'mean' && fusion !== 'max' && fusion !== 'min')
    throw new ConfigError(`${where}: headFusion must be 'mean', 'max' or 'min', got '${String(fusion)}'`);
  if (!(r >= 0 && r <= 1)) throw new ConfigError(`${where}: residual must be in [0, 1], got ${r}`);
  if (attentions.length === 0)
    throw new ShapeError(`${where}: attentions must hold at least one layer, got none`);
  const first = attentions[0] as tf.Tensor;
  attentions.forEach((a, i) => {
    if (
      a.rank !== 4 ||
      a.shape[2] !== a.shape[3] ||
      a.shape[0] !== first.shape[0] ||
      a.shape[2] !== first.shape[2]
    )
      throw new ShapeError(
        `${where}: attentions[${i}] must be [B, H, T, T] like attentions[0] ${formatShape(first.shape)}, got ${formatShape(a.shape)}`,
      );
  });
  const [b, , t] = first.shape as [number, number, number, number];
  return tf.tidy(() => {
    const eye = tf.eye(t); // [T, T]
    let rollout: tf.Tensor = tf.broadcastTo(eye, [b, t, t]); // [B, T, T]
    for (const a of attentions) {
      const fused = fusion === 'mean' ? tf.mean(a, 1) : fusion === 'max' ? tf.max(a, 1) : tf.min(a, 1); // [B, T, T]
      const mixed = tf.add(tf.mul(eye, r), tf.mul(fused, 1 - r)); // [B, T, T]
      const normed = tf.div(mixed, tf.sum(mixed, -1, true)); // [B, T, T]
      rollout = tf.matMul(normed, rollout); // [B, T, T]
    }
    return rollout as tf.Tensor3D;
  });
}

/**
 * The [class] token's row of a rollout, without itself, as a map over the patch grid:
 * rollout [B, 1 + gh·gw, 1 + gh·gw] → [B, gh, gw], each map scaled to a maximum of 1.
 */
export function clsAttentionMap(rollout: tf.Tensor, grid: readonly [number, number]): tf.Tensor3D {
  const [gh, gw] = grid;
  const t = 1 + gh * gw;
  if (rollout.rank !== 3 || rollout.shape[1] !== t || rollout.shape[2] !== t)
    throw new ShapeError(
      `clsAttentionMap: rollout must be [B, ${t}, ${t}] for a ${gh}×${gw} grid, got ${formatShape(rollout.shape)}`,
    );
  const b = rollout.shape[0];
  return tf.tidy(() => {
    const row = tf.reshape(tf.slice(rollout, [0, 0, 1], [b, 1, t - 1]), [b, gh * gw]); // [B, N]
    const scaled = tf.div(row, tf.maximum(tf.max(row, 1, true), 1e-12)); // [B, N]
    return tf.reshape<tf.Rank.R3>(scaled, [b, gh, gw]);
  });
}
