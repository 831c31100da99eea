import * as tf from '@tensorflow/tfjs-core';

import type { Rng } from '@ml/core';
import {
  ConfigError,
  Linear,
  Module,
  ShapeError,
  checkPositiveInt,
  checkProbability,
  formatShape,
  init,
  linear,
  resolveRng,
} from '@ml/core';

import { attend } from './internal/attend.js';
import { checkMaskDtype, checkMaskShape, prepareMask } from './internal/mask-utils.js';
import type { AttentionMask } from './masks.js';
import { combineMasks } from './masks.js';
import type { AttentionResult } from './scaled-dot-product-attention.js';

/** Options of {@link MultiHeadAttention}. */
export interface MultiHeadAttentionOptions {
  /** Model width D (PyTorch's `embed_dim`); queries are [B, Tq, D] and so is the output. */
  dim: number;
  /** Number of heads H; D must be divisible by H. */
  heads: number;
  /** Width of the keys (default D); a different value gives separate q/k/v projection weights. */
  kdim?: number;
  /** Width of the values (default D). */
  vdim?: number;
  /** Learned biases on the input and output projections (default true). */
  bias?: boolean;
  /** Dropout probability on the attention weights in training mode (default 0). */
  dropout?: number;
  /** Randomness for init and dropout; default: seeded with `seed`, else forked from the default generator (`manualSeed`). */
  rng?: Rng;
  seed?: number;
}

/** Defaults of {@link MultiHeadAttentionOptions}. */
export const DEFAULT_MULTI_HEAD_ATTENTION_OPTIONS = { bias: true, dropout: 0 } as const;

/** Options of {@link MultiHeadAttention.forward}. */
export interface MultiHeadAttentionForwardOptions {
  /** Bool (true = blocked) or additive mask broadcastable to [B, H, Tq, Tk], e.g. {@link causalMask}. */
  mask?: AttentionMask | null;
  /** [B, Tk]: true (or −∞) for keys to ignore, such as padding (PyTorch's `key_padding_mask`). */
  keyPaddingMask?: AttentionMask | null;
  /** Also return the attention weights per head, [B, H, Tq, Tk] (default false). */
  returnWeights?: boolean;
}

/**
 * Multi-head attention, self or cross, laid out like `torch.nn.MultiheadAttention` (batch-first) so
 * its state dict loads directly:
 *
 * - `in_proj_weight` [3D, D] (rows: q, then k, then v) and `in_proj_bias` [3D] when kdim = vdim = D;
 * - `q_proj_weight` [D, D], `k_proj_weight` [D, kdim], `v_proj_weight` [D, vdim] (and `in_proj_bias`)
 *   otherwise;
 * - `out_proj.weight` [D, D], `out_proj.bias` [D].
 *
 * query [B, Tq, D], key [B, Tk, kdim], value [B, Tk, vdim] → [B, Tq, D]. Init as PyTorch: Xavier-uniform
 * projections, zero biases, `out_proj.weight` U(±1/√D).
 */
export class MultiHeadAttention extends Module {
  readonly dim: number;
  readonly heads: number;
  readonly headDim: number;
  readonly kdim: number;
  readonly vdim: number;
  readonly dropout: number;
  /** True when q, k and v share `in_proj_weight` (kdim = vdim = dim). */
  readonly packed: boolean;
  readonly inProjWeight: tf.Variable | null;
  readonly qProjWeight: tf.Variable | null;
  readonly kProjWeight: tf.Variable | null;
  readonly vProjWeight: tf.Variable | null;
  readonly inProjBias: tf.Variable | null;
  readonly outProj: Linear;
  readonly rng: Rng;

  constructor(options: MultiHeadAttentionOptions) {
    super();
    const { dim, heads } = options;
    checkPositiveInt('MultiHeadAttention', 'dim', dim);
    checkPositiveInt('MultiHeadAttention', 'heads', heads);
    if (dim % heads !== 0)
      throw new ConfigError(`MultiHeadAttention: dim (${dim}) must be divisible by heads (${heads})`);
    const kdim = options.kdim ?? dim;
    const vdim = options.vdim ?? dim;
    checkPositiveInt('MultiHeadAttention', 'kdim', kdim);
    checkPositiveInt('MultiHeadAttention', 'vdim', vdim);
    this.dropout = options.dropout ?? DEFAULT_MULTI_HEAD_ATTENTION_OPTIONS.dropout;
    checkProbability('MultiHeadAttention', 'dropout', this.dropout);
    const bias = options.bias ?? DEFAULT_MULTI_HEAD_ATTENTION_OPTIONS.bias;
    const rng = resolveRng(options.rng, options.seed);
    this.dim = dim;
    this.heads = heads;
    this.headDim = dim / heads;
    this.kdim = kdim;
    this.vdim = vdim;
    this.packed = kdim === dim && vdim === dim;
    if (this.packed) {
      this.inProjWeight = this.registerParameter('in_proj_weight', init.xavierUniform(rng, [3 * dim, dim]));
      this.qProjWeight = this.kProjWeight = this.vProjWeight = null;
    } else {
      this.inProjWeight = null;
      this.qProjWeight = this.registerParameter('q_proj_weight', init.xavierUniform(rng, [dim, dim]));
      this.kProjWeight = this.registerParameter('k_proj_weight', init.xavierUniform(rng, [dim, kdim]));
      this.vProjWeight = this.registerParameter('v_proj_weight', init.xavierUniform(rng, [dim, vdim]));
    }
    this.inProjBias = bias ? this.registerParameter('in_proj_bias', tf.zeros([3 * dim])) : null;
    this.outProj = this.registerModule(
      'out_proj',
      new Linear({ inFeatures: dim, outFeatures: dim, bias, rng }),
    );
    const outBias = this.outProj.bias;
    if (outBias !== null) tf.tidy(() => outBias.assign(tf.zerosLike(outBias))); // PyTorch zeroes it too
    // Registered, so checkpoints save and restore the attention-dropout stream.
    this.rng = this.registerGenerator('rng', rng.fork());
  }

  /**
   * Attends from `query` to `key`/`value` (both default to `query`: self-attention). Returns
   * [B, Tq, D], or `{ output, weights }` with weights per head [B, H, Tq, Tk] when `returnWeights`.
   */
  forward(
    query: tf.Tensor,
    key?: tf.Tensor,
    value?: tf.Tensor,
    options?: MultiHeadAttentionForwardOptions & { returnWeights?: false },
  ): tf.Tensor3D;
  forward(
    query: tf.Tensor,
    key: tf.Tensor | undefined,
    value: tf.Tensor | undefined,
    options: MultiHeadAttentionForwardOptions & { returnWeights: true },
  ): AttentionResult;
  forward(
    query: tf.Tensor,
    key?: tf.Tensor,
    value?: tf.Tensor,
    options?: MultiHeadAttentionForwardOptions,
  ): tf.Tensor3D | AttentionResult;
  forward(
    query: tf.Tensor,
    key: tf.Tensor = query,
    value: tf.Tensor = key,
    options: MultiHeadAttentionForwardOptions = {},
  ): tf.Tensor3D | AttentionResult {
    const where = 'MultiHeadAttention';
    this.#checkInputs(query, key, value);
    const [b, tq] = query.shape as [number, number, number];
    const tk = key.shape[1] as number;
    const { mask, keyPaddingMask } = options;
    const { dim, heads, headDim } = this;
    if (mask != null) {
      checkMaskDtype(where, 'mask', mask);
      checkMaskShape(where, 'mask', mask, [b, heads, tq, tk]);
    }
    if (keyPaddingMask != null) {
      checkMaskDtype(where, 'keyPaddingMask', keyPaddingMask);
      if (keyPaddingMask.rank !== 2 || keyPaddingMask.shape[0] !== b || keyPaddingMask.shape[1] !== tk) {
        throw new ShapeError(
          `${where}: keyPaddingMask must be [B, Tk] = [${b}, ${tk}], got ${formatShape(keyPaddingMask.shape)}`,
        );
      }
    }
    const returnWeights = options.returnWeights ?? false;
    const result = tf.tidy(() => {
      const kpm = keyPaddingMask == null ? null : tf.reshape(keyPaddingMask, [b, 1, 1, tk]);
      const combined = kpm === null ? (mask ?? null) : combineMasks(mask, kpm);
      const prepared = combined === null ? null : prepareMask(where, 'mask', combined, [b, heads, tq, tk]);
      const [pq, pk, pv] = this.#project(query, key, value); // [B·Tq, D], [B·Tk, D], [B·Tk, D]
      const q = tf.reshape<tf.Rank.R4>(pq, [b, tq, heads, headDim]); // [B, Tq, H, d]
      const k = tf.reshape<tf.Rank.R4>(pk, [b, tk, heads, headDim]); // [B, Tk, H, d]
      const v = tf.reshape<tf.Rank.R4>(pv, [b, tk, heads, headDim]); // [B, Tk, H, d]
      const dropout = this.training ? this.dropout : 0;
      const { output, weights } = attend(q, k, v, 'BTHD', {
        scale: 1 / Math.sqrt(headDim),
        mask: prepared,
        dropout,
        rng: dropout > 0 ? this.rng : null,
        returnWeights,
      });
      const out = this.outProj.forward(tf.reshape(output, [b, tq, dim])) as tf.Tensor3D; // [B, Tq, D]
      return weights === null ? { output: out } : { output: out, weights };
    });
    return returnWeights ? (result as AttentionResult) : result.output;
  }

  #checkInputs(query: tf.Tensor, key: tf.Tensor, value: tf.Tensor): void {
    const where = 'MultiHeadAttention';
    const check = (name: string, x: tf.Tensor, width: number, widthName: string) => {
      if (x.rank !== 3 || x.shape[2] !== width)
        throw new ShapeError(
          `${where}: ${name} must be [B, T, ${widthName}] with ${widthName} = ${width}, got ${formatShape(x.shape)}`,
        );
    };
    check('query', query, this.dim, 'dim');
    check('key', key, this.kdim, 'kdim');
    check('value', value, this.vdim, 'vdim');
    const all = `query ${formatShape(query.shape)}, key ${formatShape(key.shape)}, value ${formatShape(value.shape)}`;
    if (query.shape[0] !== key.shape[0] || query.shape[0] !== value.shape[0])
      throw new ShapeError(`${where}: query, key and value must have the same batch size, got ${all}`);
    if (key.shape[1] !== value.shape[1])
      throw new ShapeError(`${where}: key and value must have the same length Tk, got ${all}`);
  }

  // q, k, v projected, one product each (with packed weights, of a third of in_proj_weight: splitting the
  // [3D, D] weight is cheaper than splitting a [B·T, 3D] product, and so is the gradient's concatenation).
  #project(query: tf.Tensor, key: tf.Tensor, value: tf.Tensor): [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D] {
    const [wq, wk, wv] = this.#projectionWeights();
    const [bq, bk, bv] = this.#projectionBiases();
    return [project(query, wq, bq), project(key, wk, bk), project(value, wv, bv)];
  }

  // The q, k, v projection weights, each [D, in] (slices of in_proj_weight when packed).
  #projectionWeights(): [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D] {
    if (this.inProjWeight !== null) {
      return tf.split(this.inProjWeight, 3, 0) as [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D];
    }
    return [this.qProjWeight, this.kProjWeight, this.vProjWeight] as [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D];
  }

  #projectionBiases(): [tf.Tensor1D | null, tf.Tensor1D | null, tf.Tensor1D | null] {
    if (this.inProjBias === null) return [null, null, null];
    return tf.split(this.inProjBias, 3, 0) as [tf.Tensor1D, tf.Tensor1D, tf.Tensor1D];
  }
}

// x [B, T, in]·wᵀ + b → [B·T, out], as one 2-D product (the bias its starting value on wasm, wᵀ read in place).
function project(x: tf.Tensor, w: tf.Tensor2D, b: tf.Tensor1D | null): tf.Tensor2D {
  return linear(tf.reshape(x, [-1, w.shape[1]]), w, b) as tf.Tensor2D; // [B·T, out]
}
