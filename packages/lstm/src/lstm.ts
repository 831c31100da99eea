import * as tf from '@tensorflow/tfjs-core';

import { lstmRecurrence } from './internal/lstm-recurrence.js';
import { DEFAULT_RECURRENT_OPTIONS, RecurrentLayer } from './internal/recurrent-layer.js';
import type {
  CellWeights,
  DirectionResult,
  RecurrentForwardOptions,
  RecurrentOptions,
} from './internal/recurrent-layer.js';

/** Options of {@link LSTM}. */
export type LSTMOptions = RecurrentOptions;

/** Defaults of {@link LSTMOptions}. */
export const DEFAULT_LSTM_OPTIONS = DEFAULT_RECURRENT_OPTIONS;

/** Options of {@link LSTM.forward}: initial states, and lengths for padded batches. */
export interface LSTMForwardOptions extends RecurrentForwardOptions {
  /** Initial cell state [numLayers·directions, B, H] (default zeros). */
  c0?: tf.Tensor;
}

/** What {@link LSTM.forward} returns (tensors the caller owns). */
export interface LSTMResult {
  /** Last layer's hidden state at every step, both directions concatenated: [B, T, D·H] (batch-first). */
  output: tf.Tensor3D;
  /** Final hidden state per layer and direction [numLayers·D, B, H] (at each sequence's last valid step). */
  h: tf.Tensor3D;
  /** Final cell state [numLayers·D, B, H]. */
  c: tf.Tensor3D;
}

/**
 * A multi-layer, optionally bidirectional LSTM with the semantics and state-dict names of
 * `torch.nn.LSTM`: per layer k, `weight_ih_l{k}` [4H, in], `weight_hh_l{k}` [4H, H], `bias_ih_l{k}`
 * and `bias_hh_l{k}` [4H] with the gate rows in the order i, f, g, o, and `_reverse` copies for the
 * right-to-left direction:
 *
 *   i, f, o = σ(W_i·x + b_i + U_i·h + c_i), …;  g = tanh(…);  c' = f ⊙ c + i ⊙ g;  h' = o ⊙ tanh(c').
 *
 * x [B, T, inputSize] (batch-first, the default) → output [B, T, D·H] and final (h, c) [L·D, B, H].
 * Fast path: one input-projection product for all steps, one gate product per step, and a
 * hand-written backward pass that forms the recurrent weight gradient in one product.
 */
export class LSTM extends RecurrentLayer {
  constructor(options: LSTMOptions) {
    super('LSTM', 4, options);
  }

  /** Runs the LSTM; see {@link LSTMResult}. */
  forward(x: tf.Tensor, options: LSTMForwardOptions = {}): LSTMResult {
    const { output, h, c } = this.runStack(x, options, true);
    return { output, h, c: c as tf.Tensor3D };
  }

  protected inputBias(cell: CellWeights): tf.Tensor1D | null {
    return cell.bih === null || cell.bhh === null ? null : tf.add<tf.Tensor1D>(cell.bih, cell.bhh);
  }

  protected runDirection(
    xp: tf.Tensor3D,
    cell: CellWeights,
    h0: tf.Tensor2D,
    c0: tf.Tensor2D | null,
    lastStep: tf.Tensor3D | null,
  ): DirectionResult {
    return lstmRecurrence(xp, cell.whh as tf.Tensor2D, h0, c0 as tf.Tensor2D, lastStep);
  }
}
