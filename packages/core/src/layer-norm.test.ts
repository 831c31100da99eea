import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, test } from 'vitest';

import { expectParity, expectThrows, fixture, forwardAndGrads, sgdStep } from '../test/helpers.js';
import { ConfigError, ShapeError } from './errors.js';
import { LayerNorm } from './layer-norm.js';
import { init } from './init.js';
import { enableJsKernelsForTest } from './internal/kernels/js-kernel.js';
import { Rng } from './rng.js';
import { TEST_BACKENDS, expectNoTensorLeak, expectTensorsClose, onBackend } from './testing/index.js';

for (const backend of TEST_BACKENDS) {
  describe(`LayerNorm on ${backend}`, () => {
    beforeAll(() => onBackend(backend));

    test('matches PyTorch: output, input and parameter gradients', async () => {
      const f = await fixture('layer-norm');
      const norm = new LayerNorm({ normalizedShape: 6 });
      norm.loadStateDict({ weight: f.get('weight'), bias: f.get('bias') });
      const { out, grads } = forwardAndGrads(norm, f.get('x'), f.get('dy'), (x) => norm.forward(x));
      expectParity('layer-norm out', out, f.get('out'));
      expectParity('layer-norm grad.input', grads['input'] as tf.Tensor, f.get('grad.input'));
      expectParity('layer-norm grad.weight', grads['weight'] as tf.Tensor, f.get('grad.weight'));
      expectParity('layer-norm grad.bias', grads['bias'] as tf.Tensor, f.get('grad.bias'));
      tf.dispose([out, ...Object.values(grads)]);
      norm.dispose();
      f.dispose();
    });

    test('the fused kernels (MlLayerNorm, MlLayerNormGrad) equal the op-level form: output and all gradients', () => {
      const norm = new LayerNorm({ normalizedShape: [3, 4], eps: 1e-3 });
      norm.loadStateDict({ weight: init.normal(new Rng(5), [3, 4]), bias: init.normal(new Rng(6), [3, 4]) });
      const x = init.normal(new Rng(7), [2, 5, 3, 4]);
      const dy = init.normal(new Rng(8), [2, 5, 3, 4]);
      const run = (fused: boolean) => {
        enableJsKernelsForTest(fused);
        try {
          return forwardAndGrads(norm, x, dy, (v) => norm.forward(v));
        } finally {
          enableJsKernelsForTest(true);
        }
      };
      const fused = run(true);
      const ops = run(false);
      expectTensorsClose(fused.out, ops.out, { atol: 1e-5, label: 'out' });
      for (const k of ['input', 'weight', 'bias'])
        expectTensorsClose(fused.grads[k] as tf.Tensor, ops.grads[k] as tf.Tensor, {
          atol: 1e-5,
          label: `grad ${k}`,
        });
      tf.dispose([x, dy, fused.out, ops.out, ...Object.values(fused.grads), ...Object.values(ops.grads)]);
      norm.dispose();
    });

    test('forward and a training step leak no tensors; the step lowers the loss', async () => {
      const norm = new LayerNorm({ normalizedShape: 4 });
      const x = init.normal(new Rng(1), [3, 4]);
      const y = init.normal(new Rng(2), [3, 4]);
      await expectNoTensorLeak(() => norm.forward(x).dispose());
      const loss = () => tf.mean<tf.Scalar>(tf.square(tf.sub(norm.forward(x), y)));
      const first = await expectNoTensorLeak(() => sgdStep(norm, loss, 0.3));
      expect(sgdStep(norm, loss, 0.3)).toBeLessThan(first);
      tf.dispose([x, y]);
      norm.dispose();
    });
  });
}

describe('LayerNorm', () => {
  beforeAll(() => onBackend('cpu'));

  test('normalises the trailing axes with the biased variance', () => {
    const y = new LayerNorm({ normalizedShape: 2, eps: 0 }).forward(
      tf.tensor2d([
        [1, 3],
        [10, 10.5],
      ]),
    );
    expectTensorsClose(
      y,
      tf.tensor2d([
        [-1, 1],
        [-1, 1],
      ]),
      1e-5,
    );
    const y2 = new LayerNorm({ normalizedShape: [2, 2], elementwiseAffine: false }).forward(
      tf.tensor3d([
        [
          [1, 2],
          [3, 4],
        ],
      ]),
    );
    const s = Math.sqrt(1.25 + 1e-5);
    expectTensorsClose(
      y2,
      tf.tensor3d([
        [
          [-1.5 / s, -0.5 / s],
          [0.5 / s, 1.5 / s],
        ],
      ]),
      1e-5,
    );
    expect(new LayerNorm({ normalizedShape: 2, elementwiseAffine: false }).parameters()).toHaveLength(0);
  });

  test('rejects inputs that do not end with normalizedShape, and bad options', () => {
    const norm = new LayerNorm({ normalizedShape: [2, 3] });
    expectThrows(
      () => norm.forward(tf.zeros([4, 3, 2])),
      ShapeError,
      'LayerNorm: input must end with [2, 3], got [4, 3, 2]',
    );
    expectThrows(
      () => norm.forward(tf.zeros([3])),
      ShapeError,
      'LayerNorm: input must end with [2, 3], got [3]',
    );
    expectThrows(
      () => new LayerNorm({ normalizedShape: 4, eps: -1 }),
      ConfigError,
      'LayerNorm: eps must be a finite number ≥ 0, got -1',
    );
    expectThrows(
      () => new LayerNorm({ normalizedShape: [4, 0] }),
      ConfigError,
      'LayerNorm: normalizedShape[1] must be a positive integer, got 0',
    );
  });
});
