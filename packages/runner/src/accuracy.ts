import * as tf from '@tensorflow/tfjs-core';

import { ConfigError, ShapeError, formatShape, sameShape } from '@ml/core';

import { MeanMetric } from './internal/mean-metric.js';
import { readAndDispose } from './internal/metric-helpers.js';

/** Options of {@link Accuracy}. */
export interface AccuracyOptions {
  /** Key in logs (default 'accuracy'). */
  name?: string;
  /** What binary outputs are: 'logits' (class 1 when ≥ 0) or 'probabilities' (class 1 when ≥ 0.5). Default 'logits'. */
  from?: 'logits' | 'probabilities';
  /** Overrides the binary decision threshold implied by `from`. */
  threshold?: number;
  /**
   * Targets equal to this class id (or to any of these ids) are not counted: padding tokens, or
   * `[PAD_ID, EOS_ID]` to score content tokens only. Default none.
   */
  ignoreIndex?: number | readonly number[];
}

/** Defaults of {@link AccuracyOptions}. */
export const DEFAULT_ACCURACY_OPTIONS = { name: 'accuracy', from: 'logits' } as const;

/**
 * The fraction of correct predictions, accumulated over batches.
 *
 * - Multiclass: output [..., C] with C > 1; the prediction is the argmax. Target: class ids [...]
 *   (or [..., 1]), or one-hot / probabilities [..., C] (argmax taken).
 * - Binary: output [N] or [N, 1] (logits or probabilities, see `from`); target 0/1 of the same size.
 *
 * Token accuracy too (the one @ml has: @ml/seq2seq's evaluation uses it): logits [B, T, C] with
 * ids [B, T] and `ignoreIndex` for padding and end tokens.
 */
export class Accuracy extends MeanMetric {
  readonly name: string;
  readonly higherIsBetter = true;
  readonly threshold: number;
  /** The target ids not counted (empty: every target counts). */
  readonly ignoreIndex: readonly number[];

  constructor(options: AccuracyOptions = {}) {
    super('Accuracy');
    this.name = options.name ?? DEFAULT_ACCURACY_OPTIONS.name;
    const from = options.from ?? DEFAULT_ACCURACY_OPTIONS.from;
    if (from !== 'logits' && from !== 'probabilities')
      throw new ConfigError(`Accuracy: from must be 'logits' or 'probabilities', got '${String(from)}'`);
    this.threshold = options.threshold ?? (from === 'logits' ? 0 : 0.5);
    if (!Number.isFinite(this.threshold))
      throw new ConfigError(`Accuracy: threshold must be a finite number, got ${this.threshold}`);
    const ignore = options.ignoreIndex ?? [];
    this.ignoreIndex = Object.freeze(typeof ignore === 'number' ? [ignore] : [...ignore]);
    if (!Array.isArray(ignore) && typeof ignore !== 'number')
      throw new ConfigError(
        `Accuracy: ignoreIndex must be an integer or an array of integers, got ${String(ignore)}`,
      );
    if (this.ignoreIndex.some((id) => !Number.isInteger(id)))
      throw new ConfigError(
        `Accuracy: ignoreIndex must be an integer or an array of integers, got ${JSON.stringify(options.ignoreIndex)}`,
      );
  }

  async update(output: tf.Tensor, target: tf.Tensor): Promise<void> {
    const [correct, count] = tf.tidy((): [tf.Tensor, tf.Tensor] => {
      const classes = output.rank >= 2 ? (output.shape[output.rank - 1] as number) : 1;
      let pred: tf.Tensor; // [...] int32 class ids
      let labels: tf.Tensor; // [...] int32 class ids
      if (classes > 1) {
        const lead = output.shape.slice(0, -1);
        pred = tf.argMax(output, -1);
        if (sameShape(target.shape, lead)) labels = tf.cast(target, 'int32');
        else if (sameShape(target.shape, [...lead, 1])) labels = tf.cast(tf.reshape(target, lead), 'int32');
        else if (sameShape(target.shape, output.shape)) labels = tf.argMax(target, -1);
        else
          throw new ShapeError(
            `Accuracy: for output ${formatShape(output.shape)} the target must be class ids ${formatShape(lead)} or one-hot ${formatShape(output.shape)}, got ${formatShape(target.shape)}`,
          );
      } else {
        if (target.size !== output.size) {
          throw new ShapeError(
            `Accuracy: binary output ${formatShape(output.shape)} needs a target with ${output.size} elements, got ${formatShape(target.shape)}`,
          );
        }
        pred = tf.cast(tf.greaterEqual(tf.reshape(output, [-1]), this.threshold), 'int32'); // [N]
        const flat = tf.reshape(target, [-1]);
        labels = flat.dtype === 'int32' ? flat : tf.cast(tf.greaterEqual(flat, 0.5), 'int32'); // [N]
      }
      let keep: tf.Tensor = tf.onesLike(labels); // [...] int32 1 where counted
      for (const id of this.ignoreIndex) keep = tf.mul(keep, tf.cast(tf.notEqual(labels, id), 'int32'));
      const mask = keep;
      const hits = tf.mul(tf.cast(tf.equal(pred, labels), 'int32'), mask);
      return [tf.sum(hits), tf.sum(mask)];
    });
    const [c, n] = await readAndDispose([correct, count]);
    this.accumulate(c?.[0] ?? 0, n?.[0] ?? 0);
  }
}
