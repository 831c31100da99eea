import type * as tf from '@tensorflow/tfjs-core';

import type { Rng } from '@ml/core';
import { Dropout, Module, checkPositiveInt, checkProbability, init, resolveRng } from '@ml/core';

import { addPositions } from './internal/position-slice.js';
import type { PositionalForwardOptions } from './sinusoidal-positional-encoding.js';

/** Options of {@link LearnedPositionalEmbedding}. */
export interface LearnedPositionalEmbeddingOptions {
  /** Model width D. */
  dim: number;
  /** Number of positions learned (the longest sequence, offset included). */
  maxLength: number;
  /** Standard deviation of the initial values (default 0.02, truncated to [−2, 2] as timm). */
  std?: number;
  /** Dropout after adding the embedding, in training mode (default 0). */
  dropout?: number;
  /** Randomness for init and dropout; default: seeded with `seed`, else forked from the default generator (`manualSeed`). */
  rng?: Rng;
  seed?: number;
}

/** Defaults of {@link LearnedPositionalEmbeddingOptions}. */
export const DEFAULT_LEARNED_POSITIONAL_EMBEDDING_OPTIONS = { std: 0.02, dropout: 0 } as const;

/**
 * Adds a learned vector per position (parameter `weight` [maxLength, D], like an `nn.Embedding`
 * looked up by position, as BERT/GPT-2) to a sequence. x [B, T, D] → [B, T, D].
 */
export class LearnedPositionalEmbedding extends Module {
  readonly dim: number;
  readonly maxLength: number;
  readonly weight: tf.Variable;
  readonly dropout: Dropout;

  constructor(options: LearnedPositionalEmbeddingOptions) {
    super();
    const where = 'LearnedPositionalEmbedding';
    checkPositiveInt(where, 'dim', options.dim);
    checkPositiveInt(where, 'maxLength', options.maxLength);
    const std = options.std ?? DEFAULT_LEARNED_POSITIONAL_EMBEDDING_OPTIONS.std;
    const p = options.dropout ?? DEFAULT_LEARNED_POSITIONAL_EMBEDDING_OPTIONS.dropout;
    checkProbability(where, 'dropout', p);
    const rng = resolveRng(options.rng, options.seed);
    this.dim = options.dim;
    this.maxLength = options.maxLength;
    this.weight = this.registerParameter(
      'weight',
      init.truncatedNormal(rng, [options.maxLength, options.dim], 0, std),
    );
    this.dropout = this.registerModule('dropout', new Dropout({ p, rng: rng.fork() }));
  }

  /** x [B, T, D] → x + weight[offset … offset+T−1], then dropout. */
  forward(x: tf.Tensor, options: PositionalForwardOptions = {}): tf.Tensor3D {
    return addPositions(
      'LearnedPositionalEmbedding',
      x,
      this.weight,
      this.maxLength,
      options.offset ?? 0,
      this.dropout,
    );
  }
}
