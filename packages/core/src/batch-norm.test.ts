import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, test } from 'vitest';

import { expectParity, expectThrows, fixture, forwardAndGrads, sgdStep } from '../test/helpers.js';
import { BatchNorm1d, BatchNorm2d, type BatchNorm } from './batch-norm.js';
import { ConfigError, ShapeError } from './errors.js';
import { init } from './init.js';
import { enableJsKernelsForTest } from './internal/kernels/js-kernel.js';
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

    // C = 3: the JS path everywhere; C = 4, 8, 64 (and 72: two trips of the SIMD channel loop): SIMD on
    // wasm. 105 rows (3·5·7) cover whole and partial blocks of the SIMD column sums.
    test('the fused kernels (MlBatchNorm, MlBatchNormGrad) equal the op-level form: output, all gradients, running stats', async () => {
      const cases: { shape: number[]; affine: boolean }[] = [];
      for (const c of [3, 4, 8, 64])
        for (const affine of [true, false])
          for (const lead of [[6], [3, 5], [3, 5, 7]]) cases.push({ shape: [...lead, c], affine });
      cases.push({ shape: [40, 72], affine: true });
      for (const { shape, affine } of cases) {
        const c = shape[shape.length - 1]!;
        const where = `[${shape.join(', ')}], affine ${affine}`;
        const x = init.normal(new Rng(c), shape, 2, 3); // off-centre: the mean matters
        const dy = init.normal(new Rng(c + 1), shape);
        const state = {
          weight: init.normal(new Rng(c + 2), [c], 1, 0.5),
          bias: init.normal(new Rng(c + 3), [c]),
        };
        const run = (fused: boolean) => {
          const opts = { numFeatures: c, affine, momentum: 0.3 };
          const bn: BatchNorm = shape.length === 4 ? new BatchNorm2d(opts) : new BatchNorm1d(opts);
          bn.loadStateDict(affine ? state : {}, { strict: false });
          enableJsKernelsForTest(fused);
          try {
            return { bn, ...forwardAndGrads(bn, x, dy, (v) => bn.forward(v)) };
          } finally {
            enableJsKernelsForTest(true);
          }
        };
        const fused = run(true);
        const ops = run(false);
        const close = { atol: 1e-5, rtol: 1e-5 };
        expectTensorsClose(fused.out, ops.out, { ...close, label: `${where}: out` });
        for (const k of affine ? ['input', 'weight', 'bias'] : ['input'])
          expectTensorsClose(fused.grads[k] as tf.Tensor, ops.grads[k] as tf.Tensor, {
            ...close,
            label: `${where}: grad ${k}`,
          });
        expect(Object.keys(fused.grads).sort()).toEqual(Object.keys(ops.grads).sort());
        for (const k of ['runningMean', 'runningVar'] as const)
          expectTensorsClose(fused.bn[k] as tf.Variable, ops.bn[k] as tf.Variable, {
            ...close,
            label: `${where}: ${k}`,
          });
        tf.dispose([x, dy, fused.out, ops.out, ...Object.values(fused.grads), ...Object.values(ops.grads)]);
        tf.dispose(Object.values(state));
        fused.bn.dispose();
        ops.bn.dispose();
      }
      // Control: training mode runs the fused kernels (eval mode, with running stats, does not).
      const bn = new BatchNorm2d({ numFeatures: 8 });
      const x = init.normal(new Rng(1), [2, 3, 3, 8]);
      const kernels = async () => (await tf.profile(() => bn.forward(x))).kernelNames;
      expect(await kernels()).toContain('MlBatchNorm');
      bn.eval();
      expect(await kernels()).not.toContain('MlBatchNorm');
      tf.dispose(x);
      bn.dispose();
    });

    test('fused forward + backward leak no tensors (affine, not affine; JS and SIMD channel counts)', async () => {
      for (const [c, affine] of [
        [3, true],
        [8, true],
        [8, false],
      ] as const) {
        const bn = new BatchNorm2d({ numFeatures: c, affine });
        const x = tf.variable(init.normal(new Rng(2), [2, 3, 3, c]));
        const dy = init.normal(new Rng(3), [2, 3, 3, c]);
        await expectNoTensorLeak(() => {
          const { value, grads } = tf.variableGrads(
            () => tf.sum<tf.Scalar>(tf.mul(bn.forward(x), dy)),
            [x, ...bn.trainableParameters()],
          );
          expect(Object.keys(grads)).toHaveLength(affine ? 3 : 1);
          tf.dispose([value, ...Object.values(grads)]);
        });
        tf.dispose([x, dy]);
        bn.dispose();
      }
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

  for (const fused of [true, false]) {
    test(`the running-stat update is not recorded on the gradient tape (${fused ? 'fused kernels' : 'op level'})`, () => {
      const bn = new BatchNorm2d({ numFeatures: 2 });
      const x = tf.variable(init.normal(new Rng(1), [2, 2, 2, 2]));
      let taped: tf.Tensor[] = [];
      let y: tf.Tensor | null = null;
      enableJsKernelsForTest(fused);
      try {
        const { value, grads } = tf.variableGrads(() => {
          y = bn.forward(x);
          const tape = tf.engine().state.activeTape;
          taped = tape.flatMap((node) => node.outputs);
          return tf.sum(y);
        }, [x]);
        tf.dispose([value, ...Object.values(grads)]);
      } finally {
        enableJsKernelsForTest(true);
      }
      const ids = taped.map((t) => t.dataId);
      for (const buffer of [bn.runningMean, bn.runningVar, bn.numBatchesTracked] as tf.Variable[]) {
        expect(ids).not.toContain(buffer.dataId);
      }
      // Control: the output itself is on the tape.
      expect(ids).toContain((y as unknown as tf.Tensor).dataId);
      expect(Array.from((bn.numBatchesTracked as tf.Variable).dataSync())).toEqual([1]);
      tf.dispose([x, y as unknown as tf.Tensor]);
      bn.dispose();
    });
  }

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
