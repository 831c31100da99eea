import * as tf from '@tensorflow/tfjs-core';

import { checkProbability } from './checks.js';
import { Module } from './module.js';
import { type Rng, resolveRng } from './rng.js';

/** Options of {@link Dropout}. */
export interface DropoutOptions {
  /** Probability of zeroing an element, in [0, 1) (default 0.5). */
  p?: number;
  /** Randomness for the masks; default: seeded with `seed`, else forked from the default generator (`manualSeed`). */
  rng?: Rng;
  seed?: number;
}

/** Defaults of {@link DropoutOptions}. */
export const DEFAULT_DROPOUT_OPTIONS = { p: 0.5 } as const;

/**
 * Zeroes each element with probability p and scales the rest by 1/(1−p) in training mode (inverted
 * dropout, as PyTorch); the identity in eval mode. Any shape in, same shape out.
 *
 * The mask is drawn on the host with 16 random bits per element (two elements per 32-bit draw, so p is
 * resolved to 1/65536) and applied with one multiply: the whole layer costs one upload and one op.
 */
export function dropout(x: tf.Tensor, p: number, rng: Rng): tf.Tensor {
  if (p === 0) return tf.clone(x);
  const mask = dropoutMask(x.size, p, rng);
  return tf.tidy(() => tf.mul(x, tf.tensor(mask, x.shape, 'float32'))); // [...x.shape]
}

// A keep mask already scaled by 1/(1−p): element i is kept when its 16-bit draw is ≥ p·65536.
function dropoutMask(n: number, p: number, rng: Rng): Float32Array {
  const mask = new Float32Array(n);
  const threshold = Math.ceil(p * 65536);
  const scale = 1 / (1 - p);
  let i = 0;
  for (; i + 1 < n; i += 2) {
    const r = rng.nextUint32();
    if ((r & 0xffff) >= threshold) mask[i] = scale;
    if (r >>> 16 >= threshold) mask[i + 1] = scale;
  }
  if (i < n && (rng.nextUint32() & 0xffff) >= threshold) mask[i] = scale;
  return mask;
}

/** The dropout layer: `new Dropout({ p: 0.1 })`. Any shape in, same shape out. */
export class Dropout extends Module {
  readonly p: number;
  readonly rng: Rng;

  constructor(options: DropoutOptions = {}) {
    super();
    this.p = options.p ?? DEFAULT_DROPOUT_OPTIONS.p;
    checkProbability('Dropout', 'p', this.p);
    this.rng = this.registerGenerator('rng', resolveRng(options.rng, options.seed));
  }

  forward(x: tf.Tensor): tf.Tensor {
    return this.training ? dropout(x, this.p, this.rng) : tf.clone(x);
  }
}
