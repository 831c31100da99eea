import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, test } from 'vitest';

import { ConfigError, Rng } from '@ml/core';
import { onBackend } from '@ml/core/testing';

import { DropPath } from './drop-path.js';

describe('DropPath', () => {
  beforeAll(() => onBackend('cpu'));

  test('per sample: each row is all zeros or all x/(1 − p); the kept share is close to 1 − p', () => {
    const dp = new DropPath({ p: 0.25, seed: 3 });
    const x = tf.ones([400, 3, 2]);
    const y = dp.forward(x);
    const rows = tf.reshape(y, [400, 6]).arraySync() as number[][];
    let kept = 0;
    for (const r of rows) {
      const v = r[0] as number;
      expect(r.every((e) => e === v)).toBe(true);
      expect([0, 1 / 0.75].some((w) => Math.abs(v - w) < 1e-6)).toBe(true);
      if (v !== 0) kept++;
    }
    expect(kept / 400).toBeGreaterThan(0.68);
    expect(kept / 400).toBeLessThan(0.82);
    tf.dispose([x, y]);
  });

  test('identity in eval mode and at p = 0; the same generator state gives the same draws', () => {
    const x = tf.ones([8, 2]);
    const dp = new DropPath({ p: 0.5, rng: new Rng(1) });
    dp.eval();
    expect(dp.forward(x)).toBe(x);
    expect(new DropPath().forward(x)).toBe(x);
    dp.train();
    const state = dp.rng.state();
    const a = dp.forward(x);
    dp.rng.setState(state);
    const b = dp.forward(x);
    expect(Array.from(a.dataSync())).toEqual(Array.from(b.dataSync()));
    expect(dp.namedGenerators().map(([n]) => n)).toEqual(['rng']);
    tf.dispose([x, a, b]);
  });

  test('p outside [0, 1) → ConfigError', () => {
    expect(() => new DropPath({ p: 1 })).toThrow(new ConfigError('DropPath: p must be in [0, 1), got 1'));
  });
});
