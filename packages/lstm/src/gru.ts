import type * as tf from '@tensorflow/tfjs-core';

import { gruRecurrence } from './internal/gru-recurrence.js';
import { DEFAULT_RECURRENT_OPTIONS, RecurrentLayer } from './internal/recurrent-layer.js';
import type {
  CellWeights,
  DirectionResult,
  RecurrentForwardOptions,
  RecurrentOptions,
} from './internal/recurrent-layer.js';

/** Options of {@link GRU}. */
export type GRUOptions = RecurrentOptions;

/** Defaults of {@link GRUOptions}. */
export const DEFAULT_GRU_OPTIONS = DEFAULT_RECURRENT_OPTIONS;

/** Options of {@link GRU.forward}: initial state, and lengths for padded batches. */
export type GRUForwardOptions = RecurrentForwardOptions;

/** What {@link GRU.forward} returns (tensors the caller owns). */
export interface GRUResult {
  /** Last layer's hidden state at every step, both directions concatenated: [B, T, D·H] (batch-first). */
  output: tf.Tensor3D;
  /** Final hidden state per layer and direction [numLayers·D, B, H] (at each sequence's last valid step). */
  h: tf.Tensor3D;
}

/**
 * A multi-layer, optionally bidirectional GRU with the semantics and state-dict names of
 * `torch.nn.GRU`: `weight_ih_l{k}` [3H, in], `weight_hh_l{k}` [3H, H], biases [3H], gate rows in the
 * order r, z, n, `_reverse` for the right-to-left direction. The reset gate multiplies the recurrent
 * product including its bias:
 *
 *   r, z = σ(W·x + b_i + U·h + b_h);  n = tanh(W_n·x + b_in + r ⊙ (U_n·h + b_hn));  h' = (1 − z) ⊙ n + z ⊙ h.
 *
 * x [B, T, inputSize] (batch-first, the default) → output [B, T, D·H] and final h [L·D, B, H].
 */
export class GRU extends RecurrentLayer {
  constructor(options: GRUOptions) {
    super('GRU', 3, options);
  }

  /** Runs the GRU; see {@link GRUResult}. */
  forward(x: tf.Tensor, options: GRUForwardOptions = {}): GRUResult {
    const { output, h } = this.runStack(x, options, false);
    return { output, h };
  }

  protected inputBias(cell: CellWeights): tf.Tensor1D | null {
    return cell.bih as tf.Tensor1D | null;
  }

  protected runDirection(xp: tf.Tensor3D, cell: CellWeights, h0: tf.Tensor2D): DirectionResult {
    return {
      hs: gruRecurrence(xp, cell.whh as tf.Tensor2D, cell.bhh as tf.Tensor1D | null, h0),
      cFinal: null,
    };
  }
}
