import * as tf from '@tensorflow/tfjs-core';

import { checkNonNegative, checkRange } from './checks.js';
import { ConfigError } from './errors.js';
import { Optimizer, type OptimizerParams } from './optimizer.js';

/** Options of {@link SGD}. */
export interface SgdOptions {
  /** Learning rate, ≥ 0 (required, as in PyTorch). */
  lr: number;
  /** Momentum factor, ≥ 0 (default 0: plain SGD). */
  momentum?: number;
  /** Dampening of the momentum, in [0, 1] (default 0). */
  dampening?: number;
  /** Use Nesterov momentum; needs momentum > 0 and dampening 0 (default false). */
  nesterov?: boolean;
  /** L2 penalty added to the gradient, ≥ 0 (default 0). */
  weightDecay?: number;
}

/** Defaults of {@link SgdOptions}, PyTorch's. */
export const DEFAULT_SGD_OPTIONS = { momentum: 0, dampening: 0, nesterov: false, weightDecay: 0 } as const;

interface SgdHyper {
  momentum: number;
  dampening: number;
  nesterov: boolean;
  weightDecay: number;
}

function checkSgd(where: string, h: Record<string, unknown>): void {
  checkNonNegative(where, 'momentum', h.momentum);
  checkRange(where, 'dampening', h.dampening, 0, 1, true);
  checkNonNegative(where, 'weightDecay', h.weightDecay);
  if (typeof h.nesterov !== 'boolean')
    throw new ConfigError(`${where}: nesterov must be a boolean, got ${String(h.nesterov)}`);
  if (h.nesterov && (h.momentum === 0 || h.dampening !== 0)) {
    throw new ConfigError(
      `${where}: nesterov needs momentum > 0 and dampening 0, got momentum ${String(h.momentum)}, dampening ${String(h.dampening)}`,
    );
  }
}

/**
 * Stochastic gradient descent with PyTorch's `torch.optim.SGD` update:
 * g ← grad + weightDecay·p; with momentum, b ← g on the first step, then b ← momentum·b + (1 − dampening)·g,
 * and g ← g + momentum·b (Nesterov) or g ← b; finally p ← p − lr·g.
 *
 * `const opt = new SGD(model, { lr: 0.1, momentum: 0.9 })`.
 */
export class SGD extends Optimizer {
  readonly kind: string = 'SGD';
  #h: SgdHyper;

  constructor(params: OptimizerParams, options: SgdOptions) {
    super(params, options);
    const h: SgdHyper = {
      momentum: options.momentum ?? DEFAULT_SGD_OPTIONS.momentum,
      dampening: options.dampening ?? DEFAULT_SGD_OPTIONS.dampening,
      nesterov: options.nesterov ?? DEFAULT_SGD_OPTIONS.nesterov,
      weightDecay: options.weightDecay ?? DEFAULT_SGD_OPTIONS.weightDecay,
    };
    checkSgd('SGD', h as unknown as Record<string, unknown>);
    this.#h = h;
  }

  /** Momentum factor. */
  get momentum(): number {
    return this.#h.momentum;
  }

  /** Weight decay (L2 penalty). */
  get weightDecay(): number {
    return this.#h.weightDecay;
  }

  protected updateParameter(name: string, param: tf.Variable, grad: tf.Tensor): void {
    const { momentum, dampening, nesterov, weightDecay } = this.#h;
    let g = weightDecay !== 0 ? tf.add(grad, tf.mul(param, weightDecay)) : grad; // param's shape
    if (momentum !== 0) {
      let buf: tf.Variable;
      if (this.hasSlot(name, 'momentum_buffer')) {
        buf = this.slot(name, 'momentum_buffer', () => g);
        buf.assign(tf.add(tf.mul(buf, momentum), tf.mul(g, 1 - dampening)));
      } else {
        buf = this.slot(name, 'momentum_buffer', () => g); // first step: b = g, undampened (as PyTorch)
      }
      g = nesterov ? tf.add(g, tf.mul(buf, momentum)) : buf;
    }
    param.assign(tf.sub(param, tf.mul(g, this.lr)));
  }

  protected hyperparameters(): Record<string, number | boolean> {
    return { ...this.#h };
  }

  protected checkHyperparameters(where: string, h: Record<string, unknown>): void {
    checkSgd(where, h);
  }

  protected setHyperparameters(h: Record<string, unknown>): void {
    this.#h = {
      momentum: h.momentum as number,
      dampening: h.dampening as number,
      nesterov: h.nesterov as boolean,
      weightDecay: h.weightDecay as number,
    };
  }

  protected slotNames(h: Record<string, unknown>): string[] {
    return h.momentum !== 0 ? ['momentum_buffer'] : [];
  }
}
