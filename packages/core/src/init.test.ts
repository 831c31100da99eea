import type * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, test } from 'vitest';

import { expectThrows } from '../test/helpers.js';
import { ConfigError } from './errors.js';
import { calculateGain, fanInAndOut, init } from './init.js';
import { Rng } from './rng.js';
import { onBackend } from './testing/index.js';

function stats(t: tf.Tensor): { mean: number; std: number; min: number; max: number } {
  const v = Array.from(t.dataSync());
  const mean = v.reduce((a, b) => a + b, 0) / v.length;
  const std = Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / v.length);
  return { mean, std, min: Math.min(...v), max: Math.max(...v) };
}

describe('init', () => {
  beforeAll(() => onBackend('cpu'));

  test('uniform, normal and truncatedNormal draw from the rng stream (tensor draws moved out of Rng)', () => {
    expect(init.normal(new Rng(4), [3]).dataSync()).toEqual(new Rng(4).normalArray(3));
    expect(init.uniform(new Rng(4), [2, 2], 1, 2).dataSync()).toEqual(new Rng(4).uniformArray(4, 1, 2));
    const t = init.truncatedNormal(new Rng(4), [1000], 0, 1, -1, 1).dataSync();
    expect(t.every((v) => v >= -1 && v <= 1)).toBe(true);
    expectThrows(
      () => init.truncatedNormal(new Rng(), [2], 0, 1, 1, 1),
      ConfigError,
      'init.truncatedNormal: a (1) must be < b (1)',
    );
  });

  test('fanInAndOut reads PyTorch layouts: [out, in] and [out, in, kh, kw]', () => {
    expect(fanInAndOut([64, 16])).toEqual({ fanIn: 16, fanOut: 64 });
    expect(fanInAndOut([8, 3, 5, 5])).toEqual({ fanIn: 75, fanOut: 200 });
    expectThrows(
      () => fanInAndOut([5]),
      ConfigError,
      'fanInAndOut: weight must have rank ≥ 2, got shape [5]',
    );
  });

  test("calculateGain follows PyTorch's table", () => {
    expect(calculateGain('linear')).toBe(1);
    expect(calculateGain('relu')).toBeCloseTo(Math.SQRT2, 12);
    expect(calculateGain('tanh')).toBeCloseTo(5 / 3, 12);
    expect(calculateGain('leaky_relu', Math.sqrt(5))).toBeCloseTo(Math.sqrt(1 / 3), 12);
    expect(calculateGain('selu')).toBe(0.75);
  });

  test('xavier and kaiming draw with the right spread', () => {
    const rng = new Rng(0);
    const shape = [200, 300];
    const xu = stats(init.xavierUniform(rng, shape));
    const bound = Math.sqrt(6 / 500);
    expect(xu.max).toBeLessThanOrEqual(bound);
    expect(xu.min).toBeGreaterThanOrEqual(-bound);
    expect(xu.std).toBeCloseTo(bound / Math.sqrt(3), 3);
    expect(stats(init.xavierNormal(rng, shape)).std).toBeCloseTo(Math.sqrt(2 / 500), 3);
    const ku = stats(init.kaimingUniform(rng, shape, { nonlinearity: 'relu' }));
    expect(ku.max).toBeLessThanOrEqual(Math.sqrt(6 / 300));
    expect(ku.std).toBeCloseTo(Math.sqrt(2 / 300), 3);
    expect(stats(init.kaimingNormal(rng, shape, { mode: 'fanOut', nonlinearity: 'relu' })).std).toBeCloseTo(
      Math.sqrt(2 / 200),
      3,
    );
    // PyTorch's Linear/Conv default (a = √5) is U(±1/√fan_in).
    expect(stats(init.kaimingUniform(rng, shape, { a: Math.sqrt(5) })).max).toBeLessThanOrEqual(
      1 / Math.sqrt(300),
    );
  });

  test('truncatedNormal stays within [a, b]; uniform and normal take their parameters', () => {
    const rng = new Rng(1);
    const t = stats(init.truncatedNormal(rng, [5000], 0, 1, -0.5, 0.5));
    expect(t.min).toBeGreaterThanOrEqual(-0.5);
    expect(t.max).toBeLessThanOrEqual(0.5);
    const u = stats(init.uniform(rng, [5000], 2, 3));
    expect(u.min).toBeGreaterThanOrEqual(2);
    expect(u.max).toBeLessThan(3);
    expect(stats(init.normal(rng, [5000], 4, 0.5)).mean).toBeCloseTo(4, 1);
  });

  test('zeros and ones draw nothing from the rng', () => {
    const rng = new Rng(2);
    const before = rng.state();
    expect(Array.from(init.zeros(rng, [2, 2]).dataSync())).toEqual([0, 0, 0, 0]);
    expect(Array.from(init.ones(rng, [3]).dataSync())).toEqual([1, 1, 1]);
    expect(rng.state()).toEqual(before);
  });

  test('the same seed gives the same tensor', () => {
    expect(init.kaimingUniform(new Rng(9), [4, 4]).dataSync()).toEqual(
      init.kaimingUniform(new Rng(9), [4, 4]).dataSync(),
    );
    expect(init.kaimingUniform(new Rng(9), [4, 4]).dataSync()).not.toEqual(
      init.kaimingUniform(new Rng(10), [4, 4]).dataSync(),
    );
  });
});
