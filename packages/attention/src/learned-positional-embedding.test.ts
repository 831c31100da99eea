import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, test } from 'vitest';

import { TEST_BACKENDS, expectNoTensorLeak, onBackend } from '@ml/core/testing';

import { LearnedPositionalEmbedding } from './learned-positional-embedding.js';

for (const backend of TEST_BACKENDS) {
  describe(`LearnedPositionalEmbedding on ${backend}`, () => {
    beforeAll(() => onBackend(backend));

    test('LearnedPositionalEmbedding: weight [maxLength, D], adds rows by position, trains only the rows used', async () => {
      const pos = new LearnedPositionalEmbedding({ dim: 4, maxLength: 6, seed: 1 });
      expect(pos.namedParameters().map(([n, v]) => [n, v.shape])).toEqual([['weight', [6, 4]]]);
      const w = (await pos.weight.array()) as number[][];
      const std = Math.sqrt(w.flat().reduce((s, v) => s + v * v, 0) / 24);
      expect(std).toBeGreaterThan(0.01);
      expect(std).toBeLessThan(0.04);
      const x = tf.zeros([2, 3, 4]);
      const y = await pos.forward(x, { offset: 2 }).array();
      expect(y[1]?.[0]).toEqual(w[2]);
      const { value, grads } = tf.variableGrads(() => tf.sum<tf.Scalar>(pos.forward(x, { offset: 2 })));
      const g = (await (grads[pos.weight.name] as tf.Tensor).array()) as number[][];
      expect(g.map((row) => row[0])).toEqual([0, 0, 2, 2, 2, 0]);
      expect(() => pos.forward(x, { offset: 4 })).toThrow(
        'LearnedPositionalEmbedding: positions 4…6 of input [2, 3, 4] exceed maxLength 6',
      );
      tf.dispose([x, value, ...Object.values(grads)]);
      pos.dispose();
    });

    test('no tensor leaks', async () => {
      const pos = new LearnedPositionalEmbedding({ dim: 4, maxLength: 8, dropout: 0.1 });
      const x = tf.ones([2, 3, 4]);
      await expectNoTensorLeak(() => tf.dispose(pos.forward(x)));
      await expectNoTensorLeak(() => {
        const { value, grads } = tf.variableGrads(() => tf.sum<tf.Scalar>(pos.forward(x)));
        tf.dispose([value, ...Object.values(grads)]);
      });
      x.dispose();
      pos.dispose();
    });
  });
}
