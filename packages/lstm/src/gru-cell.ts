import * as tf from '@tensorflow/tfjs-core';

import { Module, resolveRng } from '@ml/core';
import type { Rng } from '@ml/core';

import { checkCellInput, checkCellSizes, checkCellState, recurrentInit } from './internal/cell-common.js';

/** Options of {@link GRUCell}. */
export interface GRUCellOptions {
  /** Features of the input x. */
  inputSize: number;
  /** Features of the hidden state H. */
  hiddenSize: number;
  /** Learned biases b_ih and b_hh (default true). */
  bias?: boolean;
  /** Randomness for init; default: seeded with `seed`, else forked from the default generator. */
  rng?: Rng;
  seed?: number;
}

/** Defaults of {@link GRUCellOptions}. */
export const DEFAULT_GRU_CELL_OPTIONS = { bias: true } as const;

/**
 * One GRU step, like `torch.nn.GRUCell`: `weight_ih` [3H, in], `weight_hh` [3H, H], biases [3H],
 * gate rows r, z, n; the reset gate multiplies the recurrent product including its bias
 * (n = tanh(W_in·x + b_in + r ⊙ (W_hn·h + b_hn))). x [B, in], h [B, H] (default zeros) → next h [B, H].
 */
export class GRUCell extends Module {
  readonly inputSize: number;
  readonly hiddenSize: number;
  readonly weightIh: tf.Variable;
  readonly weightHh: tf.Variable;
  readonly biasIh: tf.Variable | null;
  readonly biasHh: tf.Variable | null;

  constructor(options: GRUCellOptions) {
    super();
    const { inputSize, hiddenSize } = options;
    checkCellSizes('GRUCell', inputSize, hiddenSize);
    const bias = options.bias ?? DEFAULT_GRU_CELL_OPTIONS.bias;
    const rng = resolveRng(options.rng, options.seed);
    const draw = rng.uniformArray.bind(rng);
    this.inputSize = inputSize;
    this.hiddenSize = hiddenSize;
    const G = 3 * hiddenSize;
    this.weightIh = this.registerParameter('weight_ih', recurrentInit(draw, [G, inputSize], hiddenSize));
    this.weightHh = this.registerParameter('weight_hh', recurrentInit(draw, [G, hiddenSize], hiddenSize));
    this.biasIh = bias ? this.registerParameter('bias_ih', recurrentInit(draw, [G], hiddenSize)) : null;
    this.biasHh = bias ? this.registerParameter('bias_hh', recurrentInit(draw, [G], hiddenSize)) : null;
  }

  /** One step: x [B, inputSize], h [B, H] (default zeros) → the next h [B, H]. */
  forward(x: tf.Tensor, h?: tf.Tensor): tf.Tensor2D {
    const where = 'GRUCell';
    const B = checkCellInput(where, x, this.inputSize);
    const H = this.hiddenSize;
    if (h !== undefined) checkCellState(where, 'h', h, B, H);
    return tf.tidy(() => {
      const hPrev = (h ?? tf.zeros([B, H])) as tf.Tensor2D;
      let xp: tf.Tensor2D = tf.matMul(x, this.weightIh, false, true); // [B, 3H]
      let hp: tf.Tensor2D = tf.matMul(hPrev, this.weightHh, false, true); // [B, 3H]
      if (this.biasIh !== null) xp = tf.add(xp, this.biasIh);
      if (this.biasHh !== null) hp = tf.add(hp, this.biasHh);
      const [xr, xz, xn] = tf.split(xp, 3, 1) as [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D];
      const [hr, hz, hn] = tf.split(hp, 3, 1) as [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D];
      const r = tf.sigmoid(tf.add(xr, hr)); // [B, H]
      const z = tf.sigmoid(tf.add(xz, hz)); // [B, H]
      const n = tf.tanh(tf.add(xn, tf.mul(r, hn))); // [B, H]
      return tf.add(n, tf.mul(z, tf.sub(hPrev, n))); // (1 − z)·n + z·h   [B, H]
    });
  }
}
