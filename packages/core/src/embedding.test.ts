import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, test } from 'vitest';

import { expectParity, expectRejects, expectThrows, fixture, sgdStep } from '../test/helpers.js';
import { Embedding } from './embedding.js';
import { ConfigError, DataError, ShapeError } from './errors.js';
import { TEST_BACKENDS, expectNoTensorLeak, expectTensorsClose, onBackend } from './testing/index.js';

for (const backend of TEST_BACKENDS) {
  describe(`Embedding on ${backend}`, () => {
    beforeAll(() => onBackend(backend));

    test('matches PyTorch with padding_idx: output and weight gradient (padding row gets none)', async () => {
      const f = await fixture('embedding');
      const emb = new Embedding({ numEmbeddings: 7, embeddingDim: 4, paddingIdx: 2 });
      emb.loadStateDict({ weight: f.get('weight') });
      const ids = f.get('ids');
      const out = emb.forward(ids);
      expectParity('embedding out', out, f.get('out'));
      const { value, grads } = tf.variableGrads(
        () => tf.sum(tf.mul(emb.forward(ids), f.get('dy'))),
        [emb.weight],
      );
      expectParity('embedding grad.weight', grads[emb.weight.name] as tf.Tensor, f.get('grad.weight'));
      tf.dispose([out, value, grads]);
      emb.dispose();
      f.dispose();
    });

    test('forward and a training step leak no tensors; training lowers the loss', async () => {
      const emb = new Embedding({ numEmbeddings: 5, embeddingDim: 3, paddingIdx: 0, seed: 1 });
      const ids = tf.tensor2d(
        [
          [1, 2, 0],
          [4, 4, 3],
        ],
        undefined,
        'int32',
      );
      await expectNoTensorLeak(() => emb.forward(ids).dispose());
      await expectNoTensorLeak(() => emb.forward([[1, 2, 0]]).dispose());
      const loss = () => tf.mean<tf.Scalar>(tf.square(tf.sub(emb.forward(ids), 1)));
      const first = await expectNoTensorLeak(() => sgdStep(emb, loss, 0.5));
      for (let i = 0; i < 5; i++) sgdStep(emb, loss, 0.5);
      expect(sgdStep(emb, loss, 0.5)).toBeLessThan(first * 0.5);
      // The padding row neither trained nor moved.
      expectTensorsClose(tf.slice(emb.weight, [0, 0], [1, 3]), tf.zeros([1, 3]), 0);
      ids.dispose();
      emb.dispose();
    });

    test('tensor ids out of range are a DataError naming the input and the range, leaking nothing', async () => {
      const emb = new Embedding({ numEmbeddings: 8, embeddingDim: 2, paddingIdx: 0, seed: 1 });
      const ids = tf.tensor2d([[1, 99]], undefined, 'int32');
      await expectNoTensorLeak(() =>
        expectThrows(
          () => emb.forward(ids),
          DataError,
          'Embedding: id 99 is out of range [0, 8) (numEmbeddings 8)',
        ),
      );
      ids.dispose();
      emb.dispose();
    });
  });
}

describe('Embedding', () => {
  beforeAll(() => onBackend('cpu'));

  test('looks up rows: [...] ids → [..., D], from tensors or plain arrays', () => {
    const emb = new Embedding({ numEmbeddings: 3, embeddingDim: 2 });
    emb.loadStateDict({
      weight: tf.tensor2d([
        [0, 1],
        [10, 11],
        [20, 21],
      ]),
    });
    expectTensorsClose(
      emb.forward(tf.tensor1d([2, 0], 'int32')),
      tf.tensor2d([
        [20, 21],
        [0, 1],
      ]),
      0,
    );
    expectTensorsClose(emb.forward([[1], [2]]), tf.tensor3d([[[10, 11]], [[20, 21]]]), 0);
    expectTensorsClose(
      emb.forward(Int32Array.from([1, 1])),
      tf.tensor2d([
        [10, 11],
        [10, 11],
      ]),
      0,
    );
    expect(emb.forward(tf.scalar(1, 'int32')).shape).toEqual([2]);
  });

  test('init is N(0, 1) with the padding row zeroed; negative paddingIdx counts from the end', () => {
    const emb = new Embedding({ numEmbeddings: 400, embeddingDim: 50, paddingIdx: -1 });
    expect(emb.paddingIdx).toBe(399);
    const w = Array.from(emb.weight.dataSync());
    expect(Array.from(w.slice(399 * 50))).toEqual(new Array(50).fill(0));
    const body = w.slice(0, 399 * 50);
    const mean = body.reduce((a, b) => a + b, 0) / body.length;
    const std = Math.sqrt(body.reduce((a, b) => a + (b - mean) ** 2, 0) / body.length);
    expect(Math.abs(mean)).toBeLessThan(0.02);
    expect(Math.abs(std - 1)).toBeLessThan(0.02);
  });

  test('the same seed gives the same weights; another seed does not', () => {
    const make = (seed: number) =>
      new Embedding({ numEmbeddings: 6, embeddingDim: 3, seed }).weight.dataSync();
    expect(make(3)).toEqual(make(3));
    expect(make(3)).not.toEqual(make(4));
  });

  test('ids out of range: plain arrays throw a DataError at once; tensors via checkIds', async () => {
    const emb = new Embedding({ numEmbeddings: 4, embeddingDim: 2 });
    expectThrows(
      () =>
        emb.forward([
          [0, 1],
          [4, 2],
        ]),
      DataError,
      'Embedding: id 4 at flat index 2 is out of range [0, 4)',
    );
    expectThrows(
      () => emb.forward([-1]),
      DataError,
      'Embedding: id -1 at flat index 0 is out of range [0, 4)',
    );
    expectThrows(
      () => emb.forward([[0, 1], [2]]),
      ShapeError,
      'Embedding: a nested array must be rectangular, found rows of shapes [2, 2] and [2, 1]',
    );
    expectThrows(
      () => emb.forward(tf.tensor1d([1, 2])),
      DataError,
      'Embedding: ids must be an int32 tensor, got dtype float32',
    );
    await expectRejects(
      emb.checkIds(tf.tensor1d([0, 3, 9], 'int32')),
      DataError,
      'Embedding: id 9 at flat index 2 is out of range [0, 4)',
    );
    await emb.checkIds(tf.tensor1d([0, 3], 'int32'));
  });

  test('rejects invalid options', () => {
    expectThrows(
      () => new Embedding({ numEmbeddings: 0, embeddingDim: 2 }),
      ConfigError,
      'Embedding: numEmbeddings must be a positive integer, got 0',
    );
    expectThrows(
      () => new Embedding({ numEmbeddings: 3, embeddingDim: -2 }),
      ConfigError,
      'Embedding: embeddingDim must be a positive integer, got -2',
    );
    expectThrows(
      () => new Embedding({ numEmbeddings: 3, embeddingDim: 2, paddingIdx: 3 }),
      ConfigError,
      'Embedding: paddingIdx must be an integer in [-3, 3), got 3',
    );
  });
});
