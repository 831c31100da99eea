// The three networks of the demo. Each reads a window [B, W, 1] and predicts the next value as the
// window's last value plus a learned step: ŷ = x_W + head(features(x)). Predicting the step rather
// than the level lets a small network spend its capacity on the dynamics instead of on copying
// the input; the hybrid's SVR later replaces `head` and regresses the same step.
import * as tf from '@tensorflow/tfjs-core';

import { SinusoidalPositionalEncoding, TransformerEncoder } from '@ml/attention';
import { Linear, Module, resolveRng } from '@ml/core';
import type { Rng } from '@ml/core';
import { LSTM } from '@ml/lstm';

/** A window → features block: [B, W, 1] → [B, featureSize]. */
interface FeatureEncoder extends Module {
  readonly featureSize: number;
  forward(x: tf.Tensor): tf.Tensor2D;
}

/** LSTM over the raw values; features = final hidden state [B, H]. */
export class LstmFeatures extends Module implements FeatureEncoder {
  readonly lstm: LSTM;
  readonly featureSize: number;

  constructor(options: { hidden: number; rng: Rng }) {
    super();
    this.lstm = this.registerModule(
      'lstm',
      new LSTM({ inputSize: 1, hiddenSize: options.hidden, rng: options.rng }),
    );
    this.featureSize = options.hidden;
  }

  forward(x: tf.Tensor): tf.Tensor2D {
    return tf.tidy(() => {
      const { h } = this.lstm.forward(x); // [1, B, H]
      return tf.squeeze<tf.Tensor2D>(h, [0]); // [B, H]
    });
  }
}

/** Options of the Transformer encoder block. */
export interface TransformerBlockOptions {
  dim: number;
  heads: number;
  layers: number;
  dimFeedforward: number;
  rng: Rng;
}

/** Value embedding Linear(1 → D) + sinusoidal positions + a Transformer encoder: [B, W, 1] → [B, W, D]. */
export class TransformerBlock extends Module {
  readonly embed: Linear;
  readonly positions: SinusoidalPositionalEncoding;
  readonly encoder: TransformerEncoder;

  constructor(o: TransformerBlockOptions) {
    super();
    this.embed = this.registerModule('embed', new Linear({ inFeatures: 1, outFeatures: o.dim, rng: o.rng }));
    this.positions = this.registerModule(
      'positions',
      new SinusoidalPositionalEncoding({ dim: o.dim, maxLength: 256 }),
    );
    this.encoder = this.registerModule(
      'encoder',
      new TransformerEncoder({
        dim: o.dim,
        heads: o.heads,
        numLayers: o.layers,
        dimFeedforward: o.dimFeedforward,
        dropout: 0,
        normFirst: true,
        finalNorm: true,
        rng: o.rng,
      }),
    );
  }

  forward(x: tf.Tensor): tf.Tensor3D {
    return tf.tidy(() => this.encoder.forward(this.positions.forward(this.embed.forward(x)))); // [B, W, D]
  }
}

/** Transformer encoder alone; features = the encoding of the last step [B, D]. */
export class TransformerFeatures extends Module implements FeatureEncoder {
  readonly block: TransformerBlock;
  readonly featureSize: number;

  constructor(o: TransformerBlockOptions) {
    super();
    this.block = this.registerModule('block', new TransformerBlock(o));
    this.featureSize = o.dim;
  }

  forward(x: tf.Tensor): tf.Tensor2D {
    return tf.tidy(() => {
      const z = this.block.forward(x); // [B, W, D]
      const [B, W, D] = z.shape;
      return tf.reshape<tf.Rank.R2>(tf.slice(z, [0, W - 1, 0], [B, 1, D]), [B, D]); // [B, D]
    });
  }
}

/** The hybrid's network: Transformer encoder → LSTM; features = the LSTM's final hidden state [B, H]. */
export class TransformerLstmFeatures extends Module implements FeatureEncoder {
  readonly block: TransformerBlock;
  readonly lstm: LSTM;
  readonly featureSize: number;

  constructor(o: TransformerBlockOptions & { hidden: number }) {
    super();
    this.block = this.registerModule('block', new TransformerBlock(o));
    this.lstm = this.registerModule('lstm', new LSTM({ inputSize: o.dim, hiddenSize: o.hidden, rng: o.rng }));
    this.featureSize = o.hidden;
  }

  forward(x: tf.Tensor): tf.Tensor2D {
    return tf.tidy(() => tf.squeeze<tf.Tensor2D>(this.lstm.forward(this.block.forward(x)).h, [0])); // [B, H]
  }
}

/** features → linear head → step added to the window's last value: [B, W, 1] → [B, 1]. */
export class Forecaster extends Module {
  readonly body: FeatureEncoder;
  readonly head: Linear;

  constructor(body: FeatureEncoder, options: { rng?: Rng; seed?: number } = {}) {
    super();
    this.body = this.registerModule('body', body);
    const rng = resolveRng(options.rng, options.seed);
    this.head = this.registerModule(
      'head',
      new Linear({ inFeatures: body.featureSize, outFeatures: 1, rng }),
    );
  }

  /** Features of the windows [B, featureSize] (what the hybrid's SVR reads). */
  features(x: tf.Tensor): tf.Tensor2D {
    return this.body.forward(x);
  }

  forward(x: tf.Tensor): tf.Tensor2D {
    return tf.tidy(() => tf.add<tf.Tensor2D>(lastValue(x), this.head.forward(this.body.forward(x)))); // [B, 1]
  }
}

/** The last value of each window: [B, W, 1] → [B, 1]. */
export function lastValue(x: tf.Tensor): tf.Tensor2D {
  const [B, W] = x.shape as [number, number, number];
  return tf.reshape<tf.Rank.R2>(tf.slice(x, [0, W - 1, 0], [B, 1, 1]), [B, 1]);
}
