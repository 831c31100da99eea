import * as tf from '@tensorflow/tfjs-core';

import { ConfigError, Conv2d, Module, ShapeError, checkPositiveInt, formatShape, resolveRng } from '@ml/core';
import type { Rng } from '@ml/core';

/**
 * How {@link PatchEmbedding} computes: `'matmul'` cuts the image into patches with reshapes and one
 * matrix product; `'conv'` runs the strided convolution. Same parameters, same numbers.
 */
export type PatchEmbeddingMethod = 'matmul' | 'conv';

/** Options of {@link PatchEmbedding}. */
export interface PatchEmbeddingOptions {
  /** Input size [H, W] (or one number for square images); each must be divisible by the patch size. */
  imageSize: number | readonly [number, number];
  /** Patch side p (square patches). */
  patchSize: number;
  /** Input channels C. */
  channels: number;
  /** Embedding width D. */
  dim: number;
  /** Computation (default 'matmul', the faster on wasm: see the package README). */
  method?: PatchEmbeddingMethod;
  rng?: Rng;
  seed?: number;
}

/** Defaults of {@link PatchEmbeddingOptions}. */
export const DEFAULT_PATCH_EMBEDDING_OPTIONS = { method: 'matmul' } as const;

/** `224` → [224, 224]; a pair stays. */
export function toSize2(
  where: string,
  name: string,
  v: number | readonly [number, number],
): [number, number] {
  const pair: [number, number] = typeof v === 'number' ? [v, v] : [v[0], v[1]];
  checkPositiveInt(where, `${name}[0]`, pair[0]);
  checkPositiveInt(where, `${name}[1]`, pair[1]);
  return pair;
}

/**
 * Splits images into non-overlapping p×p patches and projects each to D, as timm's `PatchEmbed`:
 * the parameters are `proj.weight` [D, C, p, p] and `proj.bias` [D] (a strided Conv2d in PyTorch's
 * layout). Images are NHWC, @ml's layout: x [B, H, W, C] → [B, N, D] with N = (H/p)·(W/p) patches in
 * row-major order.
 */
export class PatchEmbedding extends Module {
  readonly imageSize: [number, number];
  readonly patchSize: number;
  readonly channels: number;
  readonly dim: number;
  /** Patch grid [H/p, W/p]. */
  readonly gridSize: [number, number];
  readonly numPatches: number;
  readonly method: PatchEmbeddingMethod;
  readonly proj: Conv2d;

  constructor(options: PatchEmbeddingOptions) {
    super();
    const where = 'PatchEmbedding';
    const imageSize = toSize2(where, 'imageSize', options.imageSize);
    const { patchSize, channels, dim } = options;
    checkPositiveInt(where, 'patchSize', patchSize);
    checkPositiveInt(where, 'channels', channels);
    checkPositiveInt(where, 'dim', dim);
    if (imageSize[0] % patchSize !== 0 || imageSize[1] % patchSize !== 0)
      throw new ConfigError(
        `${where}: image size ${formatShape(imageSize)} must be divisible by the patch size (${patchSize})`,
      );
    const method = options.method ?? DEFAULT_PATCH_EMBEDDING_OPTIONS.method;
    if (method !== 'matmul' && method !== 'conv')
      throw new ConfigError(`${where}: method must be 'matmul' or 'conv', got '${String(method)}'`);
    this.imageSize = imageSize;
    this.patchSize = patchSize;
    this.channels = channels;
    this.dim = dim;
    this.method = method;
    this.gridSize = [imageSize[0] / patchSize, imageSize[1] / patchSize];
    this.numPatches = this.gridSize[0] * this.gridSize[1];
    const rng = resolveRng(options.rng, options.seed);
    this.proj = this.registerModule(
      'proj',
      new Conv2d({ inChannels: channels, outChannels: dim, kernelSize: patchSize, stride: patchSize, rng }),
    );
  }

  /** x [B, H, W, C] → [B, N, D]. */
  forward(x: tf.Tensor): tf.Tensor3D {
    const [h, w] = this.imageSize;
    const c = this.channels;
    if (x.rank !== 4 || x.shape[1] !== h || x.shape[2] !== w || x.shape[3] !== c)
      throw new ShapeError(
        `PatchEmbedding: images must be [B, ${h}, ${w}, ${c}] (NHWC), got ${formatShape(x.shape)}`,
      );
    const b = x.shape[0];
    const p = this.patchSize;
    const [gh, gw] = this.gridSize;
    const d = this.dim;
    return tf.tidy(() => {
      if (this.method === 'conv') {
        const y = this.proj.forward(x); // [B, gh, gw, D]
        return tf.reshape<tf.Rank.R3>(y, [b, gh * gw, d]);
      }
      const rows = tf.reshape(x, [b * gh, p, gw, p * c]); // [B·gh, p, gw, p·C]
      const patches = tf.reshape(tf.transpose(rows, [0, 2, 1, 3]), [b * gh * gw, p * p * c]); // [B·N, p·p·C]
      // [D, C, p, p] → [D, p·p·C] (with one channel the layouts agree: no transpose)
      const w = c === 1 ? this.proj.weight : tf.transpose(this.proj.weight, [0, 2, 3, 1]);
      const weight = tf.reshape(w, [d, p * p * c]);
      let y = tf.matMul(patches, weight, false, true); // [B·N, D]
      if (this.proj.bias !== null) y = tf.add(y, this.proj.bias);
      return tf.reshape<tf.Rank.R3>(y, [b, gh * gw, d]);
    });
  }
}
