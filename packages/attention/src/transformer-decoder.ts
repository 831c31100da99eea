import * as tf from '@tensorflow/tfjs-core';

import { LayerNorm, Module, ModuleList, checkPositiveInt, resolveRng } from '@ml/core';

import { DEFAULT_TRANSFORMER_LAYER_OPTIONS, checkSequence } from './internal/layer-common.js';
import type {
  TransformerDecoderLayerForwardOptions,
  TransformerDecoderLayerOptions,
} from './transformer-decoder-layer.js';
import { TransformerDecoderLayer } from './transformer-decoder-layer.js';

/** Options of {@link TransformerDecoder}: every layer's options, the depth and the final norm. */
export interface TransformerDecoderOptions extends TransformerDecoderLayerOptions {
  /** Number of layers. */
  numLayers: number;
  /** A LayerNorm (`norm`) after the last layer (default false, as PyTorch's `norm=None`). */
  finalNorm?: boolean;
}

/** Defaults of {@link TransformerDecoderOptions}. */
export const DEFAULT_TRANSFORMER_DECODER_OPTIONS = {
  ...DEFAULT_TRANSFORMER_LAYER_OPTIONS,
  finalNorm: false,
} as const;

/** Options of {@link TransformerDecoder.forward}: as a layer's, applied to every layer. */
export type TransformerDecoderForwardOptions = TransformerDecoderLayerForwardOptions;

/** A decoder stack's output with every layer's attention weights. */
export interface DecoderResult {
  output: tf.Tensor3D;
  /** One [B, H, Tt, Tt] per layer. */
  selfWeights: tf.Tensor4D[];
  /** One [B, H, Tt, Ts] per layer. */
  crossWeights: tf.Tensor4D[];
}

/**
 * A stack of {@link TransformerDecoderLayer}s with an optional final LayerNorm, named like
 * `torch.nn.TransformerDecoder` (`layers.0.multihead_attn.in_proj_weight`, …, `norm.weight`).
 * tgt [B, Tt, D], memory [B, Ts, D] → [B, Tt, D].
 */
export class TransformerDecoder extends Module {
  readonly layers: ModuleList<TransformerDecoderLayer>;
  readonly norm: LayerNorm | null;
  readonly dim: number;

  constructor(options: TransformerDecoderOptions) {
    super();
    checkPositiveInt('TransformerDecoder', 'numLayers', options.numLayers);
    const rng = resolveRng(options.rng, options.seed);
    this.dim = options.dim;
    const layers = Array.from(
      { length: options.numLayers },
      () => new TransformerDecoderLayer({ ...options, rng }),
    );
    this.layers = this.registerModule('layers', new ModuleList(layers));
    const finalNorm = options.finalNorm ?? DEFAULT_TRANSFORMER_DECODER_OPTIONS.finalNorm;
    const eps = options.layerNormEps ?? DEFAULT_TRANSFORMER_DECODER_OPTIONS.layerNormEps;
    this.norm = finalNorm
      ? this.registerModule('norm', new LayerNorm({ normalizedShape: options.dim, eps }))
      : null;
  }

  /**
   * tgt [B, Tt, D], memory [B, Ts, D] → [B, Tt, D], or `{ output, selfWeights, crossWeights }` (one
   * tensor per layer each) with `returnWeights`.
   */
  forward(
    tgt: tf.Tensor,
    memory: tf.Tensor,
    options?: TransformerDecoderForwardOptions & { returnWeights?: false },
  ): tf.Tensor3D;
  forward(
    tgt: tf.Tensor,
    memory: tf.Tensor,
    options: TransformerDecoderForwardOptions & { returnWeights: true },
  ): DecoderResult;
  forward(
    tgt: tf.Tensor,
    memory: tf.Tensor,
    options?: TransformerDecoderForwardOptions,
  ): tf.Tensor3D | DecoderResult;
  forward(
    tgt: tf.Tensor,
    memory: tf.Tensor,
    options: TransformerDecoderForwardOptions = {},
  ): tf.Tensor3D | DecoderResult {
    checkSequence('TransformerDecoder', 'tgt', tgt, this.dim);
    checkSequence('TransformerDecoder', 'memory', memory, this.dim);
    const { returnWeights: _ignored, ...masks } = options;
    const returnWeights = options.returnWeights ?? false;
    const result = tf.tidy(() => {
      const selfWeights: tf.Tensor4D[] = [];
      const crossWeights: tf.Tensor4D[] = [];
      let x = tgt as tf.Tensor3D;
      for (const layer of this.layers.items) {
        if (returnWeights) {
          const r = layer.forward(x, memory, { ...masks, returnWeights: true });
          selfWeights.push(r.selfWeights);
          crossWeights.push(r.crossWeights);
          x = r.output;
        } else {
          x = layer.forward(x, memory, masks);
        }
      }
      const output = (this.norm === null ? x : this.norm.forward(x)) as tf.Tensor3D;
      return { output, selfWeights, crossWeights };
    });
    return returnWeights ? result : result.output;
  }
}
