import * as tf from '@tensorflow/tfjs-core';

import type { Rng } from '@ml/core';
import { ConfigError, Dropout, Module, checkPositiveInt, checkProbability, resolveRng } from '@ml/core';

import { addPositions } from './internal/position-slice.js';

/**
 * The sinusoidal position table of "Attention Is All You Need": [length, dim] with
 * PE[pos, 2i] = sin(pos / 10000^(2i/dim)) and PE[pos, 2i+1] = cos(pos / 10000^(2i/dim)), rows indexed
 * by position (0 … length−1). `offset` shifts the first position.
 */
export function sinusoidalEncoding(length: number, dim: number, offset = 0): tf.Tensor2D {
  checkPositiveInt('sinusoidalEncoding', 'length', length);
  checkPositiveInt('sinusoidalEncoding', 'dim', dim);
  if (!Number.isInteger(offset) || offset < 0)
    throw new ConfigError(`sinusoidalEncoding: offset must be a non-negative integer, got ${offset}`);
  const table = new Float32Array(length * dim);
  for (let p = 0; p < length; p++) {
    const pos = p + offset;
    for (let i = 0; i < dim; i++) {
      const angle = pos / Math.pow(10000, (2 * Math.floor(i / 2)) / dim);
      table[p * dim + i] = i % 2 === 0 ? Math.sin(angle) : Math.cos(angle);
    }
  }
  return tf.tensor2d(table, [length, dim]);
}

/** Options of {@link SinusoidalPositionalEncoding}. */
export interface SinusoidalPositionalEncodingOptions {
  /** Model width D. */
  dim: number;
  /** Longest sequence (offset included) the table covers (default 1024). */
  maxLength?: number;
  /** Dropout after adding the encoding, in training mode (default 0). */
  dropout?: number;
  /** Randomness for dropout; default: seeded with `seed`, else forked from the default generator (`manualSeed`). */
  rng?: Rng;
  seed?: number;
}

/** Defaults of {@link SinusoidalPositionalEncodingOptions}. */
export const DEFAULT_SINUSOIDAL_POSITIONAL_ENCODING_OPTIONS = { maxLength: 1024, dropout: 0 } as const;

/** Options of {@link SinusoidalPositionalEncoding.forward}. */
export interface PositionalForwardOptions {
  /** Position of the first step (default 0), e.g. the number of tokens already decoded. */
  offset?: number;
}

/**
 * Adds fixed sinusoidal position encodings to a sequence of embeddings, by position — not by token
 * id. Holds the table as the buffer `pe` [maxLength, D]. x [B, T, D] → [B, T, D].
 */
export class SinusoidalPositionalEncoding extends Module {
  readonly dim: number;
  readonly maxLength: number;
  readonly pe: tf.Variable;
  readonly dropout: Dropout;

  constructor(options: SinusoidalPositionalEncodingOptions) {
    super();
    const where = 'SinusoidalPositionalEncoding';
    checkPositiveInt(where, 'dim', options.dim);
    const maxLength = options.maxLength ?? DEFAULT_SINUSOIDAL_POSITIONAL_ENCODING_OPTIONS.maxLength;
    checkPositiveInt(where, 'maxLength', maxLength);
    const p = options.dropout ?? DEFAULT_SINUSOIDAL_POSITIONAL_ENCODING_OPTIONS.dropout;
    checkProbability(where, 'dropout', p);
    this.dim = options.dim;
    this.maxLength = maxLength;
    this.pe = this.registerBuffer('pe', sinusoidalEncoding(maxLength, options.dim));
    this.dropout = this.registerModule(
      'dropout',
      new Dropout({ p, rng: resolveRng(options.rng, options.seed) }),
    );
  }

  /** x [B, T, D] → x + PE[offset … offset+T−1], then dropout. */
  forward(x: tf.Tensor, options: PositionalForwardOptions = {}): tf.Tensor3D {
    return addPositions(
      'SinusoidalPositionalEncoding',
      x,
      this.pe,
      this.maxLength,
      options.offset ?? 0,
      this.dropout,
    );
  }
}
