import * as tf from '@tensorflow/tfjs-core';

import { ConfigError, ShapeError, formatShape } from './errors.js';
import { checkPositiveInt } from './checks.js';
import { jsKernelsActive, runJsKernel } from './internal/kernels/js-kernel.js';
import { layerNormGradKernel, layerNormKernel } from './internal/kernels/layer-norm.js';
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
    if (this.weight !== null && this.bias !== null && x.dtype === 'float32' && jsKernelsActive())
      return fusedLayerNorm(x, this.weight, this.bias, this.eps);
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

/**
 * LayerNorm with affine parameters as one kernel forward and one backward (wasm and cpu): the op-level
 * form costs ~10 tfjs ops forward and ~25 backward, whose dispatch dominated on wasm.
 */
function fusedLayerNorm(x: tf.Tensor, weight: tf.Variable, bias: tf.Variable, eps: number): tf.Tensor {
  const attrs = { n: weight.size, eps };
  const run = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [xIn, w, b] = args as [tf.Tensor, tf.Tensor, tf.Tensor];
    const save = args[3] as tf.GradSaveFunc;
    const [y, mean, rstd] = runJsKernel(layerNormKernel, { x: xIn, weight: w, bias: b }, attrs) as [
      tf.Tensor,
      tf.Tensor,
      tf.Tensor,
    ];
    save([xIn, w, mean, rstd]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xs, ws, m, r] = saved as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor];
        const [dx, dw, db] = runJsKernel(
          layerNormGradKernel,
          { dy, x: xs, weight: ws, mean: m, rstd: r },
          attrs,
        ) as [tf.Tensor, tf.Tensor, tf.Tensor];
        return [dx, tf.reshape(dw, ws.shape), tf.reshape(db, ws.shape)];
      },
    };
  });
  return run(x, weight, bias);
}
