import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { Adam, ConfigError } from '@ml/core';
import { onBackend } from '@ml/core/testing';

import { TinyMlp, blobs, ceLoss, loaderOf, weightsOf } from '../test/helpers.js';
import type { Callback, FitContext } from './callback.js';
import { EarlyStopping } from './early-stopping.js';
import { Runner } from './runner.js';

let train: ReturnType<typeof blobs>;
let flipped: { x: tf.Tensor; y: tf.Tensor };

beforeAll(async () => {
  await onBackend('cpu');
  train = blobs(96, 1);
  // Validation labels shifted by one class: the better the model fits the training data, the worse
  // its validation loss, so the best check is the first one.
  const v = blobs(30, 5);
  flipped = { x: v.x, y: tf.tidy(() => tf.mod(tf.add(v.y, 1), 3)) };
  v.y.dispose();
});
afterAll(() => tf.dispose([train.x, train.y, flipped.x, flipped.y]));

// Records the weights after every epoch.
class Snapshots implements Callback {
  readonly byEpoch: Record<string, number[]>[] = [];
  async onEpochEnd(ctx: FitContext): Promise<void> {
    this.byEpoch.push(await weightsOf(ctx.model));
  }
}

describe('EarlyStopping', () => {
  it('stops after `patience` checks without improvement and restores the best weights', async () => {
    const model = new TinyMlp({ seed: 0 });
    const snapshots = new Snapshots();
    const early = new EarlyStopping({ monitor: 'val_loss', patience: 2 });
    const runner = new Runner({
      model,
      optimizer: new Adam(model, { lr: 0.02 }),
      loss: ceLoss,
      callbacks: [snapshots, early],
    });
    const { history, stopReason, epochs } = await runner.fit(loaderOf(train.x, train.y), {
      epochs: 20,
      valLoader: loaderOf(flipped.x, flipped.y),
    });
    const val = history.epochs.map((r) => r.val_loss as number);
    expect(val[1]).toBeGreaterThan(val[0] as number);
    expect(epochs).toBe(3);
    expect(early.bestEpoch).toBe(1);
    expect(stopReason).toBe(
      `EarlyStopping: val_loss has not improved for 2 checks (best ${(val[0] as number).toPrecision(5)} at epoch 1, step 12)`,
    );
    expect(await weightsOf(model)).toEqual(snapshots.byEpoch[0]);
    expect(await weightsOf(model)).not.toEqual(snapshots.byEpoch[2]);
  });

  it('maximises accuracy-like keys in mode auto and watches train keys after epochs', async () => {
    expect(new EarlyStopping({ monitor: 'val_accuracy' }).mode).toBe('max');
    expect(new EarlyStopping({ monitor: 'loss' }).mode).toBe('min');
    const model = new TinyMlp({ seed: 0 });
    const early = new EarlyStopping({ monitor: 'loss', patience: 1, minDelta: 10 }); // nothing improves by 10
    const runner = new Runner({
      model,
      optimizer: new Adam(model, { lr: 0.02 }),
      loss: ceLoss,
      callbacks: [early],
    });
    const { epochs } = await runner.fit(loaderOf(train.x, train.y), { epochs: 5 });
    expect(epochs).toBe(2);
  });

  it('watches validations run every evalEvery steps, even when an epoch ends before the first', async () => {
    const model = new TinyMlp({ seed: 0 });
    const early = new EarlyStopping({ monitor: 'val_loss', patience: 2 });
    const runner = new Runner({
      model,
      optimizer: new Adam(model, { lr: 0.02 }),
      loss: ceLoss,
      callbacks: [early],
    });
    // 12 batches per epoch, validation every 15 steps: epoch 1 ends with no validation yet.
    const { history, stopReason } = await runner.fit(loaderOf(train.x, train.y), {
      epochs: 20,
      valLoader: loaderOf(flipped.x, flipped.y),
      evalEvery: 15,
    });
    expect(history.validations.map((r) => r.step)).toEqual([15, 30, 45]);
    expect(stopReason).toMatch(
      /^EarlyStopping: val_loss has not improved for 2 checks \(best [\d.]+ at epoch 2, step 15\)$/,
    );
  });

  it('rejects bad options and a val_ monitor without validation', async () => {
    expect(() => new EarlyStopping({ patience: 0 })).toThrow(ConfigError);
    expect(() => new EarlyStopping({ patience: 0 })).toThrow(
      'EarlyStopping: patience must be a positive integer, got 0',
    );
    expect(() => new EarlyStopping({ mode: 'up' as 'max' })).toThrow(
      "EarlyStopping: mode must be 'min', 'max' or 'auto', got 'up'",
    );
    expect(() => new EarlyStopping({ minDelta: -1 })).toThrow(
      'EarlyStopping: minDelta must be a number ≥ 0, got -1',
    );
    const model = new TinyMlp({ seed: 0 });
    const runner = new Runner({
      model,
      optimizer: new Adam(model, { lr: 0.02 }),
      loss: ceLoss,
      callbacks: [new EarlyStopping()],
    });
    await expect(runner.fit(loaderOf(train.x, train.y), { epochs: 1 })).rejects.toThrow(
      "EarlyStopping: monitor 'val_loss' needs validation, but fit has no valLoader",
    );
    const typo = new Runner({
      model,
      optimizer: new Adam(model, { lr: 0.02 }),
      loss: ceLoss,
      callbacks: [new EarlyStopping({ monitor: 'accuracy' })],
    });
    await expect(typo.fit(loaderOf(train.x, train.y), { epochs: 1 })).rejects.toThrow(
      "EarlyStopping: monitor 'accuracy' is not in the logs; available: epoch, step, loss, lr, seconds",
    );
  });
});
