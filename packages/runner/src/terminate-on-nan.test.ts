import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';

import { SGD } from '@ml/core';
import { onBackend } from '@ml/core/testing';

import { TinyMlp, blobs, ceLoss, loaderOf, weightsOf } from '../test/helpers.js';
import type { Callback, FitContext } from './callback.js';
import { Runner } from './runner.js';
import { TerminateOnNaN } from './terminate-on-nan.js';

beforeAll(() => onBackend('cpu'));

class StepSnapshots implements Callback {
  readonly weights: Record<string, number[]>[] = [];
  async onStepEnd(ctx: FitContext): Promise<void> {
    this.weights.push(await weightsOf(ctx.model));
  }
}

describe('TerminateOnNaN', () => {
  it('stops at the first NaN loss, names the step, and leaves the weights of the step before', async () => {
    const { x, y } = blobs(48, 1); // 6 batches of 8
    let calls = 0;
    // The 9th loss (epoch 2, batch 3) is NaN.
    const loss = (out: tf.Tensor, target: tf.Tensor): tf.Scalar =>
      tf.tidy(() => tf.mul(ceLoss(out, target), ++calls === 9 ? NaN : 1));
    const model = new TinyMlp({ seed: 0 });
    const snapshots = new StepSnapshots();
    const runner = new Runner({
      model,
      optimizer: new SGD(model, { lr: 0.1 }),
      loss,
      callbacks: [new TerminateOnNaN(), snapshots],
    });
    const before = tf.memory().numTensors;
    const { stopReason, steps, epochs, history } = await runner.fit(loaderOf(x, y), {
      epochs: 5,
      logEvery: 1,
    });
    expect(tf.memory().numTensors).toBe(before);
    expect(stopReason).toBe(
      'TerminateOnNaN: loss is NaN at step 9 (epoch 2, batch 3); that update was not applied',
    );
    expect([steps, epochs]).toEqual([9, 1]);
    expect(history.steps.at(-1)?.loss).toBeNaN();
    const final = await weightsOf(model);
    expect(Object.values(final).flat().every(Number.isFinite)).toBe(true);
    expect(final).toEqual(snapshots.weights[7]);
    tf.dispose([x, y]);
  });

  it('lets finite losses through untouched', async () => {
    const { x, y } = blobs(16, 1);
    const model = new TinyMlp({ seed: 0 });
    const runner = new Runner({
      model,
      optimizer: new SGD(model, { lr: 0.1 }),
      loss: ceLoss,
      callbacks: [new TerminateOnNaN()],
    });
    expect((await runner.fit(loaderOf(x, y), { epochs: 2 })).stopReason).toBeNull();
    tf.dispose([x, y]);
  });
});
