import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, test } from 'vitest';

import { ConfigError, DataError, ShapeError } from '@ml/core';
import { expectNoTensorLeak, onBackend } from '@ml/core/testing';

import { prepareMask } from './internal/mask-utils.js';
import { broadcastMask, causalMask, combineMasks, paddingMask } from './masks.js';

beforeAll(() => onBackend('cpu'));

describe('paddingMask', () => {
  test('[B, T] ids → bool [B, 1, 1, T], true at padId', async () => {
    const ids = tf.tensor2d(
      [
        [5, 3, 0, 0],
        [1, 0, 2, 0],
      ],
      undefined,
      'int32',
    );
    const m = paddingMask(ids, 0);
    expect(m.shape).toEqual([2, 1, 1, 4]);
    expect(m.dtype).toBe('bool');
    expect(await m.array()).toEqual([[[[0, 0, 1, 1]]], [[[0, 1, 0, 1]]]]);
    tf.dispose([ids, m]);
  });

  test('wrong rank → ShapeError; non-integer padId → ConfigError', () => {
    const ids = tf.tensor1d([1, 2], 'int32');
    expect(() => paddingMask(ids, 0)).toThrow(ShapeError);
    expect(() => paddingMask(ids, 0)).toThrow('paddingMask: tokens must be [B, T], got [2]');
    const ids2 = tf.tensor2d([[1, 2]], undefined, 'int32');
    expect(() => paddingMask(ids2, 0.5)).toThrow(ConfigError);
    expect(() => paddingMask(ids2, 0.5)).toThrow('paddingMask: padId must be an integer, got 0.5');
    tf.dispose([ids, ids2]);
  });
});

describe('causalMask', () => {
  test('bool [1, 1, T, T], true strictly above the diagonal', async () => {
    const m = causalMask(3);
    expect(m.shape).toEqual([1, 1, 3, 3]);
    expect(await m.array()).toEqual([
      [
        [
          [0, 1, 1],
          [0, 0, 1],
          [0, 0, 0],
        ],
      ],
    ]);
    m.dispose();
  });

  test('size must be a positive integer', () => {
    expect(() => causalMask(0)).toThrow(ConfigError);
    expect(() => causalMask(2.5)).toThrow('causalMask: size must be a positive integer, got 2.5');
  });
});

describe('combineMasks', () => {
  test('bool masks are OR-ed and broadcast: padding [B,1,1,T] + causal [1,1,T,T] → [B,1,T,T]', async () => {
    const ids = tf.tensor2d([[4, 4, 0]], undefined, 'int32');
    const pad = paddingMask(ids, 0);
    const causal = causalMask(3);
    const m = combineMasks(pad, null, causal, undefined) as tf.Tensor;
    expect(m.shape).toEqual([1, 1, 3, 3]);
    expect(m.dtype).toBe('bool');
    expect(await m.array()).toEqual([
      [
        [
          [0, 1, 1],
          [0, 0, 1],
          [0, 0, 1],
        ],
      ],
    ]);
    tf.dispose([ids, pad, causal, m]);
  });

  test('with an additive mask, bool masks become −∞ and all are summed', async () => {
    const additive = tf.tensor2d([
      [0.5, -1],
      [2, 0],
    ]);
    const blocked = tf.tensor2d([
      [false, true],
      [false, false],
    ]);
    const m = combineMasks(additive, blocked) as tf.Tensor;
    expect(m.dtype).toBe('float32');
    expect(await m.array()).toEqual([
      [0.5, -Infinity],
      [2, 0],
    ]);
    tf.dispose([additive, blocked, m]);
  });

  test('returns null for no masks and a new tensor for one', async () => {
    expect(combineMasks(null, undefined)).toBeNull();
    const a = tf.tensor1d([true, false], 'bool');
    const c = combineMasks(a) as tf.Tensor;
    expect(c).not.toBe(a);
    a.dispose();
    expect(await c.array()).toEqual([1, 0]);
    c.dispose();
  });

  test('shapes that do not broadcast → ShapeError naming them', () => {
    const a = tf.zeros([2, 1, 1, 3], 'bool');
    const b = tf.zeros([1, 1, 4, 4], 'bool');
    expect(() => combineMasks(a, b)).toThrow(ShapeError);
    expect(() => combineMasks(a, b)).toThrow(
      'combineMasks: masks of shapes [2, 1, 1, 3], [1, 1, 4, 4] do not broadcast together',
    );
    tf.dispose([a, b]);
  });
});

describe('broadcastMask', () => {
  test('expands to [B, H, Tq, Tk] keeping the dtype', async () => {
    const m = tf.tensor2d([[false, true]]);
    const full = broadcastMask(m, [2, 3, 1, 2]);
    expect(full.shape).toEqual([2, 3, 1, 2]);
    expect(full.dtype).toBe('bool');
    expect(await full.array()).toEqual(
      Array.from({ length: 2 }, () => Array.from({ length: 3 }, () => [[0, 1]])),
    );
    tf.dispose([m, full]);
  });

  test('a mask that cannot broadcast → ShapeError naming both shapes', () => {
    const m = tf.zeros([2, 1, 5, 5], 'bool');
    expect(() => broadcastMask(m, [2, 4, 5, 6])).toThrow(ShapeError);
    expect(() => broadcastMask(m, [2, 4, 5, 6])).toThrow(
      'broadcastMask: mask of shape [2, 1, 5, 5] cannot be broadcast to [B, H, Tq, Tk] = [2, 4, 5, 6]',
    );
    const tooBig = tf.zeros([1, 1, 2, 5, 6], 'bool');
    expect(() => broadcastMask(tooBig, [2, 4, 5, 6])).toThrow(
      'mask of shape [1, 1, 2, 5, 6] cannot be broadcast',
    );
    tf.dispose([m, tooBig]);
  });

  test('int32 masks are rejected', () => {
    const m = tf.zeros([2, 2], 'int32');
    expect(() => broadcastMask(m, [1, 1, 2, 2])).toThrow(DataError);
    expect(() => broadcastMask(m, [1, 1, 2, 2])).toThrow(
      'broadcastMask: mask must be a bool (true = blocked) or float32 (additive) tensor, got dtype int32',
    );
    m.dispose();
  });
});

describe('prepareMask', () => {
  test('bool and −∞ masks give the same finite additive mask and keep factor', async () => {
    const bool = tf.tensor2d([
      [false, true],
      [true, true],
    ]);
    const add = tf.tensor2d([
      [0, -Infinity],
      [-Infinity, -Infinity],
    ]);
    await expectNoTensorLeak(async () => {
      const [a, b] = tf.tidy(() =>
        [prepareMask('t', 'mask', bool, [1, 1, 2, 2]), prepareMask('t', 'mask', add, [1, 1, 2, 2])].map((p) =>
          tf.concat([tf.reshape(p.additive, [-1]), tf.reshape(p.keep, [-1])]),
        ),
      );
      expect(await (a as tf.Tensor).array()).toEqual([0, -1e9, -1e9, -1e9, 1, 0]);
      expect(await (b as tf.Tensor).array()).toEqual([0, -1e9, -1e9, -1e9, 1, 0]);
      tf.dispose([a, b]);
    });
    tf.dispose([bool, add]);
  });
});
