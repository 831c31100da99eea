import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';

import { ConfigError, ShapeError } from '@ml/core';
import { TEST_BACKENDS, expectNoTensorLeak, onBackend } from '@ml/core/testing';

import { ArrayDataset, Dataset, TensorDataset } from './dataset.js';

describe('Dataset views', () => {
  const base = new ArrayDataset([10, 11, 12, 13]);

  it('map, subset and concat are lazy views with the right items', () => {
    const doubled = base.map((x, i) => x * 2 + i);
    expect([...doubled]).toEqual([20, 23, 26, 29]);
    const sub = base.subset([3, 0, 3]);
    expect(sub.length).toBe(3);
    expect([...sub]).toEqual([13, 10, 13]);
    const joined = base.concat(new ArrayDataset<number>([]), new ArrayDataset([99]));
    expect(joined.length).toBe(5);
    expect([...joined]).toEqual([10, 11, 12, 13, 99]);
    expect(joined.get(4)).toBe(99);
  });

  it('Dataset.from wraps any { length, get }', () => {
    const ds = Dataset.from({ length: 2, get: (i: number) => `item ${i}` });
    expect(ds.subset([1]).get(0)).toBe('item 1');
    expect(Dataset.from(base)).toBe(base);
  });

  it('rejects bad indices with ConfigError naming the view', () => {
    expect(() => base.get(4)).toThrow(ConfigError);
    expect(() => base.get(4)).toThrow('ArrayDataset: index must be an integer in [0, 4), got 4');
    expect(() => base.subset([0, 7])).toThrow(
      'Dataset.subset: indices[1] must be an integer in [0, 4), got 7',
    );
    expect(() => base.map((x) => x).get(-1)).toThrow(
      'Dataset.map: index must be an integer in [0, 4), got -1',
    );
    expect(() => base.concat(base).get(8)).toThrow(
      'Dataset.concat: index must be an integer in [0, 8), got 8',
    );
  });
});

for (const backend of TEST_BACKENDS) {
  describe(`TensorDataset (${backend})`, () => {
    beforeAll(() => onBackend(backend));

    it('get returns owned slices and getBatch gathers in one go', async () => {
      const x = tf.tensor2d([
        [0, 1],
        [2, 3],
        [4, 5],
      ]);
      const y = tf.tensor1d([7, 8, 9], 'int32');
      const ds = new TensorDataset([x, y]);
      expect(ds.length).toBe(3);
      const item = await expectNoTensorLeak(() => ds.get(1), 2);
      expect(item[0]?.shape).toEqual([2]);
      expect(await item[0]?.array()).toEqual([2, 3]);
      expect(await item[1]?.array()).toBe(8);
      tf.dispose(item);
      const batch = await expectNoTensorLeak(() => ds.getBatch([2, 0]), 2);
      expect(await batch[0]?.array()).toEqual([
        [4, 5],
        [0, 1],
      ]);
      expect(batch[1]?.dtype).toBe('int32');
      expect(await batch[1]?.array()).toEqual([9, 7]);
      tf.dispose(batch);
      // A subset keeps the fast path and maps its indices.
      const sub = ds.subset([2, 1]);
      const subBatch = (sub as unknown as { getBatch(i: number[]): tf.Tensor[] }).getBatch([1]);
      expect(await subBatch[1]?.array()).toEqual([8]);
      tf.dispose(subBatch);
      ds.dispose();
      expect(x.isDisposed && y.isDisposed).toBe(true);
    });

    it('rejects tensors with different first dims', () => {
      const a = tf.zeros([3, 2]);
      const b = tf.zeros([4]);
      expect(() => new TensorDataset([a, b])).toThrow(ShapeError);
      expect(() => new TensorDataset([a, b])).toThrow(
        'TensorDataset: every tensor must have the same first dim (3), tensors[1] has shape [4]',
      );
      expect(() => new TensorDataset([])).toThrow('TensorDataset: needs at least one tensor, got none');
      tf.dispose([a, b]);
    });
  });
}
