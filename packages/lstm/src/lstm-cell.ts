import * as tf from '@tensorflow/tfjs-core';

import { Module, resolveRng } from '@ml/core';
import type { Rng } from '@ml/core';

import { checkCellInput, checkCellSizes, checkCellState, recurrentInit } from './internal/cell-common.js';

/** Options of {@link LSTMCell}. */
export interface LSTMCellOptions {
  /** Features of the input x. */
  inputSize: number;
  /** Features of the hidden and cell states H. */
  hiddenSize: number;
  /** Learned biases b_ih and b_hh (default true). */
  bias?: boolean;
  /** Randomness for init; default: seeded with `seed`, else forked from the default generator. */
  rng?: Rng;
  seed?: number;
}

/** Defaults of {@link LSTMCellOptions}. */
export const DEFAULT_LSTM_CELL_OPTIONS = { bias: true } as const;

/** An LSTM state: hidden h and cell c, each [B, H]. */
export interface LSTMState {
  h: tf.Tensor2D;
  c: tf.Tensor2D;
}

/**
 * One LSTM step, like `torch.nn.LSTMCell`: `weight_ih` [4H, in], `weight_hh` [4H, H], `bias_ih`,
 * `bias_hh` [4H], gate rows i, f, g, o. x [B, in] and (h, c) [B, H] (default zeros) → next (h, c).
 * For whole sequences use {@link LSTM}, which is much faster than looping over this cell.
 */
export class LSTMCell extends Module {
  readonly inputSize: number;
  readonly hiddenSize: number;
  readonly weightIh: tf.Variable;
  readonly weightHh: tf.Variable;
  readonly biasIh: tf.Variable | null;
  readonly biasHh: tf.Variable | null;

  constructor(options: LSTMCellOptions) {
    super();
    const { inputSize, hiddenSize } = options;
    checkCellSizes('LSTMCell', inputSize, hiddenSize);
    const bias = options.bias ?? DEFAULT_LSTM_CELL_OPTIONS.bias;
    const rng = resolveRng(options.rng, options.seed);
    const draw = rng.uniformArray.bind(rng);
    this.inputSize = inputSize;
    this.hiddenSize = hiddenSize;
    const G = 4 * hiddenSize;
    this.weightIh = this.registerParameter('weight_ih', recurrentInit(draw, [G, inputSize], hiddenSize));
    this.weightHh = this.registerParameter('weight_hh', recurrentInit(draw, [G, hiddenSize], hiddenSize));
    this.biasIh = bias ? this.registerParameter('bias_ih', recurrentInit(draw, [G], hiddenSize)) : null;
    this.biasHh = bias ? this.registerParameter('bias_hh', recurrentInit(draw, [G], hiddenSize)) : null;
  }

  /** One step: x [B, inputSize], state (h, c) [B, H] each (default zeros) → the next state. */
  forward(x: tf.Tensor, state?: LSTMState): LSTMState {
    const where = 'LSTMCell';
    const B = checkCellInput(where, x, this.inputSize);
    const H = this.hiddenSize;
    if (state !== undefined) {
      checkCellState(where, 'h', state.h, B, H);
      checkCellState(where, 'c', state.c, B, H);
    }
    return tf.tidy(() => {
      const h = state?.h ?? tf.zeros([B, H]);
      const c = state?.c ?? tf.zeros([B, H]);
      let z = tf.add(tf.matMul(x, this.weightIh, false, true), tf.matMul(h, this.weightHh, false, true)); // [B, 4H]
      if (this.biasIh !== null && this.biasHh !== null) z = tf.add(z, tf.add(this.biasIh, this.biasHh));
      const [i, f, g, o] = tf.split(z, 4, 1) as [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D, tf.Tensor2D]; // 4 × [B, H]
      const cNext = tf.add(tf.mul(tf.sigmoid(f), c), tf.mul(tf.sigmoid(i), tf.tanh(g))); // [B, H]
      const hNext = tf.mul(tf.sigmoid(o), tf.tanh(cNext)); // [B, H]
      return { h: hNext as tf.Tensor2D, c: cNext as tf.Tensor2D };
    });
  }
}
