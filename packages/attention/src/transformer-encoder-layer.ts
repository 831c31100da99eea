import * as tf from '@tensorflow/tfjs-core';

import { Dropout, LayerNorm, Linear, Module } from '@ml/core';
import type { Rng } from '@ml/core';

import type { ResolvedLayerOptions } from './internal/layer-common.js';
import { applyActivation, checkSequence, resolveLayerOptions } from './internal/layer-common.js';
import type { AttentionMask } from './masks.js';
import { MultiHeadAttention } from './multi-head-attention.js';

export { DEFAULT_TRANSFORMER_LAYER_OPTIONS } from './internal/layer-common.js';

/** The feed-forward nonlinearity: 'relu', 'gelu' (exact, as PyTorch's default) or any elementwise function. */
export type FeedForwardActivation = 'relu' | 'gelu' | ((x: tf.Tensor) => tf.Tensor);

/** Options of {@link TransformerEncoderLayer}. */
export interface TransformerEncoderLayerOptions {
  /** Model width D (PyTorch's `d_model`). */
  dim: number;
  /** Attention heads; D must be divisible by it. */
  heads: number;
  /** Hidden width of the feed-forward block (default 2048, as PyTorch). */
  dimFeedforward?: number;
  /** Dropout after attention, inside and after the feed-forward block, and on attention weights (default 0.1). */
  dropout?: number;
  /** Feed-forward nonlinearity (default 'relu'). */
  activation?: FeedForwardActivation;
  /** LayerNorm epsilon (default 1e-5). */
  layerNormEps?: number;
  /** Pre-norm (LayerNorm before each block, as ViT) when true; post-norm (the original Transformer) when false (default). */
  normFirst?: boolean;
  /** Biases in the linear layers and attention projections (default true). */
  bias?: boolean;
  /** Randomness for init and dropout; default: seeded with `seed`, else forked from the default generator (`manualSeed`). */
  rng?: Rng;
  seed?: number;
}

/** Options of {@link TransformerEncoderLayer.forward}. */
export interface TransformerEncoderLayerForwardOptions {
  /** Self-attention mask broadcastable to [B, H, T, T] (PyTorch's `src_mask`). */
  mask?: AttentionMask | null;
  /** [B, T]: true (or −∞) at padded positions (PyTorch's `src_key_padding_mask`). */
  keyPaddingMask?: AttentionMask | null;
  /** Also return the self-attention weights [B, H, T, T] (default false). */
  returnWeights?: boolean;
}

/** An encoder layer's output with its self-attention weights. */
export interface EncoderLayerResult {
  output: tf.Tensor3D;
  /** [B, H, T, T]. */
  weights: tf.Tensor4D;
}

/**
 * One Transformer encoder layer — self-attention and a feed-forward block, each with a residual
 * connection — laid out like `torch.nn.TransformerEncoderLayer` (batch_first) so its state dict
 * loads directly: `self_attn.*`, `linear1`, `linear2`, `norm1`, `norm2`. Post-norm
 * (x = norm(x + block(x))) by default, pre-norm (x = x + block(norm(x))) with `normFirst`.
 * [B, T, D] → [B, T, D].
 */
export class TransformerEncoderLayer extends Module {
  readonly options: Readonly<Omit<ResolvedLayerOptions, 'rng'>>;
  readonly selfAttn: MultiHeadAttention;
  readonly linear1: Linear;
  readonly linear2: Linear;
  readonly norm1: LayerNorm;
  readonly norm2: LayerNorm;
  readonly dropoutFf: Dropout;
  readonly dropout1: Dropout;
  readonly dropout2: Dropout;

  constructor(options: TransformerEncoderLayerOptions) {
    super();
    const o = resolveLayerOptions('TransformerEncoderLayer', options);
    const { rng, ...rest } = o;
    this.options = rest;
    const { dim, heads, dimFeedforward, dropout: p, bias, layerNormEps: eps } = o;
    this.selfAttn = this.registerModule(
      'self_attn',
      new MultiHeadAttention({ dim, heads, dropout: p, bias, rng }),
    );
    this.linear1 = this.registerModule(
      'linear1',
      new Linear({ inFeatures: dim, outFeatures: dimFeedforward, bias, rng }),
    );
    this.dropoutFf = this.registerModule('dropout', new Dropout({ p, rng: rng.fork() }));
    this.linear2 = this.registerModule(
      'linear2',
      new Linear({ inFeatures: dimFeedforward, outFeatures: dim, bias, rng }),
    );
    this.norm1 = this.registerModule('norm1', new LayerNorm({ normalizedShape: dim, eps }));
    this.norm2 = this.registerModule('norm2', new LayerNorm({ normalizedShape: dim, eps }));
    this.dropout1 = this.registerModule('dropout1', new Dropout({ p, rng: rng.fork() }));
    this.dropout2 = this.registerModule('dropout2', new Dropout({ p, rng: rng.fork() }));
  }

  /** src [B, T, D] → [B, T, D], or `{ output, weights }` with `returnWeights`. */
  forward(
    src: tf.Tensor,
    options?: TransformerEncoderLayerForwardOptions & { returnWeights?: false },
  ): tf.Tensor3D;
  forward(
    src: tf.Tensor,
    options: TransformerEncoderLayerForwardOptions & { returnWeights: true },
  ): EncoderLayerResult;
  forward(src: tf.Tensor, options?: TransformerEncoderLayerForwardOptions): tf.Tensor3D | EncoderLayerResult;
  forward(
    src: tf.Tensor,
    options: TransformerEncoderLayerForwardOptions = {},
  ): tf.Tensor3D | EncoderLayerResult {
    checkSequence('TransformerEncoderLayer', 'src', src, this.options.dim);
    const returnWeights = options.returnWeights ?? false;
    const result = tf.tidy(() => {
      const captured: { weights?: tf.Tensor4D } = {};
      const selfAttention = (x: tf.Tensor): tf.Tensor => {
        const attnOptions = { mask: options.mask, keyPaddingMask: options.keyPaddingMask };
        if (!returnWeights) return this.dropout1.forward(this.selfAttn.forward(x, x, x, attnOptions));
        const r = this.selfAttn.forward(x, x, x, { ...attnOptions, returnWeights: true });
        captured.weights = r.weights;
        return this.dropout1.forward(r.output);
      };
      const feedForward = (x: tf.Tensor): tf.Tensor => {
        const h = this.dropoutFf.forward(applyActivation(this.options.activation, this.linear1.forward(x))); // [B, T, F]
        return this.dropout2.forward(this.linear2.forward(h)); // [B, T, D]
      };
      let x: tf.Tensor = src;
      if (this.options.normFirst) {
        x = tf.add(x, selfAttention(this.norm1.forward(x)));
        x = tf.add(x, feedForward(this.norm2.forward(x)));
      } else {
        x = this.norm1.forward(tf.add(x, selfAttention(x)));
        x = this.norm2.forward(tf.add(x, feedForward(x)));
      }
      return captured.weights === undefined
        ? { output: x as tf.Tensor3D }
        : { output: x as tf.Tensor3D, weights: captured.weights };
    });
    return returnWeights ? (result as EncoderLayerResult) : result.output;
  }
}
