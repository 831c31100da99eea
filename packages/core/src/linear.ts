import * as tf from '@tensorflow/tfjs-core';

import { checkPositiveInt } from './checks.js';
import { ShapeError, formatShape } from './errors.js';
import { fanInAndOut, init } from './init.js';
import { Module } from './module.js';
import { type Rng, resolveRng } from './rng.js';

/** Options of {@link Linear}. */
export interface LinearOptions {
  inFeatures: number;
  outFeatures: number;
  /** Add a learned bias (default true). */
  bias?: boolean;
  /** Randomness for the initial weights; default: seeded with `seed`, else forked from the default generator (`manualSeed`). */
  rng?: Rng;
  seed?: number;
}

/** Defaults of {@link LinearOptions}. */
export const DEFAULT_LINEAR_OPTIONS = { bias: true } as const;

/** Throws a ShapeError unless `x`'s last axis has size `size`. */
export function checkLastDim(where: string, x: tf.Tensor, size: number): void {
  if (x.rank < 1 || x.shape[x.rank - 1] !== size) {
    throw new ShapeError(`${where}: input last dim must be ${size}, got ${formatShape(x.shape)}`);
  }
}

/**
 * y = x·Wᵀ (+ b), like `torch.nn.functional.linear`: x [..., in], weight [out, in], bias [out] or null →
 * [..., out]. One kernel where the backend has it (on wasm the bias starts the GEMM's accumulators: no
 * separate Add; the weight is read transposed in place), and a gradient that computes only the operands'
 * gradients that are asked for (tf.fused.matMul's would also compute x's, which data needs none of).
 * @throws ShapeError when weight is not 2-D, x's last axis is not weight's second, or bias is not [out].
 */
export function linear(x: tf.Tensor, weight: tf.Tensor, bias: tf.Tensor | null = null): tf.Tensor {
  if (weight.rank !== 2)
    throw new ShapeError(`linear: weight must be [out, in], got ${formatShape(weight.shape)}`);
  const [outFeatures, inFeatures] = weight.shape as [number, number];
  checkLastDim('linear', x, inFeatures);
  if (bias !== null && (bias.rank !== 1 || bias.shape[0] !== outFeatures))
    throw new ShapeError(
      `linear: bias must be [${outFeatures}] for weight ${formatShape(weight.shape)}, got ${formatShape(bias.shape)}`,
    );
  return tf.tidy(() => {
    const x2 = x.rank === 2 ? x : tf.reshape(x, [-1, inFeatures]); // [N, in]
    const y =
      bias === null
        ? tf.matMul(x2, weight, false, true)
        : tf
            .engine()
            .runKernel<tf.Tensor>(
              '_FusedMatMul',
              { a: x2, b: weight, bias },
              { transposeA: false, transposeB: true, activation: 'linear', leakyreluAlpha: 0.2 },
            ); // [N, out]
    return x.rank === 2 ? y : tf.reshape(y, [...x.shape.slice(0, -1), outFeatures]); // [..., out]
  });
}

/**
 * y = x·Wᵀ + b, like `torch.nn.Linear`: weight [out, in], bias [out], PyTorch's default init
 * (kaiming-uniform with a = √5, i.e. U(±1/√in) for both). Input [..., in] → output [..., out].
 */
export class Linear extends Module {
  readonly inFeatures: number;
  readonly outFeatures: number;
  readonly weight: tf.Variable;
  readonly bias: tf.Variable | null;

  constructor(options: LinearOptions) {
    super();
    const { inFeatures, outFeatures, bias = DEFAULT_LINEAR_OPTIONS.bias } = options;
    checkPositiveInt('Linear', 'inFeatures', inFeatures);
    checkPositiveInt('Linear', 'outFeatures', outFeatures);
    const rng = resolveRng(options.rng, options.seed);
    this.inFeatures = inFeatures;
    this.outFeatures = outFeatures;
    const shape = [outFeatures, inFeatures];
    this.weight = this.registerParameter('weight', init.kaimingUniform(rng, shape, { a: Math.sqrt(5) }));
    const bound = 1 / Math.sqrt(fanInAndOut(shape).fanIn);
    this.bias = bias ? this.registerParameter('bias', init.uniform(rng, [outFeatures], -bound, bound)) : null;
  }

  forward(x: tf.Tensor): tf.Tensor {
    checkLastDim('Linear', x, this.inFeatures);
    return linear(x, this.weight, this.bias);
  }
}
