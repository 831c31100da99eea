import * as tf from '@tensorflow/tfjs-core';

import {
  ConfigError,
  Dropout,
  LayerNorm,
  Linear,
  Module,
  ModuleList,
  ShapeError,
  checkPositiveInt,
  checkProbability,
  formatShape,
  init,
  resolveRng,
} from '@ml/core';
import type { Rng } from '@ml/core';

import { HybridStem } from './hybrid-stem.js';
import { PatchEmbedding, toSize2 } from './patch-embedding.js';
import type { PatchEmbeddingMethod } from './patch-embedding.js';
import { VitBlock } from './vit-block.js';

/** How the token sequence becomes one vector per image: the [class] token, or the mean of the patch tokens. */
export type VitPool = 'cls' | 'mean';

/** Options of {@link VisionTransformer}; every field but the randomness has a default in {@link DEFAULT_VIT_OPTIONS}. */
export interface VisionTransformerOptions {
  /** Input size: one number for square images or [H, W]; each divisible by `patchSize`. */
  imageSize?: number | readonly [number, number];
  /** Patch side p. */
  patchSize?: number;
  /** Input channels C. */
  channels?: number;
  /** Output classes; 0 = no head (forward returns the pooled features [B, D]). */
  numClasses?: number;
  /** Model width D. */
  dim?: number;
  /** Number of encoder blocks. */
  depth?: number;
  /** Attention heads; D must be divisible by it. */
  heads?: number;
  /** MLP hidden width = round(mlpRatio · D). */
  mlpRatio?: number;
  /** Biases on the q, k, v projections. */
  qkvBias?: boolean;
  /** Dropout after the position embedding, after attention and inside/after each MLP. */
  dropout?: number;
  /** Dropout on the attention weights. */
  attnDropout?: number;
  /** Dropout on the pooled features, before the head (timm's `drop_rate`). */
  headDropout?: number;
  /** Largest drop-path rate; block i of L gets rate · i / (L − 1) (timm's `linspace(0, rate, depth)`). */
  dropPath?: number;
  /** 'cls' (the [class] token after the final LayerNorm) or 'mean' (mean of the patch tokens, then `fc_norm`). */
  pool?: VitPool;
  /** LayerNorm epsilon (timm 1e-6; Hugging Face checkpoints use 1e-12). */
  layerNormEps?: number;
  /** A small CNN in front of the patch embedding (see {@link HybridStem}); null for none. */
  hybrid?: { widths: readonly number[] } | null;
  /** Patch-embedding computation; same parameters and numbers either way. */
  patchEmbedMethod?: PatchEmbeddingMethod;
  /** Randomness for init, dropout and drop path; default: seeded with `seed`, else forked from the default generator (`manualSeed`). */
  rng?: Rng;
  seed?: number;
}

/** Defaults of {@link VisionTransformerOptions}: ViT-B/16 at 224×224 with timm's settings. */
export const DEFAULT_VIT_OPTIONS = {
  imageSize: 224,
  patchSize: 16,
  channels: 3,
  numClasses: 1000,
  dim: 768,
  depth: 12,
  heads: 12,
  mlpRatio: 4,
  qkvBias: true,
  dropout: 0,
  attnDropout: 0,
  headDropout: 0,
  dropPath: 0,
  pool: 'cls',
  layerNormEps: 1e-6,
  hybrid: null,
  patchEmbedMethod: 'matmul',
} as const;

/** Every option of a {@link VisionTransformer}, resolved (what `model.config` holds). */
export interface VitConfig {
  imageSize: [number, number];
  patchSize: number;
  channels: number;
  numClasses: number;
  dim: number;
  depth: number;
  heads: number;
  mlpRatio: number;
  qkvBias: boolean;
  dropout: number;
  attnDropout: number;
  headDropout: number;
  dropPath: number;
  pool: VitPool;
  layerNormEps: number;
  hybrid: { widths: number[] } | null;
  patchEmbedMethod: PatchEmbeddingMethod;
}

/** Options of {@link VisionTransformer.forward} and {@link VisionTransformer.features}. */
export interface VitForwardOptions {
  /** Also return every block's attention weights, [B, H, T, T] per block (default false: not computed). */
  returnAttention?: boolean;
}

/** A forward pass with its attention weights. */
export interface VitResult {
  /** Logits [B, classes] from `forward`, tokens [B, T, D] from `features`. */
  output: tf.Tensor;
  /** Per block, the attention weights per head [B, H, T, T] (T = 1 + N). */
  attentions: tf.Tensor4D[];
}

/** Validates options and fills in defaults; throws a ConfigError naming the bad option. */
export function resolveVitConfig(options: VisionTransformerOptions = {}): VitConfig {
  const where = 'VisionTransformer';
  const d = DEFAULT_VIT_OPTIONS;
  const c: VitConfig = {
    imageSize: toSize2(where, 'imageSize', options.imageSize ?? d.imageSize),
    patchSize: options.patchSize ?? d.patchSize,
    channels: options.channels ?? d.channels,
    numClasses: options.numClasses ?? d.numClasses,
    dim: options.dim ?? d.dim,
    depth: options.depth ?? d.depth,
    heads: options.heads ?? d.heads,
    mlpRatio: options.mlpRatio ?? d.mlpRatio,
    qkvBias: options.qkvBias ?? d.qkvBias,
    dropout: options.dropout ?? d.dropout,
    attnDropout: options.attnDropout ?? d.attnDropout,
    headDropout: options.headDropout ?? d.headDropout,
    dropPath: options.dropPath ?? d.dropPath,
    pool: options.pool ?? d.pool,
    layerNormEps: options.layerNormEps ?? d.layerNormEps,
    hybrid: options.hybrid ? { widths: [...options.hybrid.widths] } : null,
    patchEmbedMethod: options.patchEmbedMethod ?? d.patchEmbedMethod,
  };
  for (const k of ['patchSize', 'channels', 'dim', 'depth', 'heads'] as const)
    checkPositiveInt(where, k, c[k]);
  if (!Number.isInteger(c.numClasses) || c.numClasses < 0)
    throw new ConfigError(`${where}: numClasses must be an integer ≥ 0, got ${c.numClasses}`);
  if (c.dim % c.heads !== 0)
    throw new ConfigError(`${where}: dim (${c.dim}) must be divisible by heads (${c.heads})`);
  const [h, w] = c.imageSize;
  if (h % c.patchSize !== 0 || w % c.patchSize !== 0)
    throw new ConfigError(
      `${where}: image size ${h}×${w} must be divisible by the patch size ${c.patchSize}`,
    );
  if (
    !(c.mlpRatio > 0) ||
    !Number.isInteger(Math.round(c.mlpRatio * c.dim)) ||
    Math.round(c.mlpRatio * c.dim) < 1
  )
    throw new ConfigError(`${where}: mlpRatio must be > 0, got ${c.mlpRatio}`);
  checkProbability(where, 'dropout', c.dropout);
  checkProbability(where, 'attnDropout', c.attnDropout);
  checkProbability(where, 'headDropout', c.headDropout);
  checkProbability(where, 'dropPath', c.dropPath);
  if (c.pool !== 'cls' && c.pool !== 'mean')
    throw new ConfigError(`${where}: pool must be 'cls' or 'mean', got '${String(c.pool)}'`);
  if (!(c.layerNormEps > 0))
    throw new ConfigError(`${where}: layerNormEps must be > 0, got ${c.layerNormEps}`);
  if (c.hybrid !== null) {
    const stride = 2 ** c.hybrid.widths.length;
    if (c.hybrid.widths.length === 0 || c.patchSize % stride !== 0)
      throw new ConfigError(
        `${where}: with a hybrid stem of ${c.hybrid.widths.length} stages (stride ${stride}) the patch size (${c.patchSize}) must be a multiple of the stride`,
      );
  }
  return c;
}

/** The MLP hidden width of a config: round(mlpRatio · dim). */
export function mlpDim(config: Pick<VitConfig, 'mlpRatio' | 'dim'>): number {
  return Math.round(config.mlpRatio * config.dim);
}

/** Per-block drop-path rates, `linspace(0, rate, depth)`. */
export function dropPathRates(rate: number, depth: number): number[] {
  return Array.from({ length: depth }, (_, i) => (depth === 1 ? 0 : (rate * i) / (depth - 1)));
}

/**
 * The Vision Transformer ("An Image is Worth 16x16 Words"), laid out like timm's
 * `VisionTransformer`: patch embedding, a learned [class] token concatenated before the patch
 * tokens, learned 1-D positions added to all 1 + N tokens, pre-norm blocks, a final LayerNorm
 * (eps 1e-6), cls or mean pooling and a linear head. Images are NHWC, @ml's layout:
 * x [B, H, W, C] → logits [B, numClasses] (or pooled features [B, D] with numClasses 0);
 * {@link features} gives the tokens [B, 1 + N, D].
 *
 * Parameter names are timm's except inside attention (`attn.in_proj_weight`, `attn.in_proj_bias`,
 * `attn.out_proj.*` for timm's `attn.qkv.*` and `attn.proj.*`); {@link loadTimmWeights} maps them.
 */
export class VisionTransformer extends Module {
  readonly config: Readonly<VitConfig>;
  /** Patch grid [H/p, W/p]. */
  readonly gridSize: [number, number];
  /** Tokens per image, 1 + N. */
  readonly numTokens: number;
  readonly stem: HybridStem | null;
  readonly patchEmbed: PatchEmbedding;
  readonly clsToken: tf.Variable;
  readonly posEmbed: tf.Variable;
  readonly posDrop: Dropout;
  readonly blocks: ModuleList<VitBlock>;
  /** The final LayerNorm: `norm` for cls pooling, `fc_norm` (after pooling) for mean pooling, as timm. */
  readonly norm: LayerNorm;
  readonly head: Linear | null;
  readonly headDrop: Dropout;

  constructor(options: VisionTransformerOptions = {}) {
    super();
    const c = resolveVitConfig(options);
    this.config = c;
    const rng = resolveRng(options.rng, options.seed);
    const { dim, channels, patchSize } = c;
    const [h, w] = c.imageSize;
    if (c.hybrid !== null) {
      this.stem = this.registerModule(
        'stem',
        new HybridStem({ inChannels: channels, widths: c.hybrid.widths, rng }),
      );
      const s = this.stem.stride;
      this.patchEmbed = this.registerModule(
        'patch_embed',
        new PatchEmbedding({
          imageSize: [h / s, w / s],
          patchSize: patchSize / s,
          channels: this.stem.outChannels,
          dim,
          method: c.patchEmbedMethod,
          rng,
        }),
      );
    } else {
      this.stem = null;
      this.patchEmbed = this.registerModule(
        'patch_embed',
        new PatchEmbedding({ imageSize: [h, w], patchSize, channels, dim, method: c.patchEmbedMethod, rng }),
      );
    }
    this.gridSize = [...this.patchEmbed.gridSize];
    this.numTokens = 1 + this.patchEmbed.numPatches;
    // timm's init: [class] token N(0, 1e-6), positions truncated-normal(std 0.02).
    this.clsToken = this.registerParameter('cls_token', init.normal(rng, [1, 1, dim], 0, 1e-6));
    this.posEmbed = this.registerParameter(
      'pos_embed',
      init.truncatedNormal(rng, [1, this.numTokens, dim], 0, 0.02),
    );
    this.posDrop = this.registerModule('pos_drop', new Dropout({ p: c.dropout, rng: rng.fork() }));
    const rates = dropPathRates(c.dropPath, c.depth);
    const blocks = rates.map(
      (rate) =>
        new VitBlock({
          dim,
          heads: c.heads,
          mlpDim: mlpDim(c),
          qkvBias: c.qkvBias,
          dropout: c.dropout,
          attnDropout: c.attnDropout,
          dropPath: rate,
          layerNormEps: c.layerNormEps,
          rng,
        }),
    );
    this.blocks = this.registerModule('blocks', new ModuleList(blocks));
    this.norm = this.registerModule(
      c.pool === 'cls' ? 'norm' : 'fc_norm',
      new LayerNorm({ normalizedShape: dim, eps: c.layerNormEps }),
    );
    if (c.numClasses > 0) {
      const head = new Linear({ inFeatures: dim, outFeatures: c.numClasses, rng });
      tf.tidy(() => {
        head.weight.assign(init.truncatedNormal(rng, head.weight.shape, 0, 0.02));
        if (head.bias !== null) head.bias.assign(tf.zerosLike(head.bias));
      });
      this.head = this.registerModule('head', head);
    } else {
      this.head = null;
    }
    this.headDrop = this.registerModule('head_drop', new Dropout({ p: c.headDropout, rng: rng.fork() }));
  }

  #checkImages(x: tf.Tensor): void {
    const [h, w] = this.config.imageSize;
    const c = this.config.channels;
    if (x.rank !== 4 || x.shape[1] !== h || x.shape[2] !== w || x.shape[3] !== c)
      throw new ShapeError(
        `VisionTransformer: images must be [B, ${h}, ${w}, ${c}] (NHWC), got ${formatShape(x.shape)}`,
      );
  }

  /**
   * Tokens after the encoder: x [B, H, W, C] → [B, 1 + N, D] (token 0 is the [class] token; after the
   * final LayerNorm with cls pooling, before it with mean pooling, as timm's `forward_features`).
   */
  features(x: tf.Tensor, options?: { returnAttention?: false }): tf.Tensor3D;
  features(x: tf.Tensor, options: { returnAttention: true }): VitResult;
  features(x: tf.Tensor, options?: VitForwardOptions): tf.Tensor3D | VitResult;
  features(x: tf.Tensor, options: VitForwardOptions = {}): tf.Tensor3D | VitResult {
    this.#checkImages(x);
    const returnAttention = options.returnAttention ?? false;
    const b = x.shape[0];
    const d = this.config.dim;
    const result = tf.tidy(() => {
      const maps = this.stem === null ? x : this.stem.forward(x); // [B, H', W', C']
      const patches = this.patchEmbed.forward(maps); // [B, N, D]
      const cls = tf.broadcastTo(this.clsToken, [b, 1, d]); // [B, 1, D]
      let t = tf.add(tf.concat([cls, patches], 1), this.posEmbed); // [B, 1 + N, D]
      t = this.posDrop.forward(t);
      const attentions: tf.Tensor4D[] = [];
      for (const block of this.blocks.items) {
        if (returnAttention) {
          const r = block.forward(t, { returnWeights: true });
          t = r.output; // [B, 1 + N, D]
          attentions.push(r.weights); // [B, H, 1 + N, 1 + N]
        } else {
          t = block.forward(t); // [B, 1 + N, D]
        }
      }
      if (this.config.pool === 'cls') t = this.norm.forward(t); // [B, 1 + N, D]
      return { output: t as tf.Tensor3D, attentions };
    });
    return returnAttention ? result : result.output;
  }

  /** Tokens [B, 1 + N, D] (from {@link features}) → pooled [B, D] → logits [B, classes] (or [B, D] without a head). */
  forwardHead(tokens: tf.Tensor): tf.Tensor2D {
    const n = this.numTokens;
    const d = this.config.dim;
    if (tokens.rank !== 3 || tokens.shape[1] !== n || tokens.shape[2] !== d)
      throw new ShapeError(
        `VisionTransformer.forwardHead: tokens must be [B, ${n}, ${d}], got ${formatShape(tokens.shape)}`,
      );
    return tf.tidy(() => {
      const b = tokens.shape[0];
      const pooled =
        this.config.pool === 'cls'
          ? tf.reshape(tf.slice(tokens, [0, 0, 0], [b, 1, d]), [b, d]) // [B, D]
          : this.norm.forward(tf.mean(tf.slice(tokens, [0, 1, 0], [b, n - 1, d]), 1)); // [B, D]
      const out = this.head === null ? pooled : this.head.forward(this.headDrop.forward(pooled));
      return out as tf.Tensor2D; // [B, classes] (or [B, D])
    });
  }

  /**
   * x [B, H, W, C] (NHWC) → logits [B, numClasses] (pooled features [B, D] with numClasses 0), or
   * `{ output, attentions }` with `returnAttention`.
   */
  forward(x: tf.Tensor, options?: { returnAttention?: false }): tf.Tensor2D;
  forward(x: tf.Tensor, options: { returnAttention: true }): VitResult;
  forward(x: tf.Tensor, options?: VitForwardOptions): tf.Tensor2D | VitResult;
  forward(x: tf.Tensor, options: VitForwardOptions = {}): tf.Tensor2D | VitResult {
    if (options.returnAttention === true) {
      return tf.tidy(() => {
        const r = this.features(x, { returnAttention: true });
        return { output: this.forwardHead(r.output), attentions: r.attentions };
      });
    }
    return tf.tidy(() => this.forwardHead(this.features(x)));
  }
}
