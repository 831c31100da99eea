import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, test } from 'vitest';

import { sgdStep } from '../test/helpers.js';
import { ReLU } from './activations.js';
import { Linear } from './linear.js';
import { ModuleList, Sequential } from './sequential.js';
import { Rng } from './rng.js';
import { TEST_BACKENDS, expectNoTensorLeak, expectTensorsClose, onBackend } from './testing/index.js';

for (const backend of TEST_BACKENDS) {
  describe(`Sequential on ${backend}`, () => {
    beforeAll(() => onBackend(backend));

    test('a 2-layer MLP trains (loss falls 20× in 40 steps) with no tensor leaks', async () => {
      const rng = new Rng(0);
      const mlp = new Sequential([
        new Linear({ inFeatures: 2, outFeatures: 16, rng }),
        new ReLU(),
        new Linear({ inFeatures: 16, outFeatures: 1, rng }),
      ]);
      const x = tf.tensor2d([
        [0, 0],
        [0, 1],
        [1, 0],
        [1, 1],
      ]);
      const y = tf.tensor2d([[0], [1], [1], [0]]); // XOR
      await expectNoTensorLeak(() => mlp.forward(x).dispose());
      const loss = () => tf.mean<tf.Scalar>(tf.square(tf.sub(mlp.forward(x), y)));
      const first = await expectNoTensorLeak(() => sgdStep(mlp, loss, 0.5));
      let last = first;
      for (let i = 0; i < 40; i++) last = sgdStep(mlp, loss, 0.5);
      expect(last).toBeLessThan(first / 20);
      tf.dispose([x, y]);
      mlp.dispose();
    });
  });
}

describe('Sequential and ModuleList', () => {
  beforeAll(() => onBackend('cpu'));

  test('Sequential applies layers in order; children are named 0, 1, … like torch.nn.Sequential', () => {
    const a = new Linear({ inFeatures: 1, outFeatures: 1 });
    const b = new Linear({ inFeatures: 1, outFeatures: 1 });
    a.loadStateDict({ weight: tf.tensor2d([[2]]), bias: tf.tensor1d([1]) });
    b.loadStateDict({ weight: tf.tensor2d([[3]]), bias: tf.tensor1d([0]) });
    const seq = new Sequential([a, new ReLU(), b]);
    expectTensorsClose(seq.forward(tf.tensor2d([[1], [-5]])), tf.tensor2d([[9], [0]]), 0); // 3·relu(2x + 1)
    expect(Object.keys(seq.stateDict())).toEqual(['0.weight', '0.bias', '2.weight', '2.bias']);
    expect(seq.layers).toHaveLength(3);
  });

  test('ModuleList registers its items by index and has a length', () => {
    const list = new ModuleList([
      new Linear({ inFeatures: 2, outFeatures: 2 }),
      new Linear({ inFeatures: 2, outFeatures: 3 }),
    ]);
    expect(list.length).toBe(2);
    expect(list.namedParameters().map(([n]) => n)).toEqual(['0.weight', '0.bias', '1.weight', '1.bias']);
    expect(list.items[1]?.outFeatures).toBe(3);
  });
});
