import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, test } from 'vitest';

import { expectParity, expectThrows, fixture, forwardAndGrads, sgdStep } from '../test/helpers.js';
import { BatchNorm1d, BatchNorm2d } from './batch-norm.js';
import { ConfigError, ShapeError } from './errors.js';
import { init } from './init.js';
import { Rng } from './rng.js';
import { TEST_BACKENDS, expectNoTensorLeak, expectTensorsClose, onBackend } from './testing/index.js';

for (const backend of TEST_BACKENDS) {
  describe(`BatchNorm on ${backend}`, () => {
    beforeAll(() => onBackend(backend));

    test('BatchNorm2d matches PyTorch: train output, gradients, running stats after; then eval output', async () => {
      const f = await fixture('batch-norm2d');
      const bn = new BatchNorm2d({ numFeatures: 3 });
      bn.loadStateDict(f.group('before.'));
      const { out, grads } = forwardAndGrads(bn, f.get('x'), f.get('dy'), (x) => bn.forward(x));
      expectParity('batch-norm2d train out', out, f.get('out'));
      expectParity('batch-norm2d grad.input', grads['input'] as tf.Tensor, f.get('grad.input'));
      expectParity('batch-norm2d grad.weight', grads['weight'] as tf.Tensor, f.get('grad.weight'));
      expectParity('batch-norm2d grad.bias', grads['bias'] as tf.Tensor, f.get('grad.bias'));
      const after = f.group('after.');
      expectParity(
        'batch-norm2d running_mean',
        bn.runningMean as tf.Variable,
        after['running_mean'] as tf.Tensor,
      );
      expectParity(
        'batch-norm2d running_var',
        bn.runningVar as tf.Variable,
        after['running_var'] as tf.Tensor,
      );
      expect(bn.numBatchesTracked?.dtype).toBe('int32');
      expect(bn.numBatchesTracked?.shape).toEqual([]);
      expect(Array.from((bn.numBatchesTracked as tf.Variable).dataSync())).toEqual(
        Array.from(f.get('after.num_batches_tracked').dataSync()),
      );
      bn.eval();
      const evalOut = bn.forward(f.get('eval.x'));
      expectParity('batch-norm2d eval out', evalOut, f.get('eval.out'));
      tf.dispose([out, evalOut, ...Object.values(grads)]);
      bn.dispose();
      f.dispose();
    });

    test('BatchNorm1d on [N, L, C] matches PyTorch (momentum 0.3): output, gradients and running stats', async () => {
      const f = await fixture('batch-norm1d');
      const bn = new BatchNorm1d({ numFeatures: 4, momentum: 0.3 });
      bn.loadStateDict(f.group('before.'));
      const { out, grads } = forwardAndGrads(bn, f.get('x'), f.get('dy'), (x) => bn.forward(x));
      expectParity('batch-norm1d train out', out, f.get('out'));
      expectParity('batch-norm1d grad.input', grads['input'] as tf.Tensor, f.get('grad.input'));
      expectParity('batch-norm1d grad.weight', grads['weight'] as tf.Tensor, f.get('grad.weight'));
      expectParity('batch-norm1d grad.bias', grads['bias'] as tf.Tensor, f.get('grad.bias'));
      expectParity('batch-norm1d running_mean', bn.runningMean as tf.Variable, f.get('after.running_mean'));
      expectParity('batch-norm1d running_var', bn.runningVar as tf.Variable, f.get('after.running_var'));
      tf.dispose([out, ...Object.values(grads)]);
      bn.dispose();
      f.dispose();
    });

    test('forward (train and eval) and a training step leak no tensors; the step lowers the loss', async () => {
      const bn = new BatchNorm2d({ numFeatures: 2 });
      const x = init.normal(new Rng(3), [4, 3, 3, 2], 1, 2);
      const target = init.normal(new Rng(4), [4, 3, 3, 2]);
      await expectNoTensorLeak(() => bn.forward(x).dispose());
      bn.eval();
      await expectNoTensorLeak(() => bn.forward(x).dispose());
      bn.train();
      const loss = () => tf.mean<tf.Scalar>(tf.square(tf.sub(bn.forward(x), target)));
      const first = await expectNoTensorLeak(() => sgdStep(bn, loss, 0.5));
      expect(sgdStep(bn, loss, 0.5)).toBeLessThan(first);
      tf.dispose([x, target]);
      bn.dispose();
    });
  });
}

describe('BatchNorm', () => {
  beforeAll(() => onBackend('cpu'));

  test('train mode normalises with batch statistics; eval with the running ones', () => {
    const bn = new BatchNorm1d({ numFeatures: 1, momentum: 0.5 });
    const x = tf.tensor2d([[1], [3]]); // mean 2, biased var 1, unbiased var 2
    expectTensorsClose(
      bn.forward(x),
      tf.tensor2d([[-1 / Math.sqrt(1 + 1e-5)], [1 / Math.sqrt(1 + 1e-5)]]),
      1e-6,
    );
    expectTensorsClose(bn.runningMean as tf.Variable, [1], 1e-6); // 0.5·0 + 0.5·2
    expectTensorsClose(bn.runningVar as tf.Variable, [1.5], 1e-6); // 0.5·1 + 0.5·2 (unbiased)
    bn.eval();
    expectTensorsClose(bn.forward(x), tf.tensor2d([[0], [2 / Math.sqrt(1.5 + 1e-5)]]), 1e-6);
    expectTensorsClose(bn.runningMean as tf.Variable, [1], 1e-6); // eval leaves the stats alone
  });

  test('momentum null keeps a cumulative average', () => {
    const bn = new BatchNorm1d({ numFeatures: 1, momentum: null });
    bn.forward(tf.tensor2d([[1], [3]])); // batch mean 2
    bn.forward(tf.tensor2d([[5], [7]])); // batch mean 6
    bn.forward(tf.tensor2d([[0], [2]])); // batch mean 1
    expectTensorsClose(bn.runningMean as tf.Variable, [3], 1e-6);
    expect(Array.from((bn.numBatchesTracked as tf.Variable).dataSync())).toEqual([3]);
  });

  test('the running-stat update is not recorded on the gradient tape', () => {
    const bn = new BatchNorm2d({ numFeatures: 2 });
    const x = tf.variable(init.normal(new Rng(1), [2, 2, 2, 2]));
    let taped: tf.Tensor[] = [];
    tf.variableGrads(() => {
      const y = bn.forward(x);
      const tape = tf.engine().state.activeTape;
      taped = tape.flatMap((node) => node.outputs);
      return tf.sum(y);
    }, [x]);
    const ids = taped.map((t) => t.dataId);
    for (const buffer of [bn.runningMean, bn.runningVar, bn.numBatchesTracked] as tf.Variable[]) {
      expect(ids).not.toContain(buffer.dataId);
    }
    // Control: the output path itself is on the tape.
    expect(taped.length).toBeGreaterThan(3);
  });

  test('state dict names match PyTorch; affine and trackRunningStats can be turned off', () => {
    expect(Object.keys(new BatchNorm2d({ numFeatures: 3 }).stateDict())).toEqual([
      'weight',
      'bias',
      'running_mean',
      'running_var',
      'num_batches_tracked',
    ]);
    const plain = new BatchNorm2d({ numFeatures: 3, affine: false, trackRunningStats: false });
    expect(Object.keys(plain.stateDict())).toEqual([]);
    // Without running stats, eval mode also normalises with the batch statistics.
    plain.eval();
    const y = plain.forward(tf.tensor4d([1, 2, 3, 5, 6, 7], [2, 1, 1, 3]));
    expectTensorsClose(y, tf.tensor4d([-1, -1, -1, 1, 1, 1], [2, 1, 1, 3]), 1e-4);
  });

  test('rejects inputs of the wrong shape', () => {
    expectThrows(
      () => new BatchNorm2d({ numFeatures: 3 }).forward(tf.zeros([2, 3, 4, 4])),
      ShapeError,
      'BatchNorm2d: input must be [N, H, W, 3] (NHWC), got [2, 3, 4, 4]',
    );
    expectThrows(
      () => new BatchNorm1d({ numFeatures: 3 }).forward(tf.zeros([2, 3, 4])),
      ShapeError,
      'BatchNorm1d: input must be [N, 3] or [N, L, 3] (channels last), got [2, 3, 4]',
    );
    expectThrows(
      () => new BatchNorm1d({ numFeatures: 3 }).forward(tf.zeros([1, 3])),
      ShapeError,
      'BatchNorm1d: training needs more than 1 value per channel, got input [1, 3]',
    );
    expect(new BatchNorm1d({ numFeatures: 3 }).eval().forward(tf.zeros([1, 3])).shape).toEqual([1, 3]);
  });

  test('rejects invalid options', () => {
    expectThrows(
      () => new BatchNorm2d({ numFeatures: 0 }),
      ConfigError,
      'BatchNorm2d: numFeatures must be a positive integer, got 0',
    );
    expectThrows(
      () => new BatchNorm1d({ numFeatures: 2, momentum: 1.5 }),
      ConfigError,
      'BatchNorm1d: momentum must be in [0, 1] or null, got 1.5',
    );
    expectThrows(
      () => new BatchNorm1d({ numFeatures: 2, eps: -1 }),
      ConfigError,
      'BatchNorm1d: eps must be a finite number ≥ 0, got -1',
    );
  });
});
