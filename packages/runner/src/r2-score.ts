import * as tf from '@tensorflow/tfjs-core';

import { CheckpointError, ShapeError, formatShape } from '@ml/core';

import { alignTarget, readAndDispose } from './internal/metric-helpers.js';
import type { Metric } from './metric.js';

/** Options of {@link R2Score}. */
export interface R2ScoreOptions {
  /** Key in logs (default 'r2'). */
  name?: string;
}

/**
 * The coefficient of determination R² = 1 − SS_res / SS_tot, accumulated over batches exactly (the
 * target mean and SS_tot are merged per batch with Chan's parallel formula, in float64).
 * Output and target [N] or [N, D] (or [..., D], flattened to rows); with D > 1 the result is the mean
 * of the per-column scores (scikit-learn's 'uniform_average'). A constant target column scores 1 when
 * predicted exactly and 0 otherwise, as scikit-learn does.
 */
export class R2Score implements Metric {
  readonly name: string;
  readonly higherIsBetter = true;
  #n = 0;
  #mean: number[] = [];
  #m2: number[] = [];
  #ssRes: number[] = [];

  constructor(options: R2ScoreOptions = {}) {
    this.name = options.name ?? 'r2';
  }

  async update(output: tf.Tensor, target: tf.Tensor): Promise<void> {
    if (output.rank === 0)
      throw new ShapeError(
        `R2Score: output must have at least one dimension, got ${formatShape(output.shape)}`,
      );
    const cols = output.rank === 1 ? 1 : (output.shape[output.rank - 1] as number);
    if (this.#mean.length > 0 && cols !== this.#mean.length) {
      throw new ShapeError(
        `R2Score: output must keep ${this.#mean.length} columns across batches, got ${formatShape(output.shape)}`,
      );
    }
    const rows = output.size / cols;
    const sums = tf.tidy(() => {
      const y = tf.reshape(alignTarget('R2Score', output, target), [rows, cols]); // [R, D]
      const p = tf.reshape(tf.cast(output, 'float32'), [rows, cols]); // [R, D]
      const mean = tf.mean(y, 0); // [D]
      const m2 = tf.sum(tf.square(tf.sub(y, mean)), 0); // [D]
      const ssRes = tf.sum(tf.square(tf.sub(y, p)), 0); // [D]
      return [mean, m2, ssRes];
    });
    const [mean, m2, ssRes] = (await readAndDispose(sums)) as [Float32Array, Float32Array, Float32Array];
    if (this.#mean.length === 0) {
      this.#mean = new Array<number>(cols).fill(0);
      this.#m2 = new Array<number>(cols).fill(0);
      this.#ssRes = new Array<number>(cols).fill(0);
    }
    const total = this.#n + rows;
    for (let c = 0; c < cols; c++) {
      const delta = (mean[c] as number) - (this.#mean[c] as number);
      this.#mean[c] = (this.#mean[c] as number) + (delta * rows) / total;
      this.#m2[c] = (this.#m2[c] as number) + (m2[c] as number) + (delta * delta * this.#n * rows) / total;
      this.#ssRes[c] = (this.#ssRes[c] as number) + (ssRes[c] as number);
    }
    this.#n = total;
  }

  result(): number {
    if (this.#n === 0) return NaN;
    let sum = 0;
    for (let c = 0; c < this.#mean.length; c++) {
      const ssTot = this.#m2[c] as number;
      const ssRes = this.#ssRes[c] as number;
      sum += ssTot === 0 ? (ssRes === 0 ? 1 : 0) : 1 - ssRes / ssTot;
    }
    return sum / this.#mean.length;
  }

  reset(): void {
    this.#n = 0;
    this.#mean = [];
    this.#m2 = [];
    this.#ssRes = [];
  }

  /** `[n, ...mean, ...m2, ...ssRes]` (1 + 3·D numbers). */
  state(): number[] {
    return [this.#n, ...this.#mean, ...this.#m2, ...this.#ssRes];
  }

  setState(state: readonly number[]): void {
    const raw: unknown = state; // checked as unknown: Array.isArray would narrow `state` to any[]
    if (!Array.isArray(raw) || state.length % 3 !== 1 || state.some((v) => typeof v !== 'number')) {
      throw new CheckpointError(
        `R2Score.setState: state must be 1 + 3·D numbers, got ${JSON.stringify(state)}`,
      );
    }
    const d = (state.length - 1) / 3;
    this.#n = state[0] as number;
    this.#mean = state.slice(1, 1 + d);
    this.#m2 = state.slice(1 + d, 1 + 2 * d);
    this.#ssRes = state.slice(1 + 2 * d);
  }
}
