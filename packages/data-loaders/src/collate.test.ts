import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';

import { DataError } from '@ml/core';
import { onBackend } from '@ml/core/testing';

import { defaultCollate } from './collate.js';

describe('defaultCollate', () => {
  beforeAll(() => onBackend('cpu'));

  it('stacks tensors, numbers, typed arrays; keeps strings; recurses into tuples and objects', async () => {
    const items = [
      { x: Float32Array.of(1, 2), y: 3, name: 'a', t: [tf.tensor1d([1, 1]), 0.5] as const },
      { x: Float32Array.of(3, 4), y: 4, name: 'b', t: [tf.tensor1d([2, 2]), 1.5] as const },
    ];
    const before = tf.memory().numTensors;
    const batch = defaultCollate(items);
    expect(tf.memory().numTensors - before).toBe(4); // x, y, t[0], t[1]
    expect(batch.x.shape).toEqual([2, 2]);
    expect(batch.x.dtype).toBe('float32');
    expect(await batch.x.array()).toEqual([
      [1, 2],
      [3, 4],
    ]);
    expect(batch.y.dtype).toBe('int32');
    expect(await batch.y.array()).toEqual([3, 4]);
    expect(batch.name).toEqual(['a', 'b']);
    expect(await batch.t[0].array()).toEqual([
      [1, 1],
      [2, 2],
    ]);
    expect(batch.t[1].dtype).toBe('float32');
    expect(await batch.t[1].array()).toEqual([0.5, 1.5]);
    tf.dispose([batch.x, batch.y, batch.t[0], batch.t[1], items[0]!.t[0], items[1]!.t[0]]);
  });

  it('int typed arrays give int32', () => {
    const b = defaultCollate([Int32Array.of(1), Int32Array.of(2)]);
    expect(b.dtype).toBe('int32');
    b.dispose();
  });

  it('mismatched items are a DataError naming the item and the path', () => {
    const a = tf.zeros([2]);
    const b = tf.zeros([3]);
    expect(() =>
      defaultCollate([
        [a, 1],
        [b, 2],
      ]),
    ).toThrow(DataError);
    expect(() =>
      defaultCollate([
        [a, 1],
        [b, 2],
      ]),
    ).toThrow('defaultCollate: item 1[0] must be a float32 tensor [2] like item 0, got a float32 tensor [3]');
    expect(() => defaultCollate([{ v: 1 }, { w: 2 }])).toThrow(
      'defaultCollate: item 1 must be an object with keys v like item 0',
    );
    expect(() => defaultCollate([])).toThrow('defaultCollate: needs at least one item, got 0');
    expect(() => defaultCollate([null])).toThrow(
      'defaultCollate: item 0 is null; expected a tensor, number, boolean, typed array, string, array or plain object',
    );
    tf.dispose([a, b]);
  });
});
