import * as tf from '@tensorflow/tfjs-core';

import { ConfigError, ShapeError, checkPositiveInt, formatShape } from '@ml/core';

/** How a ProtoNet compares queries with prototypes. */
export type PrototypeMetric = 'euclidean' | 'cosine';

/** Options of {@link protoNetLogits}. */
export interface ProtoNetOptions {
  /** 'euclidean' (default): logits = −‖q − p‖²; 'cosine': logits = scale · cos(q, p). */
  metric?: PrototypeMetric;
  /** Multiplier of the cosine logits (default 10). */
  scale?: number;
}

/** Defaults of {@link ProtoNetOptions}. */
export const DEFAULT_PROTONET_OPTIONS = { metric: 'euclidean', scale: 10 } as const;

/** Throws a ShapeError unless `x` is [rows, size] (size checked when given). */
export function checkFeatures(where: string, name: string, x: tf.Tensor, size?: number): void {
  if (x.rank !== 2 || (size !== undefined && x.shape[1] !== size))
    throw new ShapeError(`${where}: ${name} must be [n, ${size ?? 'features'}], got ${formatShape(x.shape)}`);
}

/** One-hot rows of episode labels: int [n] in 0..ways−1 → float32 [n, ways]. */
export function oneHotLabels(labels: tf.Tensor, ways: number): tf.Tensor2D {
  return tf.tidy(
    () => tf.cast(tf.oneHot(tf.cast(labels, 'int32') as tf.Tensor1D, ways), 'float32') as tf.Tensor2D,
  );
}

/**
 * Class prototypes: the mean support feature of each class. support [N·K, s], labels int [N·K] in
 * 0..ways−1 → [ways, s]. A ShapeError if the sizes disagree.
 */
export function classPrototypes(support: tf.Tensor, labels: tf.Tensor, ways: number): tf.Tensor2D {
  checkPositiveInt('classPrototypes', 'ways', ways);
  checkFeatures('classPrototypes', 'support', support);
  if (labels.rank !== 1 || labels.shape[0] !== support.shape[0])
    throw new ShapeError(
      `classPrototypes: labels must be [${support.shape[0]}], got ${formatShape(labels.shape)}`,
    );
  return tf.tidy(() => {
    const onehot = oneHotLabels(labels, ways); // [N·K, N]
    const sums = tf.matMul(onehot, support, true, false); // [N, s]
    return tf.div<tf.Tensor2D>(sums, tf.maximum(tf.reshape(tf.sum(onehot, 0), [ways, 1]), 1)); // [N, s]
  });
}

/** Cosine similarity of every row of `a` with every row of `b`: [m, s] × [n, s] → [m, n]. */
export function cosineSimilarity(a: tf.Tensor, b: tf.Tensor): tf.Tensor2D {
  return tf.tidy(() => {
    const an = tf.div(a, tf.maximum(tf.norm(a, 'euclidean', 1, true), 1e-8)); // [m, s]
    const bn = tf.div(b, tf.maximum(tf.norm(b, 'euclidean', 1, true), 1e-8)); // [n, s]
    return tf.matMul(an, bn, false, true); // [m, n]
  });
}

/** Negative squared euclidean distances: [m, s] × [n, s] → [m, n]. */
export function negativeSquaredDistances(a: tf.Tensor, b: tf.Tensor): tf.Tensor2D {
  return tf.tidy(() => {
    const aa = tf.sum(tf.square(a), 1, true); // [m, 1]
    const bb = tf.reshape(tf.sum(tf.square(b), 1), [1, -1]); // [1, n]
    const ab = tf.matMul(a, b, false, true); // [m, n]
    return tf.neg<tf.Tensor2D>(tf.add(tf.sub(aa, tf.mul(2, ab)), bb)); // [m, n]
  });
}

/**
 * The ProtoNet classifier: logits of each query against each prototype. prototypes [N, s],
 * queries [Q, s] → logits [Q, N] (−squared distance, or scale × cosine).
 */
export function protoNetLogits(
  prototypes: tf.Tensor,
  queries: tf.Tensor,
  options: ProtoNetOptions = {},
): tf.Tensor2D {
  const { metric, scale } = { ...DEFAULT_PROTONET_OPTIONS, ...options };
  if (metric !== 'euclidean' && metric !== 'cosine')
    throw new ConfigError(`protoNetLogits: metric must be 'euclidean' or 'cosine', got '${String(metric)}'`);
  checkFeatures('protoNetLogits', 'prototypes', prototypes);
  checkFeatures('protoNetLogits', 'queries', queries, prototypes.shape[1]);
  return tf.tidy(
    () =>
      metric === 'euclidean'
        ? negativeSquaredDistances(queries, prototypes) // [Q, N]
        : tf.mul<tf.Tensor2D>(scale, cosineSimilarity(queries, prototypes)), // [Q, N]
  );
}
