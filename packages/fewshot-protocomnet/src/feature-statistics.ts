import * as tf from '@tensorflow/tfjs-core';

import { DataError, ShapeError, formatShape } from '@ml/core';

import type { KnowledgeGraph } from './knowledge-graph.js';

/**
 * Backbone feature statistics over the base images: per base class and per attribute, the mean and
 * (population) standard deviation. All [rows, s]; the tensors belong to the caller (`dispose()`).
 */
export interface FeatureStatistics {
  featureSize: number;
  /** [C_base, s]: the mean feature of each base class (ProtoComNet's training target). */
  classMean: tf.Tensor2D;
  classStd: tf.Tensor2D;
  /** [F, s]: the mean feature over the base images whose class has the attribute. */
  attributeMean: tf.Tensor2D;
  attributeStd: tf.Tensor2D;
  /** Base images behind each attribute's statistics. */
  attributeCounts: number[];
  dispose(): void;
}

/**
 * Collects {@link FeatureStatistics} from backbone features of base images. features [N, s];
 * labels [N]: each image's base class, as its position in `graph.baseClasses` (0..C_base − 1).
 * A DataError if a base class has no image or a label is out of range.
 */
export async function collectFeatureStatistics(
  graph: KnowledgeGraph,
  features: tf.Tensor,
  labels: ArrayLike<number> | tf.Tensor,
): Promise<FeatureStatistics> {
  if (features.rank !== 2)
    throw new ShapeError(
      `collectFeatureStatistics: features must be [N, s], got ${formatShape(features.shape)}`,
    );
  const [N, s] = features.shape as [number, number];
  const y = labels instanceof tf.Tensor ? await labels.data() : labels;
  if (y.length !== N)
    throw new ShapeError(
      `collectFeatureStatistics: labels must have ${N} entries (one per feature row), got ${y.length}`,
    );
  const Cb = graph.baseClasses.length;
  const C = Cb + graph.novelClasses.length;
  const F = graph.nodes.length - C;
  const x = await features.data();
  // Sums and sums of squares in float64 per base class; attribute statistics pool their classes.
  const sum = new Float64Array(Cb * s);
  const sq = new Float64Array(Cb * s);
  const count = new Float64Array(Cb);
  for (let i = 0; i < N; i++) {
    const c = y[i] as number;
    if (!Number.isInteger(c) || c < 0 || c >= Cb)
      throw new DataError(
        `collectFeatureStatistics: labels[${i}] must be a base class position in 0..${Cb - 1}, got ${c}`,
      );
    count[c] = (count[c] as number) + 1;
    for (let j = 0; j < s; j++) {
      const v = x[i * s + j] as number;
      sum[c * s + j] = (sum[c * s + j] as number) + v;
      sq[c * s + j] = (sq[c * s + j] as number) + v * v;
    }
  }
  count.forEach((n, c) => {
    if (n === 0)
      throw new DataError(`collectFeatureStatistics: base class '${graph.baseClasses[c]}' has no image`);
  });
  const pooled = (classes: number[]): { mean: Float32Array; std: Float32Array; n: number } => {
    const mean = new Float32Array(s);
    const std = new Float32Array(s);
    const n = classes.reduce((a, c) => a + (count[c] as number), 0);
    for (let j = 0; j < s; j++) {
      let a = 0;
      let b = 0;
      for (const c of classes) {
        a += sum[c * s + j] as number;
        b += sq[c * s + j] as number;
      }
      const m = a / n;
      mean[j] = m;
      std[j] = Math.sqrt(Math.max(0, b / n - m * m));
    }
    return { mean, std, n };
  };
  const classRows = Array.from({ length: Cb }, (_, c) => pooled([c]));
  const attributeRows = Array.from({ length: F }, (_, a) => {
    const holders = graph.edges.slice(0, Cb).flatMap((e, c) => (e.includes(C + a) ? [c] : []));
    if (holders.length === 0)
      throw new DataError(
        `collectFeatureStatistics: attribute '${graph.nodes[C + a]?.name}' belongs to no base class; the graph must keep only shared attributes`,
      );
    return pooled(holders);
  });
  const stack = (rows: { mean: Float32Array; std: Float32Array }[], key: 'mean' | 'std'): tf.Tensor2D => {
    const out = new Float32Array(rows.length * s);
    rows.forEach((r, i) => out.set(r[key], i * s));
    return tf.tensor2d(out, [rows.length, s]);
  };
  const classMean = stack(classRows, 'mean');
  const classStd = stack(classRows, 'std');
  const attributeMean = stack(attributeRows, 'mean');
  const attributeStd = stack(attributeRows, 'std');
  return {
    featureSize: s,
    classMean,
    classStd,
    attributeMean,
    attributeStd,
    attributeCounts: attributeRows.map((r) => r.n),
    dispose: () => tf.dispose([classMean, classStd, attributeMean, attributeStd]),
  };
}
