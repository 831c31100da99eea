import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';

import { CheckpointError, ConfigError, ShapeError } from '@ml/core';
import { TEST_BACKENDS, expectNoTensorLeak, onBackend } from '@ml/core/testing';

import { Accuracy } from './accuracy.js';

for (const backend of TEST_BACKENDS) {
  describe(`Accuracy (${backend})`, () => {
    beforeAll(() => onBackend(backend));

    it('accumulates multiclass argmax hits over batches (2/4 then 1/1 → 3/5)', async () => {
      const acc = new Accuracy();
      expect(acc.result()).toBeNaN();
      const logits = tf.tensor2d([
        [2, 1, 0],
        [0, 3, 1],
        [1, 0, 2],
        [0, 1, 0.5],
      ]); // predictions 0, 1, 2, 1
      const labels = tf.tensor1d([0, 1, 0, 2], 'int32');
      await acc.update(logits, labels);
      expect(acc.result()).toBeCloseTo(0.5, 12);
      const l2 = tf.tensor2d([[1, 0, 0]]);
      const y2 = tf.tensor2d([[0]], [1, 1], 'int32'); // labels as a column [N, 1]
      await acc.update(l2, y2);
      expect(acc.result()).toBeCloseTo(0.6, 12);
      expect(acc.state()).toEqual([3, 5]);
      acc.reset();
      expect(acc.result()).toBeNaN();
      tf.dispose([logits, labels, l2, y2]);
    });

    it('takes one-hot targets', async () => {
      const acc = new Accuracy();
      const logits = tf.tensor2d([
        [0.1, 0.9],
        [0.8, 0.2],
        [0.3, 0.7],
      ]);
      const onehot = tf.tensor2d([
        [0, 1],
        [0, 1],
        [0, 1],
      ]);
      await acc.update(logits, onehot);
      expect(acc.result()).toBeCloseTo(2 / 3, 12);
      tf.dispose([logits, onehot]);
    });

    it('thresholds binary logits at 0 and probabilities at 0.5', async () => {
      const fromLogits = new Accuracy();
      const logits = tf.tensor2d([[-1], [0.5], [2], [-0.2]]); // predictions 0, 1, 1, 0
      const t = tf.tensor1d([0, 1, 0, 0]);
      await fromLogits.update(logits, t);
      expect(fromLogits.result()).toBeCloseTo(0.75, 12);
      const fromProbs = new Accuracy({ from: 'probabilities' });
      const probs = tf.tensor1d([0.2, 0.6, 0.4]); // predictions 0, 1, 0
      const t2 = tf.tensor1d([0, 1, 1], 'int32');
      await fromProbs.update(probs, t2);
      expect(fromProbs.result()).toBeCloseTo(2 / 3, 12);
      tf.dispose([logits, t, probs, t2]);
    });

    it('counts tokens of [B, T, C] logits and skips ignoreIndex targets', async () => {
      const acc = new Accuracy({ ignoreIndex: -100 });
      // argmax per token: [[2, 0, 1], [1, 1, 0]]
      const logits = tf.tensor3d([
        [
          [0, 0, 1],
          [1, 0, 0],
          [0, 1, 0],
        ],
        [
          [0, 1, 0],
          [0, 2, 1],
          [3, 0, 0],
        ],
      ]);
      const ids = tf.tensor2d(
        [
          [2, 1, -100],
          [1, -100, -100],
        ],
        [2, 3],
        'int32',
      ); // 3 counted tokens, 2 right
      await acc.update(logits, ids);
      expect(acc.state()).toEqual([2, 3]);
      // Several ignored ids: -100 and 1 (the two right 1s and the -100s drop out; one of two counted is right).
      const both = new Accuracy({ ignoreIndex: [-100, 1] });
      await both.update(logits, ids);
      expect(both.state()).toEqual([1, 1]);
      expect(() => new Accuracy({ ignoreIndex: [0, 1.5] })).toThrow(
        'Accuracy: ignoreIndex must be an integer or an array of integers, got [0,1.5]',
      );
      tf.dispose([logits, ids]);
    });

    it('creates no lasting tensors', async () => {
      const acc = new Accuracy();
      const logits = tf.tensor2d([
        [1, 0],
        [0, 1],
      ]);
      const y = tf.tensor1d([0, 0], 'int32');
      await expectNoTensorLeak(() => acc.update(logits, y));
      tf.dispose([logits, y]);
    });
  });
}

describe('Accuracy errors', () => {
  beforeAll(() => onBackend('cpu'));

  it('rejects bad options with ConfigError', () => {
    expect(() => new Accuracy({ from: 'odds' as 'logits' })).toThrow(ConfigError);
    expect(() => new Accuracy({ from: 'odds' as 'logits' })).toThrow(
      "Accuracy: from must be 'logits' or 'probabilities', got 'odds'",
    );
    expect(() => new Accuracy({ threshold: NaN })).toThrow(
      'Accuracy: threshold must be a finite number, got NaN',
    );
    expect(() => new Accuracy({ ignoreIndex: 0.5 })).toThrow(
      'Accuracy: ignoreIndex must be an integer or an array of integers, got 0.5',
    );
  });

  it('rejects targets of the wrong shape with ShapeError, leaking nothing', async () => {
    const acc = new Accuracy();
    const logits = tf.zeros([4, 3]);
    const bad = tf.zeros([3], 'int32');
    await expectNoTensorLeak(async () => {
      await expect(acc.update(logits, bad)).rejects.toThrow(ShapeError);
      await expect(acc.update(logits, bad)).rejects.toThrow(
        'Accuracy: for output [4, 3] the target must be class ids [4] or one-hot [4, 3], got [3]',
      );
    });
    const binary = tf.zeros([4, 1]);
    await expect(acc.update(binary, bad)).rejects.toThrow(
      'Accuracy: binary output [4, 1] needs a target with 4 elements, got [3]',
    );
    tf.dispose([logits, bad, binary]);
  });

  it('restores state and rejects malformed state with CheckpointError', () => {
    const acc = new Accuracy();
    acc.setState([3, 4]);
    expect(acc.result()).toBe(0.75);
    expect(() => acc.setState([1])).toThrow(CheckpointError);
    expect(() => acc.setState([1])).toThrow('Accuracy.setState: state must be 2 numbers, got [1]');
  });
});
