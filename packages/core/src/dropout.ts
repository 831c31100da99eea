import * as tf from '@tensorflow/tfjs-core';

import { ConfigError } from './errors.js';
import { Module } from './module.js';
import { Rng, resolveRng } from './rng.js';

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

/** Checks a dropout probability: a number in [0, 1). */
export function checkProbability(where: string, name: string, p: number): void {
  if (typeof p !== 'number' || !(p >= 0 && p < 1))
    throw new ConfigError(`${where}: ${name} must be in [0, 1), got ${p}`);
}

/**
 * Zeroes each element with probability p and scales the rest by 1/(1−p) in training mode (inverted
 * dropout, as PyTorch); the identity in eval mode. Any shape in, same shape out.
 */
export function dropout(x: tf.Tensor, p: number, rng: Rng): tf.Tensor {
  if (p === 0) return tf.clone(x);
  return tf.tidy(() => {
    const keep = tf.greaterEqual(tf.tensor(rng.uniformArray(x.size), x.shape), p); // [...x.shape] bool
    return tf.mul(x, tf.mul(tf.cast(keep, x.dtype), 1 / (1 - p)));
  });
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
