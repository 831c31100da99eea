import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';

import { ConfigError, ShapeError } from '@ml/core';
import { TEST_BACKENDS, expectNoTensorLeak, onBackend } from '@ml/core/testing';
import type { Fixture } from '@ml/core/testing';

import { absoluteError, fixture } from '../test/helpers.js';
import { interpolate2d, interpolationMatrix } from './interpolate.js';

for (const backend of TEST_BACKENDS) {
  describe(`interpolate2d matches torch's F.interpolate (${backend})`, () => {
    let f: Fixture;
    beforeAll(async () => {
      await onBackend(backend);
      f = await fixture('interp');
    });
    afterAll(() => f.dispose());

    test('bicubic and bilinear, with and without antialias, growing and shrinking, ≤ 1e-5', async () => {
      const keys = Object.keys(f.tensors).filter((k) => k !== 'in.x');
      expect(keys.length).toBe(9);
      for (const key of keys) {
        const [mode, aa, size] = key.split('.') as [string, string, string];
        const [h, w] = size.split('x').map(Number) as [number, number];
        const y = await expectNoTensorLeak(
          () =>
            interpolate2d(f.get('in.x'), [h, w], {
              mode: mode as 'bicubic' | 'bilinear',
              antialias: aa === '1',
            }),
          1,
        );
        expect(absoluteError(y, f.get(key)), key).toBeLessThanOrEqual(1e-5);
        y.dispose();
      }
    });
  });
}

describe('interpolate2d', () => {
  beforeAll(() => onBackend('cpu'));

  test('rows of every interpolation matrix sum to 1', () => {
    for (const [i, o] of [
      [5, 8],
      [8, 3],
      [4, 4],
    ] as const) {
      for (const mode of ['bicubic', 'bilinear'] as const) {
        for (const aa of [false, true]) {
          const m = interpolationMatrix(i, o, mode, aa);
          for (let r = 0; r < o; r++) {
            const s = m.slice(r * i, (r + 1) * i).reduce((a, b) => a + b, 0);
            expect(s).toBeCloseTo(1, 6);
          }
        }
      }
    }
  });

  test('bad arguments → named errors', () => {
    const x = tf.zeros([1, 3, 3, 2]);
    expect(() => interpolate2d(x, [4, 4], { mode: 'nearest' as 'bilinear' })).toThrow(
      new ConfigError("interpolate2d: mode must be 'bicubic' or 'bilinear', got 'nearest'"),
    );
    expect(() => interpolate2d(x, [0, 4])).toThrow(ConfigError);
    const flat = tf.zeros([3, 3, 2]);
    expect(() => interpolate2d(flat, [4, 4])).toThrow(ShapeError);
    expect(() => interpolate2d(flat, [4, 4])).toThrow(
      'interpolate2d: x must be [N, H, W, C] (NHWC), got [3, 3, 2]',
    );
    tf.dispose([x, flat]);
  });
});
