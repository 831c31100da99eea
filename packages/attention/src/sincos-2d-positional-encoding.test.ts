import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, test } from 'vitest';

import { ConfigError } from '@ml/core';
import { expectTensorsClose, onBackend } from '@ml/core/testing';

import { fixture } from '../test/helpers.js';
import { sinCos2dPositionalEncoding } from './sincos-2d-positional-encoding.js';

describe('sinCos2dPositionalEncoding', () => {
  beforeAll(() => onBackend('cpu'));

  test("sinCos2dPositionalEncoding equals MAE's get_2d_sincos_pos_embed", async () => {
    const f = await fixture('positional');
    const t = sinCos2dPositionalEncoding(3, 4, 16);
    expect(t.shape).toEqual([12, 16]);
    expectTensorsClose(t, f.get('sincos2d.3x4x16'), 1e-6);
    tf.dispose(t);
    f.dispose();
  });

  test('hand-checked: patch (row 1, col 2) of a 2×3 grid, dim 8', async () => {
    const t = sinCos2dPositionalEncoding(2, 3, 8);
    const row = (await t.array())[1 * 3 + 2] as number[];
    const w = [1, 1 / 100]; // ω_k = 10000^(−k/2)
    const expected = [
      Math.sin(2 * w[0]!),
      Math.sin(2 * w[1]!),
      Math.cos(2 * w[0]!),
      Math.cos(2 * w[1]!),
      Math.sin(1 * w[0]!),
      Math.sin(1 * w[1]!),
      Math.cos(1 * w[0]!),
      Math.cos(1 * w[1]!),
    ];
    expectTensorsClose(row, expected, 1e-6);
    t.dispose();
  });

  test('bad arguments → ConfigError', () => {
    expect(() => sinCos2dPositionalEncoding(2, 2, 6)).toThrow(ConfigError);
    expect(() => sinCos2dPositionalEncoding(2, 2, 6)).toThrow(
      'sinCos2dPositionalEncoding: dim must be divisible by 4, got 6',
    );
    expect(() => sinCos2dPositionalEncoding(2, 2, 8, { temperature: 0 })).toThrow(
      'temperature must be > 0, got 0',
    );
  });
});
