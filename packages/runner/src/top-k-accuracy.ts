import * as tf from '@tensorflow/tfjs-core';

import { ShapeError, checkPositiveInt, formatShape } from '@ml/core';

import { MeanMetric } from './internal/mean-metric.js';
import { readAndDispose } from './internal/metric-helpers.js';

/** Options of {@link TopKAccuracy}. */
export interface TopKAccuracyOptions {
  /** How many of the highest-scoring classes may contain the target (default 5). */
  k?: number;
  /** Key in logs (default `top${k}_accuracy`). */
  name?: string;
}

/** Defaults of {@link TopKAccuracyOptions}. */
export const DEFAULT_TOP_K_ACCURACY_OPTIONS = { k: 5 } as const;

/**
 * The fraction of samples whose target class is among the `k` highest outputs, accumulated over
 * batches. Output [N, C] (C ≥ k); target class ids [N] (or [N, 1]) or one-hot [N, C].
 */
export class TopKAccuracy extends MeanMetric {
  readonly name: string;
  readonly higherIsBetter = true;
  readonly k: number;

  constructor(options: TopKAccuracyOptions = {}) {
    super('TopKAccuracy');
    this.k = options.k ?? DEFAULT_TOP_K_ACCURACY_OPTIONS.k;
    checkPositiveInt('TopKAccuracy', 'k', this.k);
    this.name = options.name ?? `top${this.k}_accuracy`;
  }

  async update(output: tf.Tensor, target: tf.Tensor): Promise<void> {
    if (output.rank !== 2 || (output.shape[1] as number) < this.k) {
      throw new ShapeError(
        `TopKAccuracy: output must be [N, C] with C ≥ k (${this.k}), got ${formatShape(output.shape)}`,
      );
    }
    const [n, c] = output.shape as [number, number];
    let idsShape: 'ids' | 'column' | 'onehot';
    if (target.rank === 1 && target.shape[0] === n) idsShape = 'ids';
    else if (target.rank === 2 && target.shape[0] === n && target.shape[1] === 1) idsShape = 'column';
    else if (target.rank === 2 && target.shape[0] === n && target.shape[1] === c) idsShape = 'onehot';
    else
      throw new ShapeError(
        `TopKAccuracy: target must be class ids [${n}] or one-hot [${n}, ${c}], got ${formatShape(target.shape)}`,
      );
    const correct = tf.tidy(() => {
      const labels = idsShape === 'onehot' ? tf.argMax(target, 1) : tf.cast(tf.reshape(target, [n]), 'int32'); // [N]
      const { values, indices } = tf.topk(output, this.k); // [N, k]
      values.dispose();
      const hit = tf.any(tf.equal(indices, tf.expandDims(labels, 1)), 1); // [N] bool
      return tf.sum(tf.cast(hit, 'int32'));
    });
    const [value] = await readAndDispose([correct]);
    this.accumulate(value?.[0] ?? 0, n);
  }
}
