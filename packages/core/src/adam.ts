import * as tf from '@tensorflow/tfjs-core';

import { checkNonNegative, checkRange } from './checks.js';
import { ConfigError } from './errors.js';
import { adamUpdateKernel, type AdamUpdateAttrs } from './internal/kernels/adam-update.js';
import { jsKernelsActive, runJsKernel } from './internal/kernels/js-kernel.js';
import { Optimizer, type OptimizerParams } from './optimizer.js';

/** Options of {@link Adam} and {@link AdamW}. */
export interface AdamOptions {
  /** Learning rate, ≥ 0 (default 1e-3). */
  lr?: number;
  /** Decay rates of the first and second moment estimates, each in [0, 1) (default [0.9, 0.999]). */
  betas?: readonly [number, number];
  /** Added to the denominator, outside the square root, ≥ 0 (default 1e-8). */
  eps?: number;
  /**
   * Weight decay, ≥ 0: Adam adds weightDecay·p to the gradient (L2 penalty); AdamW multiplies p by
   * (1 − lr·weightDecay) before the update (decoupled). Default 0 for Adam, 0.01 for AdamW.
   */
  weightDecay?: number;
  /** Use the maximum of past second moments (AMSGrad) (default false). */
  amsgrad?: boolean;
  /**
   * Which parameters weight decay applies to (default: all). timm and most ViT recipes decay only the
   * weight matrices: `weightDecayFilter: (_, p) => p.rank === 2 || p.rank === 4` (linear and
   * convolution weights) leaves biases, norms, position embeddings and class tokens undecayed (PyTorch
   * does this with two parameter groups).
   */
  weightDecayFilter?: (name: string, param: tf.Variable) => boolean;
}

/** Defaults of {@link AdamOptions} for {@link Adam}, PyTorch's. */
export const DEFAULT_ADAM_OPTIONS = {
  lr: 1e-3,
  betas: [0.9, 0.999],
  eps: 1e-8,
  weightDecay: 0,
  amsgrad: false,
} as const;

interface AdamHyper {
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  amsgrad: boolean;
}

function checkAdam(where: string, h: Record<string, unknown>): void {
  checkRange(where, 'betas[0]', h.beta1, 0, 1);
  checkRange(where, 'betas[1]', h.beta2, 0, 1);
  checkNonNegative(where, 'eps', h.eps);
  checkNonNegative(where, 'weightDecay', h.weightDecay);
  if (typeof h.amsgrad !== 'boolean')
    throw new ConfigError(`${where}: amsgrad must be a boolean, got ${String(h.amsgrad)}`);
}

/**
 * Adam with PyTorch's `torch.optim.Adam` update (t counts this parameter's updates from 1):
 * g ← grad + weightDecay·p; m ← β1·m + (1 − β1)·g; v ← β2·v + (1 − β2)·g²;
 * (AMSGrad: v̂ ← max(v̂, v), used in place of v); p ← p − lr/(1 − β1ᵗ) · m / (√v / √(1 − β2ᵗ) + eps).
 *
 * `const opt = new Adam(model, { lr: 1e-3 })`.
 */
export class Adam extends Optimizer {
  readonly kind: string = 'Adam';
  #h: AdamHyper;
  readonly #decoupled: boolean;
  readonly #decayFilter: ((name: string, param: tf.Variable) => boolean) | null;
  readonly #decayCache = new Map<string, boolean>();

  constructor(params: OptimizerParams, options: AdamOptions = {}) {
    super(params, { lr: options.lr ?? DEFAULT_ADAM_OPTIONS.lr });
    const where = new.target.name;
    const defaults = this.defaults();
    const betas = options.betas ?? defaults.betas;
    if (!Array.isArray(betas) || betas.length !== 2)
      throw new ConfigError(`${where}: betas must be a pair [beta1, beta2], got ${String(betas)}`);
    const h: AdamHyper = {
      beta1: betas[0],
      beta2: betas[1],
      eps: options.eps ?? defaults.eps,
      weightDecay: options.weightDecay ?? defaults.weightDecay,
      amsgrad: options.amsgrad ?? defaults.amsgrad,
    };
    checkAdam(where, h as unknown as Record<string, unknown>);
    this.#h = h;
    this.#decoupled = this.decoupledWeightDecay();
    if (options.weightDecayFilter !== undefined && typeof options.weightDecayFilter !== 'function')
      throw new ConfigError(
        `${where}: weightDecayFilter must be a function (name, param) => boolean, got ${String(options.weightDecayFilter)}`,
      );
    this.#decayFilter = options.weightDecayFilter ?? null;
  }

  /** The defaults this class fills in. */
  protected defaults(): Required<Omit<AdamOptions, 'weightDecayFilter'>> {
    return DEFAULT_ADAM_OPTIONS;
  }

  /** True for AdamW: weight decay shrinks the parameter instead of adding to the gradient. */
  protected decoupledWeightDecay(): boolean {
    return false;
  }

  /** [beta1, beta2]. */
  get betas(): [number, number] {
    return [this.#h.beta1, this.#h.beta2];
  }

  /** The denominator's epsilon. */
  get eps(): number {
    return this.#h.eps;
  }

  /** Weight decay. */
  get weightDecay(): number {
    return this.#h.weightDecay;
  }

  /** Whether AMSGrad is on. */
  get amsgrad(): boolean {
    return this.#h.amsgrad;
  }

  /** Whether weight decay applies to parameter `name` (the filter's answer, asked once per name). */
  #decaysParam(name: string, param: tf.Variable): boolean {
    if (this.#decayFilter === null) return true;
    let d = this.#decayCache.get(name);
    if (d === undefined) this.#decayCache.set(name, (d = this.#decayFilter(name, param) === true));
    return d;
  }

  protected updateParameter(name: string, param: tf.Variable, grad: tf.Tensor, step: number): void {
    const { beta1, beta2, eps, amsgrad } = this.#h;
    const weightDecay = this.#decaysParam(name, param) ? this.#h.weightDecay : 0;
    const lr = this.lr;
    const m = this.slot(name, 'exp_avg', () => tf.zerosLike(param));
    const v = this.slot(name, 'exp_avg_sq', () => tf.zerosLike(param));
    const vMax = amsgrad ? this.slot(name, 'max_exp_avg_sq', () => tf.zerosLike(param)) : null;
    // The bias corrections are plain numbers in float64, as PyTorch computes them in Python.
    const stepSize = lr / (1 - beta1 ** step);
    const bc2Sqrt = Math.sqrt(1 - beta2 ** step);
    if (jsKernelsActive() && grad.dtype === 'float32' && param.dtype === 'float32') {
      // One kernel instead of ~13 ops, bit-identical to the lines below (internal/kernels/adam-update.ts).
      const attrs: AdamUpdateAttrs = {
        ...this.#h,
        weightDecay,
        decoupled: this.#decoupled,
        lr,
        stepSize,
        bc2Sqrt,
      };
      const out = runJsKernel(adamUpdateKernel, { p: param, g: grad, m, v, vMax }, attrs);
      param.assign(out[0]!);
      m.assign(out[1]!);
      v.assign(out[2]!);
      if (vMax !== null) vMax.assign(out[3]!);
      return;
    }
    let p: tf.Tensor = param;
    let g = grad;
    if (weightDecay !== 0) {
      if (this.#decoupled) p = tf.mul(param, 1 - lr * weightDecay);
      else g = tf.add(grad, tf.mul(param, weightDecay));
    }
    m.assign(tf.add(tf.mul(m, beta1), tf.mul(g, 1 - beta1)));
    v.assign(tf.add(tf.mul(v, beta2), tf.mul(tf.square(g), 1 - beta2)));
    let second: tf.Tensor = v;
    if (vMax !== null) {
      vMax.assign(tf.maximum(vMax, v));
      second = vMax;
    }
    const denom = tf.add(tf.div(tf.sqrt(second), bc2Sqrt), eps);
    param.assign(tf.sub(p, tf.mul(tf.div(m, denom), stepSize)));
  }

  protected hyperparameters(): Record<string, number | boolean> {
    return { ...this.#h };
  }

  protected checkHyperparameters(where: string, h: Record<string, unknown>): void {
    checkAdam(where, h);
  }

  protected setHyperparameters(h: Record<string, unknown>): void {
    this.#h = {
      beta1: h.beta1 as number,
      beta2: h.beta2 as number,
      eps: h.eps as number,
      weightDecay: h.weightDecay as number,
      amsgrad: h.amsgrad as boolean,
    };
  }

  protected slotNames(h: Record<string, unknown>): string[] {
    return h.amsgrad === true ? ['exp_avg', 'exp_avg_sq', 'max_exp_avg_sq'] : ['exp_avg', 'exp_avg_sq'];
  }
}
