import * as tf from '@tensorflow/tfjs-core';

import { Module, checkProbability, resolveRng } from '@ml/core';
import type { Rng } from '@ml/core';

/** Options of {@link DropPath}. */
export interface DropPathOptions {
  /** Probability of dropping a sample's whole residual branch in training (default 0). */
  p?: number;
  /** Randomness for the per-sample draws; default: seeded with `seed`, else forked from the default generator (`manualSeed`). */
  rng?: Rng;
  seed?: number;
}

/** Defaults of {@link DropPathOptions}. */
export const DEFAULT_DROP_PATH_OPTIONS = { p: 0 } as const;

/**
 * Stochastic depth ("drop path"), as timm's `DropPath`: in training each sample's branch output is
 * zeroed with probability p and the kept ones are scaled by 1/(1 − p); identity in eval mode or when
 * p = 0. x [B, ...] → [B, ...]. Its generator is registered as `rng`, so checkpoints capture it.
 */
export class DropPath extends Module {
  readonly p: number;
  readonly rng: Rng;

  constructor(options: DropPathOptions = {}) {
    super();
    this.p = options.p ?? DEFAULT_DROP_PATH_OPTIONS.p;
    checkProbability('DropPath', 'p', this.p);
    this.rng = this.registerGenerator('rng', resolveRng(options.rng, options.seed));
  }

  /** x [B, ...] → same shape; one keep/drop draw per sample. */
  forward(x: tf.Tensor): tf.Tensor {
    if (!this.training || this.p === 0) return x;
    const keep = 1 - this.p;
    const b = x.shape[0];
    const draws = this.rng.uniformArray(b);
    const mask = new Float32Array(b);
    for (let i = 0; i < b; i++) mask[i] = (draws[i] as number) < keep ? 1 / keep : 0;
    return tf.tidy(() => {
      const shape = [b, ...x.shape.slice(1).map(() => 1)];
      return tf.mul(x, tf.tensor(mask, shape)); // [B, ...]
    });
  }
}
