import * as tf from '@tensorflow/tfjs-core';

import { Linear, Module, checkPositiveInt, resolveRng } from '@ml/core';
import type { Rng } from '@ml/core';

import { GRU } from '../gru.js';
import { LSTM } from '../lstm.js';
import type { RecurrentForwardOptions } from './recurrent-layer.js';

/** Options shared by {@link SequenceRegressor} and {@link SequenceClassifier}. */
export interface SequenceHeadOptions {
  /** Features per step of the input. */
  inputSize: number;
  /** Hidden size H of the recurrent layers. */
  hiddenSize: number;
  /** Recurrent layer kind (default 'lstm'). */
  cell?: 'lstm' | 'gru';
  /** Stacked recurrent layers (default 1). */
  numLayers?: number;
  /** Read the sequence in both directions (default false). */
  bidirectional?: boolean;
  /** Dropout between recurrent layers and before the linear head, in training mode (default 0). */
  dropout?: number;
  /** Randomness for init and dropout; default: seeded with `seed`, else forked from the default generator. */
  rng?: Rng;
  seed?: number;
}

/** Defaults of {@link SequenceHeadOptions}. */
export const DEFAULT_SEQUENCE_HEAD_OPTIONS = {
  cell: 'lstm',
  numLayers: 1,
  bidirectional: false,
  dropout: 0,
} as const;

/**
 * A recurrent encoder (`rnn`, an {@link LSTM} or {@link GRU}, batch-first) whose last layer's final
 * hidden state (both directions concatenated) feeds a linear `head`: [B, T, inputSize] → [B, outputs].
 */
export abstract class SequenceHead extends Module {
  readonly rnn: LSTM | GRU;
  readonly head: Linear;
  /** Width of {@link SequenceHead.features}: H, or 2H when bidirectional. */
  readonly featureSize: number;

  protected constructor(where: string, outputsName: string, outputs: number, options: SequenceHeadOptions) {
    super();
    const o = { ...DEFAULT_SEQUENCE_HEAD_OPTIONS, ...options };
    checkPositiveInt(where, outputsName, outputs);
    const rng = resolveRng(options.rng, options.seed);
    const rnnOptions = {
      inputSize: o.inputSize,
      hiddenSize: o.hiddenSize,
      numLayers: o.numLayers,
      bidirectional: o.bidirectional,
      dropout: o.dropout,
      batchFirst: true,
      rng: rng.fork(),
    };
    this.rnn = this.registerModule('rnn', o.cell === 'gru' ? new GRU(rnnOptions) : new LSTM(rnnOptions));
    this.featureSize = o.hiddenSize * this.rnn.numDirections;
    this.head = this.registerModule(
      'head',
      new Linear({ inFeatures: this.featureSize, outFeatures: outputs, rng }),
    );
  }

  /** The final hidden state of the last layer, directions concatenated: [B, T, in] → [B, D·H]. */
  features(x: tf.Tensor, options: RecurrentForwardOptions = {}): tf.Tensor2D {
    return tf.tidy(() => {
      const { h } = this.rnn.forward(x, options); // [L·D, B, H]
      const D = this.rnn.numDirections;
      const [, B, H] = h.shape;
      const last = tf.slice(h, [h.shape[0] - D, 0, 0], [D, B, H]); // [D, B, H]
      return tf.reshape<tf.Rank.R2>(tf.transpose(last, [1, 0, 2]), [B, D * H]); // [B, D·H]
    });
  }

  /** [B, T, inputSize] → [B, outputs]. */
  forward(x: tf.Tensor, options: RecurrentForwardOptions = {}): tf.Tensor2D {
    return tf.tidy(() => this.head.forward(this.features(x, options)) as tf.Tensor2D);
  }
}
