import * as tf from '@tensorflow/tfjs-core';

import { MeanMetric } from './internal/mean-metric.js';
import { alignTarget, readAndDispose } from './internal/metric-helpers.js';

/** Options of {@link MeanAbsoluteError}. */
export interface MeanAbsoluteErrorOptions {
  /** Key in logs (default 'mae'). */
  name?: string;
}

/** Mean absolute error over every element of every batch: Σ|output − target| / count. Same-size tensors. */
export class MeanAbsoluteError extends MeanMetric {
  readonly name: string;
  readonly higherIsBetter = false;

  constructor(options: MeanAbsoluteErrorOptions = {}) {
    super('MeanAbsoluteError');
    this.name = options.name ?? 'mae';
  }

  async update(output: tf.Tensor, target: tf.Tensor): Promise<void> {
    const sae = tf.tidy(() => {
      const t = alignTarget('MeanAbsoluteError', output, target); // output's shape, float32
      return tf.sum(tf.abs(tf.sub(tf.cast(output, 'float32'), t)));
    });
    const [value] = await readAndDispose([sae]);
    this.accumulate(value?.[0] ?? 0, output.size);
  }
}
