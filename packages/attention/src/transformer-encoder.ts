import * as tf from '@tensorflow/tfjs-core';

import { LayerNorm, Module, ModuleList, checkPositiveInt, resolveRng } from '@ml/core';

import { DEFAULT_TRANSFORMER_LAYER_OPTIONS, checkSequence } from './internal/layer-common.js';
import type {
  TransformerEncoderLayerForwardOptions,
  TransformerEncoderLayerOptions,
} from './transformer-encoder-layer.js';
import { TransformerEncoderLayer } from './transformer-encoder-layer.js';

/** Options of {@link TransformerEncoder}: every layer's options, the depth and the final norm. */
export interface TransformerEncoderOptions extends TransformerEncoderLayerOptions {
  /** Number of layers. */
  numLayers: number;
  /** A LayerNorm (`norm`) after the last layer (default false, as PyTorch's `norm=None`); pre-norm stacks usually want it. */
  finalNorm?: boolean;
}

/** Defaults of {@link TransformerEncoderOptions}. */
export const DEFAULT_TRANSFORMER_ENCODER_OPTIONS = {
  ...DEFAULT_TRANSFORMER_LAYER_OPTIONS,
  finalNorm: false,
} as const;

/** Options of {@link TransformerEncoder.forward}: as a layer's, applied to every layer. */
export type TransformerEncoderForwardOptions = TransformerEncoderLayerForwardOptions;

/** An encoder stack's output with every layer's self-attention weights. */
export interface EncoderResult {
  output: tf.Tensor3D;
  /** One [B, H, T, T] per layer. */
  weights: tf.Tensor4D[];
}

/**
 * A stack of {@link TransformerEncoderLayer}s with an optional final LayerNorm, named like
 * `torch.nn.TransformerEncoder` (`layers.0.self_attn.in_proj_weight`, …, `norm.weight`). Each layer is
 * initialised independently (PyTorch deep-copies one layer, so its layers start identical).
 * src [B, T, D] → [B, T, D].
 */
export class TransformerEncoder extends Module {
  readonly layers: ModuleList<TransformerEncoderLayer>;
  readonly norm: LayerNorm | null;
  readonly dim: number;

  constructor(options: TransformerEncoderOptions) {
    super();
    checkPositiveInt('TransformerEncoder', 'numLayers', options.numLayers);
    const rng = resolveRng(options.rng, options.seed);
    this.dim = options.dim;
    const layers = Array.from(
      { length: options.numLayers },
      () => new TransformerEncoderLayer({ ...options, rng }),
    );
    this.layers = this.registerModule('layers', new ModuleList(layers));
    const finalNorm = options.finalNorm ?? DEFAULT_TRANSFORMER_ENCODER_OPTIONS.finalNorm;
    const eps = options.layerNormEps ?? DEFAULT_TRANSFORMER_ENCODER_OPTIONS.layerNormEps;
    this.norm = finalNorm
      ? this.registerModule('norm', new LayerNorm({ normalizedShape: options.dim, eps }))
      : null;
  }

  /** src [B, T, D] → [B, T, D], or `{ output, weights }` (one [B, H, T, T] per layer) with `returnWeights`. */
  forward(
    src: tf.Tensor,
    options?: TransformerEncoderForwardOptions & { returnWeights?: false },
  ): tf.Tensor3D;
  forward(src: tf.Tensor, options: TransformerEncoderForwardOptions & { returnWeights: true }): EncoderResult;
  forward(src: tf.Tensor, options?: TransformerEncoderForwardOptions): tf.Tensor3D | EncoderResult;
  forward(src: tf.Tensor, options: TransformerEncoderForwardOptions = {}): tf.Tensor3D | EncoderResult {
    checkSequence('TransformerEncoder', 'src', src, this.dim);
    const { mask, keyPaddingMask } = options;
    const returnWeights = options.returnWeights ?? false;
    const result = tf.tidy(() => {
      const weights: tf.Tensor4D[] = [];
      let x = src as tf.Tensor3D;
      for (const layer of this.layers.items) {
        if (returnWeights) {
          const r = layer.forward(x, { mask, keyPaddingMask, returnWeights: true });
          weights.push(r.weights);
          x = r.output;
        } else {
          x = layer.forward(x, { mask, keyPaddingMask });
        }
      }
      const output = (this.norm === null ? x : this.norm.forward(x)) as tf.Tensor3D;
      return { output, weights };
    });
    return returnWeights ? result : result.output;
  }
}
