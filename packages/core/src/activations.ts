import * as tf from '@tensorflow/tfjs-core';

import { ConfigError } from './errors.js';
import { geluKernel } from './internal/kernels/gelu.js';
import { jsKernelsActive, runJsKernel } from './internal/kernels/js-kernel.js';
import { leakyReluGradKernel, leakyReluKernel } from './internal/kernels/leaky-relu.js';
import { Module } from './module.js';

/** GELU approximation: 'none' is the exact x·Φ(x); 'tanh' is the tanh formula (as PyTorch's `approximate`). */
export type GeluApproximation = 'none' | 'tanh';

/** GELU, exact (x·½(1+erf(x/√2))) or the tanh approximation. Any shape in, same shape out. */
export function gelu(x: tf.Tensor, approximate: GeluApproximation = 'none'): tf.Tensor {
  if (approximate === 'none' && x.dtype === 'float32' && jsKernelsActive()) return fusedGelu(x);
  return tf.tidy(() => {
    if (approximate === 'tanh') {
      const inner = tf.mul(Math.sqrt(2 / Math.PI), tf.add(x, tf.mul(0.044715, tf.pow(x, 3))));
      return tf.mul(tf.mul(0.5, x), tf.add(1, tf.tanh(inner)));
    }
    return tf.mul(tf.mul(0.5, x), tf.add(1, tf.erf(tf.mul(x, Math.SQRT1_2))));
  });
}

/**
 * Exact GELU as one kernel (wasm and cpu), which also writes the derivative: the gradient is one multiply
 * (~5 tfjs ops forward and ~12 backward otherwise).
 */
function fusedGelu(x: tf.Tensor): tf.Tensor {
  const run = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [y, d] = runJsKernel(geluKernel, { x: args[0] as tf.Tensor }, {}) as [tf.Tensor, tf.Tensor];
    (args[1] as tf.GradSaveFunc)([d]);
    return { value: y, gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.mul(dy, saved[0]!) };
  });
  return run(x);
}

/** Leaky ReLU as one SIMD kernel forward and one backward (wasm and cpu): 1 and 3 tfjs ops otherwise. */
function fusedLeakyRelu(x: tf.Tensor, alpha: number): tf.Tensor {
  const run = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const xIn = args[0] as tf.Tensor;
    (args[1] as tf.GradSaveFunc)([xIn]);
    return {
      value: runJsKernel(leakyReluKernel, { x: xIn }, { alpha })[0]!,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) =>
        runJsKernel(leakyReluGradKernel, { x: saved[0]!, dy }, { alpha })[0]!,
    };
  });
  return run(x);
}

/** max(0, x). */
export class ReLU extends Module {
  forward(x: tf.Tensor): tf.Tensor {
    // ReLU is the leaky form with slope 0: one SIMD kernel forward and one backward on wasm and cpu.
    if (x.dtype === 'float32' && jsKernelsActive()) return fusedLeakyRelu(x, 0);
    return tf.relu(x);
  }
}

/** Options of {@link GELU}. */
export interface GeluOptions {
  /** 'none' (exact, default) or 'tanh'. */
  approximate?: GeluApproximation;
}

/** The GELU layer: `new GELU()` (exact) or `new GELU({ approximate: 'tanh' })`. */
export class GELU extends Module {
  readonly approximate: GeluApproximation;

  constructor(options: GeluOptions = {}) {
    super();
    this.approximate = options.approximate ?? 'none';
    if (this.approximate !== 'none' && this.approximate !== 'tanh') {
      throw new ConfigError(`GELU: approximate must be 'none' or 'tanh', got '${String(this.approximate)}'`);
    }
  }

  forward(x: tf.Tensor): tf.Tensor {
    return gelu(x, this.approximate);
  }
}

/** Options of {@link LeakyReLU}. */
export interface LeakyReluOptions {
  /** Slope for x < 0 (default 0.01, as PyTorch). */
  negativeSlope?: number;
}

/** x for x ≥ 0, negativeSlope·x otherwise. */
export class LeakyReLU extends Module {
  readonly negativeSlope: number;

  constructor(options: LeakyReluOptions = {}) {
    super();
    this.negativeSlope = options.negativeSlope ?? 0.01;
    if (!Number.isFinite(this.negativeSlope))
      throw new ConfigError(`LeakyReLU: negativeSlope must be finite, got ${this.negativeSlope}`);
  }

  forward(x: tf.Tensor): tf.Tensor {
    if (x.dtype === 'float32' && jsKernelsActive()) return fusedLeakyRelu(x, this.negativeSlope);
    return tf.leakyRelu(x, this.negativeSlope);
  }
}

/** 1 / (1 + e^−x). */
export class Sigmoid extends Module {
  forward(x: tf.Tensor): tf.Tensor {
    return tf.sigmoid(x);
  }
}

/** tanh(x). */
export class Tanh extends Module {
  forward(x: tf.Tensor): tf.Tensor {
    return tf.tanh(x);
  }
}
