import * as tf from '@tensorflow/tfjs-core';

import { ConfigError, ShapeError, formatShape } from './errors.js';
import { checkPositiveInt } from './checks.js';
import { Module } from './module.js';

/** Options of {@link LayerNorm}. */
export interface LayerNormOptions {
  /** Size(s) of the trailing axes to normalise over: `128` or `[H, W]`. */
  normalizedShape: number | number[];
  /** Added to the variance (default 1e-5, as PyTorch). */
  eps?: number;
  /** Learn a per-element scale `weight` and shift `bias` (default true). */
  elementwiseAffine?: boolean;
}

/** Defaults of {@link LayerNormOptions}. */
export const DEFAULT_LAYER_NORM_OPTIONS = { eps: 1e-5, elementwiseAffine: true } as const;

/**
 * Layer normalisation over the trailing `normalizedShape` axes, like `torch.nn.LayerNorm`
 * (biased variance; weight ones, bias zeros). Input [..., *normalizedShape] → same shape.
 */
export class LayerNorm extends Module {
  readonly normalizedShape: number[];
  readonly eps: number;
  readonly weight: tf.Variable | null;
  readonly bias: tf.Variable | null;

  constructor(options: LayerNormOptions) {
    super();
    const shape =
      typeof options.normalizedShape === 'number' ? [options.normalizedShape] : [...options.normalizedShape];
    shape.forEach((d, i) => checkPositiveInt('LayerNorm', `normalizedShape[${i}]`, d));
    this.normalizedShape = shape;
    this.eps = options.eps ?? DEFAULT_LAYER_NORM_OPTIONS.eps;
    if (!(this.eps >= 0 && Number.isFinite(this.eps)))
      throw new ConfigError(`LayerNorm: eps must be a finite number ≥ 0, got ${this.eps}`);
    const affine = options.elementwiseAffine ?? DEFAULT_LAYER_NORM_OPTIONS.elementwiseAffine;
    this.weight = affine ? this.registerParameter('weight', tf.ones(shape)) : null;
    this.bias = affine ? this.registerParameter('bias', tf.zeros(shape)) : null;
  }

  forward(x: tf.Tensor): tf.Tensor {
    const k = this.normalizedShape.length;
    const tail = x.shape.slice(x.rank - k);
    if (x.rank < k || tail.some((d, i) => d !== this.normalizedShape[i])) {
      throw new ShapeError(
        `LayerNorm: input must end with ${formatShape(this.normalizedShape)}, got ${formatShape(x.shape)}`,
      );
    }
    return tf.tidy(() => {
      const axes = Array.from({ length: k }, (_, i) => x.rank - k + i);
      const mean = tf.mean(x, axes, true); // [..., 1...]
      const centered = tf.sub(x, mean);
      const variance = tf.mean(tf.square(centered), axes, true); // biased, as PyTorch
      let y = tf.mul(centered, tf.rsqrt(tf.add(variance, this.eps)));
      if (this.weight !== null) y = tf.mul(y, this.weight);
      if (this.bias !== null) y = tf.add(y, this.bias);
      return y;
    });
  }
}
