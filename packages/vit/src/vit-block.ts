import * as tf from '@tensorflow/tfjs-core';

import { Dropout, GELU, LayerNorm, Linear, Module, init } from '@ml/core';
import type { Rng } from '@ml/core';
import { MultiHeadAttention } from '@ml/attention';

import { DropPath } from './drop-path.js';

/** Resolved settings of one {@link VitBlock} (the model builds them from its own options). */
export interface VitBlockOptions {
  dim: number;
  heads: number;
  /** Hidden width of the MLP. */
  mlpDim: number;
  /** Biases on the q, k, v projections (the output projection always has one, as timm). */
  qkvBias: boolean;
  /** Dropout after the attention projection and inside/after the MLP. */
  dropout: number;
  /** Dropout on the attention weights. */
  attnDropout: number;
  /** Drop-path rate of this block. */
  dropPath: number;
  layerNormEps: number;
  rng: Rng;
}

/** An attention block's output with its attention weights per head. */
export interface VitBlockResult {
  output: tf.Tensor3D;
  /** [B, H, T, T]. */
  weights: tf.Tensor4D;
}

/** timm's `Mlp`: fc1 → exact GELU → dropout → fc2 → dropout. [B, T, D] → [B, T, D]. */
export class VitMlp extends Module {
  readonly fc1: Linear;
  readonly fc2: Linear;
  readonly act: GELU;
  readonly drop1: Dropout;
  readonly drop2: Dropout;

  constructor(options: { dim: number; hidden: number; dropout: number; rng: Rng }) {
    super();
    const { dim, hidden, dropout: p, rng } = options;
    this.fc1 = this.registerModule('fc1', new Linear({ inFeatures: dim, outFeatures: hidden, rng }));
    this.act = this.registerModule('act', new GELU());
    this.drop1 = this.registerModule('drop1', new Dropout({ p, rng: rng.fork() }));
    this.fc2 = this.registerModule('fc2', new Linear({ inFeatures: hidden, outFeatures: dim, rng }));
    this.drop2 = this.registerModule('drop2', new Dropout({ p, rng: rng.fork() }));
  }

  /** x [B, T, D] → [B, T, D]. */
  forward(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const h = this.drop1.forward(this.act.forward(this.fc1.forward(x))); // [B, T, hidden]
      return this.drop2.forward(this.fc2.forward(h)); // [B, T, D]
    });
  }
}

/**
 * One pre-norm ViT encoder block, timm's `Block`: x + dropPath(attn(norm1(x))), then
 * x + dropPath(mlp(norm2(x))). The attention is @ml/attention's `MultiHeadAttention`, whose packed
 * `in_proj_weight` [3D, D] (rows q | k | v) is timm's `attn.qkv.weight` under another name
 * ({@link loadTimmWeights} maps the names). [B, T, D] → [B, T, D].
 */
export class VitBlock extends Module {
  readonly norm1: LayerNorm;
  readonly attn: MultiHeadAttention;
  readonly projDrop: Dropout;
  readonly dropPath1: DropPath;
  readonly norm2: LayerNorm;
  readonly mlp: VitMlp;
  readonly dropPath2: DropPath;
  readonly qkvBias: boolean;

  constructor(options: VitBlockOptions) {
    super();
    const { dim, heads, mlpDim, qkvBias, dropout, attnDropout, dropPath, layerNormEps: eps, rng } = options;
    this.qkvBias = qkvBias;
    this.norm1 = this.registerModule('norm1', new LayerNorm({ normalizedShape: dim, eps }));
    this.attn = this.registerModule(
      'attn',
      new MultiHeadAttention({ dim, heads, dropout: attnDropout, rng }),
    );
    this.projDrop = this.registerModule('proj_drop', new Dropout({ p: dropout, rng: rng.fork() }));
    this.dropPath1 = this.registerModule('drop_path1', new DropPath({ p: dropPath, rng: rng.fork() }));
    this.norm2 = this.registerModule('norm2', new LayerNorm({ normalizedShape: dim, eps }));
    this.mlp = this.registerModule('mlp', new VitMlp({ dim, hidden: mlpDim, dropout, rng }));
    this.dropPath2 = this.registerModule('drop_path2', new DropPath({ p: dropPath, rng: rng.fork() }));
    // timm's init: every linear weight truncated-normal(std 0.02), biases zero.
    const linears: tf.Variable[] = [
      this.attn.inProjWeight as tf.Variable,
      this.attn.outProj.weight,
      this.mlp.fc1.weight,
      this.mlp.fc2.weight,
    ];
    const biases = [this.attn.inProjBias, this.attn.outProj.bias, this.mlp.fc1.bias, this.mlp.fc2.bias];
    tf.tidy(() => {
      for (const w of linears) w.assign(init.truncatedNormal(rng, w.shape, 0, 0.02));
      for (const b of biases) if (b !== null) b.assign(tf.zerosLike(b));
    });
    // Without qkv biases the packed bias stays at zero and out of training (the projection keeps its own).
    if (!qkvBias && this.attn.inProjBias !== null) this.attn.inProjBias.trainable = false;
  }

  /** x [B, T, D] → [B, T, D], or `{ output, weights }` with `returnWeights`. */
  forward(x: tf.Tensor, options?: { returnWeights?: false }): tf.Tensor3D;
  forward(x: tf.Tensor, options: { returnWeights: true }): VitBlockResult;
  forward(x: tf.Tensor, options: { returnWeights?: boolean } = {}): tf.Tensor3D | VitBlockResult {
    const returnWeights = options.returnWeights ?? false;
    const result = tf.tidy(() => {
      const h = this.norm1.forward(x); // [B, T, D]
      let a: tf.Tensor;
      let weights: tf.Tensor4D | null = null;
      if (returnWeights) {
        const r = this.attn.forward(h, h, h, { returnWeights: true });
        a = r.output; // [B, T, D]
        weights = r.weights; // [B, H, T, T]
      } else {
        a = this.attn.forward(h, h, h); // [B, T, D]
      }
      let y = tf.add(x, this.dropPath1.forward(this.projDrop.forward(a))); // [B, T, D]
      y = tf.add(y, this.dropPath2.forward(this.mlp.forward(this.norm2.forward(y)))); // [B, T, D]
      return weights === null ? { output: y as tf.Tensor3D } : { output: y as tf.Tensor3D, weights };
    });
    return returnWeights ? (result as VitBlockResult) : result.output;
  }
}
