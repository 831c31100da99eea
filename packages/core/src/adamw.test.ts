import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, test } from 'vitest';

import { AdamW } from './adamw.js';
import {
  TEST_BACKENDS,
  expectNoTensorLeak,
  expectTensorsClose,
  loadFixture,
  onBackend,
} from './testing/index.js';

const fixtureUrl = (name: string) => new URL(`../fixtures/${name}.safetensors`, import.meta.url);

for (const backend of TEST_BACKENDS) {
  describe(`AdamW on ${backend}`, () => {
    beforeAll(() => onBackend(backend));

    for (const name of ['optim-adamw', 'optim-adamw-amsgrad']) {
      test(`${name}: 4 steps match PyTorch within 1e-5`, async () => {
        const f = await loadFixture(fixtureUrl(name));
        const options = JSON.parse(f.metadata.options as string) as {
          type: string;
          lr: number;
          weightDecay?: number;
          amsgrad?: boolean;
        };
        expect(options.type).toBe('AdamW');
        const params = { weight: tf.variable(f.get('init.weight')), bias: tf.variable(f.get('init.bias')) };
        const opt = new AdamW(Object.entries(params), options);
        for (let k = 0; k < Number(f.metadata.steps); k++) {
          opt.step({ weight: f.get(`grad.${k}.weight`), bias: f.get(`grad.${k}.bias`) });
          for (const [p, v] of Object.entries(params))
            expectTensorsClose(v, f.get(`after.${k}.${p}`), { atol: 1e-5, label: `${name} step ${k} ${p}` });
        }
        opt.dispose();
        tf.dispose(Object.values(params));
        f.dispose();
      });
    }

    test('weight decay is decoupled: a zero gradient still shrinks the weights by (1 − lr·wd)', async () => {
      const w = tf.variable(tf.tensor1d([1, -2, 4]));
      const g = tf.zeros([3]);
      const opt = new AdamW([['w', w]], { lr: 0.1, weightDecay: 0.5 });
      await expectNoTensorLeak(() => opt.step({ w: g }), 2);
      expectTensorsClose(w, [0.95, -1.9, 3.8], 1e-6);
      await expectNoTensorLeak(() => opt.step({ w: g }));
      opt.dispose();
      tf.dispose([w, g]);
    });

    test('weightDecayFilter: only the parameters it accepts decay (asked once per name)', () => {
      const w = tf.variable(tf.tensor2d([1, -2, 4, 8], [2, 2]));
      const b = tf.variable(tf.tensor1d([1, -2]));
      const asked: string[] = [];
      const opt = new AdamW(
        [
          ['w', w],
          ['b', b],
        ],
        {
          lr: 0.1,
          weightDecay: 0.5,
          weightDecayFilter: (name, p) => {
            asked.push(name);
            return p.rank >= 2;
          },
        },
      );
      const zeros = { w: tf.zeros([2, 2]), b: tf.zeros([2]) };
      opt.step(zeros);
      opt.step(zeros);
      expectTensorsClose(tf.reshape(w, [4]), [0.9025, -1.805, 3.61, 7.22], 1e-6); // shrunk twice by 0.95
      expectTensorsClose(b, [1, -2], 0); // untouched: zero gradient, no decay
      expect(asked).toEqual(['w', 'b']);
      opt.dispose();
      tf.dispose([w, b, ...Object.values(zeros)]);
    });
  });
}

describe('AdamW options', () => {
  test("defaults are PyTorch's (weight decay 0.01)", async () => {
    await onBackend('cpu');
    const w = tf.variable(tf.zeros([1]));
    const opt = new AdamW([['w', w]]);
    expect(opt.kind).toBe('AdamW');
    expect(opt.lr).toBe(1e-3);
    expect(opt.stateDict().state.hyperparameters).toEqual({
      beta1: 0.9,
      beta2: 0.999,
      eps: 1e-8,
      weightDecay: 0.01,
      amsgrad: false,
    });
    w.dispose();
  });
});
