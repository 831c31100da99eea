import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';

import { ConfigError } from '@ml/core';
import { onBackend } from '@ml/core/testing';

import { MinMaxScaler } from './scalers.js';
import { windows } from './windows.js';

describe('windows', () => {
  beforeAll(() => onBackend('cpu'));

  it('cuts lookback → horizon windows, split in time, scaler fitted on the training part only', async () => {
    const series = Array.from({ length: 20 }, (_, i) => i * 10); // 0, 10, …, 190
    const w = windows(series, { lookback: 3, horizon: 2, trainFraction: 0.5 });
    expect(w.splitIndex).toBe(10);
    // Scaler fitted on 0..90 only: a test value of 190 maps above 1 (no leak of test statistics).
    expect(w.scaler).toBeInstanceOf(MinMaxScaler);
    expect((w.scaler as MinMaxScaler).max).toEqual([90]);
    expect(w.train.x.shape).toEqual([6, 3, 1]); // starts 0..5: targets end at ≤ 9
    expect(w.train.y.shape).toEqual([6, 2]);
    expect(w.train.targetStart).toEqual([3, 4, 5, 6, 7, 8]);
    expect(w.test.targetStart).toEqual([10, 11, 12, 13, 14, 15, 16, 17, 18]); // every target in the test part
    const x0 = Array.from(await w.train.x.data()).slice(0, 3);
    expect(x0.map((v) => Math.round(v * 90))).toEqual([0, 10, 20]);
    const lastY = Array.from(await w.test.y.data()).slice(-2);
    expect(lastY.map((v) => Math.round(v * 90))).toEqual([180, 190]);
    const back = w.scaler!.inverseTransform(w.test.y);
    expect(Array.from(await back.data()).slice(-1)[0]).toBeCloseTo(190, 3);
    tf.dispose(back);
    w.dispose();
    expect(tf.memory().numTensors).toBe(0);
  });

  it('stride, standard scaling and no scaling', async () => {
    const s = Float32Array.from({ length: 12 }, (_, i) => i);
    const w = windows(s, { lookback: 2, stride: 3, trainFraction: 1, scale: 'none' });
    expect(w.train.targetStart).toEqual([2, 5, 8, 11]);
    expect(w.test.x.shape).toEqual([0, 2, 1]);
    expect(w.scaler).toBeNull();
    w.dispose();
    const z = windows(s, { lookback: 2, scale: 'standard' });
    const firstTrain = Array.from(await z.train.x.data())[0] as number;
    expect(firstTrain).toBeCloseTo((0 - 4) / Math.sqrt(20 / 3), 5); // split at ⌊12·0.8⌋ = 9: train part 0..8, mean 4, var 20/3
    z.dispose();
  });

  it('bad options are ConfigErrors', () => {
    expect(() => windows([1, 2, 3, 4], { lookback: 3, trainFraction: 0.5 })).toThrow(ConfigError);
    expect(() => windows([1, 2, 3, 4], { lookback: 3, trainFraction: 0.5 })).toThrow(
      'windows: the training part (2 of 4 steps) must hold at least lookback + horizon = 4 steps',
    );
    expect(() => windows([1, 2], { lookback: 0 })).toThrow(
      'windows: lookback must be a positive integer, got 0',
    );
    expect(() => windows([1, 2], { lookback: 1, trainFraction: 0 })).toThrow(
      'windows: trainFraction must be in (0, 1], got 0',
    );
  });
});
