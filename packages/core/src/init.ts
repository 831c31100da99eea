import * as tf from '@tensorflow/tfjs-core';

import { ConfigError } from './errors.js';
import type { Rng } from './rng.js';

/** Nonlinearities whose recommended gain {@link calculateGain} knows (PyTorch's table). */
export type Nonlinearity = 'linear' | 'conv2d' | 'sigmoid' | 'tanh' | 'relu' | 'leaky_relu' | 'selu';

/** fan_in and fan_out of a weight in PyTorch layout ([out, in] or [out, in, kh, kw]). */
export function fanInAndOut(shape: readonly number[]): { fanIn: number; fanOut: number } {
  if (shape.length < 2)
    throw new ConfigError(`fanInAndOut: weight must have rank ≥ 2, got shape [${shape.join(', ')}]`);
  const receptive = shape.slice(2).reduce((a, b) => a * b, 1);
  return { fanIn: (shape[1] as number) * receptive, fanOut: (shape[0] as number) * receptive };
}

/** The gain PyTorch recommends for a nonlinearity (`torch.nn.init.calculate_gain`). */
export function calculateGain(nonlinearity: Nonlinearity, param = 0.01): number {
  switch (nonlinearity) {
    case 'linear':
    case 'conv2d':
    case 'sigmoid':
      return 1;
    case 'tanh':
      return 5 / 3;
    case 'relu':
      return Math.SQRT2;
    case 'leaky_relu':
      return Math.sqrt(2 / (1 + param * param));
    case 'selu':
      return 3 / 4;
  }
}

/** Options of the Kaiming (He) initialisers; defaults are PyTorch's (`a` 0, fan_in, leaky_relu). */
export interface KaimingOptions {
  a?: number;
  mode?: 'fanIn' | 'fanOut';
  nonlinearity?: Nonlinearity;
}

function kaimingStd(
  shape: readonly number[],
  { a = 0, mode = 'fanIn', nonlinearity = 'leaky_relu' }: KaimingOptions,
): number {
  const { fanIn, fanOut } = fanInAndOut(shape);
  return calculateGain(nonlinearity, a) / Math.sqrt(mode === 'fanIn' ? fanIn : fanOut);
}

function sizeOf(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

function uniformTensor(rng: Rng, shape: number[], low: number, high: number): tf.Tensor {
  return tf.tensor(rng.uniformArray(sizeOf(shape), low, high), shape, 'float32');
}

function normalTensor(rng: Rng, shape: number[], mean: number, std: number): tf.Tensor {
  return tf.tensor(rng.normalArray(sizeOf(shape), mean, std), shape, 'float32');
}

function truncatedNormalTensor(
  rng: Rng,
  shape: number[],
  mean: number,
  std: number,
  a: number,
  b: number,
): tf.Tensor {
  if (!(a < b)) throw new ConfigError(`init.truncatedNormal: a (${a}) must be < b (${b})`);
  const n = sizeOf(shape);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let v: number;
    do v = rng.normal(mean, std);
    while (v < a || v > b);
    out[i] = v;
  }
  return tf.tensor(out, shape, 'float32');
}

/** The initialisers @ml layers use, each drawing from the caller's seeded {@link Rng}; shapes in PyTorch layout. */
export const init = {
  /** Zeros; draws nothing from `rng` (as PyTorch's `zeros_`), so the stream of later inits is unchanged. */
  zeros: (_rng: Rng, shape: number[]): tf.Tensor => tf.zeros(shape),
  /** Ones; draws nothing from `rng`. */
  ones: (_rng: Rng, shape: number[]): tf.Tensor => tf.ones(shape),
  /** Uniform samples in [low, high): `init.uniform(rng, [3, 4], -1, 1)`. */
  uniform: (rng: Rng, shape: number[], low = 0, high = 1): tf.Tensor => uniformTensor(rng, shape, low, high),
  /** Normal samples: `init.normal(rng, [3, 4], 0, 0.02)`. */
  normal: (rng: Rng, shape: number[], mean = 0, std = 1): tf.Tensor => normalTensor(rng, shape, mean, std),
  /** PyTorch's `trunc_normal_`: normal(mean, std) redrawn outside [a, b]. */
  truncatedNormal: (rng: Rng, shape: number[], mean = 0, std = 1, a = -2, b = 2): tf.Tensor =>
    truncatedNormalTensor(rng, shape, mean, std, a, b),
  /** Glorot uniform: U(±gain·√(6/(fan_in+fan_out))). */
  xavierUniform: (rng: Rng, shape: number[], gain = 1): tf.Tensor => {
    const { fanIn, fanOut } = fanInAndOut(shape);
    const bound = gain * Math.sqrt(6 / (fanIn + fanOut));
    return uniformTensor(rng, shape, -bound, bound);
  },
  /** Glorot normal: N(0, gain²·2/(fan_in+fan_out)). */
  xavierNormal: (rng: Rng, shape: number[], gain = 1): tf.Tensor => {
    const { fanIn, fanOut } = fanInAndOut(shape);
    return normalTensor(rng, shape, 0, gain * Math.sqrt(2 / (fanIn + fanOut)));
  },
  /** He uniform: U(±√3·gain/√fan). */
  kaimingUniform: (rng: Rng, shape: number[], options: KaimingOptions = {}): tf.Tensor => {
    const bound = Math.sqrt(3) * kaimingStd(shape, options);
    return uniformTensor(rng, shape, -bound, bound);
  },
  /** He normal: N(0, gain²/fan). */
  kaimingNormal: (rng: Rng, shape: number[], options: KaimingOptions = {}): tf.Tensor =>
    normalTensor(rng, shape, 0, kaimingStd(shape, options)),
};
