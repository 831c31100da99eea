import * as tf from '@tensorflow/tfjs-core';

import { Dropout, LayerNorm, Linear, Module, ShapeError, formatShape } from '@ml/core';

import type { ResolvedLayerOptions } from './internal/layer-common.js';
import { applyActivation, checkSequence, resolveLayerOptions } from './internal/layer-common.js';
import type { AttentionMask } from './masks.js';
import { MultiHeadAttention } from './multi-head-attention.js';
import type { TransformerEncoderLayerOptions } from './transformer-encoder-layer.js';

/** Options of {@link TransformerDecoderLayer}: the same as an encoder layer's. */
export type TransformerDecoderLayerOptions = TransformerEncoderLayerOptions;

/** Options of {@link TransformerDecoderLayer.forward}. */
export interface TransformerDecoderLayerForwardOptions {
  /** Self-attention mask broadcastable to [B, H, Tt, Tt], usually {@link causalMask} (PyTorch's `tgt_mask`). */
  tgtMask?: AttentionMask | null;
  /** Cross-attention mask broadcastable to [B, H, Tt, Ts] (PyTorch's `memory_mask`). */
  memoryMask?: AttentionMask | null;
  /** [B, Tt]: true (or −∞) at padded target positions. */
  tgtKeyPaddingMask?: AttentionMask | null;
  /** [B, Ts]: true (or −∞) at padded source positions. */
  memoryKeyPaddingMask?: AttentionMask | null;
  /** Also return the attention weights (default false). */
  returnWeights?: boolean;
}

/** A decoder layer's output with its attention weights. */
export interface DecoderLayerResult {
  output: tf.Tensor3D;
  /** Self-attention weights [B, H, Tt, Tt]. */
  selfWeights: tf.Tensor4D;
  /** Cross-attention weights [B, H, Tt, Ts]. */
  crossWeights: tf.Tensor4D;
}

/**
 * One Transformer decoder layer — masked self-attention, cross-attention over the encoder's output
 * (`memory`) and a feed-forward block, each with a residual connection — laid out like
 * `torch.nn.TransformerDecoderLayer` (batch_first): `self_attn.*`, `multihead_attn.*`, `linear1`,
 * `linear2`, `norm1`, `norm2`, `norm3`. Post-norm by default, pre-norm with `normFirst`.
 * tgt [B, Tt, D], memory [B, Ts, D] → [B, Tt, D].
 */
export class TransformerDecoderLayer extends Module {
  readonly options: Readonly<Omit<ResolvedLayerOptions, 'rng'>>;
  readonly selfAttn: MultiHeadAttention;
  readonly multiheadAttn: MultiHeadAttention;
  readonly linear1: Linear;
  readonly linear2: Linear;
  readonly norm1: LayerNorm;
  readonly norm2: LayerNorm;
  readonly norm3: LayerNorm;
  readonly dropoutFf: Dropout;
  readonly dropout1: Dropout;
  readonly dropout2: Dropout;
  readonly dropout3: Dropout;

  constructor(options: TransformerDecoderLayerOptions) {
    super();
    const o = resolveLayerOptions('TransformerDecoderLayer', options);
    const { rng, ...rest } = o;
    this.options = rest;
    const { dim, heads, dimFeedforward, dropout: p, bias, layerNormEps: eps } = o;
    this.selfAttn = this.registerModule(
      'self_attn',
      new MultiHeadAttention({ dim, heads, dropout: p, bias, rng }),
    );
    this.multiheadAttn = this.registerModule(
      'multihead_attn',
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
    this.norm3 = this.registerModule('norm3', new LayerNorm({ normalizedShape: dim, eps }));
    this.dropout1 = this.registerModule('dropout1', new Dropout({ p, rng: rng.fork() }));
    this.dropout2 = this.registerModule('dropout2', new Dropout({ p, rng: rng.fork() }));
    this.dropout3 = this.registerModule('dropout3', new Dropout({ p, rng: rng.fork() }));
  }

  /** tgt [B, Tt, D], memory [B, Ts, D] → [B, Tt, D], or `{ output, selfWeights, crossWeights }` with `returnWeights`. */
  forward(
    tgt: tf.Tensor,
    memory: tf.Tensor,
    options?: TransformerDecoderLayerForwardOptions & { returnWeights?: false },
  ): tf.Tensor3D;
  forward(
    tgt: tf.Tensor,
    memory: tf.Tensor,
    options: TransformerDecoderLayerForwardOptions & { returnWeights: true },
  ): DecoderLayerResult;
  forward(
    tgt: tf.Tensor,
    memory: tf.Tensor,
    options?: TransformerDecoderLayerForwardOptions,
  ): tf.Tensor3D | DecoderLayerResult;
  forward(
    tgt: tf.Tensor,
    memory: tf.Tensor,
    options: TransformerDecoderLayerForwardOptions = {},
  ): tf.Tensor3D | DecoderLayerResult {
    const where = 'TransformerDecoderLayer';
    checkSequence(where, 'tgt', tgt, this.options.dim);
    checkSequence(where, 'memory', memory, this.options.dim);
    if (tgt.shape[0] !== memory.shape[0]) {
      throw new ShapeError(
        `${where}: tgt and memory must have the same batch size, got tgt ${formatShape(tgt.shape)}, memory ${formatShape(memory.shape)}`,
      );
    }
    const returnWeights = options.returnWeights ?? false;
    const result = tf.tidy(() => {
      const captured: { selfWeights?: tf.Tensor4D; crossWeights?: tf.Tensor4D } = {};
      const attention = (
        mha: MultiHeadAttention,
        q: tf.Tensor,
        kv: tf.Tensor,
        mask: AttentionMask | null | undefined,
        keyPaddingMask: AttentionMask | null | undefined,
        slot: 'selfWeights' | 'crossWeights',
        drop: Dropout,
      ): tf.Tensor => {
        if (!returnWeights) return drop.forward(mha.forward(q, kv, kv, { mask, keyPaddingMask }));
        const r = mha.forward(q, kv, kv, { mask, keyPaddingMask, returnWeights: true });
        captured[slot] = r.weights;
        return drop.forward(r.output);
      };
      const selfBlock = (x: tf.Tensor) =>
        attention(
          this.selfAttn,
          x,
          x,
          options.tgtMask,
          options.tgtKeyPaddingMask,
          'selfWeights',
          this.dropout1,
        );
      const crossBlock = (x: tf.Tensor) =>
        attention(
          this.multiheadAttn,
          x,
          memory,
          options.memoryMask,
          options.memoryKeyPaddingMask,
          'crossWeights',
          this.dropout2,
        );
      const feedForward = (x: tf.Tensor): tf.Tensor => {
        const h = this.dropoutFf.forward(applyActivation(this.options.activation, this.linear1.forward(x))); // [B, Tt, F]
        return this.dropout3.forward(this.linear2.forward(h)); // [B, Tt, D]
      };
      let x: tf.Tensor = tgt;
      if (this.options.normFirst) {
        x = tf.add(x, selfBlock(this.norm1.forward(x)));
        x = tf.add(x, crossBlock(this.norm2.forward(x)));
        x = tf.add(x, feedForward(this.norm3.forward(x)));
      } else {
        x = this.norm1.forward(tf.add(x, selfBlock(x)));
        x = this.norm2.forward(tf.add(x, crossBlock(x)));
        x = this.norm3.forward(tf.add(x, feedForward(x)));
      }
      const output = x as tf.Tensor3D;
      const { selfWeights, crossWeights } = captured;
      return selfWeights === undefined || crossWeights === undefined
        ? { output }
        : { output, selfWeights, crossWeights };
    });
    return returnWeights ? (result as DecoderLayerResult) : result.output;
  }
}
