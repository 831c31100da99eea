import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';

import { CheckpointError, ShapeError } from '@ml/core';
import { expectNoTensorLeak, onBackend } from '@ml/core/testing';

import { R2Score } from './r2-score.js';

describe('R2Score', () => {
  beforeAll(() => onBackend('cpu'));

  it('matches 1 − SS_res/SS_tot over all batches, not a mean of batch scores', async () => {
    // y = [1, 2, 3, 4, 5], ŷ = [1.5, 2, 2.5, 4, 6]: SS_res = 0.25 + 0 + 0.25 + 0 + 1 = 1.5,
    // mean 3, SS_tot = 4 + 1 + 0 + 1 + 4 = 10, R² = 0.85 (scikit-learn's r2_score gives the same).
    const r2 = new R2Score();
    const parts: [number[], number[]][] = [
      [
        [1.5, 2],
        [1, 2],
      ],
      [
        [2.5, 4, 6],
        [3, 4, 5],
      ],
    ];
    const tensors: tf.Tensor[] = [];
    for (const [p, y] of parts) {
      const pt = tf.tensor1d(p);
      const yt = tf.tensor1d(y);
      tensors.push(pt, yt);
      await expectNoTensorLeak(() => r2.update(pt, yt));
    }
    expect(r2.result()).toBeCloseTo(0.85, 6);
    tf.dispose(tensors);
  });

  it('averages per-column scores and treats constant columns like scikit-learn', async () => {
    // column 0: y [0, 2], ŷ [0, 1] → SS_res 1, SS_tot 2 → 0.5; column 1: y [1, 1] predicted exactly → 1.
    const r2 = new R2Score();
    const p = tf.tensor2d([
      [0, 1],
      [1, 1],
    ]);
    const y = tf.tensor2d([
      [0, 1],
      [2, 1],
    ]);
    await r2.update(p, y);
    expect(r2.result()).toBeCloseTo(0.75, 6);
    const copy = new R2Score();
    copy.setState(r2.state());
    expect(copy.result()).toBeCloseTo(0.75, 6);
    tf.dispose([p, y]);
  });

  it('rejects changing column counts and malformed state', async () => {
    const r2 = new R2Score();
    const a = tf.zeros([2, 2]);
    const b = tf.zeros([2, 3]);
    await r2.update(a, a);
    await expect(r2.update(b, b)).rejects.toThrow(ShapeError);
    await expect(r2.update(b, b)).rejects.toThrow(
      'R2Score: output must keep 2 columns across batches, got [2, 3]',
    );
    expect(() => r2.setState([1, 2])).toThrow(CheckpointError);
    expect(() => r2.setState([1, 2])).toThrow('R2Score.setState: state must be 1 + 3·D numbers, got [1,2]');
    tf.dispose([a, b]);
  });
});
