import * as tf from '@tensorflow/tfjs-core';

import { ConfigError, Module, ShapeError, formatShape } from '@ml/core';

import { checkFeatures, cosineSimilarity, oneHotLabels } from './protonet-head.js';

/**
 * How {@link FusionHead} builds the final prototypes:
 * - 'transductive': two diagonal Gaussians (from the mean prototype and from the completed one),
 *   each estimated by one soft-assignment step over support ∪ queries, fused by their variances;
 * - 'inductive': the average of the mean prototype and the completed one (support only);
 * - 'knowledge-free': the soft-assignment step on the mean prototype alone (no completed prototype):
 *   the transductive baseline that shows what the knowledge adds.
 */
export type FusionMode = 'transductive' | 'inductive' | 'knowledge-free';

/** Options of {@link FusionHead}. */
export interface FusionHeadOptions {
  /** Initial value of the learnable logit scale (default 10). */
  scale?: number;
  /** Sharpness of the soft assignment softmax(temperature · cos) (default 10). */
  temperature?: number;
  /** Added to the variances before fusing (default 1e-6). */
  eps?: number;
}

/** Defaults of {@link FusionHeadOptions}. */
export const DEFAULT_FUSION_HEAD_OPTIONS = { scale: 10, temperature: 10, eps: 1e-6 } as const;

/** One episode's features as the fusion head sees them. */
export interface FusionInput {
  /** Support features [N·K, s]. */
  support: tf.Tensor;
  /** Episode labels of the support, int [N·K] in 0..N−1. */
  supportLabels: tf.Tensor;
  /** Query features [Q, s]. */
  query: tf.Tensor;
  /** Mean prototypes [N, s] (the support mean per class). */
  prototypes: tf.Tensor;
  /** Completed prototypes [N, s] from ProtoComNet (not needed for 'knowledge-free'). */
  completed?: tf.Tensor;
}

/** Mean and per-dimension variance of each class, both [N, s]. */
export interface DiagonalGaussians {
  mean: tf.Tensor2D;
  variance: tf.Tensor2D;
}

/**
 * One soft-assignment step: each query is assigned to the classes by softmax(temperature ·
 * cos(query, prototype)), each support example to its own class; every class then gets the weighted
 * mean and per-dimension weighted variance of support ∪ queries. support [N·K, s], labels [N·K],
 * query [Q, s], prototypes [N, s] → mean, variance [N, s].
 */
export function softAssignment(
  support: tf.Tensor,
  supportLabels: tf.Tensor,
  query: tf.Tensor,
  prototypes: tf.Tensor,
  temperature: number = DEFAULT_FUSION_HEAD_OPTIONS.temperature,
): DiagonalGaussians {
  const ways = prototypes.shape[0];
  const [mean, variance] = tf.tidy(() => {
    const assign = tf.softmax(tf.mul(temperature, cosineSimilarity(query, prototypes))); // [Q, N]
    const weights = tf.concat([oneHotLabels(supportLabels, ways), assign], 0); // [M, N], M = N·K + Q
    const points = tf.concat([support, query], 0); // [M, s]
    const total = tf.reshape(tf.sum(weights, 0), [ways, 1]); // [N, 1]
    const mu = tf.div(tf.matMul(weights, points, true, false), total); // [N, s]
    const diff = tf.sub(tf.expandDims(points, 1), tf.expandDims(mu, 0)); // [M, N, s]
    const sq = tf.mul(tf.expandDims(weights, 2), tf.square(diff)); // [M, N, s]
    const variance = tf.div(tf.sum(sq, 0), total); // [N, s]
    return [mu, variance];
  }) as [tf.Tensor2D, tf.Tensor2D];
  return { mean, variance };
}

/**
 * ProtoComNet's classifier: fuses the mean prototype with the completed one (see {@link FusionMode})
 * and scores queries by a learnable scale × cosine. Input {@link FusionInput} → logits [Q, N]. The
 * only parameter is `scale` (a scalar, PyTorch name `scale`).
 */
export class FusionHead extends Module {
  readonly scale: tf.Variable;
  readonly temperature: number;
  readonly eps: number;

  constructor(options: FusionHeadOptions = {}) {
    super();
    const o = { ...DEFAULT_FUSION_HEAD_OPTIONS, ...options };
    for (const key of ['scale', 'temperature'] as const)
      if (!Number.isFinite(o[key]) || o[key] <= 0)
        throw new ConfigError(`FusionHead: ${key} must be a positive number, got ${o[key]}`);
    if (!Number.isFinite(o.eps) || o.eps < 0)
      throw new ConfigError(`FusionHead: eps must be a number ≥ 0, got ${o.eps}`);
    this.scale = this.registerParameter('scale', tf.scalar(o.scale));
    this.temperature = o.temperature;
    this.eps = o.eps;
  }

  private check(input: FusionInput, mode: FusionMode): void {
    const { support, supportLabels, query, prototypes, completed } = input;
    if (mode !== 'transductive' && mode !== 'inductive' && mode !== 'knowledge-free')
      throw new ConfigError(
        `FusionHead: mode must be 'transductive', 'inductive' or 'knowledge-free', got '${String(mode)}'`,
      );
    checkFeatures('FusionHead', 'prototypes', prototypes);
    const s = prototypes.shape[1] as number;
    checkFeatures('FusionHead', 'support', support, s);
    checkFeatures('FusionHead', 'query', query, s);
    if (supportLabels.rank !== 1 || supportLabels.shape[0] !== support.shape[0])
      throw new ShapeError(
        `FusionHead: supportLabels must be [${support.shape[0]}], got ${formatShape(supportLabels.shape)}`,
      );
    if (mode !== 'knowledge-free') {
      if (completed === undefined)
        throw new ConfigError(`FusionHead: mode '${mode}' needs completed prototypes`);
      if (completed.rank !== 2 || completed.shape[0] !== prototypes.shape[0] || completed.shape[1] !== s)
        throw new ShapeError(
          `FusionHead: completed must match prototypes ${formatShape(prototypes.shape)}, got ${formatShape(completed.shape)}`,
        );
    }
  }

  /** The final prototypes [N, s] of an episode (see {@link FusionMode}). */
  fuse(input: FusionInput, mode: FusionMode = 'transductive'): tf.Tensor2D {
    this.check(input, mode);
    const { support, supportLabels, query, prototypes } = input;
    return tf.tidy(() => {
      if (mode === 'inductive')
        return tf.div<tf.Tensor2D>(tf.add(prototypes, input.completed as tf.Tensor), 2); // [N, s]
      const g1 = softAssignment(support, supportLabels, query, prototypes, this.temperature);
      if (mode === 'knowledge-free') return g1.mean;
      const g2 = softAssignment(
        support,
        supportLabels,
        query,
        input.completed as tf.Tensor,
        this.temperature,
      );
      const v1 = tf.add(g1.variance, this.eps); // [N, s]
      const v2 = tf.add(g2.variance, this.eps); // [N, s]
      // Product of the two Gaussians: each mean weighted by the other's variance.
      return tf.div<tf.Tensor2D>(tf.add(tf.mul(g1.mean, v2), tf.mul(g2.mean, v1)), tf.add(v1, v2)); // [N, s]
    });
  }

  /** Logits [Q, N] = scale × cos(query, fused prototype). */
  forward(input: FusionInput, mode: FusionMode = 'transductive'): tf.Tensor2D {
    return tf.tidy(() =>
      tf.mul<tf.Tensor2D>(this.scale, cosineSimilarity(input.query, this.fuse(input, mode))),
    );
  }
}
