import * as tf from '@tensorflow/tfjs-core';

import { alignTarget, checkState, readAndDispose } from './internal/metric-helpers.js';
import type { Metric } from './metric.js';

/** Options of {@link MeanAbsoluteError}. */
export interface MeanAbsoluteErrorOptions {
  /** Key in logs (default 'mae'). */
  name?: string;
}

/** Mean absolute error over every element of every batch: Σ|output − target| / count. Same-size tensors. */
export class MeanAbsoluteError implements Metric {
  readonly name: string;
  readonly higherIsBetter = false;
  #sae = 0;
  #count = 0;

  constructor(options: MeanAbsoluteErrorOptions = {}) {
    this.name = options.name ?? 'mae';
  }

  async update(output: tf.Tensor, target: tf.Tensor): Promise<void> {
    const sae = tf.tidy(() => {
      const t = alignTarget('MeanAbsoluteError', output, target); // output's shape, float32
      return tf.sum(tf.abs(tf.sub(tf.cast(output, 'float32'), t)));
    });
    const [value] = await readAndDispose([sae]);
    this.#sae += value?.[0] ?? 0;
    this.#count += output.size;
  }

  result(): number {
    return this.#count === 0 ? NaN : this.#sae / this.#count;
  }

  reset(): void {
    this.#sae = 0;
    this.#count = 0;
  }

  state(): number[] {
    return [this.#sae, this.#count];
  }

  setState(state: readonly number[]): void {
    checkState('MeanAbsoluteError', state, 2);
    [this.#sae, this.#count] = state as [number, number];
  }
}
